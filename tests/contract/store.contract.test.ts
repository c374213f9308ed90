import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CaProfile } from '../../core/domain/ca-profile.ts';
import type { CoreEventKind } from '../../core/domain/core-event.ts';
import type { Authorization, ManagedDomain } from '../../core/domain/managed-domain.ts';
import { CoreError } from '../../core/errors.ts';
import type { AcmeProblem } from '../../core/ports/acme-gateway.ts';
import type { Store } from '../../core/ports/store.ts';
import type { Database, Schema } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import {
  makeAuthorization,
  makeBinding,
  makeCertificate,
  makeDeployment,
  makeDevice,
  makeDomain,
  makeProfile,
  T0,
  T1,
} from '../fixtures/builders.ts';
import { databaseTargets, freshDatabase, truncateAll } from '../support/test-db.ts';

// Text array values that break naive `{a,b}` array-literal encoding: commas, quotes, braces, backslashes,
// spaces, NULL-looking words and non-ASCII.
const AWKWARD_TEXTS = [
  'mailto:a@example.com',
  'mailto:b,c@example.com',
  'say "hi"',
  '{braces}',
  'back\\slash',
  ' spaced ',
  'NULL',
  'bücher',
];

const PROBLEM: AcmeProblem = {
  type: 'urn:ietf:params:acme:error:rejectedIdentifier',
  detail: 'Error creating new order :: "x.example" — nested',
  status: 400,
  subproblems: [
    {
      type: 'urn:ietf:params:acme:error:caa',
      detail: 'CAA record forbids issuance',
      identifier: { type: 'dns', value: 'x.example' },
    },
  ],
};

async function rejection(promise: Promise<unknown>): Promise<CoreError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected the call to reject').toBeInstanceOf(CoreError);
  return caught as CoreError;
}

