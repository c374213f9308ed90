import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { AuditEntry } from '../../core/domain/audit-entry.ts';

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    objectType: text('object_type').$type<AuditEntry['objectType']>().notNull(),
    objectId: text('object_id'),
    objectName: text('object_name'),
    result: text('result').$type<AuditEntry['result']>().notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('audit_log_object_idx').on(t.objectId)],
);
