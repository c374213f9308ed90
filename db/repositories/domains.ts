import { and, eq, isNotNull } from 'drizzle-orm';
import type { ManagedDomain } from '../../core/domain/managed-domain.ts';
import type { DomainRepository } from '../../core/ports/repositories/domains.ts';
import { authorizations, domains } from '../schema/index.ts';
import { type DrizzleDb, touched } from './drizzle-db.ts';
import { conflictOr, oneOrNotFound } from './pg-errors.ts';

export type DomainRow = typeof domains.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function domainFromRow(row: DomainRow): ManagedDomain {
  return row;
}

export function createDomainRepository(db: DrizzleDb): DomainRepository {
  return {
    async insertWithAuthorization(domain, authz) {
      try {
        await db.transaction(async (tx) => {
          await tx.insert(domains).values({ ...domain, currentAuthorizationId: null });
          await tx.insert(authorizations).values(authz);
          await tx.update(domains).set({ currentAuthorizationId: authz.id }).where(eq(domains.id, domain.id));
        });
      } catch (err) {
        conflictOr(err, `domain "${domain.name}" in this profile`);
      }
    },
    async findById(id) {
      const [row] = await db.select().from(domains).where(eq(domains.id, id));
      return row ? domainFromRow(row) : null;
    },
    async find(profileId, name) {
      const [row] = await db
        .select()
        .from(domains)
        .where(and(eq(domains.profileId, profileId), eq(domains.name, name)));
      return row ? domainFromRow(row) : null;
    },
    async findByName(name) {
      return (await db.select().from(domains).where(eq(domains.name, name))).map(domainFromRow);
    },
    async listByProfile(profileId) {
      return (await db.select().from(domains).where(eq(domains.profileId, profileId)).orderBy(domains.name)).map(
        domainFromRow,
      );
    },
    async update(id, patch) {
      const rows = await db
        .update(domains)
        .set({ ...patch, ...touched() })
        .where(eq(domains.id, id))
        .returning();
      return domainFromRow(oneOrNotFound(rows, 'domain'));
    },
    async markValidIfCurrent(id, authorizationId) {
      const rows = await db
        .update(domains)
        .set({ status: 'valid', problem: null, ...touched() })
        .where(and(eq(domains.id, id), eq(domains.currentAuthorizationId, authorizationId)))
        .returning();
      return rows[0] ? domainFromRow(rows[0]) : null;
    },
    async endpointVerifiers(name) {
      const rows = await db
        .select({ username: domains.endpointUsername, verifier: domains.endpointPasswordVerifier })
        .from(domains)
        .where(and(eq(domains.name, name), isNotNull(domains.endpointPasswordVerifier)));
      return rows.flatMap((r) => (r.username && r.verifier ? [{ username: r.username, verifier: r.verifier }] : []));
    },
    async remove(id) {
      // Its authorizations go with it (ON DELETE CASCADE).
      const rows = await db.delete(domains).where(eq(domains.id, id)).returning({ id: domains.id });
      oneOrNotFound(rows, 'domain');
    },
  };
}
