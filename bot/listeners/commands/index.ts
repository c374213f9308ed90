import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../deps.ts';
import { ACME_COMMAND, acmeCommandCallback } from './acme.ts';

export function register(app: App, deps: ListenerDeps): void {
  app.command(ACME_COMMAND, acmeCommandCallback(deps));
}
