import type { ApproverGroups } from '../../core/ports/approver-groups.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { CoreServices } from '../../core/services/index.ts';

/** What every listener gets: the core services and who may do what. */
export interface ListenerDeps {
  services: CoreServices;
  log: Logger;
  /** SLACK_APPROVERS: who may decide approvals (user ids and user group ids); empty (or unset) lets nobody decide. */
  approvers: readonly string[];
  /** Resolves the user groups (S…) among `approvers`, cached; without it a group admits nobody. */
  approverGroups?: ApproverGroups | undefined;
  /** SLACK_APPROVER_DM: each approver also gets the approval request in a DM. */
  approverDm?: boolean;
  /** SLACK_ADMINS: who may create profiles and add or test devices; empty lets nobody. */
  admins: readonly string[];
  /** How the core reaches the built-in responder (RESPONDER_URL), for "use the built-in endpoint"; unset if unknown. */
  responderUrl?: string | undefined;
}

/**
 * Whether this Slack user is on a list of who may (SLACK_ADMINS for admin subcommands and forms,
 * SLACK_APPROVERS for decisions). An empty list lets nobody: the check fails closed.
 */
export function isListed(userIds: readonly string[], userId: string | undefined): boolean {
  return typeof userId === 'string' && userId !== '' && userIds.includes(userId);
}

export { notAnAdmin } from '../refusals.ts';
