import type { Approval } from '../domain/approval.ts';
import type { CoreEvent } from '../domain/core-event.ts';
import { afterPermanentRefusal, type DeliveryFailure } from '../domain/delivery-failure.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { OutboxEvent } from '../ports/repositories/events.ts';
import type { Store } from '../ports/store.ts';
import { withLease } from './with-lease.ts';

/**
 * The event outbox as a deliverer (the Slack notifier) sees it: claim it, read what is pending, settle what
 * was sent or can never be. Delivery is at-least-once: an event is settled only after its message was
 * accepted (or given up as undeliverable), so a crash in between repeats one message and loses none.
 */

export interface OutboxServiceDeps {
  store: Pick<Store, 'events' | 'leases' | 'approvals' | 'certificates' | 'bindings'>;
  clock: Clock;
  log: Logger;
}

/**
 * The lease one deliverer holds while it works, so two replicas never deliver the same event. The name
 * predates this service; it is kept so replicas of the previous version exclude this one during an upgrade.
 */
export const OUTBOX_LEASE_KEY = 'slack-notifier';
const OUTBOX_LEASE_TTL_MS = 120_000;

/**
 * What the outbox does after a failed delivery: `now` (try again in this run, e.g. as plain text), `later`
 * (skip it for now; the backoff keeps it out of `pending` until `at`), `given_up` (settled as undeliverable),
 * or `stop` (nothing is wrong with this message: the run backs off, the message stays first in line).
 */
export type AfterFailure = { next: 'now' } | { next: 'later'; at: Date } | { next: 'given_up' } | { next: 'stop' };

/** An approval request still waiting for a decision, with the name of its certificate, for a message with buttons. */
export type PendingApproval = Approval & { certificateName: string };

export interface OutboxService {
  /**
   * Runs `deliver` while `holder` claims the outbox; `{ claimed: false }` when another replica holds it (it
   * delivers, and was woken by the same notification).
   */
  whileClaimed<T>(holder: string, deliver: () => Promise<T>): Promise<{ claimed: true; value: T } | { claimed: false }>;
  /** Events not settled yet and not waiting out a backoff, oldest first, with their earlier attempts. */
  pending(limit: number): Promise<OutboxEvent[]>;
  /** Settles events whose message was accepted. */
  markSent(ids: number[]): Promise<void>;
  /**
   * Records a failed delivery of the message carrying `ids` (attempts and Slack's error code, stored on the
   * events) and says what next, by `classifyDeliveryFailure`'s kind: a `permanent` refusal counts an
   * attempt and is retried with `afterPermanentRefusal`'s backoff until it is given up (settled, counted by
   * status); `retryable` and `rate_limited` never give a message up: the run stops and backs off.
   */
  recordFailure(ids: number[], failure: DeliveryFailure): Promise<AfterFailure>;
  /** The approval an `approval_requested` event asks for, while it is still pending; null otherwise. */
  pendingApproval(event: CoreEvent): Promise<PendingApproval | null>;
  /** Records where a message showing the approval was posted (see ApprovalService.recordMessage). */
  recordApprovalMessage(approvalId: string, channel: string, ts: string): Promise<void>;
  /** The channels that already hold a message showing the approval. */
  approvalChannels(approvalId: string): Promise<string[]>;
  /** How many BIG-IP profiles the event's certificate is bound to now (0 without a certificate). */
  bindingCount(event: CoreEvent): Promise<number>;
}

export function createOutboxService(deps: OutboxServiceDeps): OutboxService {
  const { store, clock, log } = deps;

  return {
    async whileClaimed(holder, deliver) {
      const leased = await withLease(
        store.leases,
        OUTBOX_LEASE_KEY,
        { holder, ttlMs: OUTBOX_LEASE_TTL_MS },
        log,
        deliver,
      );
      return leased.ran ? { claimed: true, value: leased.value } : { claimed: false };
    },
    pending(limit) {
      return store.events.listUndelivered(limit, clock.now());
    },
    async markSent(ids) {
      await store.events.markDelivered(ids, clock.now());
    },
    async recordFailure(ids, failure) {
      const permanent = failure.kind === 'permanent';
      const attempts = await store.events.recordDeliveryFailure(ids, failure.error, permanent);
      if (!permanent) return { next: 'stop' };
      const now = clock.now();
      const decision = afterPermanentRefusal(attempts, now);
      if (decision.next === 'give_up') {
        await store.events.giveUpDelivery(ids, now);
        log.error(
          { events: ids, attempts, error: failure.error },
          'a notification was refused every time; given up so the rest can go (counted in status)',
        );
        return { next: 'given_up' };
      }
      if (decision.at.getTime() <= now.getTime()) return { next: 'now' };
      await store.events.deferDelivery(ids, decision.at);
      return { next: 'later', at: decision.at };
    },
    async pendingApproval(event) {
      const id = event.kind === 'approval_requested' ? event.detail['approvalId'] : undefined;
      if (typeof id !== 'string') return null;
      const approval = await store.approvals.findById(id);
      if (approval?.state !== 'pending') return null;
      const cert = await store.certificates.findById(approval.certificateId);
      return { ...approval, certificateName: cert?.name ?? event.subject };
    },
    async recordApprovalMessage(approvalId, channel, ts) {
      await store.approvals.recordMessage({ approvalId, channel, ts, postedAt: clock.now() });
    },
    async approvalChannels(approvalId) {
      return (await store.approvals.messages(approvalId)).map((m) => m.channel);
    },
    async bindingCount(event) {
      if (!event.certificateId) return 0;
      return (await store.bindings.list({ certificateId: event.certificateId })).length;
    },
  };
}
