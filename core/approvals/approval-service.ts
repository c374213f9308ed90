import type { Approval, ApprovalKind } from '../domain/approval.ts';
import {
  approverGroupId,
  outsiderRefusal,
  ownRequestRefusal,
  SCHEDULER,
  slackUserId,
} from '../domain/approval-deciders.ts';
import type { ApproverGroups } from '../ports/approver-groups.ts';
import type { ApprovalMessage } from '../ports/repositories/approvals.ts';
import { dayKey } from '../domain/core-event.ts';
import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import { CoreError, seeList } from '../errors.ts';
import type { CoreDepsWith } from '../services/core-deps.ts';
import { isApprovalId } from '../domain/validation/approval-id.ts';
import { appendAudit } from '../services/audit-trail.ts';
import { emitRequestOutcome } from '../issuance/request-outcome.ts';

export interface ApprovalRules {
  /** Whether the people an approval is about may decide it too. Off by default. */
  allowSelfApproval: boolean;
  /**
   * The actors that may decide (`slack:<id>` from SLACK_APPROVERS, `cli:<os user>` from CLI_APPROVERS).
   * Empty: nobody (fail closed). Every edge's decision comes through here, so this list is the authority.
   */
  approvers: readonly string[];
  /** Resolves the Slack user groups (`slack:S…`) among `approvers`; without it a group admits nobody. */
  groups?: ApproverGroups | undefined;
}

export type ApprovalView = Approval & { certificateName: string };

/** How long a denied renewal or deploy waits before the scheduler asks again (a denied issuance fails instead). */
const DENIED_PAUSE_MS = 24 * 3_600_000;

/**
 * The semi-automatic mode's decisions. The scheduler asks ({@link request}); a person decides once. The
 * decision is a compare-and-set, so a replayed or double click changes nothing; everything is audited and
 * announced through the event outbox.
 */
export class ApprovalService {
  constructor(
    private readonly deps: CoreDepsWith<'approvals' | 'audit' | 'certificates' | 'events'>,
    private readonly rules: ApprovalRules = { allowSelfApproval: false, approvers: [] },
  ) {}

  /**
   * The scheduler's request for a renewal or deploy approval. It asks on behalf of the certificate's
   * requester, who is recorded as `requestedBy` so that the four-eyes rule applies to them; the scheduler
   * is the initiator, in the summary (`initiatedBy`) and as the audit entry's actor.
   */
  requestForScheduler(
    kind: Exclude<ApprovalKind, 'issuance' | 'revocation'>,
    cert: ManagedCertificate,
    summary: Record<string, unknown>,
  ): Promise<Approval> {
    return this.request(kind, cert, { ...summary, initiatedBy: SCHEDULER }, cert.requestedBy, SCHEDULER);
  }

  /** The open approval for this certificate and kind, creating a pending one (and its event) if none. */
  async request(
    kind: ApprovalKind,
    cert: ManagedCertificate,
    summary: Record<string, unknown>,
    requestedBy: string,
    initiator = requestedBy,
  ): Promise<Approval> {
    const now = this.deps.clock.now();
    const { approval, created } = await this.deps.store.approvals.open({
      id: this.deps.newId(),
      kind,
      certificateId: cert.id,
      state: 'pending',
      summary,
      requestedBy,
      requestedAt: now,
      decidedBy: null,
      decidedAt: null,
      reason: null,
    });
    if (created) {
      await this.deps.store.events.emit({
        kind: 'approval_requested',
        certificateId: cert.id,
        subject: cert.name,
        dedupeKey: `approval:${approval.id}:requested`,
        detail: { approvalId: approval.id, kind, ...summary },
        needsPerson: true,
      });
      await this.audit(approval, cert.name, initiator, 'approval.request', {
        kind,
        ...(initiator === requestedBy ? {} : { onBehalfOf: requestedBy }),
      });
    }
    return approval;
  }

  async list(state?: Approval['state']): Promise<ApprovalView[]> {
    const rows = await this.deps.store.approvals.list(state ? { state } : {});
    const names = new Map<string, string>();
    for (const row of rows) {
      if (!names.has(row.certificateId))
        names.set(row.certificateId, (await this.deps.store.certificates.findById(row.certificateId))?.name ?? '?');
    }
    return rows.map((r) => ({ ...r, certificateName: names.get(r.certificateId) ?? '?' }));
  }

  /** Records where a message showing this approval was posted, so a decision can update every copy. */
  async recordMessage(approvalId: string, channel: string, ts: string): Promise<void> {
    await this.deps.store.approvals.recordMessage({ approvalId, channel, ts, postedAt: this.deps.clock.now() });
  }

  /** Every recorded message showing this approval (channel and DMs), oldest first. */
  messages(approvalId: string): Promise<ApprovalMessage[]> {
    return this.deps.store.approvals.messages(approvalId);
  }

  approve(id: string, actor: string): Promise<ApprovalView> {
    return this.decide(id, actor, 'approved', null);
  }

  async deny(id: string, actor: string, reason: string): Promise<ApprovalView> {
    if (!reason.trim()) throw new CoreError('input_invalid', 'a denial needs a reason');
    return this.decide(id, actor, 'denied', reason.trim().slice(0, 500));
  }

  /** The scheduler takes an approved approval exactly once before acting on it. */
  async consume(approval: Approval): Promise<boolean> {
    return (await this.deps.store.approvals.transition(approval.id, 'approved', { state: 'used' })) !== null;
  }

