import { and, eq, lt, or, sql } from 'drizzle-orm';
import type { LeaseRepository } from '../../core/ports/repositories/leases.ts';
import { leases } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';

/** Every time here is the database's `now()`, so replicas' clocks need not agree. */
export function createLeaseRepository(db: DrizzleDb): LeaseRepository {
  return {
    async tryAcquire(key, holder, ttlMs) {
      const rows = await db
        .insert(leases)
        .values({ key, holder, acquiredAt: sql`now()`, expiresAt: sql`now() + ${ttlMs} * interval '1 millisecond'` })
        .onConflictDoUpdate({
          target: leases.key,
          set: { holder, acquiredAt: sql`now()`, expiresAt: sql`now() + ${ttlMs} * interval '1 millisecond'` },
          setWhere: or(lt(leases.expiresAt, sql`now()`), eq(leases.holder, holder)),
        })
        .returning({ holder: leases.holder });
      return rows[0]?.holder === holder;
    },
    async renew(key, holder, ttlMs) {
      const rows = await db
        .update(leases)
        .set({ expiresAt: sql`now() + ${ttlMs} * interval '1 millisecond'` })
        .where(and(eq(leases.key, key), eq(leases.holder, holder)))
        .returning({ key: leases.key });
      return rows.length === 1;
    },
    async release(key, holder) {
      await db.delete(leases).where(and(eq(leases.key, key), eq(leases.holder, holder)));
    },
    async purgeExpired(olderThanMs) {
      const rows = await db
        .delete(leases)
        .where(lt(leases.expiresAt, sql`now() - ${olderThanMs} * interval '1 millisecond'`))
        .returning({ key: leases.key });
      return rows.length;
    },
  };
}
