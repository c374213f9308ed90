import { afterAll, beforeAll, expect, it } from 'vitest';
import { renewalRetryDeadline } from '../../core/domain/retry-backoff.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import { startScheduler } from '../../core/services/jobs.ts';
import { runCli } from '../../cli/program.ts';
import type { Runtime } from '../../runtime.ts';
import { openDatabase, type Database } from '../../db/client.ts';
import { startPausableProxy, type PausableProxy } from '../support/pausable-proxy.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

const SECOND = 1_000;
const NEVER = '0 0 1 1 *';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, until: number): Promise<T> {
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * Issue 11 item 3: a CA that is unreachable for a minute while 240-second certificates come up for renewal.
 * Their renewal time is a third of the lifetime, as for a 6-day certificate under the default "7 days
 * before expiry" (6-day-equivalent timing: the outage is a quarter of the lifetime, 1.5 days for 6 days).
 * The scheduler runs with the production defaults (renew every 10 minutes after a random start delay of
 * up to 8 minutes): after the first attempt, only its wake-ups for due retries can renew in time.
 */
describeWithPebble('renewals during a CA outage (Pebble issuing 240-second certificates)', () => {
  const pebble = usePebble({ authzReuse: 0, certificateValidityPeriod: 240 });
  let database: Database;
  let core: TestCore;
  let ca: PausableProxy;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
    const upstream = new URL(pebble().directoryUrl);
    ca = await startPausableProxy({ host: upstream.hostname, port: Number(upstream.port) });
    await core.services.profiles.create(
      {
        name: 'outage',
        server: `https://${ca.host}:${ca.port}${upstream.pathname}`,
        keySpec: 'ec-p256',
        acceptTos: true,
      },
      'test',
    );
    await core.services.domains.add(
      'outage',
      ['one.outage.example.test', 'two.outage.example.test'],
      'http-01',
      'test',
    );
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
    await ca?.close();
  });

  /** `cert show NAME --json` as an operator runs it, against this process's services. */
  async function certShowJson(name: string): Promise<Record<string, unknown>> {
    let stdout = '';
    const code = await runCli(['--json', 'cert', 'show', name], {
      stdout: (t) => (stdout += t),
      stderr: () => undefined,
      cwd: process.cwd(),
      user: 'test',
      servesChallenges: false,
      withRuntime: (fn) => fn({ services: core.services, store: core.store } as unknown as Runtime),
    });
    expect(code).toBe(0);
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  it('retries stay before notAfter minus the margin, the certificates stay issued with the problem shown, and renew once the CA is back', async () => {
    const { services, store, deps } = core;
    const issued = [
      await services.certificates.request({ profile: 'outage', commonName: 'one.outage.example.test' }, 'test'),
      await services.certificates.request({ profile: 'outage', commonName: 'two.outage.example.test' }, 'test'),
    ];
    for (const c of issued) {
      expect(c.state).toBe('issued');
      expect(c.notAfter!.getTime() - c.notBefore!.getTime()).toBeLessThanOrEqual(241 * SECOND);
    }

    // Every nextAttemptAt written, and every certificate the CA issues (one per successful finalize).
    const written: { id: string; at: Date }[] = [];
    const update = store.certificates.update.bind(store.certificates);
    store.certificates.update = async (id, patch) => {
      if (patch.nextAttemptAt) written.push({ id, at: patch.nextAttemptAt });
      return update(id, patch);
    };
    let finalized = 0;
    const finalize = deps.acme.finalize.bind(deps.acme);
    deps.acme.finalize = async (...args) => {
      const order = await finalize(...args);
      finalized++;
      return order;
    };

    const renewAt = Math.min(...issued.map((c) => c.renewAt!.getTime()));
    const scheduler = startScheduler(services.jobs, {
      patterns: { renew: '*/10 * * * *', deploy: NEVER, reconfigure: NEVER, cleanup: NEVER },
      startDelayMaxMs: 480_000,
      log: silentLogger,
    });
    try {
      // The CA goes away shortly before the renewals are due, for a minute.
      await sleep(renewAt - 3 * SECOND - Date.now());
      ca.down();
      const backAt = Date.now() + 60 * SECOND;
      // The first attempt at the renewal time, as a cron run would make it.
      await sleep(renewAt - Date.now());
      await services.jobs.run('renew');
      const deadlineOf = (c: (typeof issued)[number]) =>
        renewalRetryDeadline({ notBefore: c.notBefore!, notAfter: c.notAfter! }).getTime();
      // The first failure: retried before the certificate expires (it used to be an hour later).
      for (const c of issued) {
        const row = await waitFor(
          'the first failed attempt',
          async () => {
            const r = await store.certificates.findById(c.id);
            return r && r.failedAttempts >= 1 && r;
          },
          backAt,
        );
        expect(row.nextAttemptAt!.getTime()).toBeLessThanOrEqual(deadlineOf(c));
        expect(row.state).toBe('issued');
      }
      // Retried every few seconds (a 240-s lifetime's floor), each time by the scheduler waking for it.
      await waitFor(
        'both renewals to fail at least five times',
        async () =>
          (await Promise.all(issued.map((c) => store.certificates.findById(c.id)))).every(
            (r) => r!.failedAttempts >= 5,
          ),
        backAt - 5 * SECOND,
      );

      for (const c of issued) {
        const row = (await store.certificates.findById(c.id))!;
        // Still the live, deployed certificate: renewing it has not taken it out of service.
        expect(row.state).toBe('issued');
        expect(row.serial).toBe(c.serial);
        const shown = await certShowJson(c.name);
        expect(shown).toMatchObject({ state: 'issued', serial: c.serial, failedAttempts: expect.any(Number) });
        expect(shown.lastRenewalError).toMatchObject({
          code: expect.stringMatching(/^acme_/),
          message: expect.any(String),
          at: expect.any(String),
        });
        expect(Date.parse(shown.nextAttemptAt as string)).toBeLessThanOrEqual(deadlineOf(c));
      }

      await sleep(backAt - Date.now());
      ca.up();
      const renewed = await waitFor(
        'both certificates renewed',
        async () => {
          const rows = await Promise.all(issued.map((c) => store.certificates.findById(c.id)));
          return rows.every((r, i) => r!.state === 'issued' && r!.serial !== issued[i]!.serial) && rows;
        },
        Math.min(...issued.map((c) => c.notAfter!.getTime())),
      );

      for (const [i, c] of issued.entries()) {
        const row = renewed[i]!;
        // Renewed before the old certificate expired, with the failure history cleared.
        expect(row.issuedAt!.getTime()).toBeLessThan(c.notAfter!.getTime());
        expect(row).toMatchObject({
          failedAttempts: 0,
          nextAttemptAt: null,
          lastRenewalError: null,
          renewalState: null,
        });
        // Every retry scheduled during the outage was before notAfter minus the safety margin.
        const deadline = deadlineOf(c);
        const mine = written.filter((w) => w.id === c.id);
        expect(mine.length).toBeGreaterThanOrEqual(5);
        for (const w of mine) expect(w.at.getTime()).toBeLessThanOrEqual(deadline);
      }
      // Exactly one new certificate per renewal.
      expect(finalized).toBe(issued.length);
      expect(ca.refused).toBeGreaterThan(0);
    } finally {
      scheduler.stop();
    }
  }, 240_000);
});
