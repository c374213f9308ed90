import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RENEWAL_AUDIT } from '../../core/domain/audit-entry.ts';
import type { Store } from '../../core/ports/store.ts';
import type { Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { makeBinding, makeCertificate, makeDeployment, makeDevice, makeProfile, T0, T1 } from '../fixtures/builders.ts';
import { databaseTargets, freshDatabase, truncateAll } from '../support/test-db.ts';

const T2 = new Date('2020-03-04T05:06:07.890Z');
const T3 = new Date('2020-04-05T06:07:08.901Z');

// The read model behind /metrics and the job-run record it reads, on both databases.
describe.each(databaseTargets)('metrics read model on $kind', ({ open }) => {
  let database: Database;
  let store: Store;

  beforeAll(async () => {
    database = await freshDatabase(open);
    store = createDrizzleStore(database);
  });
  beforeEach(() => truncateAll(database));
  afterAll(() => database?.close());

  it('certificates: name, profile name and the lifecycle fields, by name, for every state', async () => {
    const profile = makeProfile({ name: 'le' });
    await store.profiles.insert(profile);
    await store.certificates.insert(
      makeCertificate(profile.id, {
        name: 'www',
        state: 'issued',
        serial: '0a',
        notAfter: T2,
        renewAt: T1,
        failedAttempts: 2,
      }),
    );
    await store.certificates.insert(makeCertificate(profile.id, { name: 'api', state: 'ordering' }));
    expect(await store.metrics.certificates()).toEqual([
      { name: 'api', profile: 'le', state: 'ordering', serial: null, notAfter: null, renewAt: null, failedAttempts: 0 },
      { name: 'www', profile: 'le', state: 'issued', serial: '0a', notAfter: T2, renewAt: T1, failedAttempts: 2 },
    ]);
  });

  it('renewal outcomes: finished renewals (flagged issued rows) and failed attempts; first issuances and other rows do not count', async () => {
    const row = (action: string, detail: Record<string, unknown>) =>
      store.audit.append({
        actor: 'scheduler',
        action,
        objectType: 'certificate',
        objectId: 'c1',
        objectName: 'www',
        result: action === RENEWAL_AUDIT.failedAction ? 'error' : 'ok',
        detail,
      });
    expect(await store.metrics.renewalOutcomes()).toEqual({ succeeded: 0, failed: 0 });
    await row('certificate.issued', { serial: '01' });
    await row('certificate.issued', { serial: '02', renewal: true });
    await row('certificate.issued', { serial: '03', renewal: true });
    await row(RENEWAL_AUDIT.failedAction, { code: 'acme_error' });
    await row('certificate.renew', {});
    await row('certificate.renew.failed', { code: 'x' });
    expect(await store.metrics.renewalOutcomes()).toEqual({ succeeded: 2, failed: 1 });
  });

  it('deploy outcomes by result, running attempts not counted, every result present', async () => {
    const profile = makeProfile();
    await store.profiles.insert(profile);
    const cert = makeCertificate(profile.id);
    await store.certificates.insert(cert);
    const device = makeDevice();
    await store.devices.insert(device);
    for (const result of ['succeeded', 'succeeded', 'failed', 'running'] as const)
      await store.deployments.insert(makeDeployment(cert.id, device.id, { result }));
    expect(await store.metrics.deployOutcomes()).toEqual({ succeeded: 2, unchanged: 0, failed: 1, rolled_back: 0 });
  });

  it('devices: last successful deploy per device; failing = bound certificates whose newest finished attempt failed', async () => {
    const profile = makeProfile();
    await store.profiles.insert(profile);
    const www = makeCertificate(profile.id, { name: 'www' });
    const api = makeCertificate(profile.id, { name: 'api' });
    const old = makeCertificate(profile.id, { name: 'old' });
    for (const c of [www, api, old]) await store.certificates.insert(c);
    const a = makeDevice({ name: 'bigip-a' });
    const b = makeDevice({ name: 'bigip-b' });
    const idle = makeDevice({ name: 'bigip-idle' });
    for (const d of [a, b, idle]) await store.devices.insert(d);
    await store.bindings.insert(makeBinding(www.id, a.id, { profilePath: '/Common/www' }));
    await store.bindings.insert(makeBinding(api.id, a.id, { profilePath: '/Common/api' }));
    await store.bindings.insert(makeBinding(www.id, b.id, { profilePath: '/Common/www' }));
    const deploy = (
      certId: string,
      deviceId: string,
      result: 'succeeded' | 'unchanged' | 'failed' | 'running',
      at: Date,
    ) => store.deployments.insert(makeDeployment(certId, deviceId, { result, startedAt: at, finishedAt: at }));
    // bigip-a: www failed, then succeeded (cleared); api succeeded, then failed (failing), then one still running.
    await deploy(www.id, a.id, 'failed', T0);
    await deploy(www.id, a.id, 'succeeded', T1);
    await deploy(api.id, a.id, 'succeeded', T0);
    await deploy(api.id, a.id, 'failed', T2);
    await deploy(api.id, a.id, 'running', T3);
    // bigip-b: www unchanged (a success); `old` failed there but is no longer bound (not counted).
    await deploy(www.id, b.id, 'unchanged', T2);
    await deploy(old.id, b.id, 'failed', T3);
    expect(await store.metrics.devices()).toEqual([
      { device: 'bigip-a', lastSuccessAt: T1, failingCertificates: 1 },
      { device: 'bigip-b', lastSuccessAt: T2, failingCertificates: 0 },
      { device: 'bigip-idle', lastSuccessAt: null, failingCertificates: 0 },
    ]);
  });

  it('job runs keep the time of the last ok run through later runs that were not ok, and the report stays as written', async () => {
    await store.jobRuns.started('renew', 'w1', T0);
    await store.jobRuns.finished('renew', 'ok', { renewed: ['www'], failed: [] }, T1);
    await store.jobRuns.finished('renew', 'partial', { renewed: ['api'], failed: [{ name: 'www' }] }, T2);
    await store.jobRuns.finished('renew', 'error', { code: 'db_unavailable', message: 'x' }, T3);
    const [renew] = await store.jobRuns.list();
    expect(renew).toMatchObject({
      lastResult: 'error',
      lastFinishedAt: T3,
      lastSucceededAt: T1,
      lastDetail: { code: 'db_unavailable', message: 'x' },
    });
    await store.jobRuns.finished('renew', 'ok', { renewed: [] }, T3);
    expect((await store.jobRuns.list())[0]).toMatchObject({ lastSucceededAt: T3, lastDetail: { renewed: [] } });
    // A job whose first run was not ok has no success yet.
    await store.jobRuns.finished('deploy', 'failed', { deployed: [], failed: [{ name: 'x' }] }, T1);
    expect((await store.jobRuns.list()).find((r) => r.job === 'deploy')?.lastSucceededAt).toBeNull();
  });
});
