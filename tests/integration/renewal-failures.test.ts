import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountOf } from '../../core/services/core-deps.ts';
import { openDatabase, type Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

describeWithPebble('renewals that go wrong', () => {
  const pebble = usePebble({ authzReuse: 0, httpPort: 5552, tlsPort: 5551 });
  let database: Database;
  let core: TestCore;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
    await core.services.profiles.create({ name: 'fail', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true }, 'test');
    await core.services.domains.add('fail', ['stuck.example.test', 'manual.example.test'], 'http-01', 'test');
    await core.services.domains.add('fail', ['txt.example.test'], 'dns-01', 'test');
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
  });

  it('an order unfinished 4 h after the renewal began is abandoned: its pending authorizations deactivated, a new order made with the same key', async () => {
    const { services, store, deps } = core;
    const cert = await services.certificates.request({ profile: 'fail', commonName: 'stuck.example.test' }, 'test');
    const profile = (await store.profiles.findByName('fail'))!;
    const account = accountOf(deps, profile);
    // A renewal whose order never got anywhere: pending authorizations, started five hours ago.
    const stale = await deps.acme.newOrder(account, ['stuck.example.test']);
    const started = await store.certificates.update(cert.id, {
      state: 'ordering',
      orderUrl: stale.url,
      finalizeUrl: stale.finalize,
      authorizationUrls: stale.authorizations,
      orderStatus: 'pending',
      orderAttempts: 1,
      renewalStartedAt: new Date(Date.now() - 5 * 3_600_000),
    });

    const report = await services.renewals.sweep();
    expect(report.renewed).toEqual([cert.name]);
    for (const url of stale.authorizations) expect((await deps.acme.getAuthorization(account, url)).status).toBe('deactivated');
    const done = (await store.certificates.findById(cert.id))!;
    expect(done.orderUrl).not.toBe(stale.url);
    expect(done.keySealed).toBe(started.keySealed);
    const actions = (await store.audit.list({ objectId: cert.id })).map((e) => e.action);
    expect(actions).toContain('certificate.renew.abandon_order');
  });

  it('a renewal whose challenge nobody can answer is raised to people once and backs off instead of retrying blindly', async () => {
    const { services, store } = core;
    // dns-01 with nobody publishing the TXT record: the renewal cannot proceed without a person.
    const txtCert = await services.certificates.request({ profile: 'fail', commonName: 'txt.example.test' }, 'test');
    expect(txtCert.state).toBe('awaiting_challenge');
    await store.certificates.update(txtCert.id, { renewalStartedAt: new Date(), nextAttemptAt: null });

    const first = await services.renewals.sweep();
    expect(first.waiting).toContain(txtCert.name);
    const row = (await store.certificates.findById(txtCert.id))!;
    expect(row.failedAttempts).toBe(1);
    const backoff = row.nextAttemptAt!.getTime() - Date.now();
    expect(backoff).toBeGreaterThan(55 * 60_000);
    expect(backoff).toBeLessThanOrEqual(60 * 60_000);

    const second = await services.renewals.sweep();
    expect(second.candidates).toBe(0);
    const events = (await store.events.list({ certificateId: txtCert.id })).filter((e) => e.kind === 'renewal_failed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ needsPerson: true, detail: expect.objectContaining({ code: 'challenge_unreachable', attempt: 1 }) });
  });
});
