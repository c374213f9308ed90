/**
 * Slash-command ack latency, idle and while the core is busy issuing (issue 6: p99 under 300 ms).
 *
 * One process, as `serve --role all` runs: the real Bolt HTTP receiver on loopback in front of the core
 * (real acme-client gateway against a fresh Pebble, real responder, PGlite or PostgreSQL), a local stub
 * playing Slack's Web API and response_url. Each sample is one signed `/acme …` POST, timed from the start of
 * the request to the end of Bolt's HTTP answer (the ack Slack waits 3 s for). The commands rotate through
 * `status`, `cert list`, `domain list`, `profile list`, `approvals`, `help` and `profile create` (which acks,
 * then opens a modal).
 *
 *   npx tsx bench/slack-ack.ts [--samples 400] [--workers 4] [--certs 8] [--db pglite|postgres] [--gap 25]
 *
 * Phases: `idle` (nothing else running), then `busy`: `--workers` loops renewing `--certs` RSA-2048
 * certificates back to back (fresh key, new order, http-01 validation, finalize, download: the core's
 * heaviest work) while the same samples are sent. Prints one JSON line: per phase p50/p95/p99/max ms, and for
 * `busy` how many renewals completed while sampling (the load was real). PostgreSQL: BENCH_DATABASE_URL, else
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432/bigip_acme_bench_slack (created when missing).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startBotHarness } from '../tests/bot/bot-harness.ts';
import { startPebble } from '../tests/support/pebble.ts';
import { startTestCore } from '../tests/support/test-core.ts';
import { freeTcpPort } from '../tests/support/free-port.ts';
import { openBenchDatabase } from './lib/bench-database.ts';
import { percentile } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '400' },
    workers: { type: 'string', default: '4' },
    certs: { type: 'string', default: '8' },
    db: { type: 'string', default: 'pglite' },
    gap: { type: 'string', default: '25' },
  },
});
const SAMPLES = Number(args.samples);
const WORKERS = Number(args.workers);
const CERTS = Number(args.certs);
const GAP_MS = Number(args.gap);
const COMMANDS = ['status', 'cert list', 'domain list', 'profile list', 'approvals', 'help', 'profile create'];

function summary(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
  };
}

async function main(): Promise<void> {
  const pebble = await startPebble({ httpPort: await freeTcpPort(), tlsPort: await freeTcpPort() });
  const database = await openBenchDatabase(args.db, 'postgres://postgres@127.0.0.1:5432/bigip_acme_bench_slack');
  const masterKey = randomBytes(32).toString('base64');
  const core = await startTestCore(database, pebble, masterKey);
  const harness = await startBotHarness({
    core: { database, store: core.store, secrets: core.deps.secrets, services: core.services },
    env: { SLACK_ADMINS: 'U0ALICE' },
  });
  const problems: string[] = [];
  try {
    const { services } = core;
    await services.profiles.create(
      { name: 'bench', server: pebble.directoryUrl, keySpec: 'rsa-2048', acceptTos: true },
      'bench',
    );
    const names = Array.from({ length: CERTS }, (_, i) => `ack-${i}.bench.example.test`);
    await services.domains.add('bench', names, 'http-01', 'bench');
    for (const name of names) await services.certificates.request({ profile: 'bench', commonName: name }, 'bench');

    async function sample(): Promise<number[]> {
      const ms: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const text = COMMANDS[i % COMMANDS.length]!;
        const started = performance.now();
        const res = await harness.command(text);
        ms.push(performance.now() - started);
        if (res.status !== 200) problems.push(`${text}: HTTP ${res.status}`);
        await new Promise((r) => setTimeout(r, GAP_MS));
      }
      return ms;
    }

    // Warm-up: the first requests compile code paths; not counted.
    for (let i = 0; i < 20; i++) await harness.command(COMMANDS[i % COMMANDS.length]!);
    const idle = await sample();

    let stop = false;
    let renewals = 0;
    let renewalErrors = 0;
    const workers = Array.from({ length: WORKERS }, async (_, w) => {
      for (let k = w; !stop; k += WORKERS) {
        try {
          await services.certificates.renew(names[k % names.length]!, 'bench');
          renewals++;
        } catch {
          renewalErrors++;
        }
      }
    });
    // Let the load reach steady state before sampling.
    await new Promise((r) => setTimeout(r, 2_000));
    const renewalsBefore = renewals;
    const cpuBefore = process.cpuUsage();
    const busyStarted = performance.now();
    const busy = await sample();
    const busySeconds = (performance.now() - busyStarted) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const renewalsDuring = renewals - renewalsBefore;
    stop = true;
    await Promise.all(workers);

    console.log(
      JSON.stringify({
        db: args.db,
        samples: SAMPLES,
        workers: WORKERS,
        idle: summary(idle),
        busy: {
          ...summary(busy),
          renewalsDuring,
          renewalsPerSecond: Math.round((renewalsDuring / busySeconds) * 10) / 10,
          renewalErrors,
          processCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / (busySeconds * 1000)) * 100),
        },
        maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
        problems: problems.slice(0, 5),
      }),
    );
  } finally {
    await harness.close();
    await core.close();
    await database.close();
    await pebble.stop();
  }
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
