/**
 * The fault suite (`npm run chaos`): injects the faults of a bad day in production into the real processes
 * and counts what came through. See `--help` and bench/README.md; results in bench/RESULTS.md ("Chaos").
 */
import { parseArgs } from 'node:util';
import { bigipDeploy } from './chaos/bigip-deploy.ts';
import { caOutage } from './chaos/ca-outage.ts';
import { databaseRestart } from './chaos/database-restart.ts';
import { hostilePaths } from './chaos/hostile-paths.ts';
import { processKill } from './chaos/process-kill.ts';
import { emptyResult, passed, renderTable, type ScenarioResult, verdict } from './chaos/result.ts';
import type { Scenario, ScenarioContext } from './chaos/scenario.ts';

const SCENARIOS: Scenario[] = [
  {
    id: 'process-kill',
    title: 'SIGKILL of `cert request` at each issuance step and of `cert deploy` around the profile switch; resume',
    run: processKill,
  },
  {
    id: 'database-restart',
    title:
      'PostgreSQL connections killed, then the server restarted, under `serve --role all` serving challenges and renewing',
    run: databaseRestart,
  },
  {
    id: 'ca-outage',
    title: 'the CA unreachable for 60 s while short-lived certificates are due; each must renew once before it expires',
    run: caOutage,
  },
  {
    id: 'bigip-deploy',
    title:
      'BIG-IP failures at each deploy step (simulator); retry; profiles consistent at every request, nothing deployed twice',
    run: bigipDeploy,
  },
  {
    id: 'hostile-paths',
    title: 'dot-segment paths with every method over raw sockets against `serve --role responder`',
    run: hostilePaths,
  },
];

const HELP = `Usage: npm run chaos -- [--only <scenario>[,<scenario>…]] [--json] [--serial] [--ca-lifetime <seconds>]

Injects faults into the real processes (bin/bigip-acme children) and prints, per scenario, the faults
injected and the items that survived, were lost or were duplicated, unplanned process exits and hostile
requests that were not refused. Exit code 1 when anything was lost, duplicated, exited or breached, or a
scenario could not run.

Scenarios:
${SCENARIOS.map((s) => `  ${s.id.padEnd(17)} ${s.title}`).join('\n')}

Options:
  --only <ids>          run only these scenarios (comma-separated, or repeat the option)
  --json                one JSON document on stdout instead of the table
  --serial              run ca-outage after the others instead of beside them (it mostly waits)
  --ca-lifetime <s>     certificate lifetime for ca-outage (default 180; the outage is 60 s)
  -h, --help            this text

Needs pebble and pebble-challtestsrv on PATH, PostgreSQL at CHAOS_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/bigip_acme_chaos; databases <name>_<scenario> are created and emptied) and,
for database-restart, the PostgreSQL server binaries (initdb, pg_ctl) to run a private cluster.`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      serial: { type: 'boolean', default: false },
      'ca-lifetime': { type: 'string', default: '180' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const only = (values.only ?? [])
    .flatMap((o) => o.split(','))
    .map((o) => o.trim())
    .filter(Boolean);
  const unknown = only.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.join(', ')}; one of: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  const caLifetimeSeconds = Number(values['ca-lifetime']);
  if (!Number.isInteger(caLifetimeSeconds) || caLifetimeSeconds < 120)
    throw new Error('--ca-lifetime must be a whole number of seconds ≥ 120 (the outage alone is 60 s)');
  return { only, json: values.json, serial: values.serial, caLifetimeSeconds };
}

async function runOne(scenario: Scenario, ctx: ScenarioContext): Promise<ScenarioResult> {
  const started = Date.now();
  ctx.progress(`${scenario.id}: start`);
  let result: ScenarioResult;
  try {
    result = await scenario.run(ctx);
  } catch (err) {
    result = emptyResult(scenario.id);
    result.error = (err as Error).stack ?? String(err);
  }
  result.scenario = scenario.id;
  result.seconds = (Date.now() - started) / 1000;
  ctx.progress(`${scenario.id}: ${verdict(result)} in ${result.seconds.toFixed(0)} s`);
  return result;
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions();
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  const selected = options.only.length > 0 ? SCENARIOS.filter((s) => options.only.includes(s.id)) : SCENARIOS;
  const started = Date.now();
  const ctx: ScenarioContext = {
    progress: (line) =>
      process.stderr.write(`[chaos ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`),
    caLifetimeSeconds: options.caLifetimeSeconds,
  };
  // The CA outage spends most of its time waiting for certificates to come due, so it runs beside the others.
  const background = !options.serial ? selected.find((s) => s.id === 'ca-outage') : undefined;
  const backgroundRun = background ? runOne(background, ctx) : null;
  const results = new Map<string, ScenarioResult>();
  for (const scenario of selected) {
    if (scenario === background) continue;
    results.set(scenario.id, await runOne(scenario, ctx));
  }
  if (background && backgroundRun) results.set(background.id, await backgroundRun);
  const ordered = selected.map((s) => results.get(s.id)!);
  const wall = (Date.now() - started) / 1000;

  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ wallSeconds: wall, passed: ordered.every(passed), scenarios: ordered }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`\n${renderTable(ordered, wall)}\n\n`);
    for (const r of ordered) {
      process.stdout.write(`${r.scenario}:\n`);
      for (const note of r.notes) process.stdout.write(`  - ${note}\n`);
      if (r.error) process.stdout.write(`  ! could not run: ${r.error}\n`);
    }
  }
  return ordered.every(passed) ? 0 : 1;
}

process.exitCode = await main();
// Child processes and servers are closed by each scenario; anything left over must not keep the run alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 1_000).unref();
