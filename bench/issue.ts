/**
 * Issuance benchmark: N single-name certificates through the real core services (acme-client gateway, network
 * probe, drizzle store, sealed secrets, Hono HTTP-01 responder) against a fresh Pebble started here
 * (PEBBLE_VA_NOSLEEP=1, NONCEREJECT=0, AUTHZREUSE=0, http-01), so every certificate does the full challenge
 * round-trip, like ../shared/baselines/acme-bare-loop.mjs.
 *
 *   npx tsx bench/issue.ts [N=50] [C=8] [--pglite | --pglite-memory] [--trace] [--profile]
 *
 * Only the certificate phase is timed as `seconds`: the profile is created and the N domains are added first
 * (their time is reported as `domainAddSeconds`), then N `certificates.request` calls run with C workers.
 * PostgreSQL comes from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bigip_acme_bench) and is
 * truncated first; `--pglite` uses embedded PGlite on a new temporary DATA_DIR instead, as `serve` opens it (files
 * on disk, initdb in a child process), and `--pglite-memory` an in-memory PGlite as the tests use. `--trace` times every gateway, store, probe and
 * sleep call and prints a per-certificate breakdown on stderr (it adds a little overhead; not for the headline).
 * `--profile` CPU-profiles the certificate phase only (node:inspector) into a .cpuprofile file named on stderr.
 * Pebble validates http-01 on a free port (BENCH_HTTP_PORT to pin one) so a concurrent test run cannot collide.
 * Prints one JSON line on stdout. `cpuSeconds` is this process's user+system CPU during the certificate phase,
 * `systemBusyPct` how busy all CPUs of the machine were meanwhile (Pebble, PostgreSQL and anything else).
 */
import { Console } from 'node:console';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as inspector from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreDeps } from '../core/services/core-deps.ts';
import { openDatabase } from '../db/client.ts';
import { startTestCore } from '../tests/support/test-core.ts';
import { truncateAll } from '../tests/support/test-db.ts';
import { startBenchPebble } from './lib/bench-pebble.ts';
import { callTimings, instrument } from './lib/call-timings.ts';
import { systemCpu } from './lib/cpu.ts';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const positional = args.filter((a) => !a.startsWith('--'));
for (const f of flags) {
  if (!['--pglite', '--pglite-memory', '--trace', '--profile'].includes(f))
    throw new Error(`unknown flag ${f} (use --pglite, --pglite-memory, --trace, --profile)`);
}
const N = Number(positional[0] ?? process.env.BENCH_N ?? 50);
const C = Number(positional[1] ?? process.env.BENCH_CONCURRENCY ?? 8);
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(C) || C < 1)
  throw new Error('N and C must be positive integers');
const trace = flags.has('--trace');
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bigip_acme_bench';

// Peak RSS: sampled every 50 ms over the whole run, plus the kernel's high-water mark.
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
sampler.unref();

/** CPU jiffies per thread of this process (Linux): the main (JavaScript) thread and the others (libuv pool, V8). */
function threadCpu(): Map<string, number> {
  const byName = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === process.pid ? 'main (JavaScript)' : 'other threads (libuv pool, V8 GC/JIT)';
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + Number(rest[11]) + Number(rest[12]));
    }
  } catch {
    // not Linux
  }
  return byName;
}

// --trace: wall time and count per operation, summed over all calls.
const timings = callTimings;

const pebble = await startBenchPebble();
const dataDir = flags.has('--pglite') ? mkdtempSync(join(tmpdir(), 'bigip-acme-bench-')) : null;
const database = dataDir
  ? await openDatabase({ dataDir })
  : flags.has('--pglite-memory')
    ? await openDatabase({ memory: true })
    : await openDatabase({ url: databaseUrl });
