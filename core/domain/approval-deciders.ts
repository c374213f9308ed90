import type { ApprovalKind } from './approval.ts';

/**
 * Who may decide an approval: one rule for every edge (Slack buttons, the CLI), applied by the core.
 * Actors are the ids the audit log records: `slack:<user id>` and `cli:<os user>`.
 */
export interface DeciderPolicy {
  /** SLACK_APPROVERS and CLI_APPROVERS as actor ids. Empty: nobody may decide (fail closed). */
  approvers: readonly string[];
  /** APPROVAL_ALLOW_SELF: the people an approval is about may decide it too. */
  allowSelf: boolean;
}

/** The people an approval is about, who may not decide it themselves (four eyes). */
export interface ApprovalParties {
  kind: ApprovalKind;
  certificateName: string;
  /** Who asked for this approval: a person for an issuance, the certificate's requester for a scheduled renewal or deploy. */
  requestedBy: string;
  /** Who requested the certificate; null when the certificate is gone. */
  certificateRequester: string | null;
}

/** A Slack user group in the approver list (`slack:S…`): its id, or null for a user or another actor. */
export function approverGroupId(entry: string): string | null {
  const m = /^slack:(S[A-Z0-9]{2,})$/.exec(entry);
  return m ? m[1]! : null;
}

/** A Slack user (`slack:U…` / `slack:W…`): its id, or null. Only a user can be a member of a group. */
export function slackUserId(actor: string): string | null {
  const m = /^slack:([UW][A-Z0-9]{2,})$/.exec(actor);
  return m ? m[1]! : null;
}

/** The scheduler asks for renewals and deploys; it is nobody, so it never counts as a party. */
export const SCHEDULER = 'scheduler';

const SELF_HINT = 'someone else must decide (four eyes; APPROVAL_ALLOW_SELF=true allows it)';

/** Why `actor` may decide no approval at all (not an approver), or null. Needs no approval to answer. */
export function outsiderRefusal(policy: DeciderPolicy, actor: string): string | null {
  if (policy.approvers.includes(actor)) return null;
  if (policy.approvers.length === 0)
    return `${actor} may not decide approvals: nobody may, SLACK_APPROVERS and CLI_APPROVERS are empty`;
  return `${actor} may not decide approvals; who may: ${policy.approvers.join(', ')} (SLACK_APPROVERS, CLI_APPROVERS)`;
}

/** Why `actor` may not decide this approval because it is about them (four eyes), or null. */
export function ownRequestRefusal(policy: DeciderPolicy, actor: string, parties: ApprovalParties): string | null {
  if (policy.allowSelf) return null;
  if (actor === parties.certificateRequester) {
    return `${actor} requested certificate "${parties.certificateName}" and cannot decide its ${parties.kind}: ${SELF_HINT}`;
  }
  if (actor === parties.requestedBy && parties.requestedBy !== SCHEDULER) {
    return `${actor} asked for this ${parties.kind} of "${parties.certificateName}" and cannot decide their own request: ${SELF_HINT}`;
  }
  return null;
}

/** Why `actor` may not decide this approval, or null when they may. The message names who may, or who may not and why. */
export function refusalFor(policy: DeciderPolicy, actor: string, parties: ApprovalParties): string | null {
  return outsiderRefusal(policy, actor) ?? ownRequestRefusal(policy, actor, parties);
}
