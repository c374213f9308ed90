import type { App } from '@slack/bolt';
import type { Logger } from '../../core/ports/logger.ts';
import type { CoreServices } from '../../core/services/index.ts';
import * as actions from './actions/index.ts';
import * as commands from './commands/index.ts';
import * as views from './views/index.ts';

export interface ListenerDeps {
  services: CoreServices;
  log: Logger;
  /** SLACK_APPROVERS: who may decide approvals; empty (or unset) lets nobody decide. */
  approvers?: readonly string[];
}

/** Every listener kind registers here (commands, the approval buttons and the deny modal; events as they come). */
export function registerListeners(app: App, deps: ListenerDeps): void {
  const approvals = { services: deps.services, log: deps.log, approvers: deps.approvers ?? [] };
  commands.register(app, deps);
  actions.register(app, approvals);
  views.register(app, approvals);
}
