import { and, desc, eq, inArray, isNotNull, isNull } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type { AuditEntry } from '../core/domain/audit-entry.ts';
import type { Binding } from '../core/domain/binding.ts';
import type { Deployment, DeviceObject } from '../core/domain/deployment.ts';
import type { Device } from '../core/domain/device.ts';
import type { CaProfile } from '../core/domain/ca-profile.ts';
import type { ManagedCertificate } from '../core/domain/managed-certificate.ts';
import type { Authorization, ManagedDomain } from '../core/domain/managed-domain.ts';
import { CoreError } from '../core/errors.ts';
import type { HookChallenge, Store } from '../core/ports/store.ts';
import type { Database, Schema } from './client.ts';
import {
  auditLog,
  authorizations,
  bindings,
  certificates,
  deployments,
  deviceObjects,
  devices,
  domains,
  hookChallenges,
  profiles,
} from './schema/index.ts';

/** PostgreSQL unique_violation, raised identically by pg and PGlite. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return code === '23505';
}

/** PostgreSQL foreign_key_violation or restrict_violation (ON DELETE RESTRICT): a row still referenced elsewhere. */
function isForeignKeyViolation(err: unknown): boolean {
  const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
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

export function createDrizzleStore(database: Database): Store {
  // Both drivers expose the same query builder; one static type keeps the adapter readable.
  const db = database.db as PgliteDatabase<Schema>;
  const stamp = () => ({ updatedAt: new Date() });

  return {
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
          .select({ token: authorizations.httpToken, keyAuthorization: authorizations.httpKeyAuthorization, domain: authorizations.identifier })
          .from(authorizations)
          .where(and(isNotNull(authorizations.httpToken), inArray(authorizations.status, ['pending', 'processing'])));
        return rows.flatMap((r) => (r.token && r.keyAuthorization ? [{ token: r.token, keyAuthorization: r.keyAuthorization, domain: r.domain }] : []));
      },
      async tlsAlpnMaterial(identifier) {
        const rows = await db
          .select({ id: authorizations.id, certPem: authorizations.tlsCertPem, keySealed: authorizations.tlsKeySealed })
          .from(authorizations)
          .where(and(eq(authorizations.identifier, identifier), inArray(authorizations.status, ['pending', 'processing'])))
          .orderBy(desc(authorizations.updatedAt))
          .limit(1);
        const row = rows[0];
        return row?.certPem && row.keySealed ? { id: row.id, certPem: row.certPem, keySealed: row.keySealed } : null;
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
    },

    hookChallenges: {
      async replace(domainName, entries) {
        const types = [...new Set(entries.map((e) => e.type))];
        await db.transaction(async (tx) => {
          if (types.length > 0) {
            await tx.delete(hookChallenges).where(and(eq(hookChallenges.domainName, domainName), inArray(hookChallenges.type, types)));
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
        const rows = await db.delete(hookChallenges).where(eq(hookChallenges.domainName, domainName)).returning({ id: hookChallenges.id });
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
          .select({ token: hookChallenges.token, keyAuthorization: hookChallenges.content, domain: hookChallenges.domainName })
          .from(hookChallenges)
          .where(eq(hookChallenges.type, 'http'));
        return rows.flatMap((r) => (r.token ? [{ token: r.token, keyAuthorization: r.keyAuthorization, domain: r.domain }] : []));
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
          if (isForeignKeyViolation(err)) throw new CoreError('conflict', 'the device still has bindings; remove them first');
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
        ];
        return (await db
          .select()
          .from(deployments)
          .where(and(...conditions))
          .orderBy(desc(deployments.startedAt), desc(deployments.id))
          .limit(filter.limit ?? 100)) as Deployment[];
      },
    },

    deviceObjects: {
      async record(object) {
        await db
          .insert(deviceObjects)
          .values(object)
          .onConflictDoUpdate({
            target: [deviceObjects.deviceId, deviceObjects.fullPath],
            set: { certificateId: object.certificateId, kind: object.kind, serial: object.serial, installedAt: object.installedAt, removedAt: null },
          });
      },
      async listLive(deviceId, certificateId) {
        return (await db
          .select()
          .from(deviceObjects)
          .where(and(eq(deviceObjects.deviceId, deviceId), eq(deviceObjects.certificateId, certificateId), isNull(deviceObjects.removedAt)))
          .orderBy(deviceObjects.installedAt)) as DeviceObject[];
      },
      async markRemoved(id, at) {
        await db.update(deviceObjects).set({ removedAt: at }).where(eq(deviceObjects.id, id));
      },
    },

    audit: {
      async append(entry) {
        await db.insert(auditLog).values({ ...entry, at: entry.at ?? new Date() });
      },
      async list(filter = {}) {
        const q = db.select().from(auditLog);
        const filtered = filter.objectId ? q.where(eq(auditLog.objectId, filter.objectId)) : q;
        return (await filtered.orderBy(desc(auditLog.id)).limit(filter.limit ?? 100)) as AuditEntry[];
      },
    },

    close: () => database.close(),
  };
}
