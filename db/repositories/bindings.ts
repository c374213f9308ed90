import { and, eq } from 'drizzle-orm';
import type { Binding } from '../../core/domain/binding.ts';
import type { BindingRepository } from '../../core/ports/repositories/bindings.ts';
import { bindings } from '../schema/index.ts';
import { type DrizzleDb, touched } from './drizzle-db.ts';
import { conflictOr, oneOrNotFound } from './pg-errors.ts';

export type BindingRow = typeof bindings.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function bindingFromRow(row: BindingRow): Binding {
  return row;
}

export function createBindingRepository(db: DrizzleDb): BindingRepository {
  return {
    async insert(binding) {
      try {
        await db.insert(bindings).values(binding);
      } catch (err) {
        conflictOr(err, `a binding of ${binding.profilePath} on this device`);
      }
    },
    async findById(id) {
      const [row] = await db.select().from(bindings).where(eq(bindings.id, id));
      return row ? bindingFromRow(row) : null;
    },
    async list(filter = {}) {
      const conditions = [
        ...(filter.certificateId ? [eq(bindings.certificateId, filter.certificateId)] : []),
        ...(filter.deviceId ? [eq(bindings.deviceId, filter.deviceId)] : []),
      ];
      const rows = await db
        .select()
        .from(bindings)
        .where(and(...conditions))
        .orderBy(bindings.createdAt, bindings.profilePath);
      return rows.map(bindingFromRow);
    },
    async update(id, patch) {
      const rows = await db
        .update(bindings)
        .set({ ...patch, ...touched() })
        .where(eq(bindings.id, id))
        .returning();
      return bindingFromRow(oneOrNotFound(rows, 'binding'));
    },
    async remove(id) {
      oneOrNotFound(await db.delete(bindings).where(eq(bindings.id, id)).returning({ id: bindings.id }), 'binding');
    },
  };
}
