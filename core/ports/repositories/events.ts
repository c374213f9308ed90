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

export interface EventOutbox {
  /** Stores the event unless one with the same `dedupeKey` exists; true when stored. */
  emit(event: Omit<CoreEvent, 'id' | 'createdAt' | 'deliveredAt'>): Promise<boolean>;
  /** Oldest first. */
  listUndelivered(limit: number): Promise<CoreEvent[]>;
  markDelivered(ids: number[], at: Date): Promise<void>;
  /** Newest first; every filter given must hold. */
  list(filter?: EventFilter): Promise<CoreEvent[]>;
  /** Deletes delivered events older than `before`; returns how many. */
  purgeDelivered(before: Date): Promise<number>;
}
