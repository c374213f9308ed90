import type { Approval } from '../domain/approval.ts';
import type { CoreEvent } from '../domain/core-event.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
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
 * How often one message may be refused for what it is (bad blocks, too long) before it is settled as
 * undeliverable: as built, then once more in a simpler form. Retrying it further would fail the same way
 * and hold up every event behind it.
 */
export const MAX_REFUSED_ATTEMPTS = 2;

/** Why a delivery failed: the channel refused this message for what it is, or anything else (rate limit, network). */
export type DeliveryFailure = 'refused' | 'transient';

/** An approval request still waiting for a decision, with the name of its certificate, for a message with buttons. */
export type PendingApproval = Approval & { certificateName: string };

export interface OutboxService {
  /**
   * Runs `deliver` while `holder` claims the outbox; `{ claimed: false }` when another replica holds it (it
   * delivers, and was woken by the same notification).
   */
  whileClaimed<T>(holder: string, deliver: () => Promise<T>): Promise<{ claimed: true; value: T } | { claimed: false }>;
  /** Events not settled yet, oldest first. */
  pending(limit: number): Promise<CoreEvent[]>;
  /** Settles events whose message was accepted. */
  markSent(ids: number[]): Promise<void>;
  /**
   * Records a failed delivery of the message carrying `ids`; the events stay pending. Answers `drop` at the
   * `MAX_REFUSED_ATTEMPTS`th `refused` failure in a row (then settle them with `markDropped`), `retry`
   * otherwise; a `transient` failure starts the count again, since it says nothing about the message.
   */
  markFailed(ids: number[], failure: DeliveryFailure): 'retry' | 'drop';
  /**
   * Settles events whose message can never be delivered, so they no longer hold up the rest. Stored as
   * delivered (the outbox has no separate state for it); the deliverer logs what was dropped.
   */
  markDropped(ids: number[]): Promise<void>;
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
  /** Refusals of the message carrying these events, keyed by its event ids; in memory, like the run itself. */
  const refusals = new Map<string, number>();
  const keyOf = (ids: number[]) => ids.join(',');

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
      return store.events.listUndelivered(limit);
    },
    async markSent(ids) {
      refusals.delete(keyOf(ids));
      await store.events.markDelivered(ids, clock.now());
    },
    markFailed(ids, failure) {
      const key = keyOf(ids);
      if (failure === 'transient') {
        refusals.delete(key);
        return 'retry';
      }
      const attempts = (refusals.get(key) ?? 0) + 1;
      if (attempts < MAX_REFUSED_ATTEMPTS) {
        refusals.set(key, attempts);
        return 'retry';
      }
      refusals.delete(key);
      return 'drop';
    },
    async markDropped(ids) {
      refusals.delete(keyOf(ids));
      await store.events.markDelivered(ids, clock.now());
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