  private async decide(
    id: string,
    actor: string,
    state: 'approved' | 'denied',
    reason: string | null,
  ): Promise<ApprovalView> {
    // A member of an approver group counts as listed; when membership cannot be told, the decision is refused.
    let viaGroup: string | null;
    try {
      viaGroup = await this.approverGroupOf(actor);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return this.refuse(
        `${actor} may not decide approvals now: ${why}`,
        actor,
        state,
        isApprovalId(id) ? id : null,
        null,
        true,
      );
    }
    const approvers = viaGroup ? [...this.rules.approvers, actor] : this.rules.approvers;
    const policy = { approvers, allowSelf: this.rules.allowSelfApproval };
    // Who is no approver is refused before anything is looked up.
    const outsider = outsiderRefusal(policy, actor);
    if (outsider) return this.refuse(outsider, actor, state, isApprovalId(id) ? id : null, null);
    const approval = isApprovalId(id) ? await this.deps.store.approvals.findById(id) : null;
    if (!approval) throw new CoreError('not_found', `no approval ${id}`, { hint: seeList('approval') });
    const cert = await this.deps.store.certificates.findById(approval.certificateId);
    const own = ownRequestRefusal(policy, actor, {
      kind: approval.kind,
      certificateName: cert?.name ?? approval.certificateId,
      requestedBy: approval.requestedBy,
      certificateRequester: cert?.requestedBy ?? null,
    });
    if (own) return this.refuse(own, actor, state, id, cert ? { id: cert.id, name: cert.name } : null);
    const now = this.deps.clock.now();
    const decided = await this.deps.store.approvals.transition(id, 'pending', {
      state,
      decidedBy: actor,
      decidedAt: now,
      reason,
    });
    if (!decided) {
      // Read again: whoever won the compare-and-set decided after `approval` was read.
      const before = (await this.deps.store.approvals.findById(id)) ?? approval;
      throw new CoreError(
        'conflict',
        `approval ${id} was already ${before.state}${before.decidedBy ? ` by ${before.decidedBy}` : ''}${before.decidedAt ? ` at ${before.decidedAt.toISOString()}` : ''}; nothing changed`,
        {
          detail: {
            reason: 'already_decided',
            approval: id,
            state: before.state,
            decidedBy: before.decidedBy,
            decidedAt: before.decidedAt?.toISOString() ?? null,
          },
        },
      );
    }
    if (state === 'denied' && cert && approval.kind === 'issuance') {
      // Nothing was ordered yet; the request ends here until someone resumes it (which asks again).
      if (cert.state !== 'issued') {
        await this.deps.store.certificates.update(cert.id, {
          state: 'failed',
          problem: { type: 'issuance_denied', detail: `issuance denied by ${actor}: ${reason ?? 'no reason given'}` },
        });
        await emitRequestOutcome(this.deps, cert, approval.requestedBy, {
          outcome: 'denied',
          reason: reason ?? 'no reason given',
          by: actor,
        });
      }
    } else if (state === 'denied' && cert && approval.kind !== 'revocation') {
      // A denied revocation changes nothing: the certificate stays valid and served.
      await this.deps.store.certificates.update(cert.id, { nextAttemptAt: new Date(now.getTime() + DENIED_PAUSE_MS) });
    }
    await this.deps.store.events.emit({
      kind: 'approval_decided',
      certificateId: approval.certificateId,
      subject: cert?.name ?? approval.certificateId,
      dedupeKey: `approval:${id}:decided`,
      detail: {
        approvalId: id,
        kind: approval.kind,
        decision: state,
        by: actor,
        day: dayKey(now),
        ...(reason ? { reason } : {}),
      },
      needsPerson: false,
    });
    await this.audit(decided, cert?.name ?? null, actor, `approval.${state === 'approved' ? 'approve' : 'deny'}`, {
      kind: approval.kind,
      ...(reason ? { reason } : {}),
    });
    return { ...decided, certificateName: cert?.name ?? '?' };
  }

  /**
   * The approver group (`slack:S…` in the list) that has `actor` as a member, or null. A listed actor needs
   * no lookup; a lookup that fails throws (the decision is then refused: fail closed).
   */
  private async approverGroupOf(actor: string): Promise<string | null> {
    if (this.rules.approvers.includes(actor)) return null;
    const userId = slackUserId(actor);
    const groups = this.rules.approvers.map(approverGroupId).filter((g): g is string => g !== null);
    if (!userId || groups.length === 0) return null;
    const resolver = this.rules.groups;
    if (!resolver)
      throw new Error(
        `the Slack user groups in SLACK_APPROVERS (${groups.join(', ')}) cannot be resolved by this process`,
      );
    for (const group of groups) if (await resolver.isMember(group, userId)) return group;
    return null;
  }

  /** A refused decision is audited too (who tried what), then reported; nothing else changes. */
  private async refuse(
    message: string,
    actor: string,
    state: 'approved' | 'denied',
    approvalId: string | null,
    cert: { id: string; name: string } | null,
    retryable = false,
  ): Promise<never> {
    await appendAudit(
      this.deps.store.audit,
      cert ? 'certificate' : 'system',
      cert ?? { id: null, name: null },
      actor,
      `approval.${state === 'approved' ? 'approve' : 'deny'}`,
      'error',
      { approvalId, refused: message },
    );
    throw new CoreError('forbidden', `${message}; nothing changed`, { retryable });
  }

  private audit(
    approval: Approval,
    name: string | null,
    actor: string,
    action: string,
    detail: Record<string, unknown>,
  ) {
    return appendAudit(
      this.deps.store.audit,
      'certificate',
      { id: approval.certificateId, name },
      actor,
      action,
      'ok',
      {
        approvalId: approval.id,
        ...detail,
      },
    );
  }
}
