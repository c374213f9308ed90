import { afterAll, beforeAll, expect, it } from 'vitest';
import { ariCertId } from '../../core/domain/ari-cert-id.ts';
import { openDatabase, type Database } from '../../db/client.ts';
import { type AriProxy, startAriProxy } from '../support/ari-proxy.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

const HOUR = 3_600_000;

describeWithPebble('renewal driven by ARI (Pebble behind a proxy that adds renewalInfo)', () => {
  const pebble = usePebble({ authzReuse: 0 });
  let database: Database;
  let core: TestCore;
  let proxy: AriProxy;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
    proxy = await startAriProxy(pebble());
    await core.services.profiles.create(
      { name: 'ari', server: proxy.directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    await core.services.domains.add(
      'ari',
      ['a.ari.example.test', 'b.ari.example.test', 'c.ari.example.test'],
      'http-01',
      'test',
    );
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
    await proxy?.close();
  });

  it('a window in the future moves renewAt into it; a window already past renews now, with replaces', async () => {
    const cert = await core.services.certificates.request({ profile: 'ari', commonName: 'a.ari.example.test' }, 'test');
    expect(cert.renewReason).toBe('lifetime_fraction');
    const certId = ariCertId(cert.chainPem!);
    const start = new Date(Date.now() + 10 * 24 * HOUR);
    proxy.setWindow(certId, { start, end: new Date(start.getTime() + 2 * 24 * HOUR) });
    proxy.setRetryAfter(7200);

    let report = await core.services.renewals.sweep();
    expect(report.ariPolled).toBeGreaterThanOrEqual(1);
    let row = (await core.store.certificates.findById(cert.id))!;
    expect(row.renewReason).toBe('ari_window');
    expect(row.renewAt!.getTime()).toBeGreaterThanOrEqual(start.getTime());
    expect(row.renewAt!.getTime()).toBeLessThan(start.getTime() + 2 * 24 * HOUR);
    // Retry-After 2 h, ±10 % jitter.
    const nextPoll = row.ariNextPollAt!.getTime() - Date.now();
    expect(nextPoll).toBeGreaterThan(1.7 * HOUR);
    expect(nextPoll).toBeLessThan(2.3 * HOUR);
    expect(report.renewed).toEqual([]);

    // The CA moves the window into the past (as before a revocation): renewed in the next sweep, as a replacement.
    proxy.setWindow(certId, { start: new Date(Date.now() - 2 * HOUR), end: new Date(Date.now() - HOUR) });
    await core.store.certificates.update(cert.id, { ariNextPollAt: new Date(Date.now() - 1000) });
    report = await core.services.renewals.sweep();
    expect(report.renewed).toEqual([cert.name]);
    row = (await core.store.certificates.findById(cert.id))!;
    expect(row.serial).not.toBe(cert.serial);
    expect(proxy.orders.at(-1)).toMatchObject({ replaces: certId, status: 201 });
  });

  it('a malformed window is ignored: the certificate keeps its lifetime-based time', async () => {
    const cert = await core.services.certificates.request({ profile: 'ari', commonName: 'b.ari.example.test' }, 'test');
    proxy.setWindow(ariCertId(cert.chainPem!), 'malformed');
    await core.services.renewals.sweep();
    const row = (await core.store.certificates.findById(cert.id))!;
    expect(row.renewReason).toBe('lifetime_fraction');
    expect(row.renewAt).toEqual(cert.renewAt);
    expect(row.ariWindowStart).toBeNull();
  });

  it('alreadyReplaced: the renewal order is retried without replaces and completes', async () => {
    const cert = await core.services.certificates.request({ profile: 'ari', commonName: 'c.ari.example.test' }, 'test');
    proxy.rejectNextReplaces();
    const renewed = await core.services.certificates.renew(cert.name, 'test');
    expect(renewed.state).toBe('issued');
    const last = proxy.orders.slice(-2);
    expect(last[0]).toMatchObject({ replaces: ariCertId(cert.chainPem!), status: 409 });
    expect(last[1]?.replaces).toBeUndefined();
  });
});
