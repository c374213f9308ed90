import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../core/ports/logger.ts';
import { startScheduler } from '../../core/services/jobs.ts';
import { openDatabase, type Database } from '../../db/client.ts';
import { assertProfilesConsistent } from '../bigip/deploy-harness.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

const EVERY_SECOND = '* * * * * *';

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describeWithPebble('the worker renews and redeploys by itself (Pebble issuing 30-second certificates)', () => {
  const pebble = usePebble({ authzReuse: 0, certificateValidityPeriod: 30 });
  let database: Database;
  let core: TestCore;
  let sim: BigIpSimulator;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
    sim = await startBigIpSimulator();
    sim.addProfile('/Common/acme_short', { defaultsFrom: '/Common/clientssl' });
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
    await sim?.close();
  });

  it('renews at its renewal time, deploys because the served certificate expires first, and the audit log tells the story', async () => {
    const { services, store } = core;
    await services.profiles.create(
      {
        name: 'short',
        server: pebble().directoryUrl,
        keySpec: 'ec-p256',
        acceptTos: true,
        deployTime: '00:00',
        deployTimeZone: 'UTC',
      },
      'test',
    );
    await services.domains.add('short', ['short.example.test'], 'http-01', 'test');
    const first = await services.certificates.request({ profile: 'short', commonName: 'short.example.test' }, 'test');
    expect(first.state).toBe('issued');
    // Renewal time comes from the certificate itself: 30 s lifetime → half (< 10 days), but the profile's
    // "7 days before expiry" is longer than the lifetime, so it is clamped to a third, never "now".
    expect(first.renewReason).toBe('deadline');
    const lifetime = first.notAfter!.getTime() - first.notBefore!.getTime();
    expect(first.renewAt!.getTime()).toBeGreaterThanOrEqual(first.notBefore!.getTime() + lifetime / 3 - 1000);
    expect(first.renewAt!.getTime()).toBeGreaterThan(Date.now() - 1000);

    await services.devices.add(
      { name: 'short-lb', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
      'test',
    );
    await services.bindings.add({ certificate: first.name, device: 'short-lb', profile: 'acme_short' }, 'test');
    expect((await services.deploys.deploy(first.name, {}, 'test')).ok).toBe(true);

    const scheduler = startScheduler(services.jobs, {
      patterns: { renew: EVERY_SECOND, deploy: EVERY_SECOND, reconfigure: '0 0 1 1 *', cleanup: '0 0 1 1 *' },
      startDelayMaxMs: 0,
      log: silentLogger,
    });
    try {
      // Two generations: renewed and redeployed twice with nobody calling anything.
      const seen = new Set<string>([first.serial!]);
      await waitFor(
        'two renewals deployed',
        async () => {
          const cert = await store.certificates.findById(first.id);
          const [binding] = await store.bindings.list({ certificateId: first.id });
          if (cert?.state === 'issued' && binding?.deployedSerial === cert.serial) seen.add(cert.serial!);
          return seen.size >= 3;
        },
        75_000,
      );
    } finally {
      scheduler.stop();
    }

    const cert = (await store.certificates.findById(first.id))!;
    const serving = assertProfilesConsistent(sim, ['/Common/acme_short']);
    expect(serving['/Common/acme_short']).toBe(cert.serial);
    // Old generations are removed from the device: one key, cert and chain of ours remain.
    expect([...sim.state.certs.keys()].filter((k) => k.includes('short.example.test_'))).toHaveLength(2);

    const audit = (await store.audit.list({ objectId: first.id, limit: 500 })).reverse();
    const story = audit.map((e) => `${e.actor} ${e.action}`);
    expect(story.filter((s) => s === 'scheduler certificate.renew').length).toBeGreaterThanOrEqual(2);
    expect(story.filter((s) => s === 'scheduler certificate.deploy').length).toBeGreaterThanOrEqual(2);
    expect(story.indexOf('scheduler certificate.renew')).toBeLessThan(
      story.lastIndexOf('scheduler certificate.deploy'),
    );
    const events = (await store.events.list({ certificateId: first.id })).map((e) => e.kind);
    expect(events).toEqual(expect.arrayContaining(['renewal_due', 'renewed', 'deployed']));
    expect(events).not.toContain('renewal_failed');
    const runs = await store.jobRuns.list();
    expect(runs.find((r) => r.job === 'renew')?.lastResult).toBe('ok');
  });
});
