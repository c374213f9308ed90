/**
 * Startup and memory of the service: `bin/bigip-acme serve` (what `npm start` runs: the compiled dist/ when it is
 * current, else TypeScript through tsx; `--tsx` forces the latter) on
 * a fresh DATA_DIR, then again on that now-existing DATA_DIR, and on PostgreSQL when BENCH_DATABASE_URL is set.
 *
 *   npx tsx bench/embedded-footprint.ts [--runs 3] [--idle-ms 3000] [--postgres]
 *
 * Per start: `readySeconds` (spawn → first 200 from /readyz, polled every 50 ms), `idleRssMB` (the child's
 * RSS from /proc after `--idle-ms` of quiet) and `peakRssMB` (its VmHWM, the kernel's high-water mark, so the
 * fresh start's initdb counts). Prints one JSON line per start and a summary line with the medians, plus the
 * load average: the machine may be shared, so compare medians and ratios rather than single numbers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freeTcpPort } from '../tests/support/free-port.ts';
import { median, round } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'idle-ms': { type: 'string', default: '3000' },
    postgres: { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const idleMs = Number(values['idle-ms']);
const root = join(import.meta.dirname, '..');

/** The bin execs node itself, so the child's pid is the service's and /proc reads the service's memory. */
function serveCommand(): [string, string[]] {
  if (values.tsx) return [process.execPath, ['--import', 'tsx', 'cli/main.ts', 'serve']];
  return [join(root, 'bin', 'bigip-acme'), ['serve']];
}

interface Start {
  database: 'pglite-fresh' | 'pglite-existing' | 'postgres';
  readySeconds: number;
  idleRssMB: number;
  peakRssMB: number;
}

function procStatusMB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

async function startOnce(database: Start['database'], env: Record<string, string>): Promise<Start> {
  const port = await freeTcpPort();
  const started = performance.now();
  const [command, args] = serveCommand();
  const child: ChildProcess = spawn(command, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      RESPONDER_PORT: String(port),
      RESPONDER_HOST: '127.0.0.1',
      TLS_ALPN_PORT: String(await freeTcpPort()),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}:\n${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (performance.now() - started > 120_000) throw new Error(`not ready within 120 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const readySeconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, idleMs));
    const pid = child.pid as number;
    return {
      database,
      readySeconds: Math.round(readySeconds * 100) / 100,
      idleRssMB: procStatusMB(pid, 'VmRSS'),
      peakRssMB: procStatusMB(pid, 'VmHWM'),
    };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const results: Start[] = [];
const record = (s: Start) => {
  results.push(s);
  console.log(JSON.stringify(s));
};
for (let i = 0; i < runs; i++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bigip-acme-footprint-'));
  try {
    record(await startOnce('pglite-fresh', { DATA_DIR: dataDir }));
    record(await startOnce('pglite-existing', { DATA_DIR: dataDir }));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
const databaseUrl = process.env.BENCH_DATABASE_URL;
if (values.postgres) {
  if (!databaseUrl) throw new Error('--postgres needs BENCH_DATABASE_URL');
  const dataDir = mkdtempSync(join(tmpdir(), 'bigip-acme-footprint-'));
  try {
    for (let i = 0; i < runs; i++)
      record(
        await startOnce('postgres', {
          DATABASE_URL: databaseUrl,
          DATA_DIR: dataDir,
          MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
        }),
      );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
const summary: Record<string, unknown> = { loadavg: loadavg().map((l) => Math.round(l * 100) / 100), runs };
for (const kind of ['pglite-fresh', 'pglite-existing', 'postgres'] as const) {
  const of = results.filter((r) => r.database === kind);
  if (of.length === 0) continue;
  summary[kind] = {
    readySeconds: round(median(of.map((r) => r.readySeconds))),
    idleRssMB: median(of.map((r) => r.idleRssMB)),
    peakRssMB: median(of.map((r) => r.peakRssMB)),
  };
}
console.log(JSON.stringify({ summary }));
