import { parseJsonObject } from '../json-object.ts';
import { isApprovalId } from '../../core/domain/validation/approval-id.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { ApprovalView } from '../../core/approvals/approval-service.ts';
import type { CoreServices } from '../../core/services/index.ts';
import { type ApprovalSource, approvalMessage, pendingApprovalsMessage } from '../blocks/approval.ts';
import type { BotMessage } from '../blocks/message.ts';
import type { ApproverGroups } from '../../core/ports/approver-groups.ts';
import { notAnApprover, type Style } from '../refusals.ts';
import { isListed } from './deps.ts';

export interface ApprovalDeps {
  services: CoreServices;
  log: Logger;
  /** SLACK_APPROVERS: the Slack user ids (U…) and user group ids (S…) that may decide. Empty: nobody (fail closed). */
  approvers: readonly string[];
  /** Resolves the user groups among `approvers`; without it a group admits nobody. */
  approverGroups?: ApproverGroups | undefined;
}

/**
 * Whether this Slack user may decide approvals: listed in SLACK_APPROVERS, or a member of a user group
 * listed there. The refusal says why, including a group that could not be resolved (fail closed). The core
 * checks again on every decision; this is the edge's early answer.
 */
export async function mayDecide(
  deps: Pick<ApprovalDeps, 'approvers' | 'approverGroups'>,
  userId: string,
  style: Style = 'mrkdwn',
): Promise<{ ok: true } | { ok: false; message: string }> {
  if (isListed(deps.approvers, userId)) return { ok: true };
  const groups = deps.approvers.filter((id) => id.startsWith('S'));
  if (groups.length === 0 || !userId) return { ok: false, message: notAnApprover(deps.approvers, style) };
  if (!deps.approverGroups)
    return {
      ok: false,
      message: `${NOT_AN_APPROVER_PREFIX} the user groups in SLACK_APPROVERS cannot be resolved by this bot. Nothing changed.`,
    };
  try {
    for (const group of groups) if (await deps.approverGroups.isMember(group, userId)) return { ok: true };
  } catch (err) {
    return {
      ok: false,
      message: `${NOT_AN_APPROVER_PREFIX} ${errorText(err)}, so membership cannot be checked and the decision is refused. Nothing changed.`,
    };
  }
  return { ok: false, message: notAnApprover(deps.approvers, style) };
}

const NOT_AN_APPROVER_PREFIX = 'You are not allowed to decide approvals right now:';

/** The actor the core records for a Slack user. */
export const slackActor = (userId: string) => `slack:${userId}`;

export { notAnApprover } from '../refusals.ts';

export const NOT_AN_APPROVAL = 'This button does not name an approval; nothing changed.';

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** What replaces the clicked message once decided: the approval's own message, or the refreshed pending list. */
export async function decidedMessage(
  deps: ApprovalDeps,
  decided: ApprovalView,
  source: ApprovalSource,
): Promise<BotMessage> {
  if (source === 'list') return pendingApprovalsMessage(await deps.services.approvals.list('pending'), { decided });
  return approvalMessage(decided);
}

/**
 * The deny modal's `private_metadata`: which approval (re-checked by the core on submit) and where the
 * message to update is. Never a secret; well under Slack's 3000 characters.
 */
export interface DenyMetadata {
  id: string;
  source: ApprovalSource;
  channel?: string;
  ts?: string;
  /** Only for an ephemeral message (`/acme approvals`), which chat.update cannot edit. */
  responseUrl?: string;
  /** Set for a Deny clicked on the App Home tab: the dashboard's pages, to publish it again afterwards. */
  homePages?: string;
}

export function encodeDenyMetadata(m: DenyMetadata): string {
  return JSON.stringify(m);
}

export function decodeDenyMetadata(raw: string | undefined): DenyMetadata | null {
  const o = parseJsonObject(raw);
  if (!o) return null;
  if (!isApprovalId(o['id'])) return null;
  const str = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? { [k]: o[k] as string } : {});
  const url =
    typeof o['responseUrl'] === 'string' && /^https?:\/\//.test(o['responseUrl'])
      ? { responseUrl: o['responseUrl'] }
      : {};
  const home = typeof o['homePages'] === 'string' ? { homePages: o['homePages'] } : {};
  return {
    id: o['id'],
    source: o['source'] === 'list' ? 'list' : 'message',
    ...str('channel'),
    ...str('ts'),
    ...url,
    ...home,
  };
}
