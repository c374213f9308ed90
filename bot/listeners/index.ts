import type { App } from '@slack/bolt';
import type { Logger } from '../../core/ports/logger.ts';
import type { CoreServices } from '../../core/services/index.ts';
import * as commands from './commands/index.ts';

export interface ListenerDeps {
  services: CoreServices;
  log: Logger;
}

/** Every listener kind registers here (commands now; actions, views and events as they come). */
export function registerListeners(app: App, deps: ListenerDeps): void {
  commands.register(app, deps);
}
