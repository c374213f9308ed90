import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CoreError } from '../../core/errors.ts';
import type { Store } from '../../core/ports/store.ts';
import type { Database } from '../../db/client.ts';
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

async function rejection(promise: Promise<unknown>): Promise<CoreError> {
  const caught = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(caught, 'expected the call to reject').toBeInstanceOf(CoreError);
  return caught as CoreError;
}

/** The removal methods of the store: each deletes one whole object or nothing, on both databases. */
describe.each(databaseTargets)('Store removal contract on $kind', ({ open }) => {
  let database: Database;
  let store: Store;

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

  /** A profile with a domain (two authorizations) and a bound, deployed certificate with an approval. */
  async function seed() {
    const profile = makeProfile();
    await store.profiles.insert(profile);
    const domain = makeDomain(profile.id, { name: 'www.example.com' });
    const first = makeAuthorization(domain.id, { url: `https://ca.test/authz/${randomUUID()}`, createdAt: T0 });
    await store.domains.insertWithAuthorization(domain, first);
    const second = await store.authorizations.upsert(
      makeAuthorization(domain.id, { url: `https://ca.test/authz/${randomUUID()}`, createdAt: T1 }),
    );
    const cert = makeCertificate(profile.id, { name: 'www' });
    await store.certificates.insert(cert);
    const device = makeDevice();
    await store.devices.insert(device);
    await store.bindings.insert(makeBinding(cert.id, device.id));
    await store.deployments.insert(makeDeployment(cert.id, device.id));
    await store.deviceObjects.record({
      id: randomUUID(),
      deviceId: device.id,
      certificateId: cert.id,
      kind: 'cert',
      fullPath: '/Common/www_20270101-00000abc.crt',
      serial: '0abc',
      installedAt: T0,
      removedAt: null,
    });
    await store.approvals.open({
      id: randomUUID(),
      kind: 'deploy',
      certificateId: cert.id,
      state: 'pending',
      summary: {},
      requestedBy: 'cli:test',
      requestedAt: T0,
      decidedBy: null,
      decidedAt: null,
      reason: null,
    });
    await store.events.emit({
      kind: 'deployed',
      certificateId: cert.id,
      subject: 'www',
      dedupeKey: `www:deployed:${randomUUID()}`,
      detail: {},
      needsPerson: false,
    });
    return { profile, domain, authorizations: [first, second], cert, device };
  }

  it('listByDomain returns every authorization of the domain, oldest first, and nothing for another', async () => {
    const { domain, authorizations } = await seed();
    expect((await store.authorizations.listByDomain(domain.id)).map((a) => a.url)).toEqual(
      authorizations.map((a) => a.url),
    );
    expect(await store.authorizations.listByDomain(randomUUID())).toEqual([]);
  });

  it('removing a certificate takes its bindings, approvals, deploy history and object records; events stay', async () => {
    const { cert, device, profile, domain } = await seed();
    await store.certificates.remove(cert.id);
    expect(await store.certificates.findById(cert.id)).toBeNull();
    expect(await store.bindings.list({ deviceId: device.id })).toEqual([]);
    expect(await store.approvals.findOpen(cert.id, 'deploy')).toBeNull();
    expect(await store.deployments.list({ deviceId: device.id })).toEqual([]);
    expect(await store.deviceObjects.listLive(device.id, cert.id)).toEqual([]);
    const [event] = await store.events.list({ kinds: ['deployed'] });
    expect(event).toMatchObject({ subject: 'www', certificateId: null });
    // Nothing else moved: the profile, its domain and the device are still there.
    expect(await store.profiles.findById(profile.id)).not.toBeNull();
    expect(await store.domains.findById(domain.id)).not.toBeNull();
    expect(await store.devices.findById(device.id)).not.toBeNull();
    expect((await rejection(store.certificates.remove(cert.id))).code).toBe('not_found');
  });

  it('removing a domain takes its authorizations and nothing else', async () => {
    const { domain, authorizations, cert } = await seed();
    await store.domains.remove(domain.id);
    expect(await store.domains.findById(domain.id)).toBeNull();
    for (const a of authorizations) expect(await store.authorizations.findById(a.id)).toBeNull();
    expect(await store.certificates.findById(cert.id)).not.toBeNull();
    expect((await rejection(store.domains.remove(domain.id))).code).toBe('not_found');
  });

  it('a profile with certificates is not removed without withCertificates, and nothing of it goes', async () => {
    const { profile, domain, cert } = await seed();
    const err = await rejection(store.profiles.remove(profile.id, { withCertificates: false }));
    expect(err.code).toBe('conflict');
    expect(await store.profiles.findById(profile.id)).not.toBeNull();
    expect(await store.domains.findById(domain.id)).not.toBeNull();
    expect(await store.certificates.findById(cert.id)).not.toBeNull();
  });

  it('withCertificates removes the profile, its domains, certificates and their dependents in one go', async () => {
    const { profile, domain, cert, device, authorizations } = await seed();
    const other = makeProfile({ name: 'other' });
    await store.profiles.insert(other);
    const kept = makeCertificate(other.id, { name: 'kept' });
    await store.certificates.insert(kept);
    await store.profiles.remove(profile.id, { withCertificates: true });
    expect(await store.profiles.findById(profile.id)).toBeNull();
    expect(await store.domains.findById(domain.id)).toBeNull();
    expect(await store.authorizations.findById(authorizations[0]!.id)).toBeNull();
    expect(await store.certificates.findById(cert.id)).toBeNull();
    expect(await store.bindings.list({ deviceId: device.id })).toEqual([]);
    expect(await store.certificates.findById(kept.id)).not.toBeNull();
    expect(await store.devices.findById(device.id)).not.toBeNull();
    expect((await rejection(store.profiles.remove(profile.id, { withCertificates: true }))).code).toBe('not_found');
  });

  it('a profile with only domains is removed with them without withCertificates', async () => {
    const profile = makeProfile({ name: 'bare' });
    await store.profiles.insert(profile);
    const domain = makeDomain(profile.id);
    await store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
    await store.profiles.remove(profile.id, { withCertificates: false });
    expect(await store.profiles.findById(profile.id)).toBeNull();
    expect(await store.domains.findById(domain.id)).toBeNull();
  });
});
