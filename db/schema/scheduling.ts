import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import type { ApprovalKind, ApprovalState } from '../../core/domain/approval.ts';
import type { CoreEventKind } from '../../core/domain/core-event.ts';
import { certificates } from './certificates.ts';

/** Work claims across replicas: a row per key, free once `expires_at` has passed (a dead holder's claim frees itself). */
export const leases = pgTable('leases', {
  key: text('key').primaryKey(),
  holder: text('holder').notNull(),
  acquiredAt: timestamp('acquired_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').$type<CoreEventKind>().notNull(),
    certificateId: uuid('certificate_id').references(() => certificates.id, { onDelete: 'set null' }),
    subject: text('subject').notNull(),
    dedupeKey: text('dedupe_key').notNull().unique(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    needsPerson: boolean('needs_person').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    /** Times Slack refused this event's message for good (core/domain/delivery-failure.ts); reset never. */
    deliveryAttempts: integer('delivery_attempts').notNull().default(0),
    /** Slack's last error code for it (a code such as `channel_not_found`, never a payload). */
    lastDeliveryError: text('last_delivery_error'),
    /** Not offered to the notifier before this (a backoff after a refusal). */
    nextDeliveryAt: timestamp('next_delivery_at', { withTimezone: true }),
    /** Given up as undeliverable (delivered_at is then set too, so it no longer holds up the outbox). */
    givenUpAt: timestamp('given_up_at', { withTimezone: true }),
  },
  (t) => [index('events_undelivered_idx').on(t.id).where(sql`delivered_at IS NULL`)],
);

export const approvals = pgTable(
  'approvals',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind').$type<ApprovalKind>().notNull(),
    certificateId: uuid('certificate_id')
      .notNull()
      .references(() => certificates.id, { onDelete: 'cascade' }),
    state: text('state').$type<ApprovalState>().notNull(),
    summary: jsonb('summary').$type<Record<string, unknown>>().notNull().default({}),
    requestedBy: text('requested_by').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull(),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    reason: text('reason'),
  },
  // At most one open request per certificate and kind, whoever asks and however often.
  (t) => [uniqueIndex('approvals_open_uq').on(t.certificateId, t.kind).where(sql`state IN ('pending', 'approved')`)],
);

/**
 * Where a chat message showing an approval was posted (the notify channel, each approver's DM), so every
 * copy can be updated to show the decision, whoever decided and wherever they clicked. Not a secret.
 */
export const approvalMessages = pgTable(
  'approval_messages',
  {
    approvalId: uuid('approval_id')
      .notNull()
      .references(() => approvals.id, { onDelete: 'cascade' }),
    channel: text('channel').notNull(),
    ts: text('ts').notNull(),
    postedAt: timestamp('posted_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.channel, t.ts] }), index('approval_messages_approval_idx').on(t.approvalId)],
);

export const jobRuns = pgTable('job_runs', {
  job: text('job').primaryKey(),
  lastStartedAt: timestamp('last_started_at', { withTimezone: true }),
  lastFinishedAt: timestamp('last_finished_at', { withTimezone: true }),
  lastResult: text('last_result'),
  lastDetail: jsonb('last_detail').$type<Record<string, unknown>>(),
  holder: text('holder'),
});
