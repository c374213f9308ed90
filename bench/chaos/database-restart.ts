/**
 * Scenario "database restart": `serve --role all` (responder + scheduler) on a private PostgreSQL cluster,
 * under traffic: the CA-side reads of published challenges, challenge-hook writes, and renewals the worker
 * is running. Faults: every connection of the database killed (`pg_terminate_backend`), then the server
 * stopped for 5 s in the middle of the renewals and started again.
 *
 * Items: every challenge read must be answered (the responder serves from its cache while the database is
 * away, decision 0006); each hook domain's last acknowledged write must be what it serves afterwards; each
 * certificate made due must be renewed exactly once (counted at the CA). A service that exits is restarted
 * (as a supervisor would) so the data checks still mean something, and the exit is counted.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { hashPassword } from '../../core/secrets/password-verifier.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import { openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { makeAuthorization, makeDomain } from '../../tests/fixtures/builders.ts';
import { startPebble } from '../../tests/support/pebble.ts';
import { privatePostgresUnavailable, startPrivatePostgres } from '../../tests/support/private-postgres.ts';
import { freePorts, rawHttp, sleep, waitForHttp } from './net.ts';
import { caActivity, since } from './pebble-log.ts';
import { type Env, mustCli, Service } from './processes.ts';
import { emptyResult, type ScenarioResult } from './result.ts';
import type { ScenarioContext } from './scenario.ts';

const CERTS = 3;
const HOOK_DOMAINS = 4;
const DOWN_MS = 5_000;
/**
 * How long after the restart every renewal must have finished. A renewal cut off by the outage keeps its
 * lease until it expires (JOBS_LEASE_SECONDS, 60 s, decision 0010), so this allows two lease periods.
 */
const CONVERGE_MS = 120_000;

/** One query on its own connection, so a dropped server surfaces as a rejected promise, never as an 'error' event. */
async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const keyAuthorization = (token: string) => `${token}.${randomBytes(32).toString('base64url')}`;

