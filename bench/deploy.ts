/**
 * Deploy benchmark: one certificate to N simulated BIG-IPs (default 50) through the real core services (deploy
 * service, iControl REST client over HTTPS, drizzle store, sealed secrets). The simulators run in a child
 * process (`bench/bigip-fleet.ts`), each adding `--latency-ms` (default 20) before every answer, so this
 * process's CPU and RSS are the deploy's own.
 *
 *   npx tsx bench/deploy.ts [--devices 50] [--concurrency auto|8] [--latency-ms 20] [--pglite] [--trace] [--profile]
 *
 * `--concurrency auto` (the default) leaves it to the deploy service (one slot per device up to a cap, see
 * core/domain/deploy-fan-out.ts); a number fixes it. The latency floor uses the concurrency that applied.
 *
 * Not timed: starting the fleet, registering the N devices (each with its connection test), seeding one issued
 * certificate (test CA) and binding it to `/Common/acme_bench` on every device. Timed, one after another:
 * - `first`: the first deploy (upload, install, switch in a transaction, verify, save) on every device;
 * - `renewal`: after the certificate is reissued (untimed), the deploy that installs the new objects,
 *   switches, saves and deletes the old objects;
 * - `rerun`: the same deploy again, which reads and writes nothing (every device `unchanged`).
 * Every device must end `succeeded` (first, renewal) or `unchanged` (rerun), and the fleet must show each
 * profile serving the certificate's serial with exactly its objects left; anything else exits non-zero.
 *
 * Database: PostgreSQL when BENCH_DATABASE_URL or DATABASE_URL is set (migrated and TRUNCATED first, so the
 * database name must contain "bench"), else in-memory PGlite; `--pglite` forces PGlite.
 *
 * Prints one JSON line on stdout. Per phase:
 * - `seconds` (wall); `results` (devices per result);
 * - `cpuSeconds` (this process), `fleetCpuSeconds` (the simulators' process), `otherCpuSeconds` (everything else
 *   the CPUs did meanwhile: PostgreSQL, other processes) and `systemBusyPct` (all CPUs);
 * - `rssStartMB` and `peakRssMB` (RSS sampled every 25 ms during the phase);
 * - `requestsPerDevice` and `steps` (the requests the devices saw, by simulator step, device 0);
 * - `deviceSeconds` (each device's deployment record, started → finished: median, max, sum);
 * - `latencyFloorSeconds`: requests × latency × ⌈N / concurrency⌉, what the simulated latency alone costs.
 * `maxRssMB` is the kernel's high-water mark over the whole process, setup included (for PGlite, opening and
 * migrating the database sets it). `--trace` also prints, per phase, the summed time of every store and BIG-IP
 * client call on stderr (it adds a little overhead; not for the headline). `--profile` CPU-profiles each timed
 * phase (node:inspector) into a .cpuprofile file named on stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Console } from 'node:console';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as inspector from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createIControlClient } from '../core/bigip/icontrol-client.ts';
import { deployConcurrency } from '../core/domain/deploy-fan-out.ts';
import type { DeploymentResult } from '../core/domain/deployment.ts';
import type { ManagedCertificate } from '../core/domain/managed-certificate.ts';
import { createSecretBox } from '../core/secrets/secret-box.ts';
import { boundedMap } from '../core/services/bounded-map.ts';
import type { DeployReport } from '../core/deploy/deploy-service.ts';
import { createCoreServices } from '../core/services/index.ts';
import { openDatabase } from '../db/client.ts';
import { createDrizzleStore } from '../db/drizzle-store.ts';
import { deployCoreDeps } from '../tests/bigip/deploy-harness.ts';
import { reissueTestCertificate, seedIssuedCertificate } from '../tests/support/test-certificates.ts';
import { truncateAll } from '../tests/support/test-db.ts';
import { callTimings, instrument } from './lib/call-timings.ts';
import { processCpuSeconds, systemCpu } from './lib/cpu.ts';
import { median, round } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: process.env.BENCH_DEVICES ?? '50' },
    concurrency: { type: 'string', default: process.env.BENCH_CONCURRENCY ?? 'auto' },
    'latency-ms': { type: 'string', default: process.env.BENCH_LATENCY_MS ?? '20' },
    pglite: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const N = Number(values.devices);
const requestedConcurrency = values.concurrency === 'auto' ? undefined : Number(values.concurrency);
const C = deployConcurrency(N, requestedConcurrency);
const latencyMs = Number(values['latency-ms']);
if (
  !Number.isInteger(N) ||
  N < 1 ||
  (requestedConcurrency !== undefined && !(Number.isInteger(requestedConcurrency) && requestedConcurrency >= 1))
)
  throw new Error('--devices must be a positive integer, --concurrency one or auto');
if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error('--latency-ms must be a number ≥ 0');
const databaseUrl = values.pglite ? undefined : (process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL);
if (databaseUrl && !/bench/i.test(new URL(databaseUrl).pathname)) {
  throw new Error(
    `refusing to truncate ${new URL(databaseUrl).pathname.slice(1)}: the benchmark database's name must contain "bench"`,
  );
}
const PROFILE = '/Common/acme_bench';
const MB = 2 ** 20;

// ---- The fleet (child process) --------------------------------------------------------------------------

interface FleetDevice {
  url: string;
  caPem: string;
  username: string;
  password: string;
}
interface FleetStats {
  devices: {
    requests: number;
    errors: number;
    steps: Record<string, number>;
    serving: string | null;
    certs: number;
    keys: number;
    saves: number;
  }[];
}

class Fleet {
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly lines: Interface;

  private constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => this.waiting.shift()?.(line));
  }

  static async start(): Promise<{ fleet: Fleet; devices: FleetDevice[] }> {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/bigip-fleet.ts',
        '--devices',
        String(N),
        '--latency-ms',
        String(latencyMs),
        '--profile',
        PROFILE,
      ],
      {
        cwd: root,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const fleet = new Fleet(child);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`the fleet exited early (code ${code})`))),
    );
    const first = await Promise.race([fleet.next(), exited]);
    exited.catch(() => {}); // later exits are expected (close)
    return { fleet, devices: (JSON.parse(first) as { devices: FleetDevice[] }).devices };
  }

  private next(): Promise<string> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async stats(): Promise<FleetStats> {
    const answer = this.next();
    this.child.stdin!.write('stats\n');
    return JSON.parse(await answer) as FleetStats;
  }

  /** User + system CPU seconds of the fleet process so far (Linux). */
  cpuSeconds(): number {
    return processCpuSeconds(this.child.pid!);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
    });
  }
}

