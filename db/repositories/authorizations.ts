import { and, asc, desc, eq, getTableColumns, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import type { Authorization } from '../../core/domain/managed-domain.ts';
import type { AuthorizationRepository } from '../../core/ports/repositories/domains.ts';
import { authorizations } from '../schema/index.ts';
import { type DrizzleDb, touched } from './drizzle-db.ts';
import { oneOrNotFound } from './pg-errors.ts';

export type AuthorizationRow = typeof authorizations.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function authorizationFromRow(row: AuthorizationRow): Authorization {
  return row;
}

/** A challenge is answerable while its authorization is still open at the CA. */
const OPEN_STATUSES: Authorization['status'][] = ['pending', 'processing'];

export function createAuthorizationRepository(db: DrizzleDb): AuthorizationRepository {
  return {
    async upsert(authz) {
      const rows = await db
        .insert(authorizations)
        .values(authz)
        .onConflictDoUpdate({
          target: authorizations.url,
          set: { status: authz.status, expiresAt: authz.expiresAt, problem: authz.problem, ...touched() },
        })
        .returning();
      return authorizationFromRow(oneOrNotFound(rows, 'authorization'));
    },
    async findById(id) {
      const [row] = await db.select().from(authorizations).where(eq(authorizations.id, id));
      return row ? authorizationFromRow(row) : null;
    },
    async findByUrl(url) {
      const [row] = await db.select().from(authorizations).where(eq(authorizations.url, url));
      return row ? authorizationFromRow(row) : null;
    },
    async update(id, patch) {
      const rows = await db
        .update(authorizations)
        .set({ ...patch, ...touched() })
        .where(eq(authorizations.id, id))
        .returning();
      return authorizationFromRow(oneOrNotFound(rows, 'authorization'));
    },
    async markValid(urls) {
      if (urls.length === 0) return [];
      // The status before the update, which RETURNING cannot see (PostgreSQL 15), comes from a CTE of the same
      // statement.
      const before = db.$with('before').as(
        db
          .select({ id: authorizations.id, priorStatus: sql<string>`${authorizations.status}`.as('prior_status') })
          .from(authorizations)
          .where(and(inArray(authorizations.url, [...urls]), ne(authorizations.status, 'valid'))),
      );
      const rows = await db
        .with(before)
        .update(authorizations)
        .set({ status: 'valid', problem: null, ...touched() })
        .from(before)
        .where(eq(authorizations.id, before.id))
        .returning({ ...getTableColumns(authorizations), priorStatus: before.priorStatus });
      return rows.map(({ priorStatus, ...row }) => ({
        authorization: authorizationFromRow(row),
        wasOpen: (OPEN_STATUSES as string[]).includes(priorStatus),
      }));
    },
    async httpChallenge(token) {
      const rows = await db
        .select({ keyAuthorization: authorizations.httpKeyAuthorization, domain: authorizations.identifier })
        .from(authorizations)
        .where(and(eq(authorizations.httpToken, token), inArray(authorizations.status, OPEN_STATUSES)))
        .limit(1);
      const row = rows[0];
      return row?.keyAuthorization ? { keyAuthorization: row.keyAuthorization, domain: row.domain } : null;
    },
    async pendingHttpChallenges() {
      const rows = await db
        .select({
          token: authorizations.httpToken,
          keyAuthorization: authorizations.httpKeyAuthorization,
          domain: authorizations.identifier,
        })
        .from(authorizations)
        .where(and(isNotNull(authorizations.httpToken), inArray(authorizations.status, OPEN_STATUSES)));
      return rows.flatMap((r) =>
        r.token && r.keyAuthorization
          ? [{ token: r.token, keyAuthorization: r.keyAuthorization, domain: r.domain }]
          : [],
      );
    },
    async tlsAlpnMaterial(identifier) {
      const rows = await db
        .select({
          id: authorizations.id,
          certPem: authorizations.tlsCertPem,
          keySealed: authorizations.tlsKeySealed,
          expiresAt: authorizations.expiresAt,
        })
        .from(authorizations)
        .where(and(eq(authorizations.identifier, identifier), inArray(authorizations.status, OPEN_STATUSES)))
        .orderBy(desc(authorizations.updatedAt))
        .limit(1);
      const row = rows[0];
      return row?.certPem && row.keySealed
        ? { id: row.id, certPem: row.certPem, keySealed: row.keySealed, expiresAt: row.expiresAt }
        : null;
    },
    async listByDomain(domainId) {
      const rows = await db
        .select()
        .from(authorizations)
        .where(eq(authorizations.domainId, domainId))
        .orderBy(asc(authorizations.createdAt), asc(authorizations.id));
      return rows.map(authorizationFromRow);
    },
  };
}