let core: Awaited<ReturnType<typeof startTestCore>> | undefined;
try {
  await database.migrate();
  await truncateAll(database);
  if (trace) {
    // Count new TLS connections to the CA and their synchronous cost.
    const proto = https.Agent.prototype as unknown as { createConnection: (...a: unknown[]) => unknown };
    const createConnection = proto.createConnection;
    proto.createConnection = function (this: unknown, ...a: unknown[]) {
      const started = performance.now();
      const socket = createConnection.apply(this, a);
      const t = timings.get('https.createConnection (sync part)') ?? { count: 0, ms: 0 };
      t.count += 1;
      t.ms += performance.now() - started;
      timings.set('https.createConnection (sync part)', t);
      return socket;
    };
  }
  // Services take their repositories and ports when they are created, so the proxies go in before that.
  const timed = (deps: CoreDeps): CoreDeps => ({
    ...deps,
    acme: instrument(deps.acme, 'acme'),
    probe: instrument(deps.probe, 'probe'),
    clock: instrument(deps.clock, 'clock'),
    secrets: instrument(deps.secrets, 'secrets'),
    store: Object.fromEntries(
      Object.entries(deps.store).map(([k, v]) => [
        k,
        typeof v === 'object' && v !== null ? instrument(v, `store.${k}`) : v,
      ]),
    ) as typeof deps.store,
  });
  core = await startTestCore(database, pebble, undefined, trace ? { wrapDeps: timed } : {});
  const { services } = core;

  const run = `${process.pid}-${Date.now().toString(36)}`;
  const names = Array.from({ length: N }, (_, i) => `bench${i}-${run}.example.test`);
  await services.profiles.create(
    { name: 'bench', server: pebble.directoryUrl, keySpec: 'ec-p256', acceptTos: true },
    'bench',
  );

  const addStarted = performance.now();
  await services.domains.add('bench', names, 'http-01', 'bench');
  const domainAddSeconds = (performance.now() - addStarted) / 1000;
  timings.clear();

  const profiler = flags.has('--profile') ? new inspector.Session() : null;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const cpuBefore = process.cpuUsage();
  const systemBefore = systemCpu();
  const threadsBefore = threadCpu();
  const started = performance.now();
  let next = 0;
  let issued = 0;
  await Promise.all(
    Array.from({ length: Math.min(C, N) }, async () => {
      while (next < N) {
        const name = names[next++]!;
        const view = await services.certificates.request({ profile: 'bench', commonName: name }, 'bench');
        if (view.state !== 'issued') throw new Error(`${name}: ended in state ${view.state}`);
        issued += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const systemAfter = systemCpu();
  const threadsAfter = threadCpu();
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    const file = join(tmpdir(), `bench-issue-${process.pid}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    profiler.disconnect();
    console.error(`CPU profile of the certificate phase: ${file}`);
  }
  const systemBusyPct =
    systemBefore && systemAfter
      ? Math.round((100 * (systemAfter.busy - systemBefore.busy)) / (systemAfter.total - systemBefore.total))
      : null;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  console.log(
    JSON.stringify({
      tool: 'bigip-acme',
      database: dataDir ? 'pglite (DATA_DIR)' : flags.has('--pglite-memory') ? 'pglite (memory)' : database.kind,
      certificates: issued,
      concurrency: C,
      seconds: +seconds.toFixed(2),
      perSecond: +(issued / seconds).toFixed(2),
      domainAddSeconds: +domainAddSeconds.toFixed(2),
      cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
      systemBusyPct,
      peakRssMB: Math.round(peakRss / 2 ** 20),
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );

  if (trace) {
    const rows = [...timings.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([op, t]) => ({
        op,
        calls: t.count,
        callsPerCert: +(t.count / issued).toFixed(2),
        meanMs: +(t.ms / t.count).toFixed(2),
        msPerCert: +(t.ms / issued).toFixed(1),
      }));
    console.error(
      `trace: ${issued} certificates, ${seconds.toFixed(2)} s wall, C=${C}; msPerCert = summed latency / certificates`,
    );
    const stderr = new Console(process.stderr);
    stderr.table(rows);
    const threads = [...threadsAfter.entries()]
      .map(([thread, jiffies]) => ({ thread, cpuSeconds: (jiffies - (threadsBefore.get(thread) ?? 0)) / 100 }))
      .filter((t) => t.cpuSeconds > 0)
      .sort((a, b) => b.cpuSeconds - a.cpuSeconds);
    stderr.error(`CPU seconds by thread during the ${seconds.toFixed(2)} s certificate phase (10 ms ticks):`);
    stderr.table(threads);
  }
} finally {
  await core?.close();
  await database.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await pebble.stop();
}
