import { and, desc, eq, gte, or, sql } from 'drizzle-orm';
import type { AuditEntry } from '../../core/domain/audit-entry.ts';
import type { AuditLog } from '../../core/ports/repositories/audit.ts';
import { auditLog } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';

export type AuditRow = typeof auditLog.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function auditEntryFromRow(row: AuditRow): AuditEntry {
  return row;
}

export function createAuditLog(db: DrizzleDb): AuditLog {
  return {
    async append(entry) {
      await db.insert(auditLog).values({ ...entry, at: entry.at ?? new Date() });
    },
    async list(filter = {}) {
      const { action } = filter;
      const conditions = [
        ...(filter.objectId ? [eq(auditLog.objectId, filter.objectId)] : []),
        ...(filter.objectName ? [eq(auditLog.objectName, filter.objectName)] : []),
        ...(filter.actor ? [eq(auditLog.actor, filter.actor)] : []),
        // The action or its family, compared as text (no LIKE, so `_` and `%` in the filter mean themselves).
        ...(action
          ? [or(eq(auditLog.action, action), eq(sql`left(${auditLog.action}, ${action.length + 1})`, `${action}.`))!]
          : []),
        ...(filter.since ? [gte(auditLog.at, filter.since)] : []),
      ];
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(...conditions))
        .orderBy(desc(auditLog.id))
        .limit(filter.limit ?? 100);
      return rows.map(auditEntryFromRow);
    },
  };
}
