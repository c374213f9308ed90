/**
 * Issue 13: how fast the CLI starts. Runs `bin/bigip-acme` as an operator does, `--runs` times per scenario,
 * each under GNU time for wall time, CPU time and peak RSS, and prints the medians (and a JSON line):
 *
 *   help        `--help`, no service running;
 *   forwarded   `profile list` forwarded to a running `serve` (own DATA_DIR, free ports) over its socket;
 *   embedded    `profile list` on the same embedded database once the service has stopped (opens PGlite);
 *   anchors     `certbot --help` and `lego --help` (Debian's packages), when installed, in the same run.
 *
 * The bin runs dist/ only while it is as new as the sources: `npm run build` first, or the numbers are tsx's
 * (the script says which it measured). `--tsx` measures the TypeScript path instead, for comparison.
 *
 *   npm run build && node --import tsx bench/cli-start.ts [--runs 10] [--tsx]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCliService } from '../tests/support/cli-process.ts';
import { retryOnPortClash } from '../tests/support/free-port.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'bigip-acme');
/** The build's stamp (scripts/build.mjs). */
const STAMP = join(ROOT, 'dist', '.built');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, tsx: { type: 'boolean' } } });
const runs = Number(values.runs);

interface Sample {
  wallS: number;
  cpuS: number;
  peakMb: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** One CLI run under GNU time; fails loudly on a non-zero exit so a broken command is never timed. */
function timed(args: string[], env: Record<string, string>, program = BIN): Sample {
  const report = join(dir, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-o', report, '-f', '%e %U %S %M', program, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  const [wall, user, sys, kb] = readFileSync(report, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wallS: wall!, cpuS: user! + sys!, peakMb: kb! / 1024 };
}

function scenario(name: string, args: string[], env: Record<string, string>, program = BIN) {
  timed(args, env, program); // warm the file cache; not counted
  const samples = Array.from({ length: runs }, () => timed(args, env, program));
  const row = {
    scenario: name,
    runs,
    wallS: median(samples.map((s) => s.wallS)),
    wallRange: [Math.min(...samples.map((s) => s.wallS)), Math.max(...samples.map((s) => s.wallS))],
    cpuS: Number(median(samples.map((s) => s.cpuS)).toFixed(2)),
    peakMb: Math.round(median(samples.map((s) => s.peakMb))),
  };
  console.log(
    `${name.padEnd(14)} wall ${row.wallS.toFixed(2)} s (${row.wallRange.map((x) => x.toFixed(2)).join('–')}), cpu ${row.cpuS.toFixed(2)} s, peak ${row.peakMb} MB`,
  );
  return row;
}

/** Whether bin/bigip-acme will run dist/: the bin's rule (a stamp no source is newer than), restated to report it. */
function runsCompiled(): boolean {
  if (!existsSync(STAMP)) return false;
  const found = execFileSync(
    'find',
    [...['core', 'db', 'cli', 'responder', 'bot', 'runtime.ts'].map((d) => join(ROOT, d)), '-newer', STAMP],
    { encoding: 'utf8' },
  );
  return found.trim() === '';
}

function onPath(program: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const builtAt = existsSync(STAMP) ? statSync(STAMP).mtime : null;
const dir = mkdtempSync(join(tmpdir(), 'bigip-acme-cli-bench-'));
try {
  if (values.tsx && builtAt) {
    // Make the build look older than the sources for this run only; restored below.
    utimesSync(STAMP, new Date(0), new Date(0));
  }
  const mode = runsCompiled() ? 'compiled (dist/)' : 'tsx (TypeScript compiled at each start)';
  console.log(
    `bigip-acme CLI start, ${runs} runs each, ${mode}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const dataDir = join(dir, 'data');
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  const rows = [scenario('help', ['--help'], env)];

  const service = await retryOnPortClash((port) =>
    startCliService(
      ['serve'],
      { ...env, LOG_LEVEL: 'info', RESPONDER_HOST: '127.0.0.1', RESPONDER_PORT: String(port) },
      ['responder listening'],
    ),
  );
  rows.push(scenario('forwarded', ['profile', 'list'], env));
  await service.stop();

  rows.push(scenario('embedded', ['profile', 'list'], env));
  for (const anchor of ['certbot', 'lego']) {
    const program = onPath(anchor);
    if (program) rows.push(scenario(`${anchor} --help`, ['--help'], { HOME: dir }, program));
    else console.log(`${anchor}: not installed (apt-get install ${anchor}); no anchor row`);
  }
  console.log(JSON.stringify({ mode, load: loadavg(), rows }));
} finally {
  if (values.tsx && builtAt) utimesSync(STAMP, builtAt, builtAt);
  rmSync(dir, { recursive: true, force: true });
}
