import type { CoreEvent, CoreEventKind } from '../../domain/core-event.ts';

export interface EventFilter {
  certificateId?: string;
  /** Any of these kinds. */
  kinds?: CoreEventKind[];
  /** Created at or after. */
  since?: Date;
  /** Only events the notifier has not delivered yet. */
  undelivered?: boolean;
  /** Default 100. */
  limit?: number;
}

/** An event given up as undeliverable, for status: what it was and what Slack said. */
export interface UndeliverableEvent {
  id: number;
  kind: CoreEventKind;
  subject: string;
  attempts: number;
  lastError: string | null;
  givenUpAt: Date;
}

/** A pending event with what its earlier delivery attempts met. */
export type OutboxEvent = CoreEvent & { deliveryAttempts: number; lastDeliveryError: string | null };

export interface EventOutbox {
  /** Stores the event unless one with the same `dedupeKey` exists; true when stored. */
  emit(event: Omit<CoreEvent, 'id' | 'createdAt' | 'deliveredAt'>): Promise<boolean>;
  /** Oldest first; with `readyAt`, without events deferred past it (a backoff after a refusal). */
  listUndelivered(limit: number, readyAt?: Date): Promise<OutboxEvent[]>;
  markDelivered(ids: number[], at: Date): Promise<void>;
  /**
   * Records a failed delivery of the message carrying `ids`: Slack's error code, and one more attempt when
   * `countAttempt`. Returns the highest attempt count among them afterwards.
   */
  recordDeliveryFailure(ids: number[], error: string, countAttempt: boolean): Promise<number>;
  /** Keeps `ids` out of `listUndelivered(…, readyAt)` until `until`. */
  deferDelivery(ids: number[], until: Date): Promise<void>;
  /** Settles `ids` as undeliverable at `at`: delivered (no longer pending) and marked given up. */
  giveUpDelivery(ids: number[], at: Date): Promise<void>;
  /** How many events were given up at or after `since`, and the newest `limit` of them. */
  undeliverable(limit: number, since: Date): Promise<{ count: number; latest: UndeliverableEvent[] }>;
  /** Newest first; every filter given must hold. */
  list(filter?: EventFilter): Promise<CoreEvent[]>;
  /** Deletes delivered events older than `before`; returns how many. */
  purgeDelivered(before: Date): Promise<number>;
}