export async function databaseRestart(ctx: ScenarioContext): Promise<ScenarioResult> {
  const result = emptyResult('database restart');
  const unavailable = privatePostgresUnavailable();
  if (unavailable) throw new Error(`the database-restart scenario needs a private PostgreSQL cluster: ${unavailable}`);
  const cluster = await startPrivatePostgres();
  const url = await cluster.createDatabase('chaos');
  const [httpPort, tlsPort] = await freePorts(2);
  const pebble = await startPebble({ httpPort: httpPort!, tlsPort: tlsPort!, authzReuse: 0 });
  const env: Env = {
    DATABASE_URL: url,
    MASTER_KEY: randomBytes(32).toString('base64'),
    ACME_CA_FILE: pebble.caFile,
    CHALLENGE_HTTP_PORT: String(httpPort),
    CHALLENGE_DNS_SERVERS: pebble.dnsServer,
    RESPONDER_HOST: '127.0.0.1',
    RESPONDER_PORT: String(httpPort),
    JOBS_RENEW_CRON: '*/2 * * * * *',
    JOBS_START_DELAY_MAX_SECONDS: '0',
  };
  const service = new Service('serve --role all', ['serve', '--role', 'all'], env, {
    ready: () => waitForHttp(httpPort!, '/healthz', 500),
  });
  const stopTraffic = { now: false };
  try {
    // ---- set-up: a profile, certificates issued while the service answers HTTP-01, hook domains ----
    const certNames = Array.from({ length: CERTS }, (_, i) => `db-cert-${i}.example.test`);
    const hookNames = Array.from({ length: HOOK_DOMAINS }, (_, i) => `db-hook-${i}.example.test`);
    await mustCli(['profile', 'create', 'p', '--server', pebble.directoryUrl, '--accept-tos'], env);
    await mustCli(['domain', 'add', '--profile', 'p', ...certNames], env);
    // Hook domains are stored as `domain add` + `domain endpoint set` leave them (without a CLI process each).
    const password = randomBytes(18).toString('base64url');
    await seedHookDomains(url, env.MASTER_KEY!, 'p', hookNames, 'hook', password);
    await service.start();
    await Promise.all(certNames.map((name) => mustCli(['cert', 'request', '--profile', 'p', '--cn', name], env)));
    const issued = await query<{ name: string; serial: string }>(url, 'SELECT name, serial FROM certificates');
    const oldSerial = new Map(issued.map((r) => [r.name, r.serial]));

    const auth = {
      Authorization: `Basic ${Buffer.from(`hook:${password}`).toString('base64')}`,
      'Content-Type': 'application/json',
    };
    const publish = (domain: string, token: string, content: string) =>
      rawHttp(httpPort!, {
        method: 'POST',
        target: `/challenge-hook/${domain}`,
        headers: auth,
        body: JSON.stringify({ challenges: [{ type: 'http', fileName: token, content }] }),
        timeoutMs: 5_000,
      });
    const read = (domain: string, token: string) =>
      rawHttp(httpPort!, {
        method: 'GET',
        target: `/.well-known/acme-challenge/${token}`,
        host: domain,
        timeoutMs: 3_000,
      });
    // A POST replaces a domain's entries, so the domains the CA reads and those automation keeps
    // publishing to are distinct. The challenges read during the faults are published (and cached) before.
    const readDomains = hookNames.slice(HOOK_DOMAINS / 2);
    const writeDomains = hookNames.slice(0, HOOK_DOMAINS / 2);
    const published = new Map<string, { token: string; content: string }>();
    for (const domain of readDomains) {
      const token = randomBytes(24).toString('base64url');
      const content = keyAuthorization(token);
      const res = await publish(domain, token, content);
      if (res.status !== 201)
        throw new Error(`publishing ${domain}'s challenge answered ${res.status}: ${res.body.slice(0, 200)}`);
      published.set(domain, { token, content });
    }
    for (const [domain, { token, content }] of published) {
      for (let i = 0; i < 50 && (await read(domain, token)).body !== content; i++) await sleep(100);
    }

    // ---- traffic: the CA reading the published challenges; automation publishing new ones ----
    const reads = { ok: 0, failed: 0, failures: new Map<string, number>() };
    const readers = (async () => {
      let i = 0;
      while (!stopTraffic.now) {
        const domain = readDomains[i++ % readDomains.length]!;
        const { token, content } = published.get(domain)!;
        const res = await read(domain, token);
        if (res.status === 200 && res.body === content) reads.ok++;
        else {
          reads.failed++;
          const key = `${res.status}${res.status === 0 ? ' (no answer)' : ''}`;
          reads.failures.set(key, (reads.failures.get(key) ?? 0) + 1);
        }
        await sleep(100);
      }
    })();
    const writes: { domain: string; token: string; content: string; status: number }[] = [];
    const writers = (async () => {
      let i = 0;
      while (!stopTraffic.now) {
        const domain = writeDomains[i++ % writeDomains.length]!;
        const token = randomBytes(24).toString('base64url');
        const content = keyAuthorization(token);
        const res = await publish(domain, token, content);
        writes.push({ domain, token, content, status: res.status });
        await sleep(300);
      }
    })();

    // ---- faults ----
    await sleep(1_500);
    const before = await caActivity(pebble);
    const terminated = (
      await query(
        url,
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      )
    ).length;
    result.faults++;
    result.notes.push(`pg_terminate_backend ended ${terminated} connection(s) of the service`);
    ctx.progress(`database restart: terminated ${terminated} connections`);
    await sleep(3_000);
    await service.settled();
    // Make every certificate due now; the worker (renew every 2 s) starts renewing them.
    await retry(() => query(url, 'UPDATE certificates SET renew_at = now(), next_attempt_at = NULL'));
    const renewing = Date.now();
    while (Date.now() - renewing < 8_000) {
      const rows = await query<{ n: string }>(
        url,
        "SELECT count(*) AS n FROM certificates WHERE state <> 'issued'",
      ).catch(() => [{ n: '0' }]);
      if (Number(rows[0]?.n) > 0) break;
      await sleep(100);
    }
    const readyDuring: number[] = [];
    const down = Date.now();
    const restart = cluster.restart({ downMs: DOWN_MS });
    const probeReady = (async () => {
      while (Date.now() - down < DOWN_MS) {
        readyDuring.push((await rawHttp(httpPort!, { method: 'GET', target: '/readyz', timeoutMs: 1_000 })).status);
        await sleep(500);
      }
    })();
    await restart;
    const backAt = Date.now();
    await probeReady;
    result.faults++;
    result.notes.push(
      `server stopped for ${DOWN_MS / 1000} s mid-renewal; /readyz meanwhile answered ${[...new Set(readyDuring)].join(', ') || 'nothing'}`,
    );
    ctx.progress('database restart: server back');
    await sleep(8_000);
    stopTraffic.now = true;
    await Promise.all([readers, writers]);
    await service.settled();

    // ---- renewals: each due certificate renewed, once ----
    const deadline = backAt + CONVERGE_MS;
    let rows: {
      name: string;
      state: string;
      serial: string | null;
      failed_attempts: number;
      next_attempt_at: Date | null;
    }[] = [];
    while (Date.now() < deadline) {
      rows = await query<(typeof rows)[number]>(
        url,
        'SELECT name, state, serial, failed_attempts, next_attempt_at FROM certificates',
      ).catch(() => rows);
      if (rows.length === CERTS && rows.every((r) => r.state === 'issued' && r.serial !== oldSerial.get(r.name))) break;
      await sleep(1_000);
    }
    const ca = since(before, await caActivity(pebble));
    for (const r of rows) {
      result.expected++;
      if (r.state === 'issued' && r.serial !== oldSerial.get(r.name)) result.survived++;
      else {
        result.lost++;
        result.notes.push(
          `${r.name} not renewed ${CONVERGE_MS / 1000} s after the server was back: state ${r.state}, ${r.failed_attempts} failed attempt(s), next attempt ${r.next_attempt_at?.toISOString() ?? '-'}`,
        );
      }
    }
    if (ca.issued.length > CERTS) {
      result.duplicated += ca.issued.length - CERTS;
      result.notes.push(`the CA issued ${ca.issued.length} certificates for ${CERTS} renewals`);
    }
    result.notes.push(
      `renewals: ${result.survived}/${CERTS} renewed (${result.survived === CERTS ? 'the last' : 'gave up'} ${Math.round((Date.now() - backAt) / 1000)} s after the server was back); the CA saw ${ca.orders.length} orders and issued ${ca.issued.length} certificates`,
    );

    // ---- challenge reads: all answered ----
    result.expected += reads.ok + reads.failed;
    result.survived += reads.ok;
    result.lost += reads.failed;
    result.notes.push(
      `challenge reads: ${reads.ok} answered, ${reads.failed} not (${[...reads.failures].map(([s, n]) => `${s}×${n}`).join(', ') || 'none'})`,
    );

    // ---- hook writes: each domain serves its last acknowledged write (or a later one the client saw fail) ----
    for (const domain of writeDomains) {
      result.expected++;
      const mine = writes.filter((w) => w.domain === domain);
      const lastAck = mine.map((w) => w.status).lastIndexOf(201);
      const acceptable = lastAck === -1 ? mine : mine.slice(lastAck);
      let served = false;
      for (const w of acceptable) {
        if ((await read(domain, w.token)).body === w.content) served = true;
      }
      if (served || lastAck === -1) result.survived++;
      else {
        result.lost++;
        result.notes.push(`${domain}: the last acknowledged hook write is not served`);
      }
    }
    const statuses = new Map<number, number>();
    for (const w of writes) statuses.set(w.status, (statuses.get(w.status) ?? 0) + 1);
    result.notes.push(`hook writes: ${writes.length} sent (${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')})`);
  } finally {
    stopTraffic.now = true;
    result.exits += service.exits.length;
    result.notes.push(...service.exitNotes());
    await service.stop();
    await pebble.stop();
    await cluster.dispose();
  }
  return result;
}

async function seedHookDomains(
  url: string,
  masterKey: string,
  profileName: string,
  names: string[],
  username: string,
  password: string,
) {
  const database = await openDatabase({ url });
  try {
    const store = createDrizzleStore(database);
    const profile = (await store.profiles.list()).find((p) => p.name === profileName)!;
    const secrets = createSecretBox(masterKey);
    const verifier = await hashPassword(password);
    for (const name of names) {
      const domain = makeDomain(profile.id, { name });
      await store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
      await store.domains.update(domain.id, {
        endpointUrl: `https://hooks.example.test/${name}`,
        endpointUsername: username,
        endpointPasswordSealed: secrets.seal(password, secretAad('domains', domain.id, 'endpoint_password')),
        endpointPasswordVerifier: verifier,
      });
    }
  } finally {
    await database.close();
  }
}

async function retry<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await sleep(250);
    }
  }
}