describe.each(databaseTargets)('Store contract on $kind', ({ open }) => {
  let database: Database;
  let store: Store;

  async function countRows(table: 'authorizations' | 'domains'): Promise<number> {
    const db = database.db as PgliteDatabase<Schema>;
    const result = await db.execute(sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}`);
    return Number((result.rows[0] as { n: number }).n);
  }

  beforeAll(async () => {
    database = await freshDatabase(open);
    store = createDrizzleStore(database);
  });

  beforeEach(async () => {
    await truncateAll(database);
  });

  afterAll(async () => {
    await store?.close();
  });

  describe('profiles', () => {
    it('insert then findById/findByName round-trip every field exactly', async () => {
      const profile = makeProfile({
        contact: AWKWARD_TEXTS,
        eabKid: 'kid-1',
        eabHmacKeySealed: 'v1.k1.sealed-hmac',
        acmeProfile: 'tlsserver',
        tosUrl: null,
      });
      await store.profiles.insert(profile);

      const byId = await store.profiles.findById(profile.id);
      expect(byId).toEqual(profile);
      expect(byId?.createdAt).toBeInstanceOf(Date);
      expect(byId?.updatedAt).toBeInstanceOf(Date);
      expect(await store.profiles.findByName(profile.name)).toEqual(profile);
    });

    it('an empty contact list stays an empty array', async () => {
      const profile = makeProfile({ contact: [] });
      await store.profiles.insert(profile);
      expect((await store.profiles.findById(profile.id))?.contact).toEqual([]);
    });

    it('finds nothing for unknown ids and names', async () => {
      expect(await store.profiles.findById(randomUUID())).toBeNull();
      expect(await store.profiles.findByName('nope')).toBeNull();
    });

    it('lists every profile ordered by name', async () => {
      for (const name of ['charlie', 'alpha', 'bravo']) await store.profiles.insert(makeProfile({ name }));
      expect((await store.profiles.list()).map((p) => p.name)).toEqual(['alpha', 'bravo', 'charlie']);
    });

    it('rejects a second profile with the same name as a conflict and keeps the first', async () => {
      const first = makeProfile({ name: 'prod' });
      await store.profiles.insert(first);
      const err = await rejection(store.profiles.insert(makeProfile({ name: 'prod' })));
      expect(err.code).toBe('conflict');
      expect(await store.profiles.list()).toEqual([first]);
    });

    it('update changes only the patched fields and moves updatedAt', async () => {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const updated = await store.profiles.update(profile.id, {
        contact: ['mailto:new@example.com', 'mailto:x,y@example.com'],
        autoRenew: false,
        renewDaysBefore: 30,
      });
      expect(updated).toEqual({
        ...profile,
        contact: ['mailto:new@example.com', 'mailto:x,y@example.com'],
        autoRenew: false,
        renewDaysBefore: 30,
        updatedAt: updated.updatedAt,
      });
      expect(updated.updatedAt).toBeInstanceOf(Date);
      expect(updated.updatedAt.getTime()).toBeGreaterThan(profile.updatedAt.getTime());
      expect(updated.createdAt).toEqual(profile.createdAt);
      expect(await store.profiles.findById(profile.id)).toEqual(updated);
    });

    it('update of a missing id is not_found', async () => {
      const err = await rejection(store.profiles.update(randomUUID(), { autoRenew: false }));
      expect(err.code).toBe('not_found');
    });
  });

  describe('domains', () => {
    let profile: CaProfile;

    beforeEach(async () => {
      profile = makeProfile();
      await store.profiles.insert(profile);
    });

    it('insertWithAuthorization stores both and links the current authorization', async () => {
      const domain = makeDomain(profile.id, {
        problem: PROBLEM,
        lastCheckedAt: T1,
        lastCheckDetail: 'HTTP 200',
        endpointUrl: 'https://hook.example/acme',
        endpointUsername: 'hook',
        endpointPasswordSealed: 'v1.k1.sealed-pw',
      });
      const authz = makeAuthorization(domain.id);
      await store.domains.insertWithAuthorization(domain, authz);

      const found = await store.domains.findById(domain.id);
      expect(found).toEqual({ ...domain, currentAuthorizationId: authz.id, updatedAt: found?.updatedAt });
      expect(found?.lastCheckedAt).toBeInstanceOf(Date);
      expect(found?.problem).toEqual(PROBLEM);

      const storedAuthz = await store.authorizations.findById(authz.id);
      expect(storedAuthz).toEqual(authz);
      expect(storedAuthz?.expiresAt).toBeInstanceOf(Date);
      expect(storedAuthz?.challenges).toEqual(authz.challenges);
    });

    it('a second domain with the same profile and name is a conflict and leaves no stray authorization', async () => {
      const first = makeDomain(profile.id, { name: 'dup.example.com' });
      const firstAuthz = makeAuthorization(first.id, { identifier: 'dup.example.com' });
      await store.domains.insertWithAuthorization(first, firstAuthz);

      const second = makeDomain(profile.id, { name: 'dup.example.com' });
      const secondAuthz = makeAuthorization(second.id, { identifier: 'dup.example.com' });
      const err = await rejection(store.domains.insertWithAuthorization(second, secondAuthz));
      expect(err.code).toBe('conflict');

      expect(await store.authorizations.findById(secondAuthz.id)).toBeNull();
      expect(await store.authorizations.findByUrl(secondAuthz.url)).toBeNull();
      expect(await store.domains.findById(second.id)).toBeNull();
      expect(await countRows('authorizations')).toBe(1);
      expect(await countRows('domains')).toBe(1);
      expect((await store.domains.findById(first.id))?.currentAuthorizationId).toBe(firstAuthz.id);
    });

    it('rolls back the domain when its authorization cannot be stored', async () => {
      const first = makeDomain(profile.id, { name: 'one.example.com' });
      const firstAuthz = makeAuthorization(first.id);
      await store.domains.insertWithAuthorization(first, firstAuthz);

      // Same authorization URL as the first: the authorization insert fails after the domain insert succeeded.
      const second = makeDomain(profile.id, { name: 'two.example.com' });
      const err = await rejection(
        store.domains.insertWithAuthorization(second, makeAuthorization(second.id, { url: firstAuthz.url })),
      );
      expect(err.code).toBe('conflict');
      expect(await store.domains.findById(second.id)).toBeNull();
      expect(await store.domains.find(profile.id, 'two.example.com')).toBeNull();
      expect(await countRows('domains')).toBe(1);
      expect(await countRows('authorizations')).toBe(1);
    });

    it('the same name under another profile is allowed; find, findByName and listByProfile tell them apart', async () => {
      const other = makeProfile();
      await store.profiles.insert(other);
      const a = makeDomain(profile.id, { name: 'shared.example.com' });
      const b = makeDomain(other.id, { name: 'shared.example.com', challengeType: 'dns-01' });
      const c = makeDomain(profile.id, { name: 'alpha.example.com' });
      await store.domains.insertWithAuthorization(a, makeAuthorization(a.id));
      await store.domains.insertWithAuthorization(b, makeAuthorization(b.id));
      await store.domains.insertWithAuthorization(c, makeAuthorization(c.id));

      expect((await store.domains.find(profile.id, 'shared.example.com'))?.id).toBe(a.id);
      expect((await store.domains.find(other.id, 'shared.example.com'))?.id).toBe(b.id);
      expect(await store.domains.find(other.id, 'alpha.example.com')).toBeNull();
      expect(await store.domains.findById(randomUUID())).toBeNull();

      const byName = await store.domains.findByName('shared.example.com');
      expect(byName.map((d) => d.id).sort()).toEqual([a.id, b.id].sort());
      expect(await store.domains.findByName('none.example.com')).toEqual([]);

      expect((await store.domains.listByProfile(profile.id)).map((d) => d.name)).toEqual([
        'alpha.example.com',
        'shared.example.com',
      ]);
      expect((await store.domains.listByProfile(other.id)).map((d) => d.id)).toEqual([b.id]);
      expect(await store.domains.listByProfile(randomUUID())).toEqual([]);
    });

    it('update patches fields, round-trips jsonb and Dates, and moves updatedAt', async () => {
      const domain = makeDomain(profile.id);
      const authz = makeAuthorization(domain.id);
      await store.domains.insertWithAuthorization(domain, authz);
      const before = await store.domains.findById(domain.id);

      const updated = await store.domains.update(domain.id, {
        status: 'invalid',
        problem: PROBLEM,
        lastCheckedAt: T1,
        lastCheckDetail: 'connection refused',
      });
      expect(updated.status).toBe('invalid');
      expect(updated.problem).toEqual(PROBLEM);
      expect(updated.lastCheckedAt).toEqual(T1);
      expect(updated.lastCheckedAt).toBeInstanceOf(Date);
      expect(updated.currentAuthorizationId).toBe(authz.id);
      expect(updated.createdAt).toEqual(domain.createdAt);
      expect(updated.updatedAt.getTime()).toBeGreaterThan(before!.updatedAt.getTime());
      expect(await store.domains.findById(domain.id)).toEqual(updated);

      const cleared = await store.domains.update(domain.id, { problem: null });
      expect(cleared.problem).toBeNull();
    });

    it('update of a missing id is not_found', async () => {
      const err = await rejection(store.domains.update(randomUUID(), { status: 'valid' }));
      expect(err.code).toBe('not_found');
    });
  });

  describe('authorizations', () => {
    let domain: ManagedDomain;

    beforeEach(async () => {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      domain = makeDomain(profile.id);
      await store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
    });

    it('upsert inserts a new authorization and returns it', async () => {
      const authz = makeAuthorization(domain.id, { wildcard: true, answeredType: 'dns-01', problem: PROBLEM });
      const returned = await store.authorizations.upsert(authz);
      expect(returned).toEqual(authz);
      expect(await store.authorizations.findByUrl(authz.url)).toEqual(authz);
      expect(await store.authorizations.findById(authz.id)).toEqual(authz);
    });

    it('upsert by a known URL refreshes status/expiry/problem but keeps the id and the challenge material', async () => {
      const original = makeAuthorization(domain.id, {
        tlsCertPem: '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n',
        tlsKeySealed: 'v1.k1.sealed-tls',
        answeredType: 'http-01',
      });
      await store.authorizations.upsert(original);

      const refreshed = await store.authorizations.upsert(
        makeAuthorization(domain.id, {
          url: original.url,
          status: 'invalid',
          expiresAt: null,
          problem: PROBLEM,
          challenges: { 'dns-01': { url: 'https://acme.example/other', token: 'other-token' } },
          httpToken: 'other-token',
          httpKeyAuthorization: 'other.keyauth',
          dnsTxtValue: 'other-txt',
          tlsCertPem: null,
          tlsKeySealed: null,
          answeredType: null,
        }),
      );

      expect(refreshed.id).toBe(original.id);
      expect(refreshed.status).toBe('invalid');
      expect(refreshed.expiresAt).toBeNull();
      expect(refreshed.problem).toEqual(PROBLEM);
      expect(refreshed.challenges).toEqual(original.challenges);
      expect(refreshed.httpToken).toBe(original.httpToken);
      expect(refreshed.httpKeyAuthorization).toBe(original.httpKeyAuthorization);
      expect(refreshed.dnsTxtValue).toBe(original.dnsTxtValue);
      expect(refreshed.tlsCertPem).toBe(original.tlsCertPem);
      expect(refreshed.tlsKeySealed).toBe(original.tlsKeySealed);
      expect(refreshed.answeredType).toBe('http-01');
      expect(refreshed.updatedAt.getTime()).toBeGreaterThan(original.updatedAt.getTime());
      expect(await store.authorizations.findByUrl(original.url)).toEqual(refreshed);
      expect(await countRows('authorizations')).toBe(2);
    });

    it('findById/findByUrl return null for unknown keys', async () => {
      expect(await store.authorizations.findById(randomUUID())).toBeNull();
      expect(await store.authorizations.findByUrl('https://acme.example/authz/none')).toBeNull();
    });

    it('update patches fields and moves updatedAt; a missing id is not_found', async () => {
      const authz = makeAuthorization(domain.id);
      await store.authorizations.upsert(authz);
      const updated = await store.authorizations.update(authz.id, { status: 'valid', answeredType: 'http-01' });
      expect(updated).toEqual({ ...authz, status: 'valid', answeredType: 'http-01', updatedAt: updated.updatedAt });
      expect(updated.updatedAt.getTime()).toBeGreaterThan(authz.updatedAt.getTime());

      const err = await rejection(store.authorizations.update(randomUUID(), { status: 'valid' }));
      expect(err.code).toBe('not_found');
    });

    it('httpChallenge answers for pending and processing tokens only', async () => {
      const byStatus = {} as Record<Authorization['status'], Authorization>;
      for (const status of [
        'pending',
        'processing',
        'valid',
        'invalid',
        'expired',
        'deactivated',
        'revoked',
      ] as const) {
        byStatus[status] = makeAuthorization(domain.id, { status });
        await store.authorizations.upsert(byStatus[status]);
      }
      expect(await store.authorizations.httpChallenge(byStatus.pending.httpToken!)).toEqual({
        keyAuthorization: byStatus.pending.httpKeyAuthorization,
        domain: 'www.example.com',
      });
      expect(await store.authorizations.httpChallenge(byStatus.processing.httpToken!)).toEqual({
        keyAuthorization: byStatus.processing.httpKeyAuthorization,
        domain: 'www.example.com',
      });
      for (const status of ['valid', 'invalid', 'expired', 'deactivated', 'revoked'] as const) {
        expect(await store.authorizations.httpChallenge(byStatus[status].httpToken!), status).toBeNull();
      }
      expect(await store.authorizations.httpChallenge('unknown-token-aaaaaaaaaaaa')).toBeNull();
    });

    it('httpChallenge stops answering once the authorization turns valid', async () => {
      const authz = makeAuthorization(domain.id);
      await store.authorizations.upsert(authz);
      expect(await store.authorizations.httpChallenge(authz.httpToken!)).toEqual({
        keyAuthorization: authz.httpKeyAuthorization,
        domain: 'www.example.com',
      });
      await store.authorizations.update(authz.id, { status: 'valid' });
      expect(await store.authorizations.httpChallenge(authz.httpToken!)).toBeNull();
    });

    it('markValid changes only listed authorizations not valid yet, in one call, and says which were open', async () => {
      const pending = await store.authorizations.upsert(makeAuthorization(domain.id, { problem: PROBLEM }));
      const invalid = await store.authorizations.upsert(makeAuthorization(domain.id, { status: 'invalid' }));
      const valid = await store.authorizations.upsert(makeAuthorization(domain.id, { status: 'valid' }));
      const untouched = await store.authorizations.upsert(makeAuthorization(domain.id));
      const changed = await store.authorizations.markValid([
        pending.url,
        invalid.url,
        valid.url,
        'https://acme.example/authz/unknown',
      ]);
      expect(
        changed.map((c) => [c.authorization.id, c.authorization.status, c.authorization.problem, c.wasOpen]).sort(),
      ).toEqual(
        [
          [pending.id, 'valid', null, true],
          [invalid.id, 'valid', null, false],
        ].sort(),
      );
      expect((await store.authorizations.findById(pending.id))?.status).toBe('valid');
      expect((await store.authorizations.findById(valid.id))?.updatedAt).toEqual(valid.updatedAt);
      expect(await store.authorizations.findById(untouched.id)).toEqual(untouched);
      expect(await store.authorizations.markValid([])).toEqual([]);
    });

    it('markValidIfCurrent sets the domain valid only for its current authorization', async () => {
      const current = (await store.domains.findById(domain.id))!.currentAuthorizationId!;
      const other = await store.authorizations.upsert(makeAuthorization(domain.id));
      await store.domains.update(domain.id, { status: 'pending', problem: PROBLEM });
      expect(await store.domains.markValidIfCurrent(domain.id, other.id)).toBeNull();
      expect((await store.domains.findById(domain.id))?.status).toBe('pending');
      const marked = await store.domains.markValidIfCurrent(domain.id, current);
      expect([marked?.status, marked?.problem]).toEqual(['valid', null]);
      expect(await store.domains.findById(domain.id)).toEqual(marked);
    });

    it('tlsAlpnMaterial returns cert, sealed key and expiry for a pending identifier only', async () => {
      const pending = makeAuthorization(domain.id, {
        identifier: 'alpn.example.com',
        tlsCertPem: 'CERT-PENDING',
        tlsKeySealed: 'SEALED-PENDING',
      });
      const valid = makeAuthorization(domain.id, {
        identifier: 'done.example.com',
        status: 'valid',
        tlsCertPem: 'CERT-VALID',
        tlsKeySealed: 'SEALED-VALID',
      });
      const noMaterial = makeAuthorization(domain.id, { identifier: 'bare.example.com' });
      for (const a of [pending, valid, noMaterial]) await store.authorizations.upsert(a);

      expect(await store.authorizations.tlsAlpnMaterial('alpn.example.com')).toEqual({
        id: pending.id,
        certPem: 'CERT-PENDING',
        keySealed: 'SEALED-PENDING',
        expiresAt: pending.expiresAt,
      });
      expect(await store.authorizations.tlsAlpnMaterial('done.example.com')).toBeNull();
      expect(await store.authorizations.tlsAlpnMaterial('bare.example.com')).toBeNull();
      expect(await store.authorizations.tlsAlpnMaterial('unknown.example.com')).toBeNull();

      await store.authorizations.update(pending.id, { status: 'invalid' });
      expect(await store.authorizations.tlsAlpnMaterial('alpn.example.com')).toBeNull();
    });
  });

  describe('certificates', () => {
    let profile: CaProfile;

    beforeEach(async () => {
      profile = makeProfile({ name: 'main' });
      await store.profiles.insert(profile);
    });

    it('insert then findById/findByName round-trip arrays, jsonb and Dates exactly', async () => {
      const cert = makeCertificate(profile.id, {
        sans: AWKWARD_TEXTS,
        authorizationUrls: ['https://acme.example/authz/1', 'https://acme.example/authz/2'],
        problem: PROBLEM,
        state: 'issued',
        notBefore: T0,
        notAfter: T1,
        issuedAt: T1,
        serial: '0abc',
        orderAttempts: 3,
        subject: 'CN=www.example.com',
        issuer: "C=US, O=Let's Encrypt, CN=R11",
      });
      await store.certificates.insert(cert);
      const found = await store.certificates.findById(cert.id);
      expect(found).toEqual(cert);
      expect(found?.notBefore).toBeInstanceOf(Date);
      expect(found?.notAfter).toBeInstanceOf(Date);
      expect(found?.issuedAt).toBeInstanceOf(Date);
      expect(await store.certificates.findByName(cert.name)).toEqual(cert);
    });

    it('empty arrays and null jsonb stay as they are', async () => {
      const cert = makeCertificate(profile.id, { sans: [], authorizationUrls: [], problem: null });
      await store.certificates.insert(cert);
      const found = await store.certificates.findById(cert.id);
      expect(found?.sans).toEqual([]);
      expect(found?.authorizationUrls).toEqual([]);
      expect(found?.problem).toBeNull();
    });

    it('finds nothing for unknown ids and names', async () => {
      expect(await store.certificates.findById(randomUUID())).toBeNull();
      expect(await store.certificates.findByName('nope')).toBeNull();
    });

    it('a second certificate with the same name is a conflict', async () => {
      await store.certificates.insert(makeCertificate(profile.id, { name: 'dup' }));
      const err = await rejection(store.certificates.insert(makeCertificate(profile.id, { name: 'dup' })));
      expect(err.code).toBe('conflict');
      expect(await store.certificates.list()).toHaveLength(1);
    });

    it('list orders by name and filters by profile', async () => {
      const other = makeProfile({ name: 'other' });
      await store.profiles.insert(other);
      await store.certificates.insert(makeCertificate(profile.id, { name: 'zulu' }));
      await store.certificates.insert(makeCertificate(other.id, { name: 'mike' }));
      await store.certificates.insert(makeCertificate(profile.id, { name: 'alpha' }));

      expect((await store.certificates.list()).map((c) => c.name)).toEqual(['alpha', 'mike', 'zulu']);
      expect((await store.certificates.list({})).map((c) => c.name)).toEqual(['alpha', 'mike', 'zulu']);
      expect((await store.certificates.list({ profileId: profile.id })).map((c) => c.name)).toEqual(['alpha', 'zulu']);
      expect((await store.certificates.list({ profileId: other.id })).map((c) => c.name)).toEqual(['mike']);
      expect(await store.certificates.list({ profileId: randomUUID() })).toEqual([]);
    });

    it('update patches fields and moves updatedAt; a missing id is not_found', async () => {
      const cert = makeCertificate(profile.id);
      await store.certificates.insert(cert);
      const patch = {
        state: 'awaiting_challenge' as const,
        orderUrl: 'https://acme.example/order/1',
        authorizationUrls: ['https://acme.example/authz/a', 'https://acme.example/authz/b'],
        orderAttempts: 1,
        problem: PROBLEM,
        notAfter: T1,
      };
      const updated = await store.certificates.update(cert.id, patch);
      expect(updated).toEqual({ ...cert, ...patch, updatedAt: updated.updatedAt });
      expect(updated.notAfter).toBeInstanceOf(Date);
      expect(updated.updatedAt.getTime()).toBeGreaterThan(cert.updatedAt.getTime());
      expect(await store.certificates.findById(cert.id)).toEqual(updated);

      const err = await rejection(store.certificates.update(randomUUID(), { state: 'failed' }));
      expect(err.code).toBe('not_found');
    });
  });

  describe('audit', () => {
    it('append then list returns newest first with every field', async () => {
      await store.audit.append({
        actor: 'U1',
        action: 'profile.create',
        objectType: 'profile',
        objectId: 'p1',
        objectName: 'prod',
        result: 'ok',
        detail: { nested: { list: [1, 'two', null] }, flag: true },
        at: T0,
      });
      await store.audit.append({
        actor: 'U2',
        action: 'cert.issue',
        objectType: 'certificate',
        objectId: 'c1',
        objectName: 'www',
        result: 'error',
        detail: {},
        at: T1,
      });

      const entries = await store.audit.list();
      expect(entries.map((e) => e.action)).toEqual(['cert.issue', 'profile.create']);
      const [newest, oldest] = entries;
      expect(oldest).toEqual({
        id: expect.any(Number),
        at: T0,
        actor: 'U1',
        action: 'profile.create',
        objectType: 'profile',
        objectId: 'p1',
        objectName: 'prod',
        result: 'ok',
        detail: { nested: { list: [1, 'two', null] }, flag: true },
      });
      expect(oldest?.at).toBeInstanceOf(Date);
      expect(newest?.detail).toEqual({});
      expect(newest?.result).toBe('error');
    });

    it('orders by append order, not by the supplied time', async () => {
      await store.audit.append({
        actor: 'a',
        action: 'first',
        objectType: 'system',
        objectId: null,
        objectName: null,
        result: 'ok',
        detail: {},
        at: T1,
      });
      await store.audit.append({
        actor: 'a',
        action: 'second',
        objectType: 'system',
        objectId: null,
        objectName: null,
        result: 'ok',
        detail: {},
        at: T0,
      });
      expect((await store.audit.list()).map((e) => e.action)).toEqual(['second', 'first']);
    });

    it('stamps the time when none is given', async () => {
      const before = Date.now();
      await store.audit.append({
        actor: 'a',
        action: 'x',
        objectType: 'system',
        objectId: null,
        objectName: null,
        result: 'ok',
        detail: {},
      });
      const [entry] = await store.audit.list();
      expect(entry?.at).toBeInstanceOf(Date);
      expect(Math.abs(entry!.at.getTime() - before)).toBeLessThan(60_000);
      expect(entry?.objectId).toBeNull();
      expect(entry?.objectName).toBeNull();
    });

    it('filters by objectId and honours the limit', async () => {
      for (let i = 0; i < 5; i++) {
        await store.audit.append({
          actor: 'U1',
          action: `step-${i}`,
          objectType: 'domain',
          objectId: i % 2 === 0 ? 'even' : 'odd',
          objectName: null,
          result: 'ok',
          detail: { i },
        });
      }
      expect((await store.audit.list({ objectId: 'even' })).map((e) => e.action)).toEqual([
        'step-4',
        'step-2',
        'step-0',
      ]);
      expect((await store.audit.list({ objectId: 'odd' })).map((e) => e.detail)).toEqual([{ i: 3 }, { i: 1 }]);
      expect(await store.audit.list({ objectId: 'none' })).toEqual([]);
      expect((await store.audit.list({ limit: 2 })).map((e) => e.action)).toEqual(['step-4', 'step-3']);
      expect((await store.audit.list({ objectId: 'even', limit: 1 })).map((e) => e.action)).toEqual(['step-4']);
    });

    it('filters by actor, object name, action family and time, all together, newest first', async () => {
      const entry = (actor: string, action: string, objectName: string | null, at: Date) =>
        store.audit.append({
          actor,
          action,
          objectType: 'certificate',
          objectId: null,
          objectName,
          result: 'ok',
          detail: {},
          at,
        });
      await entry('scheduler', 'certificate.renew', 'www', T0);
      await entry('scheduler', 'certificate.renew.abandon_order', 'www', T1);
      await entry('cli:alice', 'certificate.renewal', 'www', T1);
      await entry('cli:alice', 'certificate.renew', 'api', T1);
      await entry('cli:bob', 'certificate_renew', null, T1);
      const actions = async (filter: Parameters<Store['audit']['list']>[0]) =>
        (await store.audit.list(filter)).map((e) => `${e.actor} ${e.action} ${e.objectName}`);

      expect(await actions({ objectName: 'www' })).toEqual([
        'cli:alice certificate.renewal www',
        'scheduler certificate.renew.abandon_order www',
        'scheduler certificate.renew www',
      ]);
      expect(await actions({ actor: 'cli:alice' })).toEqual([
        'cli:alice certificate.renew api',
        'cli:alice certificate.renewal www',
      ]);
      // A family, not a prefix: `certificate.renewal` is not under `certificate.renew`, and `_` is no wildcard.
      expect(await actions({ action: 'certificate.renew' })).toEqual([
        'cli:alice certificate.renew api',
        'scheduler certificate.renew.abandon_order www',
        'scheduler certificate.renew www',
      ]);
      expect(await actions({ action: 'certificate_renew' })).toEqual(['cli:bob certificate_renew null']);
      expect(await actions({ action: 'certificate' })).toHaveLength(4);
      expect(await actions({ since: T1, objectName: 'www', actor: 'scheduler' })).toEqual([
        'scheduler certificate.renew.abandon_order www',
      ]);
      expect(await actions({ since: new Date(T1.getTime() + 1) })).toEqual([]);
      expect(await actions({ objectName: 'www', limit: 1 })).toEqual(['cli:alice certificate.renewal www']);
      expect(await actions({ actor: 'nobody' })).toEqual([]);
    });
  });

  describe('devices, bindings, deployments, device objects', () => {
    async function certAndDevice() {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const cert = makeCertificate(profile.id);
      await store.certificates.insert(cert);
      const device = makeDevice({
        caPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
        lastTest: { ok: false, stage: 'tls', message: 'untrusted' },
        lastTestAt: T1,
      });
      await store.devices.insert(device);
      return { cert, device };
    }

    it('devices round-trip, list by name, update, and refuse a duplicate name', async () => {
      const { device } = await certAndDevice();
      expect(await store.devices.findById(device.id)).toEqual(device);
      expect(await store.devices.findByName(device.name)).toEqual(device);
      expect((await rejection(store.devices.insert({ ...device, id: randomUUID() }))).code).toBe('conflict');
      const updated = await store.devices.update(device.id, { hostname: 'bigip1.example', version: '17.1.2.1' });
      expect(updated).toMatchObject({ hostname: 'bigip1.example', version: '17.1.2.1', insecure: false });
      expect(updated.updatedAt.getTime()).toBeGreaterThan(T0.getTime());
      expect((await store.devices.list()).map((d) => d.id)).toEqual([device.id]);
    });

    it('a device with bindings cannot be removed; without, it can', async () => {
      const { cert, device } = await certAndDevice();
      const binding = makeBinding(cert.id, device.id);
      await store.bindings.insert(binding);
      expect((await rejection(store.devices.remove(device.id))).code).toBe('conflict');
      await store.bindings.remove(binding.id);
      await store.devices.remove(device.id);
      expect(await store.devices.findById(device.id)).toBeNull();
      expect((await rejection(store.devices.remove(device.id))).code).toBe('not_found');
    });

    it('bindings: one certificate per device profile, filters, update', async () => {
      const { cert, device } = await certAndDevice();
      const other = makeDevice();
      await store.devices.insert(other);
      const a = makeBinding(cert.id, device.id, { profilePath: '/Common/a' });
      const b = makeBinding(cert.id, other.id, { profilePath: '/Common/a', createProfile: true });
      await store.bindings.insert(a);
      await store.bindings.insert(b);
      expect(
        (await rejection(store.bindings.insert(makeBinding(cert.id, device.id, { profilePath: '/Common/a' })))).code,
      ).toBe('conflict');
      expect(await store.bindings.findById(b.id)).toEqual(b);
      expect((await store.bindings.list({ deviceId: other.id })).map((x) => x.id)).toEqual([b.id]);
      expect((await store.bindings.list({ certificateId: cert.id })).length).toBe(2);
      const updated = await store.bindings.update(a.id, {
        deployedFingerprint: 'AA',
        deployedSerial: '0abc',
        deployedAt: T1,
      });
      expect(updated).toMatchObject({ deployedFingerprint: 'AA', deployedSerial: '0abc', deployedAt: T1 });
    });

    it('deployments round-trip jsonb and arrays and list newest first per certificate and device', async () => {
      const { cert, device } = await certAndDevice();
      const first = makeDeployment(cert.id, device.id, {
        startedAt: T0,
        oldFingerprints: { '/Common/acme_www': 'AA:BB' },
      });
      const second = makeDeployment(cert.id, device.id, { startedAt: T1 });
      await store.deployments.insert(first);
      await store.deployments.insert(second);
      expect((await store.deployments.list({ certificateId: cert.id, deviceId: device.id })).map((d) => d.id)).toEqual([
        second.id,
        first.id,
      ]);
      const done = await store.deployments.update(first.id, {
        result: 'failed',
        step: 'save',
        error: { code: 'bigip_api', message: 'save failed', detail: { status: 500 } },
        outcome: 'switched, not saved',
        finishedAt: T1,
      });
      expect(done).toEqual({
        ...first,
        result: 'failed',
        step: 'save',
        error: { code: 'bigip_api', message: 'save failed', detail: { status: 500 } },
        outcome: 'switched, not saved',
        finishedAt: T1,
      });
      expect((await store.deployments.list({ limit: 1 })).length).toBe(1);
      // What the cleanup job and a new deploy look for: the records still `running`.
      expect((await store.deployments.list({ result: 'running' })).map((d) => d.id)).toEqual([second.id]);
      expect((await store.deployments.list({ certificateId: cert.id, result: 'failed' })).map((d) => d.id)).toEqual([
        first.id,
      ]);
    });

    it('latestPerTarget: the newest attempt per certificate and device since a time, newest first', async () => {
      const { cert, device } = await certAndDevice();
      const other = makeDevice();
      await store.devices.insert(other);
      const at = (ms: number) => new Date(T1.getTime() + ms);
      const failedThenOk = [
        makeDeployment(cert.id, device.id, { startedAt: at(0), result: 'failed' }),
        makeDeployment(cert.id, device.id, { startedAt: at(2000), result: 'succeeded' }),
      ];
      const okThenFailed = [
        makeDeployment(cert.id, other.id, { startedAt: at(1000), result: 'succeeded' }),
        makeDeployment(cert.id, other.id, { startedAt: at(3000), result: 'rolled_back' }),
      ];
      const old = makeDeployment(cert.id, other.id, { startedAt: T0, result: 'failed' });
      for (const d of [...failedThenOk, ...okThenFailed, old]) await store.deployments.insert(d);
      const latest = await store.deployments.latestPerTarget(new Date(T0.getTime() + 1));
      expect(latest.map((d) => [d.deviceId, d.result])).toEqual([
        [other.id, 'rolled_back'],
        [device.id, 'succeeded'],
      ]);
      expect(latest[0]).toEqual(okThenFailed[1]);
      expect(await store.deployments.latestPerTarget(at(2500))).toEqual([okThenFailed[1]]);
      expect(await store.deployments.latestPerTarget(at(5000))).toEqual([]);
    });

    it('device objects: record, revive on re-install, list only live ones, mark removed', async () => {
      const { cert, device } = await certAndDevice();
      const obj = {
        id: randomUUID(),
        deviceId: device.id,
        certificateId: cert.id,
        kind: 'cert' as const,
        fullPath: '/Common/www_1.crt',
        serial: '01',
        installedAt: T0,
        removedAt: null,
      };
      await store.deviceObjects.record(obj);
      expect(await store.deviceObjects.listLive(device.id, cert.id)).toEqual([obj]);
      await store.deviceObjects.markRemoved(obj.id, T1);
      expect(await store.deviceObjects.listLive(device.id, cert.id)).toEqual([]);
      await store.deviceObjects.record({ ...obj, id: randomUUID(), installedAt: T1 });
      expect(await store.deviceObjects.listLive(device.id, cert.id)).toEqual([{ ...obj, installedAt: T1 }]);
    });
  });

  describe('scheduling: renewal candidates, leases, events, approvals, job runs', () => {
    const NOW = new Date('2030-01-01T00:00:00Z');
    const ago = (ms: number) => new Date(NOW.getTime() - ms);

    it('renewal candidates: due issued certificates of auto-renewing profiles and renewals in flight, respecting backoff', async () => {
      const auto = makeProfile();
      const manual = makeProfile({ autoRenew: false });
      await store.profiles.insert(auto);
      await store.profiles.insert(manual);
      const cert = (name: string, profileId: string, over: Record<string, unknown>) =>
        makeCertificate(profileId, { id: randomUUID(), name, ...over });
      const rows = [
        cert('due', auto.id, { state: 'issued', renewAt: ago(1000) }),
        cert('due-earlier', auto.id, { state: 'issued', renewAt: ago(5000) }),
        cert('not-yet', auto.id, { state: 'issued', renewAt: new Date(NOW.getTime() + 1000) }),
        cert('manual-profile', manual.id, { state: 'issued', renewAt: ago(1000) }),
        cert('backing-off', auto.id, {
          state: 'issued',
          renewAt: ago(1000),
          nextAttemptAt: new Date(NOW.getTime() + 1000),
        }),
        cert('in-flight', auto.id, { state: 'ordering', renewalStartedAt: ago(100) }),
        cert('first-issue', auto.id, { state: 'ordering' }),
        cert('failed-renewal', auto.id, { state: 'failed', renewalStartedAt: ago(100), nextAttemptAt: ago(1) }),
        // A renewal beside the live certificate: the row stays issued, its renewal time may lie ahead (ARI).
        cert('renewing-beside', manual.id, {
          state: 'issued',
          renewalState: 'ordering',
          renewalStartedAt: ago(100),
          renewAt: new Date(NOW.getTime() + 1000),
        }),
        cert('renewing-backing-off', auto.id, {
          state: 'issued',
          renewalState: 'requested',
          renewalStartedAt: ago(100),
          nextAttemptAt: new Date(NOW.getTime() + 1000),
        }),
      ];
      for (const r of rows) await store.certificates.insert(r);
      const ids = await store.certificates.listRenewalCandidates(NOW, 100);
      const names = new Map(rows.map((r) => [r.id, r.name]));
      expect(ids.map((id) => names.get(id)).sort()).toEqual([
        'due',
        'due-earlier',
        'failed-renewal',
        'in-flight',
        'renewing-beside',
      ]);
      expect(ids.map((id) => names.get(id)).indexOf('due-earlier')).toBeLessThan(
        ids.map((id) => names.get(id)).indexOf('due'),
      );
      expect(await store.certificates.listRenewalCandidates(NOW, 1)).toHaveLength(1);
    });

    it('next retry: the earliest nextAttemptAt after the given time among failing renewals', async () => {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const cert = (name: string, over: Record<string, unknown>) =>
        makeCertificate(profile.id, { id: randomUUID(), name, ...over });
      expect(await store.certificates.nextRetryAt(NOW)).toBeNull();
      const soon = new Date(NOW.getTime() + 30_000);
      for (const r of [
        cert('failing-later', {
          state: 'issued',
          failedAttempts: 2,
          nextAttemptAt: new Date(NOW.getTime() + 3_600_000),
        }),
        cert('failing-soon', { state: 'issued', failedAttempts: 1, nextAttemptAt: soon }),
        cert('failing-already-due', { state: 'issued', failedAttempts: 4, nextAttemptAt: ago(1_000) }),
        // Paused by a denied approval, not failing: nothing to wake for.
        cert('paused', { state: 'issued', failedAttempts: 0, nextAttemptAt: new Date(NOW.getTime() + 1_000) }),
      ]) {
        await store.certificates.insert(r);
      }
      expect(await store.certificates.nextRetryAt(NOW)).toEqual(soon);
      expect(await store.certificates.nextRetryAt(soon)).toEqual(new Date(NOW.getTime() + 3_600_000));
    });

    it('stalled first issuances: never issued, stopped before finishing, untouched since the cut-off, not waiting for an approval; oldest first', async () => {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const cert = (name: string, over: Record<string, unknown>) =>
        makeCertificate(profile.id, { id: randomUUID(), name, serial: null, ...over });
      const rows = [
        cert('requested-old', { state: 'requested', updatedAt: ago(3_600_000) }),
        cert('ordering-older', { state: 'ordering', updatedAt: ago(7_200_000) }),
        cert('finalizing-old', { state: 'finalizing', updatedAt: ago(3_600_000) }),
        cert('ordering-fresh', { state: 'ordering', updatedAt: ago(60_000) }),
        cert('awaiting-old', { state: 'awaiting_challenge', updatedAt: ago(3_600_000) }),
        cert('failed-old', { state: 'failed', updatedAt: ago(3_600_000) }),
        cert('renewal-in-flight', { state: 'ordering', serial: '0a', updatedAt: ago(3_600_000) }),
        cert('waiting-for-approval', { state: 'requested', updatedAt: ago(3_600_000) }),
        cert('approved', { state: 'requested', updatedAt: ago(3_600_000) }),
      ];
      for (const r of rows) await store.certificates.insert(r);
      const approval = (certificateId: string, state: 'pending' | 'approved') => ({
        id: randomUUID(),
        kind: 'issuance' as const,
        certificateId,
        state,
        summary: {},
        requestedBy: 'slack:U1',
        requestedAt: ago(3_600_000),
        decidedBy: null,
        decidedAt: null,
        reason: null,
      });
      await store.approvals.open(approval(rows[7]!.id, 'pending'));
      await store.approvals.open(approval(rows[8]!.id, 'approved'));
      const names = new Map(rows.map((r) => [r.id, r.name]));
      const found = (await store.certificates.listStalledIssuances(ago(900_000), 100)).map((id) => names.get(id));
      expect(found[0]).toBe('ordering-older');
      expect([...found].sort()).toEqual(['approved', 'finalizing-old', 'ordering-older', 'requested-old']);
      expect(await store.certificates.listStalledIssuances(ago(900_000), 2)).toHaveLength(2);
    });

    it('certificates expiring before a date: only rows holding a certificate, soonest first', async () => {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const at = (days: number) => new Date(NOW.getTime() + days * 86_400_000);
      const rows = [
        makeCertificate(profile.id, { id: randomUUID(), name: 'in-20', serial: '01', notAfter: at(20) }),
        makeCertificate(profile.id, { id: randomUUID(), name: 'in-5', serial: '02', notAfter: at(5) }),
        makeCertificate(profile.id, { id: randomUUID(), name: 'in-40', serial: '03', notAfter: at(40) }),
        makeCertificate(profile.id, { id: randomUUID(), name: 'never-issued' }),
      ];
      for (const r of rows) await store.certificates.insert(r);
      expect((await store.certificates.listExpiringBefore(at(21))).map((c) => c.name)).toEqual(['in-5', 'in-20']);
    });

    it('deploy candidates: issued certificates with a binding not serving their fingerprint', async () => {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const device = makeDevice();
      await store.devices.insert(device);
      const fresh = makeCertificate(profile.id, { name: 'fresh', state: 'issued', fingerprintSha256: 'AA' });
      const current = makeCertificate(profile.id, {
        id: randomUUID(),
        name: 'current',
        state: 'issued',
        fingerprintSha256: 'BB',
      });
      const renewing = makeCertificate(profile.id, {
        id: randomUUID(),
        name: 'renewing',
        state: 'ordering',
        fingerprintSha256: 'CC',
      });
      const revoked = makeCertificate(profile.id, {
        id: randomUUID(),
        name: 'revoked',
        state: 'issued',
        fingerprintSha256: 'DD',
        serial: '0d',
        revokedSerial: '0d',
      });
      for (const c of [fresh, current, renewing, revoked]) await store.certificates.insert(c);
      await store.bindings.insert(makeBinding(fresh.id, device.id, { profilePath: '/Common/a' }));
      // Revoked: not spread to a profile that does not serve it yet.
      await store.bindings.insert(makeBinding(revoked.id, device.id, { profilePath: '/Common/e' }));
      await store.bindings.insert(
        makeBinding(fresh.id, device.id, { profilePath: '/Common/b', deployedFingerprint: 'AA' }),
      );
      await store.bindings.insert(
        makeBinding(current.id, device.id, { profilePath: '/Common/c', deployedFingerprint: 'BB' }),
      );
      await store.bindings.insert(makeBinding(renewing.id, device.id, { profilePath: '/Common/d' }));
      expect(await store.certificates.listDeployCandidates(10)).toEqual([fresh.id]);
    });

    it('leases: one holder at a time, renewable by the holder only, free once expired or released', async () => {
      expect(await store.leases.tryAcquire('cert:1', 'a', 60_000)).toBe(true);
      expect(await store.leases.tryAcquire('cert:1', 'b', 60_000)).toBe(false);
      expect(await store.leases.tryAcquire('cert:1', 'a', 60_000)).toBe(true);
      expect(await store.leases.renew('cert:1', 'b', 60_000)).toBe(false);
      expect(await store.leases.renew('cert:1', 'a', 60_000)).toBe(true);
      await store.leases.release('cert:1', 'b');
      expect(await store.leases.tryAcquire('cert:1', 'b', 60_000)).toBe(false);
      await store.leases.release('cert:1', 'a');
      expect(await store.leases.tryAcquire('cert:1', 'b', 50)).toBe(true);
      await new Promise((r) => setTimeout(r, 120));
      expect(await store.leases.renew('cert:1', 'b', 50)).toBe(true);
      await new Promise((r) => setTimeout(r, 120));
      expect(await store.leases.tryAcquire('cert:1', 'c', 60_000)).toBe(true);
      expect(await store.leases.tryAcquire('cert:2', 'd', 10)).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(await store.leases.purgeExpired(0)).toBe(1);
    });

    it('leases: of many concurrent claimants exactly one wins', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.leases.tryAcquire('race', `w${i}`, 60_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('events: deduplicated by key, listed undelivered oldest first, marked delivered', async () => {
      const base = {
        kind: 'renewed' as const,
        certificateId: null,
        subject: 'www',
        detail: { serial: '01' },
        needsPerson: false,
      };
      expect(await store.events.emit({ ...base, dedupeKey: 'www:renewed:2030-01-01' })).toBe(true);
      expect(await store.events.emit({ ...base, dedupeKey: 'www:renewed:2030-01-01', detail: { serial: '02' } })).toBe(
        false,
      );
      expect(
        await store.events.emit({
          ...base,
          kind: 'deploy_failed',
          dedupeKey: 'www:deploy_failed:2030-01-01',
          needsPerson: true,
        }),
      ).toBe(true);
      const pending = await store.events.listUndelivered(10);
      expect(pending.map((e) => e.kind)).toEqual(['renewed', 'deploy_failed']);
      expect(pending[0]).toMatchObject({ detail: { serial: '01' }, deliveredAt: null });
      await store.events.markDelivered([pending[0]!.id], T1);
      expect((await store.events.listUndelivered(10)).map((e) => e.kind)).toEqual(['deploy_failed']);
      expect(await store.events.purgeDelivered(new Date(Date.now() + 60_000))).toBe(1);
    });

    it('events: list filters by certificate, kinds, creation time and delivery, all together, newest first', async () => {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const cert = makeCertificate(profile.id);
      await store.certificates.insert(cert);
      const emit = async (kind: CoreEventKind, certificateId: string | null, subject: string, createdAt: Date) => {
        await store.events.emit({
          kind,
          certificateId,
          subject,
          dedupeKey: `${subject}:${kind}:${createdAt.toISOString()}`,
          detail: {},
          needsPerson: false,
        });
        // The outbox stamps its own time; tests move it to know exactly what `since` leaves out.
        await (database.db as PgliteDatabase<Schema>).execute(
          sql`UPDATE events SET created_at = ${createdAt.toISOString()} WHERE dedupe_key = ${`${subject}:${kind}:${createdAt.toISOString()}`}`,
        );
      };
      await emit('renewal_due', cert.id, cert.name, T0);
      await emit('renewal_failed', cert.id, cert.name, T1);
      await emit('challenge_expired', null, 'www.example.com', T1);
      await emit('renewal_failed', null, 'other', T1);
      const [newest] = await store.events.list({ limit: 1 });
      await store.events.markDelivered([newest!.id], T1);
      const shown = async (filter: Parameters<Store['events']['list']>[0]) =>
        (await store.events.list(filter)).map((e) => `${e.kind} ${e.subject}`);

      expect(await shown({ certificateId: cert.id })).toEqual([
        `renewal_failed ${cert.name}`,
        `renewal_due ${cert.name}`,
      ]);
      expect(await shown({ kinds: ['renewal_failed'] })).toEqual([
        'renewal_failed other',
        `renewal_failed ${cert.name}`,
      ]);
      expect(await shown({ kinds: ['renewal_failed', 'challenge_expired'], certificateId: cert.id })).toEqual([
        `renewal_failed ${cert.name}`,
      ]);
      expect(await shown({ kinds: [] })).toEqual([]);
      expect(await shown({ since: T1 })).toHaveLength(3);
      expect(await shown({ since: T1, certificateId: cert.id })).toEqual([`renewal_failed ${cert.name}`]);
      expect(await shown({ undelivered: true, kinds: ['renewal_failed'] })).toEqual([`renewal_failed ${cert.name}`]);
      expect(await shown({ undelivered: true, limit: 2 })).toEqual([
        'challenge_expired www.example.com',
        `renewal_failed ${cert.name}`,
      ]);
      expect(await shown({ since: new Date(T1.getTime() + 1) })).toEqual([]);
    });

    it('approvals: one open per certificate and kind; decisions are compare-and-set', async () => {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const cert = makeCertificate(profile.id);
      await store.certificates.insert(cert);
      const make = () => ({
        id: randomUUID(),
        kind: 'renewal' as const,
        certificateId: cert.id,
        state: 'pending' as const,
        summary: { names: ['www'] },
        requestedBy: 'scheduler',
        requestedAt: T0,
        decidedBy: null,
        decidedAt: null,
        reason: null,
      });
      const first = await store.approvals.open(make());
      expect(first.created).toBe(true);
      const second = await store.approvals.open(make());
      expect(second).toEqual({ approval: first.approval, created: false });
      expect((await store.approvals.open({ ...make(), kind: 'deploy' })).created).toBe(true);

      const approved = await store.approvals.transition(first.approval.id, 'pending', {
        state: 'approved',
        decidedBy: 'U1',
        decidedAt: T1,
      });
      expect(approved).toMatchObject({ state: 'approved', decidedBy: 'U1', decidedAt: T1 });
      expect(
        await store.approvals.transition(first.approval.id, 'pending', { state: 'denied', decidedBy: 'U2' }),
      ).toBeNull();
      expect(await store.approvals.findOpen(cert.id, 'renewal')).toMatchObject({ state: 'approved' });
      await store.approvals.transition(first.approval.id, 'approved', { state: 'used' });
      expect(await store.approvals.findOpen(cert.id, 'renewal')).toBeNull();
      expect((await store.approvals.open(make())).created).toBe(true);
      expect((await store.approvals.list({ state: 'pending' })).length).toBe(2);
    });

    it('approvals: findLatest is the newest of that certificate and kind, whatever its state', async () => {
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const cert = makeCertificate(profile.id);
      await store.certificates.insert(cert);
      const make = (requestedAt: Date, kind: 'issuance' | 'renewal' = 'issuance') => ({
        id: randomUUID(),
        kind,
        certificateId: cert.id,
        state: 'pending' as const,
        summary: {},
        requestedBy: 'slack:U1',
        requestedAt,
        decidedBy: null,
        decidedAt: null,
        reason: null,
      });
      expect(await store.approvals.findLatest(cert.id, 'issuance')).toBeNull();
      const first = (await store.approvals.open(make(T0))).approval;
      await store.approvals.transition(first.id, 'pending', {
        state: 'denied',
        decidedBy: 'slack:U2',
        decidedAt: T0,
        reason: 'no',
      });
      expect(await store.approvals.findLatest(cert.id, 'issuance')).toMatchObject({
        id: first.id,
        state: 'denied',
        reason: 'no',
      });
      const second = (await store.approvals.open(make(T1))).approval;
      await store.approvals.open(make(new Date(T1.getTime() + 1000), 'renewal'));
      expect(await store.approvals.findLatest(cert.id, 'issuance')).toEqual(second);
      expect(await store.approvals.findLatest(randomUUID(), 'issuance')).toBeNull();
    });

    it('hook challenges: purgeOlderThan removes only entries published before the cutoff', async () => {
      const entry = (domainName: string, createdAt: Date) => ({
        id: randomUUID(),
        domainName,
        type: 'dns' as const,
        token: null,
        content: 'txt',
        keySealed: null,
        createdAt,
      });
      await store.hookChallenges.replace('old.example.com', [entry('old.example.com', T0)]);
      await store.hookChallenges.replace('new.example.com', [entry('new.example.com', T1)]);
      expect(await store.hookChallenges.purgeOlderThan(new Date(T0.getTime() + 1))).toBe(1);
      expect(await store.hookChallenges.list('old.example.com')).toEqual([]);
      expect(await store.hookChallenges.list('new.example.com')).toHaveLength(1);
    });

    it('job runs: started and finished upsert one row per job', async () => {
      await store.jobRuns.started('renew', 'w1', T0);
      await store.jobRuns.finished('renew', 'ok', { renewed: 2 }, T1);
      await store.jobRuns.finished('deploy', 'error', { message: 'x' }, T1);
      expect(await store.jobRuns.list()).toEqual([
        {
          job: 'deploy',
          lastStartedAt: null,
          lastFinishedAt: T1,
          lastResult: 'error',
          lastDetail: { message: 'x' },
          lastSucceededAt: null,
          holder: null,
        },
        {
          job: 'renew',
          lastStartedAt: T0,
          lastFinishedAt: T1,
          lastResult: 'ok',
          lastDetail: { renewed: 2 },
          lastSucceededAt: T1,
          holder: 'w1',
        },
      ]);
    });
  });
});
