import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import type { Database } from '../../db/client.ts';
import { assertProfilesConsistent } from '../bigip/deploy-harness.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

const WORKER = join(import.meta.dirname, '../support/worker-process.ts');
const postgres = databaseTargets.find((t) => t.kind === 'postgres');

interface Worker {
  child: ChildProcessWithoutNullStreams;
  /** Sends one job and resolves with its JSON answer (or null when the process died). */
  run(job: string): Promise<Record<string, unknown> | null>;
  exited: Promise<number | null>;
}

function startWorker(env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (process.env.WORKER_DEBUG) process.stderr.write(d);
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string | null) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      for (const w of waiting.splice(0)) w(null);
      resolve(code);
    }),
  );
  const next = () => new Promise<string | null>((resolve) => waiting.push(resolve));
  return next().then((ready) => {
    if (!ready) throw new Error(`worker died before it was ready:\n${stderr}`);
    return {
      child,
      exited,
      async run(job) {
        const answer = next();
        child.stdin.write(`${job}\n`);
        const line = await answer;
        return line ? (JSON.parse(line) as Record<string, unknown>) : null;
      },
    };
  });
}

// Replicas share work only through PostgreSQL; PGlite is one process by design.
(postgres ? describeWithPebble : describe.skip)(
  'replicas on one PostgreSQL: each renewal and each deploy happens exactly once',
  () => {
    const pebble = usePebble({ authzReuse: 0 });
    const masterKey = randomBytes(32).toString('base64');
    let database: Database;
    let core: TestCore;
    let sim: BigIpSimulator;
    let env: Record<string, string>;
    const workers: Worker[] = [];

    beforeAll(async () => {
      database = await freshDatabase(postgres!.open);
      core = await startTestCore(database, pebble(), masterKey);
      sim = await startBigIpSimulator();
      env = {
        DATABASE_URL: process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL!,
        MASTER_KEY: masterKey,
        ACME_CA_FILE: pebble().caFile,
        CHALLENGE_HTTP_PORT: String(pebble().httpPort),
        CHALLENGE_TLS_PORT: String(pebble().tlsPort),
        CHALLENGE_DNS_SERVERS: pebble().dnsServer,
        JOBS_LEASE_SECONDS: '3',
      };
      await core.services.profiles.create(
        { name: 'fleet', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
        'test',
      );
      await core.services.devices.add(
        { name: 'fleet-lb', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
        'test',
      );
    }, 120_000);
    afterAll(async () => {
      for (const w of workers) w.child.kill('SIGKILL');
      await core?.close();
      await database?.close();
      await sim?.close();
    });

    /** Issues, binds and deploys `count` certificates, then makes every renewal and redeploy due now. */
    async function fleet(prefix: string, count: number): Promise<ManagedCertificate[]> {
      const names = Array.from({ length: count }, (_, i) => `${prefix}${i}.fleet.example.test`);
      await core.services.domains.add('fleet', names, 'http-01', 'test');
      const certs: ManagedCertificate[] = [];
      for (const [i, name] of names.entries()) {
        const issued = await core.services.certificates.request({ profile: 'fleet', commonName: name }, 'test');
        expect(
          issued.state,
          JSON.stringify({ problem: issued.problem, domains: await core.services.domains.list('fleet') }).slice(
            0,
            2000,
          ),
        ).toBe('issued');
        sim.addProfile(`/Common/${prefix}_${i}`, { defaultsFrom: '/Common/clientssl' });
        await core.services.bindings.add(
          { certificate: issued.name, device: 'fleet-lb', profile: `${prefix}_${i}` },
          'test',
        );
        expect((await core.services.deploys.deploy(issued.name, {}, 'test')).ok).toBe(true);
        const cert = await core.store.certificates.update(issued.id, { renewAt: new Date(Date.now() - 60_000) });
        // What the profiles serve expires within the minute: the redeploy is due at once, not at midnight.
        for (const b of await core.store.bindings.list({ certificateId: issued.id })) {
          await core.store.bindings.update(b.id, { deployedNotAfter: new Date(Date.now() + 60_000) });
        }
        certs.push(cert);
      }
      return certs;
    }

    const renewStarts = async (certId: string) =>
      (await core.store.audit.list({ objectId: certId, limit: 1000 })).filter((e) => e.action === 'certificate.renew')
        .length;

    it('three workers fired together 50 times over 20 due certificates: one order per certificate, one deploy per binding', async () => {
      const certs = await fleet('x', 20);
      sim.resetRequests();
      workers.push(...(await Promise.all([startWorker(env), startWorker(env), startWorker(env)])));
      for (let round = 0; round < 50; round++) {
        const answers = await Promise.all(workers.map((w) => w.run(round % 2 === 0 ? 'renew' : 'deploy')));
        for (const a of answers) expect(a?.ok, JSON.stringify(a)).toBe(true);
      }
      // One more deploy round after the last renewals, in case a renewal finished after the last deploy sweep.
      await Promise.all(workers.map((w) => w.run('deploy')));

      for (const original of certs) {
        const cert = (await core.store.certificates.findById(original.id))!;
        expect(cert.state).toBe('issued');
        expect(cert.serial).not.toBe(original.serial);
        expect(cert.orderAttempts).toBe(1);
        expect(await renewStarts(cert.id)).toBe(1);
        const deployments = await core.store.deployments.list({ certificateId: cert.id });
        expect(deployments.filter((d) => d.actor === 'scheduler' && d.result === 'succeeded')).toHaveLength(1);
      }
      const switches = sim.requests.filter((r) => r.step === 'profile-patch');
      const byProfile = new Map<string, number>();
      for (const r of switches) byProfile.set(r.path, (byProfile.get(r.path) ?? 0) + 1);
      expect(byProfile.size).toBe(20);
      expect([...byProfile.values()].every((n) => n === 1)).toBe(true);
      assertProfilesConsistent(
        sim,
        certs.map((_, i) => `/Common/x_${i}`),
      );
      // The work was shared, not done by one replica.
      const holders = new Set((await core.store.jobRuns.list()).map((r) => r.holder));
      expect(holders.size).toBeGreaterThanOrEqual(1);
    }, 240_000);

    it('a worker killed in the middle of a renewal: another finishes it after the lease expires, same order, same key', async () => {
      const [original] = await fleet('k', 1);
      // Only this certificate is due, so the failpoint fires on its order and nobody else's.
      for (const other of await core.store.certificates.list()) {
        if (other.id !== original!.id)
          await core.store.certificates.update(other.id, {
            renewAt: new Date(Date.now() + 86_400_000),
            renewalStartedAt: null,
            nextAttemptAt: null,
          });
      }
      const doomed = await startWorker({ ...env, BIGIP_ACME_FAILPOINT: 'order_created' });
      const answer = await doomed.run('renew');
      expect(answer).toBeNull();
      expect(await doomed.exited).not.toBe(0);
      const crashed = (await core.store.certificates.findById(original!.id))!;
      // The renewal runs beside the live certificate, which stays issued with its own key.
      expect(crashed.state).toBe('issued');
      expect(crashed.serial).toBe(original!.serial);
      expect(crashed.renewalState).toBe('ordering');
      expect(crashed.renewalKeySealed).not.toBeNull();
      expect(crashed.renewalKeySealed).not.toBe(crashed.keySealed);
      expect(crashed.orderUrl).not.toBeNull();
      expect(crashed.renewalStartedAt).not.toBeNull();

      const survivor = workers[0] ?? (await startWorker(env));
      // Before the lease runs out the survivor leaves it alone.
      const early = await survivor.run('renew');
      expect((early!.detail as { renewed: string[] }).renewed).not.toContain(original!.name);
      await new Promise((r) => setTimeout(r, 3_500));
      const late = await survivor.run('renew');
      expect((late!.detail as { renewed: string[] }).renewed).toContain(original!.name);

      const done = (await core.store.certificates.findById(original!.id))!;
      expect(done.state).toBe('issued');
      expect(done.serial).not.toBe(original!.serial);
      expect(done.orderUrl).toBe(crashed.orderUrl);
      expect(done.keySealed).toBe(crashed.renewalKeySealed);
      expect(done.renewalState).toBeNull();
      expect(done.renewalKeySealed).toBeNull();
      expect(done.orderAttempts).toBe(1);
      expect(await renewStarts(done.id)).toBe(1);
    }, 120_000);
  },
);
