import type { App } from '@slack/bolt';
import { ACME_COMMAND, acmeCommandCallback, type CommandDeps } from './acme.ts';

export function register(app: App, deps: CommandDeps): void {
  app.command(ACME_COMMAND, acmeCommandCallback(deps));
}
