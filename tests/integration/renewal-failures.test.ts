import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountOf } from '../../core/services/core-deps.ts';
import { openDatabase, type Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

describeWithPebble('renewals that go wrong', () => {
  const pebble = usePebble({ authzReuse: 0 });
  let database: Database;
  let core: TestCore;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
    await core.services.profiles.create(
      { name: 'fail', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
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
    // A renewal whose order never got anywhere: pending authorizations, started five hours ago, beside the
    // live certificate (its next key sealed like the live one).
    const stale = await deps.acme.newOrder(account, ['stuck.example.test']);
    const live = (await store.certificates.findById(cert.id))!;
    const started = await store.certificates.update(cert.id, {
      renewalState: 'ordering',
      renewalKeySealed: live.keySealed,
      renewalCsrPem: live.csrPem,
      orderUrl: stale.url,
      finalizeUrl: stale.finalize,
      authorizationUrls: stale.authorizations,
      orderStatus: 'pending',
      orderAttempts: 1,
      renewalStartedAt: new Date(Date.now() - 5 * 3_600_000),
    });

    const report = await services.renewals.sweep();
    expect(report.renewed).toEqual([cert.name]);
    for (const url of stale.authorizations)
      expect((await deps.acme.getAuthorization(account, url)).status).toBe('deactivated');
    const done = (await store.certificates.findById(cert.id))!;
    expect(done.orderUrl).not.toBe(stale.url);
    expect(done.keySealed).toBe(started.renewalKeySealed);
    expect(done).toMatchObject({ state: 'issued', renewalState: null, renewalKeySealed: null });
    expect(done.serial).not.toBe(cert.serial);
    const actions = (await store.audit.list({ objectId: cert.id })).map((e) => e.action);
    expect(actions).toContain('certificate.renew.abandon_order');
  });

  it('a renewal whose challenge nobody can answer: the certificate stays issued with the problem shown, raised to people once, backing off', async () => {
    const { services, store } = core;
    // Issued over dns-01 while someone published the TXT record …
    const waiting = await services.certificates.request({ profile: 'fail', commonName: 'txt.example.test' }, 'test');
    expect(waiting.state).toBe('awaiting_challenge');
    const content = await services.domains.challenge({ name: 'txt.example.test' });
    await pebble().setTxt('_acme-challenge.txt.example.test', content.dns!.value);
    const issued = await services.certificates.resume(waiting.name, 'test');
    expect(issued.state).toBe('issued');
    // … renewed when nobody publishes the new one: the renewal cannot proceed without a person.
    await pebble().clearTxt('_acme-challenge.txt.example.test');
    await store.certificates.update(issued.id, { renewAt: new Date(Date.now() - 1_000) });

    const first = await services.renewals.sweep();
    expect(first.waiting).toContain(issued.name);
    const row = (await store.certificates.findById(issued.id))!;
    expect(row).toMatchObject({
      state: 'issued',
      serial: issued.serial,
      keySealed: (await store.certificates.findById(issued.id))!.keySealed,
      renewalState: 'awaiting_challenge',
      failedAttempts: 1,
      lastRenewalError: expect.objectContaining({ code: 'challenge_unreachable' }),
    });
    expect(row.renewalKeySealed).not.toBe(row.keySealed);
    // A 5-year Pebble certificate is far from expiry: the plain 1-hour first step.
    const backoff = row.nextAttemptAt!.getTime() - Date.now();
    expect(backoff).toBeGreaterThan(55 * 60_000);
    expect(backoff).toBeLessThanOrEqual(60 * 60_000);
    // The live certificate is still there to export and deploy.
    expect((await services.certificates.export(issued.name, { includeKey: false }, 'test')).chainPem).toBe(
      issued.chainPem,
    );

    const second = await services.renewals.sweep();
    expect(second.candidates).toBe(0);
    const events = (await store.events.list({ certificateId: issued.id })).filter((e) => e.kind === 'renewal_failed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      needsPerson: true,
      detail: expect.objectContaining({ code: 'challenge_unreachable', attempt: 1 }),
    });
  });
});
