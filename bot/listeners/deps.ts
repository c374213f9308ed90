import type { Logger } from '../../core/ports/logger.ts';
import type { CoreServices } from '../../core/services/index.ts';

/** What every listener gets: the core services and who may do what. */
export interface ListenerDeps {
  services: CoreServices;
  log: Logger;
  /** SLACK_APPROVERS: who may decide approvals; empty (or unset) lets nobody decide. */
  approvers: readonly string[];
  /** SLACK_ADMINS: who may create profiles and add or test devices; empty lets nobody. */
  admins: readonly string[];
  /** How the core reaches the built-in responder (RESPONDER_URL), for "use the built-in endpoint"; unset if unknown. */
  responderUrl?: string | undefined;
}

/** Whether this Slack user may run admin-only subcommands and submit their forms. An empty list: nobody. */
export function mayAdminister(admins: readonly string[], userId: string | undefined): boolean {
  return typeof userId === 'string' && userId !== '' && admins.includes(userId);
}

export const NOT_AN_ADMIN =
  'Only bigip-acme admins may do this: your Slack user is not in SLACK_ADMINS. Nothing changed.';
