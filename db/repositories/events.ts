import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { CoreEvent } from '../../core/domain/core-event.ts';
import type { EventOutbox } from '../../core/ports/repositories/events.ts';
import { events } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';

/**
 * The channel every new outbox event is announced on (payload: the event id), so the Slack notifier wakes at
 * once instead of at its next poll. Sent with `pg_notify` in the inserting statement: no trigger, no migration.
 */
export const EVENTS_CHANNEL = 'bigip_acme_events';

export type EventRow = typeof events.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function eventFromRow(row: EventRow): CoreEvent {
  return row;
}

export function createEventOutbox(db: DrizzleDb): EventOutbox {
  return {
    async emit(event) {
      // One statement: the insert and its notification commit together, and a duplicate (no row) wakes nobody.
      const inserted = db
        .$with('inserted')
        .as(
          db
            .insert(events)
            .values(event)
            .onConflictDoNothing({ target: events.dedupeKey })
            .returning({ id: events.id }),
        );
      const rows = await db
        .with(inserted)
        .select({ id: inserted.id, notified: sql`pg_notify(${EVENTS_CHANNEL}, ${inserted.id}::text)` })
        .from(inserted);
      return rows.length === 1;
    },
    async listUndelivered(limit) {
      const rows = await db
        .select()
        .from(events)
        .where(isNull(events.deliveredAt))
        .orderBy(asc(events.id))
        .limit(limit);
      return rows.map(eventFromRow);
    },
    async markDelivered(ids, at) {
      if (ids.length > 0) await db.update(events).set({ deliveredAt: at }).where(inArray(events.id, ids));
    },
    async list(filter = {}) {
      const conditions = [
        ...(filter.certificateId ? [eq(events.certificateId, filter.certificateId)] : []),
        ...(filter.kinds ? [inArray(events.kind, filter.kinds)] : []),
        ...(filter.since ? [gte(events.createdAt, filter.since)] : []),
        ...(filter.undelivered ? [isNull(events.deliveredAt)] : []),
      ];
      const rows = await db
        .select()
        .from(events)
        .where(and(...conditions))
        .orderBy(desc(events.id))
        .limit(filter.limit ?? 100);
      return rows.map(eventFromRow);
    },
    async purgeDelivered(before) {
      const rows = await db
        .delete(events)
        .where(and(isNotNull(events.deliveredAt), lt(events.createdAt, before)))
        .returning({ id: events.id });
      return rows.length;
    },
  };
}
