import { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, min, not, or, sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type { Approval } from '../core/domain/approval.ts';
import type { AuditEntry } from '../core/domain/audit-entry.ts';
import type { CoreEvent } from '../core/domain/core-event.ts';
import type { Binding } from '../core/domain/binding.ts';
import type { Deployment, DeviceObject } from '../core/domain/deployment.ts';
import type { Device } from '../core/domain/device.ts';
import type { CaProfile } from '../core/domain/ca-profile.ts';
import type { ManagedCertificate } from '../core/domain/managed-certificate.ts';
import type { Authorization, ManagedDomain } from '../core/domain/managed-domain.ts';
import { CoreError } from '../core/errors.ts';
import type { HookChallenge, Store } from '../core/ports/store.ts';
import type { Database, Schema } from './client.ts';
import { guardConnectionLoss } from './connection-loss.ts';
import {
  approvals,
  auditLog,
  authorizations,
  bindings,
  certificates,
  deployments,
  deviceObjects,
  devices,
  domains,
  events,
  hookChallenges,
  jobRuns,
  leases,
  profiles,
} from './schema/index.ts';

/** PostgreSQL unique_violation, raised identically by pg and PGlite. */
function isUniqueViolation(err: unknown): boolean {
  const code =
    (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return code === '23505';
}

/** PostgreSQL foreign_key_violation or restrict_violation (ON DELETE RESTRICT): a row still referenced elsewhere. */
function isForeignKeyViolation(err: unknown): boolean {
  const code =
    (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return code === '23503' || code === '23001';
}

function conflictOr(err: unknown, what: string): never {
  if (isUniqueViolation(err)) throw new CoreError('conflict', `${what} already exists`);
  throw new CoreError('db_error', `database error while saving ${what}`, { cause: err, retryable: true });
}

function one<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (!row) throw new CoreError('not_found', `${what} not found`);
  return row;
}

/**
 * The channel every new outbox event is announced on (payload: the event id), so the Slack notifier wakes at
 * once instead of at its next poll. Sent with `pg_notify` in the inserting statement: no trigger, no migration.
 */
export const EVENTS_CHANNEL = 'bigip_acme_events';

export function createDrizzleStore(database: Database): Store {
  // Both drivers expose the same query builder; one static type keeps the adapter readable.
  const db = database.db as PgliteDatabase<Schema>;
  const stamp = () => ({ updatedAt: new Date() });

  // A lost connection surfaces as one retryable `db_unavailable`, whichever query hit it (connection-loss.ts).
  return guardConnectionLoss<Store>({
    profiles: {
      async insert(profile) {
        try {
          await db.insert(profiles).values(profile);
        } catch (err) {
          conflictOr(err, `profile "${profile.name}"`);
        }
      },
      async findById(id) {
        return ((await db.select().from(profiles).where(eq(profiles.id, id)))[0] as CaProfile | undefined) ?? null;
      },
      async findByName(name) {
        return ((await db.select().from(profiles).where(eq(profiles.name, name)))[0] as CaProfile | undefined) ?? null;
      },
      async list() {
        return (await db.select().from(profiles).orderBy(profiles.name)) as CaProfile[];
      },
      async update(id, patch) {
        const rows = await db
          .update(profiles)
          .set({ ...patch, ...stamp() })
          .where(eq(profiles.id, id))
          .returning();
        return one(rows, 'profile') as CaProfile;
      },
    },

    domains: {
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
        return ((await db.select().from(domains).where(eq(domains.id, id)))[0] as ManagedDomain | undefined) ?? null;
      },
      async find(profileId, name) {
        const rows = await db
          .select()
          .from(domains)
          .where(and(eq(domains.profileId, profileId), eq(domains.name, name)));
        return (rows[0] as ManagedDomain | undefined) ?? null;
      },
      async findByName(name) {
        return (await db.select().from(domains).where(eq(domains.name, name))) as ManagedDomain[];
      },
      async listByProfile(profileId) {
        return (await db
          .select()
          .from(domains)
          .where(eq(domains.profileId, profileId))
          .orderBy(domains.name)) as ManagedDomain[];
      },
      async update(id, patch) {
        const rows = await db
          .update(domains)
          .set({ ...patch, ...stamp() })
          .where(eq(domains.id, id))
          .returning();
        return one(rows, 'domain') as ManagedDomain;
      },
      async endpointVerifiers(name) {
        const rows = await db
          .select({ username: domains.endpointUsername, verifier: domains.endpointPasswordVerifier })
          .from(domains)
          .where(and(eq(domains.name, name), isNotNull(domains.endpointPasswordVerifier)));
        return rows.flatMap((r) => (r.username && r.verifier ? [{ username: r.username, verifier: r.verifier }] : []));
      },
    },

    authorizations: {
      async upsert(authz) {
        const rows = await db
          .insert(authorizations)
          .values(authz)
          .onConflictDoUpdate({
            target: authorizations.url,
            set: { status: authz.status, expiresAt: authz.expiresAt, problem: authz.problem, ...stamp() },
          })
          .returning();
        return one(rows, 'authorization') as Authorization;
      },
      async findById(id) {
        const rows = await db.select().from(authorizations).where(eq(authorizations.id, id));
        return (rows[0] as Authorization | undefined) ?? null;
      },
      async findByUrl(url) {
        const rows = await db.select().from(authorizations).where(eq(authorizations.url, url));
        return (rows[0] as Authorization | undefined) ?? null;
      },
      async update(id, patch) {
        const rows = await db
          .update(authorizations)
          .set({ ...patch, ...stamp() })
          .where(eq(authorizations.id, id))
          .returning();
        return one(rows, 'authorization') as Authorization;
      },
      async httpChallenge(token) {
        const rows = await db
          .select({ keyAuthorization: authorizations.httpKeyAuthorization, domain: authorizations.identifier })
          .from(authorizations)
          .where(and(eq(authorizations.httpToken, token), inArray(authorizations.status, ['pending', 'processing'])))
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
          .where(and(isNotNull(authorizations.httpToken), inArray(authorizations.status, ['pending', 'processing'])));
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
          .where(
            and(eq(authorizations.identifier, identifier), inArray(authorizations.status, ['pending', 'processing'])),
          )
          .orderBy(desc(authorizations.updatedAt))
          .limit(1);
        const row = rows[0];
        return row?.certPem && row.keySealed
          ? { id: row.id, certPem: row.certPem, keySealed: row.keySealed, expiresAt: row.expiresAt }
          : null;
      },
    },

    certificates: {
      async insert(cert) {
        try {
          await db.insert(certificates).values(cert);
        } catch (err) {
          conflictOr(err, `certificate "${cert.name}"`);
        }
      },
      async findById(id) {
        const rows = await db.select().from(certificates).where(eq(certificates.id, id));
        return (rows[0] as ManagedCertificate | undefined) ?? null;
      },
      async findByName(name) {
        const rows = await db.select().from(certificates).where(eq(certificates.name, name));
        return (rows[0] as ManagedCertificate | undefined) ?? null;
      },
      async list(filter = {}) {
        const q = db.select().from(certificates);
        const rows = filter.profileId
          ? await q.where(eq(certificates.profileId, filter.profileId)).orderBy(certificates.name)
          : await q.orderBy(certificates.name);
        return rows as ManagedCertificate[];
      },
      async update(id, patch) {
        const rows = await db
          .update(certificates)
          .set({ ...patch, ...stamp() })
          .where(eq(certificates.id, id))
          .returning();
        return one(rows, 'certificate') as ManagedCertificate;
      },
      async listRenewalCandidates(now, limit) {
        // A coarse superset of what the renewal policy chain (core/issuance/renewal-policies.ts) renews, for the
        // indexes; that chain is the one "due" rule and re-checks every id under its claim. A renewal in flight
        // always has renewalStartedAt (set with renewalState; migration 0007 filled it for older rows).
        const attemptAllowed = or(isNull(certificates.nextAttemptAt), lte(certificates.nextAttemptAt, now));
        const due = and(eq(certificates.state, 'issued'), lte(certificates.renewAt, now), eq(profiles.autoRenew, true));
        // Set when a renewal starts, cleared when its chain replaces the live one.
        const inFlight = isNotNull(certificates.renewalStartedAt);
        const rows = await db
          .select({ id: certificates.id })
          .from(certificates)
          .innerJoin(profiles, eq(profiles.id, certificates.profileId))
          .where(and(attemptAllowed, or(due, inFlight)))
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
        return (await db
          .select()
          .from(certificates)
          .where(and(isNotNull(certificates.serial), lt(certificates.notAfter, at)))
          .orderBy(asc(certificates.notAfter))) as ManagedCertificate[];
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
            ),
          )
          .limit(limit);
        return rows.map((r) => r.id);
      },
    },

    hookChallenges: {
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
        return (await db
          .select()
          .from(hookChallenges)
          .where(eq(hookChallenges.domainName, domainName))
          .orderBy(hookChallenges.createdAt)) as HookChallenge[];
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
    },

    devices: {
      async insert(device) {
        try {
          await db.insert(devices).values(device);
        } catch (err) {
          conflictOr(err, `device "${device.name}"`);
        }
      },
      async findById(id) {
        return ((await db.select().from(devices).where(eq(devices.id, id)))[0] as Device | undefined) ?? null;
      },
      async findByName(name) {
        return ((await db.select().from(devices).where(eq(devices.name, name)))[0] as Device | undefined) ?? null;
      },
      async list() {
        return (await db.select().from(devices).orderBy(devices.name)) as Device[];
      },
      async update(id, patch) {
        const rows = await db
          .update(devices)
          .set({ ...patch, ...stamp() })
          .where(eq(devices.id, id))
          .returning();
        return one(rows, 'device') as Device;
      },
      async remove(id) {
        try {
          const rows = await db.delete(devices).where(eq(devices.id, id)).returning({ id: devices.id });
          one(rows, 'device');
        } catch (err) {
          if (isForeignKeyViolation(err))
            throw new CoreError('conflict', 'the device still has bindings; remove them first');
          throw err;
        }
      },
    },

    bindings: {
      async insert(binding) {
        try {
          await db.insert(bindings).values(binding);
        } catch (err) {
          conflictOr(err, `a binding of ${binding.profilePath} on this device`);
        }
      },
      async findById(id) {
        return ((await db.select().from(bindings).where(eq(bindings.id, id)))[0] as Binding | undefined) ?? null;
      },
      async list(filter = {}) {
        const conditions = [
          ...(filter.certificateId ? [eq(bindings.certificateId, filter.certificateId)] : []),
          ...(filter.deviceId ? [eq(bindings.deviceId, filter.deviceId)] : []),
        ];
        return (await db
          .select()
          .from(bindings)
          .where(and(...conditions))
          .orderBy(bindings.createdAt, bindings.profilePath)) as Binding[];
      },
      async update(id, patch) {
        const rows = await db
          .update(bindings)
          .set({ ...patch, ...stamp() })
          .where(eq(bindings.id, id))
          .returning();
        return one(rows, 'binding') as Binding;
      },
      async remove(id) {
        one(await db.delete(bindings).where(eq(bindings.id, id)).returning({ id: bindings.id }), 'binding');
      },
    },

    deployments: {
      async insert(deployment) {
        await db.insert(deployments).values(deployment);
      },
      async update(id, patch) {
        const rows = await db.update(deployments).set(patch).where(eq(deployments.id, id)).returning();
        return one(rows, 'deployment') as Deployment;
      },
      async list(filter = {}) {
        const conditions = [
          ...(filter.certificateId ? [eq(deployments.certificateId, filter.certificateId)] : []),
          ...(filter.deviceId ? [eq(deployments.deviceId, filter.deviceId)] : []),
          ...(filter.result ? [eq(deployments.result, filter.result)] : []),
        ];
        return (await db
          .select()
          .from(deployments)
          .where(and(...conditions))
          .orderBy(desc(deployments.startedAt), desc(deployments.id))
          .limit(filter.limit ?? 100)) as Deployment[];
      },
      async latestPerTarget(since) {
        // DISTINCT ON walks deployments_certificate_device_idx: one row per (certificate, device), the newest.
        const rows = await db
          .selectDistinctOn([deployments.certificateId, deployments.deviceId])
          .from(deployments)
          .where(gte(deployments.startedAt, since))
          .orderBy(deployments.certificateId, deployments.deviceId, desc(deployments.startedAt), desc(deployments.id));
        return (rows as Deployment[]).sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
      },
    },

    deviceObjects: {
      async record(object) {
        await db
          .insert(deviceObjects)
          .values(object)
          .onConflictDoUpdate({
            target: [deviceObjects.deviceId, deviceObjects.fullPath],
            set: {
              certificateId: object.certificateId,
              kind: object.kind,
              serial: object.serial,
              installedAt: object.installedAt,
              removedAt: null,
            },
          });
      },
      async listLive(deviceId, certificateId) {
        return (await db
          .select()
          .from(deviceObjects)
          .where(
            and(
              eq(deviceObjects.deviceId, deviceId),
              eq(deviceObjects.certificateId, certificateId),
              isNull(deviceObjects.removedAt),
            ),
          )
          .orderBy(deviceObjects.installedAt)) as DeviceObject[];
      },
      async markRemoved(id, at) {
        await db.update(deviceObjects).set({ removedAt: at }).where(eq(deviceObjects.id, id));
      },
    },

    leases: {
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
    },

    events: {
      async emit(event) {
        // One statement: the insert and its notification commit together, and a duplicate (no row) wakes nobody.
        const inserted = db
          .$with('inserted')
          .as(
            db
              .insert(events)
              .values(event)
              .onConflictDoNothing({ target: events.dedupeKey })
              .returning({ id: events.id }),
          );
        const rows = await db
          .with(inserted)
          .select({ id: inserted.id, notified: sql`pg_notify(${EVENTS_CHANNEL}, ${inserted.id}::text)` })
          .from(inserted);
        return rows.length === 1;
      },
      async listUndelivered(limit) {
        return (await db
          .select()
          .from(events)
          .where(isNull(events.deliveredAt))
          .orderBy(asc(events.id))
          .limit(limit)) as CoreEvent[];
      },
      async markDelivered(ids, at) {
        if (ids.length > 0) await db.update(events).set({ deliveredAt: at }).where(inArray(events.id, ids));
      },
      async list(filter = {}) {
        const conditions = [
          ...(filter.certificateId ? [eq(events.certificateId, filter.certificateId)] : []),
          ...(filter.kinds ? [inArray(events.kind, filter.kinds)] : []),
          ...(filter.since ? [gte(events.createdAt, filter.since)] : []),
          ...(filter.undelivered ? [isNull(events.deliveredAt)] : []),
        ];
        return (await db
          .select()
          .from(events)
          .where(and(...conditions))
          .orderBy(desc(events.id))
          .limit(filter.limit ?? 100)) as CoreEvent[];
      },
      async purgeDelivered(before) {
        const rows = await db
          .delete(events)
          .where(and(isNotNull(events.deliveredAt), lt(events.createdAt, before)))
          .returning({ id: events.id });
        return rows.length;
      },
    },

    approvals: {
      async open(approval) {
        const rows = await db.insert(approvals).values(approval).onConflictDoNothing().returning();
        if (rows[0]) return { approval: rows[0] as Approval, created: true };
        const existing = (
          await db
            .select()
            .from(approvals)
            .where(
              and(
                eq(approvals.certificateId, approval.certificateId),
                eq(approvals.kind, approval.kind),
                inArray(approvals.state, ['pending', 'approved']),
              ),
            )
        )[0];
        if (!existing)
          throw new CoreError('db_error', 'an approval could neither be stored nor found', { retryable: true });
        return { approval: existing as Approval, created: false };
      },
      async findOpen(certificateId, kind) {
        const rows = await db
          .select()
          .from(approvals)
          .where(
            and(
              eq(approvals.certificateId, certificateId),
              eq(approvals.kind, kind),
              inArray(approvals.state, ['pending', 'approved']),
            ),
          );
        return (rows[0] as Approval | undefined) ?? null;
      },
      async findLatest(certificateId, kind) {
        const rows = await db
          .select()
          .from(approvals)
          .where(and(eq(approvals.certificateId, certificateId), eq(approvals.kind, kind)))
          .orderBy(desc(approvals.requestedAt))
          .limit(1);
        return (rows[0] as Approval | undefined) ?? null;
      },
      async findById(id) {
        return ((await db.select().from(approvals).where(eq(approvals.id, id)))[0] as Approval | undefined) ?? null;
      },
      async list(filter = {}) {
        const q = db.select().from(approvals);
        const filtered = filter.state ? q.where(eq(approvals.state, filter.state)) : q;
        return (await filtered.orderBy(desc(approvals.requestedAt)).limit(filter.limit ?? 100)) as Approval[];
      },
      async transition(id, from, patch) {
        const rows = await db
          .update(approvals)
          .set(patch)
          .where(and(eq(approvals.id, id), eq(approvals.state, from)))
          .returning();
        return (rows[0] as Approval | undefined) ?? null;
      },
    },

    jobRuns: {
      async started(job, holder, at) {
        await db
          .insert(jobRuns)
          .values({ job, holder, lastStartedAt: at })
          .onConflictDoUpdate({ target: jobRuns.job, set: { holder, lastStartedAt: at } });
      },
      async finished(job, result, detail, at) {
        await db
          .insert(jobRuns)
          .values({ job, lastFinishedAt: at, lastResult: result, lastDetail: detail })
          .onConflictDoUpdate({
            target: jobRuns.job,
            set: { lastFinishedAt: at, lastResult: result, lastDetail: detail },
          });
      },
      async list() {
        return await db.select().from(jobRuns).orderBy(jobRuns.job);
      },
    },

    audit: {
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
        return (await db
          .select()
          .from(auditLog)
          .where(and(...conditions))
          .orderBy(desc(auditLog.id))
          .limit(filter.limit ?? 100)) as AuditEntry[];
      },
    },

    close: () => database.close(),
  });
}
