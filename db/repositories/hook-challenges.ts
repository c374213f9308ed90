import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { HookChallenge, HookChallengeRepository } from '../../core/ports/repositories/challenges.ts';
import { hookChallenges } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';

export type HookChallengeRow = typeof hookChallenges.$inferSelect;

/** The row is the port's shape column for column; the signature makes the compiler check it stays so. */
export function hookChallengeFromRow(row: HookChallengeRow): HookChallenge {
  return row;
}

export function createHookChallengeRepository(db: DrizzleDb): HookChallengeRepository {
  return {
    async replace(domainName, entries) {
      const types = [...new Set(entries.map((e) => e.type))];
      await db.transaction(async (tx) => {
        if (types.length > 0) {
          await tx
            .delete(hookChallenges)
            .where(and(eq(hookChallenges.domainName, domainName), inArray(hookChallenges.type, types)));
        }
        if (entries.length > 0) await tx.insert(hookChallenges).values(entries);
      });
    },
    async list(domainName) {
      const rows = await db
        .select()
        .from(hookChallenges)
        .where(eq(hookChallenges.domainName, domainName))
        .orderBy(hookChallenges.createdAt);
      return rows.map(hookChallengeFromRow);
    },
    async clear(domainName) {
      const rows = await db
        .delete(hookChallenges)
        .where(eq(hookChallenges.domainName, domainName))
        .returning({ id: hookChallenges.id });
      return rows.length;
    },
    async httpChallenge(token) {
      const rows = await db
        .select({ keyAuthorization: hookChallenges.content, domain: hookChallenges.domainName })
        .from(hookChallenges)
        .where(and(eq(hookChallenges.token, token), eq(hookChallenges.type, 'http')))
        .limit(1);
      return rows[0] ?? null;
    },
    async allHttp() {
      const rows = await db
        .select({
          token: hookChallenges.token,
          keyAuthorization: hookChallenges.content,
          domain: hookChallenges.domainName,
        })
        .from(hookChallenges)
        .where(eq(hookChallenges.type, 'http'));
      return rows.flatMap((r) =>
        r.token ? [{ token: r.token, keyAuthorization: r.keyAuthorization, domain: r.domain }] : [],
      );
    },
    async tlsMaterial(domainName) {
      const rows = await db
        .select({ id: hookChallenges.id, certPem: hookChallenges.content, keySealed: hookChallenges.keySealed })
        .from(hookChallenges)
        .where(and(eq(hookChallenges.domainName, domainName), eq(hookChallenges.type, 'tls')))
        .orderBy(desc(hookChallenges.createdAt))
        .limit(1);
      const row = rows[0];
      return row?.keySealed ? { id: row.id, certPem: row.certPem, keySealed: row.keySealed } : null;
    },
    async purgeOlderThan(before) {
      const rows = await db
        .delete(hookChallenges)
        .where(lt(hookChallenges.createdAt, before))
        .returning({ id: hookChallenges.id });
      return rows.length;
    },
  };
}
