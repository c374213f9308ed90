import { and, asc, count, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
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
  const { deliveryAttempts, lastDeliveryError, nextDeliveryAt, givenUpAt, ...event } = row;
  return event;
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
    async listUndelivered(limit, readyAt) {
      const ready = readyAt ? or(isNull(events.nextDeliveryAt), lte(events.nextDeliveryAt, readyAt)) : undefined;
      const rows = await db
        .select()
        .from(events)
        .where(and(isNull(events.deliveredAt), ready))
        .orderBy(asc(events.id))
        .limit(limit);
      return rows.map((r) => ({
        ...eventFromRow(r),
        deliveryAttempts: r.deliveryAttempts,
        lastDeliveryError: r.lastDeliveryError,
      }));
    },
    async markDelivered(ids, at) {
      if (ids.length > 0) await db.update(events).set({ deliveredAt: at }).where(inArray(events.id, ids));
    },
    async recordDeliveryFailure(ids, error, countAttempt) {
      if (ids.length === 0) return 0;
      const rows = await db
        .update(events)
        .set({
          lastDeliveryError: error,
          ...(countAttempt ? { deliveryAttempts: sql`${events.deliveryAttempts} + 1` } : {}),
        })
        .where(inArray(events.id, ids))
        .returning({ attempts: events.deliveryAttempts });
      return Math.max(0, ...rows.map((r) => r.attempts));
    },
    async deferDelivery(ids, until) {
      if (ids.length > 0) await db.update(events).set({ nextDeliveryAt: until }).where(inArray(events.id, ids));
    },
    async giveUpDelivery(ids, at) {
      if (ids.length > 0)
        await db.update(events).set({ deliveredAt: at, givenUpAt: at }).where(inArray(events.id, ids));
    },
    async undeliverable(limit, since) {
      const givenUp = and(isNotNull(events.givenUpAt), gte(events.givenUpAt, since));
      const [total] = await db.select({ n: count() }).from(events).where(givenUp);
      const rows = await db
        .select()
        .from(events)
        .where(givenUp)
        .orderBy(desc(events.givenUpAt), desc(events.id))
        .limit(limit);
      return {
        count: total?.n ?? 0,
        latest: rows.map((r) => ({
          id: r.id,
          kind: r.kind,
          subject: r.subject,
          attempts: r.deliveryAttempts,
          lastError: r.lastDeliveryError,
          givenUpAt: r.givenUpAt!,
        })),
      };
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
