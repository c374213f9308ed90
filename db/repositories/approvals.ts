import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Approval, ApprovalState } from '../../core/domain/approval.ts';
import { CoreError } from '../../core/errors.ts';
import type { ApprovalRepository } from '../../core/ports/repositories/approvals.ts';
import { approvalMessages, approvals } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';

export type ApprovalRow = typeof approvals.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function approvalFromRow(row: ApprovalRow): Approval {
  return row;
}

/** At most one approval per certificate and kind is in these states (the `approvals_open_uq` index). */
const OPEN_STATES: ApprovalState[] = ['pending', 'approved'];

export function createApprovalRepository(db: DrizzleDb): ApprovalRepository {
  return {
    async recordMessage(message) {
      await db.insert(approvalMessages).values(message).onConflictDoNothing();
    },
    async messages(approvalId) {
      return db
        .select()
        .from(approvalMessages)
        .where(eq(approvalMessages.approvalId, approvalId))
        .orderBy(approvalMessages.postedAt);
    },
    async open(approval) {
      const [inserted] = await db.insert(approvals).values(approval).onConflictDoNothing().returning();
      if (inserted) return { approval: approvalFromRow(inserted), created: true };
      const [existing] = await db
        .select()
        .from(approvals)
        .where(
          and(
            eq(approvals.certificateId, approval.certificateId),
            eq(approvals.kind, approval.kind),
            inArray(approvals.state, OPEN_STATES),
          ),
        );
      if (!existing)
        throw new CoreError('db_error', 'an approval could neither be stored nor found', { retryable: true });
      return { approval: approvalFromRow(existing), created: false };
    },
    async findOpen(certificateId, kind) {
      const [row] = await db
        .select()
        .from(approvals)
        .where(
          and(
            eq(approvals.certificateId, certificateId),
            eq(approvals.kind, kind),
            inArray(approvals.state, OPEN_STATES),
          ),
        );
      return row ? approvalFromRow(row) : null;
    },
    async findLatest(certificateId, kind) {
      const [row] = await db
        .select()
        .from(approvals)
        .where(and(eq(approvals.certificateId, certificateId), eq(approvals.kind, kind)))
        .orderBy(desc(approvals.requestedAt))
        .limit(1);
      return row ? approvalFromRow(row) : null;
    },
    async findById(id) {
      const [row] = await db.select().from(approvals).where(eq(approvals.id, id));
      return row ? approvalFromRow(row) : null;
    },
    async list(filter = {}) {
      const q = db.select().from(approvals);
      const filtered = filter.state ? q.where(eq(approvals.state, filter.state)) : q;
      return (await filtered.orderBy(desc(approvals.requestedAt)).limit(filter.limit ?? 100)).map(approvalFromRow);
    },
    async transition(id, from, patch) {
      const [row] = await db
        .update(approvals)
        .set(patch)
        .where(and(eq(approvals.id, id), eq(approvals.state, from)))
        .returning();
      return row ? approvalFromRow(row) : null;
    },
  };
}
