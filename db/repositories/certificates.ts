import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, lte, min, not, or, sql } from 'drizzle-orm';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import type { CertificateRepository } from '../../core/ports/repositories/certificates.ts';
import { approvals, bindings, certificates, profiles } from '../schema/index.ts';
import { type DrizzleDb, touched } from './drizzle-db.ts';
import { conflictOr, oneOrNotFound } from './pg-errors.ts';

export type CertificateRow = typeof certificates.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function certificateFromRow(row: CertificateRow): ManagedCertificate {
  return row;
}

export function createCertificateRepository(db: DrizzleDb): CertificateRepository {
  return {
    async insert(cert) {
      try {
        await db.insert(certificates).values(cert);
      } catch (err) {
        conflictOr(err, `certificate "${cert.name}"`);
      }
    },
    async findById(id) {
      const [row] = await db.select().from(certificates).where(eq(certificates.id, id));
      return row ? certificateFromRow(row) : null;
    },
    async findByName(name) {
      const [row] = await db.select().from(certificates).where(eq(certificates.name, name));
      return row ? certificateFromRow(row) : null;
    },
    async list(filter = {}) {
      const q = db.select().from(certificates);
      const rows = filter.profileId
        ? await q.where(eq(certificates.profileId, filter.profileId)).orderBy(certificates.name)
        : await q.orderBy(certificates.name);
      return rows.map(certificateFromRow);
    },
    async update(id, patch) {
      const rows = await db
        .update(certificates)
        .set({ ...patch, ...touched() })
        .where(eq(certificates.id, id))
        .returning();
      return certificateFromRow(oneOrNotFound(rows, 'certificate'));
    },
    async listRenewalCandidates(now, limit) {
      // A coarse superset of what the renewal policy chain (core/issuance/renewal-policies.ts) renews, for the
      // indexes; that chain is the one "due" rule and re-checks every id under its claim. A renewal in flight
      // always has renewalStartedAt (set with renewalState; migration 0007 filled it for older rows).
      const attemptAllowed = or(isNull(certificates.nextAttemptAt), lte(certificates.nextAttemptAt, now));
      const due = and(eq(certificates.state, 'issued'), lte(certificates.renewAt, now), eq(profiles.autoRenew, true));
      // A revoked live certificate is renewed at once when bound (the policy chain checks the bindings).
      const revoked = and(
        eq(certificates.state, 'issued'),
        eq(certificates.revokedSerial, certificates.serial),
        eq(profiles.autoRenew, true),
      );
      // Set when a renewal starts, cleared when its chain replaces the live one.
      const inFlight = isNotNull(certificates.renewalStartedAt);
      const rows = await db
        .select({ id: certificates.id })
        .from(certificates)
        .innerJoin(profiles, eq(profiles.id, certificates.profileId))
        .where(and(attemptAllowed, or(due, inFlight, revoked)))
        .orderBy(asc(certificates.renewAt))
        .limit(limit);
      return rows.map((r) => r.id);
    },
    async listStalledIssuances(before, limit) {
      const waitingForApproval = sql`EXISTS (SELECT 1 FROM ${approvals} WHERE ${approvals.certificateId} = ${certificates.id} AND ${approvals.kind} = 'issuance' AND ${approvals.state} = 'pending')`;
      const rows = await db
        .select({ id: certificates.id })
        .from(certificates)
        .where(
          and(
            isNull(certificates.serial),
            inArray(certificates.state, ['requested', 'ordering', 'finalizing']),
            lt(certificates.updatedAt, before),
            not(waitingForApproval),
          ),
        )
        .orderBy(asc(certificates.updatedAt))
        .limit(limit);
      return rows.map((r) => r.id);
    },
    async nextRetryAt(after) {
      const [row] = await db
        .select({ at: min(certificates.nextAttemptAt) })
        .from(certificates)
        .where(and(gt(certificates.failedAttempts, 0), gt(certificates.nextAttemptAt, after)));
      return row?.at ?? null;
    },
    async listAriPollCandidates(now, limit) {
      const rows = await db
        .select({ id: certificates.id })
        .from(certificates)
        .where(
          and(
            eq(certificates.state, 'issued'),
            or(isNull(certificates.ariNextPollAt), lte(certificates.ariNextPollAt, now)),
          ),
        )
        .orderBy(asc(certificates.ariNextPollAt))
        .limit(limit);
      return rows.map((r) => r.id);
    },
    async listExpiringBefore(at) {
      const rows = await db
        .select()
        .from(certificates)
        .where(and(isNotNull(certificates.serial), lt(certificates.notAfter, at)))
        .orderBy(asc(certificates.notAfter));
      return rows.map(certificateFromRow);
    },
    async listDeployCandidates(limit) {
      const rows = await db
        .selectDistinct({ id: certificates.id })
        .from(bindings)
        .innerJoin(certificates, eq(certificates.id, bindings.certificateId))
        .where(
          and(
            eq(certificates.state, 'issued'),
            isNotNull(certificates.keySealed),
            sql`${bindings.deployedFingerprint} IS DISTINCT FROM ${certificates.fingerprintSha256}`,
            // A revoked certificate is not spread further; its replacement is deployed once renewed.
            or(
              isNull(certificates.revokedSerial),
              sql`${certificates.revokedSerial} IS DISTINCT FROM ${certificates.serial}`,
            ),
          ),
        )
        .limit(limit);
      return rows.map((r) => r.id);
    },
    async remove(id) {
      // Bindings, approvals, deployments and device_objects go with it (ON DELETE CASCADE); events keep their
      // history with the certificate id set to null.
      const rows = await db.delete(certificates).where(eq(certificates.id, id)).returning({ id: certificates.id });
      oneOrNotFound(rows, 'certificate');
    },
  };
}
