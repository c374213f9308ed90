/**
 * Scenario "CA outage": Pebble issues short-lived certificates (`--ca-lifetime`, default 180 s) to
 * `serve --role all` on embedded PGlite, reached through a TCP proxy. Just before the first certificate's
 * renewal time the proxy resets every connection for 60 s; then the CA is back with all its state. Every
 * certificate must be renewed, exactly once, before its old notAfter. The renew job runs every 5 s (instead
 * of every 10 min) so the scenario fits in a few minutes; everything else is the production configuration.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPebble } from '../../tests/support/pebble.ts';
import { freePorts, sleep, waitForHttp } from './net.ts';
import { caActivity, since } from './pebble-log.ts';
import { type Env, mustCli, runCli, Service } from './processes.ts';
import { emptyResult, type ScenarioResult } from './result.ts';
import type { ScenarioContext } from './scenario.ts';
import { startTcpProxy } from './tcp-proxy.ts';

const CERTS = 3;
const OUTAGE_MS = 60_000;
/** The outage starts this long before the first renewal is due. */
const LEAD_MS = 5_000;

interface CertRow {
  name: string;
  state: string;
  serial: string | null;
  notAfter: string | null;
  renewAt: string | null;
  issuedAt: string | null;
  failedAttempts?: number;
  nextAttemptAt?: string | null;
  problem?: { detail?: string } | null;
}

export async function caOutage(ctx: ScenarioContext): Promise<ScenarioResult> {
  const result = emptyResult('ca outage');
  const [httpPort, tlsPort] = await freePorts(2);
  const pebble = await startPebble({
    httpPort: httpPort!,
    tlsPort: tlsPort!,
    authzReuse: 0,
    certificateValidityPeriod: ctx.caLifetimeSeconds,
  });
  const pebbleUrl = new URL(pebble.directoryUrl);
  const proxy = await startTcpProxy({ host: pebbleUrl.hostname, port: Number(pebbleUrl.port) });
  const directoryUrl = `https://127.0.0.1:${proxy.port}${pebbleUrl.pathname}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'chaos-ca-'));
  const env: Env = {
    DATA_DIR: dataDir,
    ACME_CA_FILE: pebble.caFile,
    CHALLENGE_HTTP_PORT: String(httpPort),
    CHALLENGE_DNS_SERVERS: pebble.dnsServer,
    RESPONDER_HOST: '127.0.0.1',
    RESPONDER_PORT: String(httpPort),
    JOBS_RENEW_CRON: '*/5 * * * * *',
    JOBS_START_DELAY_MAX_SECONDS: '0',
  };
  // The CLI reaches the running service through its control socket (PGlite is single-process).
  const service = new Service('serve --role all', ['serve', '--role', 'all'], env, {
    ready: async () => existsSync(join(dataDir, 'cli.sock')) && (await waitForHttp(httpPort!, '/healthz', 500)),
  });
  const list = async (): Promise<CertRow[]> => {
    const r = await runCli(['--json', 'cert', 'list'], env);
    if (r.code !== 0 || !Array.isArray(r.json))
      throw new Error(`cert list exited ${r.code}: ${(r.stderr || r.stdout).slice(0, 300)}`);
    return r.json as CertRow[];
  };
  try {
    await service.start();
    const names = Array.from({ length: CERTS }, (_, i) => `ca-outage-${i}.example.test`);
    await mustCli(['profile', 'create', 'p', '--server', directoryUrl, '--accept-tos'], env);
    await mustCli(['domain', 'add', '--profile', 'p', ...names], env);
    await Promise.all(names.map((name) => mustCli(['cert', 'request', '--profile', 'p', '--cn', name], env)));
    const issued = await list();
    const old = new Map(issued.map((c) => [c.name, c]));
    const firstDue = Math.min(...issued.map((c) => Date.parse(c.renewAt ?? '')));
    const lastExpiry = Math.max(...issued.map((c) => Date.parse(c.notAfter ?? '')));
    if (!Number.isFinite(firstDue) || !Number.isFinite(lastExpiry))
      throw new Error(`issued certificates without renewAt/notAfter: ${JSON.stringify(issued)}`);
    result.notes.push(
      `${CERTS} certificates of ${ctx.caLifetimeSeconds} s; renewals due ${issued.map((c) => `${Math.round((Date.parse(c.renewAt!) - Date.now()) / 1000)} s`).join(', ')} from now; outage ${OUTAGE_MS / 1000} s from ${LEAD_MS / 1000} s before the first`,
    );

    // ---- the outage ----
    const outageAt = firstDue - LEAD_MS;
    if (Date.now() > firstDue) result.notes.push('set-up ran past the first renewal time: the outage starts late');
    await sleep(Math.max(0, outageAt - Date.now()));
    const before = await caActivity(pebble);
    await proxy.pause();
    result.faults++;
    ctx.progress(`ca outage: CA unreachable for ${OUTAGE_MS / 1000} s`);
    await sleep(OUTAGE_MS);
    await proxy.resume();
    const backAt = Date.now();
    ctx.progress('ca outage: CA back');
    result.notes.push(
      `the CA was back ${Math.round((lastExpiry - backAt) / 1000)} s before the last certificate expired; ${proxy.refusedWhilePaused()} connection attempt(s) reset meanwhile`,
    );
    const dueDuringOutage = issued.filter((c) => Date.parse(c.renewAt!) < backAt).length;
    if (dueDuringOutage < CERTS)
      result.notes.push(`only ${dueDuringOutage} of ${CERTS} certificates came due during the outage`);

    // ---- recovery: each renewed before its old notAfter ----
    let rows = await list();
    const renewedInTime = (c: CertRow) => {
      const was = old.get(c.name)!;
      return (
        c.serial !== was.serial &&
        c.state === 'issued' &&
        !!c.issuedAt &&
        Date.parse(c.issuedAt) < Date.parse(was.notAfter!)
      );
    };
    while (Date.now() < lastExpiry + 2_000 && !rows.every(renewedInTime)) {
      await sleep(3_000);
      rows = await list();
    }
    const ca = since(before, await caActivity(pebble));
    for (const c of rows) {
      result.expected++;
      const was = old.get(c.name)!;
      if (renewedInTime(c)) {
        result.survived++;
        continue;
      }
      result.lost++;
      const next = c.nextAttemptAt ? Date.parse(c.nextAttemptAt) : null;
      const afterExpiry = next !== null && next > Date.parse(was.notAfter!);
      result.notes.push(
        `${c.name}: not renewed before it expired (${was.notAfter}); state ${c.state}, ${c.failedAttempts ?? '?'} failed attempt(s), next attempt ${c.nextAttemptAt ?? '-'}${afterExpiry ? ' (after notAfter)' : ''}${c.problem?.detail ? `, problem: ${c.problem.detail}` : ''}`,
      );
    }
    if (ca.issued.length > CERTS) {
      result.duplicated += ca.issued.length - CERTS;
      result.notes.push(`the CA issued ${ca.issued.length} certificates for ${CERTS} renewals`);
    }
    result.notes.push(
      `from the outage on, the CA saw ${ca.orders.length} orders and issued ${ca.issued.length} certificates`,
    );
  } finally {
    result.exits += service.exits.length;
    result.notes.push(...service.exitNotes());
    await service.stop();
    await proxy.close();
    await pebble.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return result;
}