// ---- --trace: summed time per store and BIG-IP client call ------------------------------------------------

const timings = callTimings;

// ---- The run ----------------------------------------------------------------------------------------------

const fleetStarted = performance.now();
const { fleet, devices } = await Fleet.start();
const fleetStartSeconds = (performance.now() - fleetStarted) / 1000;
const database = databaseUrl ? await openDatabase({ url: databaseUrl }) : await openDatabase({ memory: true });
let failed = false;
try {
  await database.migrate();
  await truncateAll(database);
  const secrets = createSecretBox(randomBytes(32).toString('base64'));
  const deps = deployCoreDeps(createDrizzleStore(database), secrets);
  const services = createCoreServices(deps);
  const store = deps.store;

  const names = devices.map((_, i) => `bigip${String(i).padStart(2, '0')}`);
  let started = performance.now();
  await boundedMap(devices, 8, (d, i) =>
    services.devices.add(
      { name: names[i]!, url: d.url, username: d.username, password: d.password, caPem: d.caPem },
      'bench',
    ),
  );
  const registerSeconds = (performance.now() - started) / 1000;

  let cert: ManagedCertificate = await seedIssuedCertificate(store, secrets, {
    name: 'bench-www',
    names: ['www.bench.example.test', 'bench.example.test'],
  });
  started = performance.now();
  await boundedMap(names, 8, (device) =>
    services.bindings.add({ certificate: cert.name, device, profile: 'acme_bench' }, 'bench'),
  );
  const bindSeconds = (performance.now() - started) / 1000;
  await fleet.stats(); // forget the setup's requests
  const rssAfterSetupMB = Math.round(process.memoryUsage().rss / MB);

  if (values.trace) {
    // The services read deps.* on every call, so swapping in wrappers instruments them in place.
    deps.store = Object.fromEntries(
      Object.entries(store).map(([k, v]) => [k, typeof v === 'object' && v !== null ? instrument(v, `store.${k}`) : v]),
    ) as typeof store;
    deps.bigip = (connection) => instrument(createIControlClient(connection), 'bigip');
  }

  const phases = [];
  for (const [phase, expected] of [
    ['first', 'succeeded'],
    ['renewal', 'succeeded'],
    ['rerun', 'unchanged'],
  ] as const) {
    if (phase === 'renewal') cert = await reissueTestCertificate(store, secrets, cert);
    timings.clear();
    let peakRss = process.memoryUsage().rss;
    const rssStart = peakRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 25);
    const profiler = values.profile ? new inspector.Session() : null;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const cpuBefore = process.cpuUsage();
    const fleetCpuBefore = fleet.cpuSeconds();
    const systemBefore = systemCpu();
    const phaseStarted = new Date();
    started = performance.now();
    const report: DeployReport = await services.deploys.deploy(
      cert.name,
      { concurrency: requestedConcurrency },
      'bench',
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const fleetCpuSeconds = fleet.cpuSeconds() - fleetCpuBefore;
    const systemAfter = systemCpu();
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const file = join(tmpdir(), `bench-deploy-${process.pid}-${phase}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      profiler.disconnect();
      console.error(`CPU profile of the ${phase} phase: ${file}`);
    }

    // Every device must have ended as expected, and the fleet must agree.
    const results: Partial<Record<DeploymentResult, number>> = {};
    for (const d of report.devices) results[d.result] = (results[d.result] ?? 0) + 1;
    const wrong = report.devices.filter((d) => d.result !== expected);
    if (report.devices.length !== N || wrong.length > 0) {
      throw new Error(
        `${phase}: expected ${N} × ${expected}, got ${JSON.stringify(results)}; e.g. ${JSON.stringify(wrong[0])}`,
      );
    }
    const stats = await fleet.stats();
    const off = stats.devices.findIndex(
      (d) => d.serving !== cert.serial!.toLowerCase() || d.certs !== 3 || d.keys !== 2 || d.errors > 0,
    );
    if (off >= 0)
      throw new Error(
        `${phase}: ${names[off]} is not as expected: ${JSON.stringify(stats.devices[off])} (serial ${cert.serial})`,
      );

    const records = (await store.deployments.list({ certificateId: cert.id, limit: 10 * N })).filter(
      (r) => r.startedAt >= phaseStarted && r.finishedAt,
    );
    const deviceSeconds = records.map((r) => (r.finishedAt!.getTime() - r.startedAt.getTime()) / 1000);
    const requests = stats.devices.map((d) => d.requests);
    const steps = stats.devices[0]!.steps;
    const systemBusyPct =
      systemBefore && systemAfter
        ? Math.round((100 * (systemAfter.busy - systemBefore.busy)) / (systemAfter.total - systemBefore.total))
        : null;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // Everything else the CPUs did meanwhile (PostgreSQL, other processes), in USER_HZ = 100 ticks.
    const otherCpuSeconds =
      systemBefore && systemAfter ? (systemAfter.busy - systemBefore.busy) / 100 - cpuSeconds - fleetCpuSeconds : null;
    phases.push({
      phase,
      seconds: round(seconds),
      results,
      cpuSeconds: round(cpuSeconds),
      fleetCpuSeconds: round(fleetCpuSeconds),
      otherCpuSeconds: otherCpuSeconds === null ? null : round(Math.max(0, otherCpuSeconds)),
      systemBusyPct,
      rssStartMB: Math.round(rssStart / MB),
      peakRssMB: Math.round(peakRss / MB),
      requestsPerDevice: { min: Math.min(...requests), median: median(requests), max: Math.max(...requests) },
      steps,
      deviceSeconds: {
        median: round(median(deviceSeconds), 3),
        max: round(Math.max(...deviceSeconds), 3),
        sum: round(deviceSeconds.reduce((a, b) => a + b, 0)),
      },
      latencyFloorSeconds: round((median(requests) * latencyMs * Math.ceil(N / C)) / 1000),
    });

    if (values.trace) {
      const stderr = new Console(process.stderr);
      stderr.error(
        `trace ${phase}: ${N} devices, ${seconds.toFixed(2)} s wall, C=${C}; msPerDevice = summed latency / devices`,
      );
      stderr.table(
        [...timings.entries()]
          .sort((a, b) => b[1].ms - a[1].ms)
          .map(([op, t]) => ({
            op,
            calls: t.count,
            callsPerDevice: round(t.count / N),
            meanMs: round(t.ms / t.count),
            msPerDevice: round(t.ms / N, 1),
          })),
      );
    }
  }

  console.log(
    JSON.stringify({
      tool: 'bigip-acme',
      benchmark: 'deploy',
      database: database.kind,
      devices: N,
      concurrency: C,
      concurrencyFrom: requestedConcurrency === undefined ? 'auto' : 'fixed',
      latencyMs,
      setup: {
        fleetStartSeconds: round(fleetStartSeconds),
        registerSeconds: round(registerSeconds),
        bindSeconds: round(bindSeconds),
        rssAfterSetupMB,
      },
      phases,
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await database.close();
  await fleet.close();
}
process.exit(failed ? 1 : 0);
