import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION } from '../../bot/blocks/approval.ts';
import { CHALLENGE_CHANNEL } from '../../responder/start.ts';
import type { Store } from '../../core/ports/store.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { DB_UNAVAILABLE_MESSAGE } from '../../db/connection-loss.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { SIGNING_SECRET, type SlackStub, sign, startSlackStub, TEAM_ID } from '../bot/bot-harness.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../fixtures/builders.ts';
import {
  describeWithPrivatePostgres,
  type PrivatePostgres,
  startPrivatePostgres,
} from '../support/private-postgres.ts';
import { retryWhenAddressInUse } from '../support/free-port.ts';
import { freePort, type ServeProcess, type ServeRole, startServe } from '../support/serve-process.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { freshDatabase, postgresUrl } from '../support/test-db.ts';

/*
 * Issue 11, item 1: losing the PostgreSQL connection killed every process (no 'error' listener on the pool).
 * Every role runs here as a real `serve` child process; the faults are real: backends terminated by
 * pg_terminate_backend, the network to the server cut (a proxy), and — on a private cluster — the server
 * stopped and started again under traffic. Nothing may exit; the responders keep answering from memory.
 */

const BIN = join(import.meta.dirname, '../../bin/bigip-acme');
const HOST = 'www.example.com';
const MASTER_KEY = randomBytes(32).toString('base64');
const APPROVER = 'U0ALICE';

/** Each test drives several child processes through faults; on a loaded machine that takes minutes, not seconds. */
const PROCESS_TEST_MS = 240_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(port: number, path: string, host = HOST): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    // A new connection per request, as a CA makes: no reused keep-alive socket racing the server's idle timeout.
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end();
  });
}

const challenge = (port: number, token: string) => get(port, `/.well-known/acme-challenge/${token}`);

/** Polls `probe` until `ok`; the bound is generous (a loaded machine is slow) because time is not what is tested. */
async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, boundMs = 60_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (ok(last)) return last;
    await sleep(50);
  }
  throw new Error(`${what}: not within ${boundMs} ms (last: ${JSON.stringify(last)})`);
}

/** Every backend of `database` but the caller's: what an operator (or a failover) does to the service. */
async function terminateBackends(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [new URL(url).pathname.slice(1)],
    );
    return res.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** GETs a cached token on every port, back to back, until stopped; records every status seen. */
function traffic(ports: number[], token: string) {
  const seen: { port: number; status: number; body: string }[] = [];
  let running = true;
  const loops = ports.map(async (port) => {
    while (running) {
      const res = await challenge(port, token);
      seen.push({ port, ...res });
      await sleep(10);
    }
  });
  return {
    seen,
    async stop() {
      running = false;
      await Promise.all(loops);
      return seen;
    },
  };
}

/** A signed `/acme` command to a bot child; resolves with the text it answered through the response_url. */
async function slashCommand(stub: SlackStub, slackPort: number, text: string): Promise<string> {
  const id = randomUUID();
  const body = new URLSearchParams({
    team_id: TEAM_ID,
    team_domain: 'test',
    channel_id: 'C0TEST',
    user_id: APPROVER,
    user_name: 'alice',
    command: '/acme',
    text,
    api_app_id: 'A0TEST',
    response_url: `${stub.url}/response/${id}`,
    trigger_id: `trigger-${id}`,
  }).toString();
  const res = await postSigned(slackPort, body, 'application/x-www-form-urlencoded');
  expect(res.status).toBe(200);
  const answer = await until(
    `answer to /acme ${text}`,
    async () => stub.responses(id)[0],
    (r) => r !== undefined,
  );
  expect(answer!['response_type']).toBe('ephemeral');
  return String(answer!['text']);
}

/** A click on an approval's Approve button in a channel message; resolves with the ephemeral answer. */
async function approveClick(stub: SlackStub, slackPort: number, approvalId: string): Promise<Record<string, unknown>> {
  const id = randomUUID();
  const payload = {
    type: 'block_actions',
    team: { id: TEAM_ID, domain: 'test' },
    user: { id: APPROVER, team_id: TEAM_ID, name: 'alice' },
    api_app_id: 'A0TEST',
    trigger_id: `trigger-${id}`,
    actions: [
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        block_id: 'approval_message',
        value: approvalId,
        text: { type: 'plain_text', text: 'Approve' },
        action_ts: '1',
      },
    ],
    container: { type: 'message', channel_id: 'C0TEST', message_ts: '1700000000.000100', is_ephemeral: false },
    channel: { id: 'C0TEST', name: 'ops' },
    message: { type: 'message', ts: '1700000000.000100', text: '' },
    response_url: `${stub.url}/response/${id}`,
  };
  const res = await postSigned(
    slackPort,
    new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    'application/x-www-form-urlencoded',
  );
  expect(res.status).toBe(200);
  return (await until(
    'answer to the Approve click',
    async () => stub.responses(id)[0],
    (r) => r !== undefined,
  ))!;
}

/** Opens the App Home tab; resolves with the view the bot published. */
async function openHome(stub: SlackStub, slackPort: number): Promise<string> {
  const before = stub.api('views.publish').length;
  const body = JSON.stringify({
    team_id: TEAM_ID,
    api_app_id: 'A0TEST',
    type: 'event_callback',
    event_id: `Ev${randomUUID().slice(0, 8)}`,
    event_time: Math.floor(Date.now() / 1000),
    event: { type: 'app_home_opened', user: APPROVER, channel: 'D0HOME', tab: 'home' },
  });
  expect((await postSigned(slackPort, body, 'application/json')).status).toBe(200);
  const published = await stub.waitForApi('views.publish', before + 1);
  return JSON.stringify(published.at(-1)!['view']);
}

async function postSigned(port: number, body: string, contentType: string): Promise<{ status: number }> {
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(`http://127.0.0.1:${port}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': sign(SIGNING_SECRET, timestamp, body),
    },
    body,
  });
  await res.text();
  return { status: res.status };
}

/** The CLI as a one-off process against `databaseUrl`. */
function cli(databaseUrl: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl, MASTER_KEY, LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Log entries (pino JSON) with this message, optionally only those logged after `after` (epoch ms). */
const logged = (p: ServeProcess, msg: string | RegExp, after = 0) =>
  p
    .entries()
    .filter(
      (e) => (typeof msg === 'string' ? e['msg'] === msg : msg.test(String(e['msg']))) && Number(e['time']) > after,
    );

/** What each role needs, on free ports: jobs every second so a test sees runs on both sides of a fault. */
async function roleEnv(role: ServeRole, databaseUrl: string, stub: SlackStub | null): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    RESPONDER_HOST: '127.0.0.1',
    RESPONDER_PORT: String(await freePort()),
  };
  if (role !== 'responder') env['MASTER_KEY'] = MASTER_KEY;
  if (role === 'worker' || role === 'all') {
    Object.assign(env, {
      JOBS_CLEANUP_CRON: '* * * * * *',
      JOBS_RENEW_CRON: '*/5 * * * * *',
      JOBS_START_DELAY_MAX_SECONDS: '0',
    });
  }
  if ((role === 'bot' || role === 'all') && stub) {
    Object.assign(env, {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `${stub.url}/api/`,
      SLACK_PORT: String(await freePort()),
      SLACK_NOTIFY_CHANNEL: 'C0NOTIFY',
      SLACK_APPROVERS: APPROVER,
    });
  }
  return env;
}

/** Seeds one profile and domain with a pending HTTP-01 authorization; returns a writer of further tokens. */
async function seed(store: Store): Promise<{ token: string; addToken: () => Promise<string> }> {
  const profile = makeProfile();
  await store.profiles.insert(profile);
  const domain = makeDomain(profile.id);
  const first = makeAuthorization(domain.id);
  await store.domains.insertWithAuthorization(domain, first);
  return {
    token: first.httpToken!,
    addToken: async () => {
      const authz = makeAuthorization(domain.id);
      await store.authorizations.upsert(authz);
      return authz.httpToken!;
    },
  };
}

describe.skipIf(!postgresUrl)(
  'every role rides out killed connections and a cut network to PostgreSQL (needs TEST_DATABASE_URL)',
  () => {
    let database: Database;
    let store: Store;
    let stub: SlackStub;
    let proxy: TcpProxy;
    let proxiedUrl: string;
    let token: string;
    let addToken: () => Promise<string>;
    const procs: Partial<Record<ServeRole, ServeProcess>> = {};
    const responders = () => [procs.responder!, procs.all!];
    const responderPorts = () => responders().map((p) => Number(p.env['RESPONDER_PORT']));
    const slackPorts = () => [procs.bot!, procs.all!].map((p) => Number(p.env['SLACK_PORT']));

    beforeAll(async () => {
      database = await freshDatabase(() => openDatabase({ url: postgresUrl! }));
      store = createDrizzleStore(database);
      ({ token, addToken } = await seed(store));
      stub = await startSlackStub();
      const target = new URL(postgresUrl!);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      const proxied = new URL(postgresUrl!);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      proxiedUrl = proxied.toString();
      const roles: ServeRole[] = ['responder', 'worker', 'bot', 'all'];
      const started = await Promise.all(
        roles.map(async (role) =>
          retryWhenAddressInUse(async () => startServe(role, await roleEnv(role, proxiedUrl, stub))),
        ),
      );
      for (const p of started) procs[p.role] = p;
    }, PROCESS_TEST_MS);
    afterAll(async () => {
      await Promise.all(Object.values(procs).map((p) => p.stop()));
      await proxy?.close();
      await stub?.close();
      await database?.close();
    });

    it(
      'no role exits when every backend is terminated, three times; cached tokens are served throughout and LISTEN comes back',
      async () => {
        for (const port of responderPorts()) expect((await challenge(port, token)).status).toBe(200);
        const load = traffic(responderPorts(), token);
        for (let round = 1; round <= 3; round++) {
          expect(await terminateBackends(postgresUrl!)).toBeGreaterThan(0);
          // LISTEN is re-established (and the cache reloaded) on every responder...
          for (const p of responders()) {
            const back = () =>
              logged(p, /LISTEN connection re-established/).filter((e) => e['channel'] === CHALLENGE_CHANNEL).length;
            await until(
              `${p.role} challenge LISTEN back (round ${round})`,
              async () => back(),
              (n) => n >= round,
            );
          }
          // ...and hears changes again.
          const fresh = await addToken();
          for (const port of responderPorts())
            await until(
              `new token on ${port}`,
              () => challenge(port, fresh),
              (r) => r.status === 200,
            );
        }
        const seen = await load.stop();
        expect(seen.length).toBeGreaterThan(0);
        expect(seen.filter((s) => s.status !== 200)).toEqual([]);
        // The other roles go on too: a scheduled job finishes after the last termination, the bot answers.
        const after = Date.now();
        for (const p of [procs.worker!, procs.all!])
          await until(
            `${p.role} job after the terminations`,
            async () => logged(p, 'job cleanup finished', after).length,
            (n) => n > 0,
          );
        for (const port of slackPorts())
          expect(await slashCommand(stub, port, 'profile list')).not.toContain('unavailable');
        for (const p of Object.values(procs)) expect(p.alive(), `${p.role} exited:\n${p.log()}`).toBe(true);
      },
      PROCESS_TEST_MS,
    );

    it(
      'with the network to the database cut: responders serve from memory and say degraded, jobs are skipped, the bot and the CLI say the database is unavailable; all resume after',
      async () => {
        const load = traffic(responderPorts(), token);
        // One scrape before the cut, so each responder has lifecycle metrics to keep serving through it.
        for (const port of responderPorts()) expect((await get(port, '/metrics')).status).toBe(200);
        proxy.cut();
        const cutAt = Date.now();
        for (const port of responderPorts()) {
          const ready = await until(
            'readyz degraded',
            () => get(port, '/readyz'),
            (r) => r.body.startsWith('degraded'),
          );
          expect(ready.status).toBe(200);
          expect(ready.body).toMatch(
            /^degraded: database unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z; serving \d+ cached challenges?\n$/,
          );
          expect((await get(port, '/healthz')).status).toBe(200);
          expect((await get(port, '/metrics')).body).toMatch(/^bigip_acme_database_up 0$/m);
          // The lifecycle metrics are read from the database: /metrics still answers, with the last values, stale.
          const stale = await until(
            'metrics stale',
            () => get(port, '/metrics'),
            (r) => /^bigip_acme_metrics_stale 1$/m.test(r.body),
          );
          expect(stale.status).toBe(200);
          expect(stale.body).toMatch(/^bigip_acme_metrics_read_timestamp_seconds [1-9]/m);
        }
        // Written while no responder can hear it: not served yet (the cache is behind, and says so).
        const missed = await addToken();
        for (const port of responderPorts()) expect((await challenge(port, missed)).status).toBe(404);

        // Jobs: skipped with one clear line each run, the schedule kept.
        for (const p of [procs.worker!, procs.all!]) {
          const [skip] = await until(
            `${p.role} job skipped`,
            async () => logged(p, /^job cleanup skipped: the database is unavailable; next run at \d{4}-/, cutAt),
            (l) => l.length > 0,
          );
          expect(skip!['level']).toBe(40);
        }
        // The bot: a command and a click answer, ephemerally, that the database is unavailable.
        for (const port of slackPorts()) {
          expect(await slashCommand(stub, port, 'profile list')).toBe(DB_UNAVAILABLE_MESSAGE);
          const clicked = await approveClick(stub, port, randomUUID());
          expect(clicked['response_type']).toBe('ephemeral');
          expect(clicked['text']).toBe(DB_UNAVAILABLE_MESSAGE);
        }
        // The App Home dashboard says why it is empty instead of pointing at the log.
        expect(await openHome(stub, Number(procs.bot!.env['SLACK_PORT']))).toContain(DB_UNAVAILABLE_MESSAGE);
        // The CLI: one clear line and exit 1; --json a machine-readable error.
        const text = await cli(proxiedUrl, ['profile', 'list']);
        expect(text.code).toBe(1);
        expect(text.stderr.trim().split('\n')).toEqual([
          expect.stringMatching(
            /^error: cannot reach the database \(.+\); nothing changed\. Try again once it is back$/,
          ),
        ]);
        const json = await cli(proxiedUrl, ['--json', 'profile', 'list']);
        expect(json.code).toBe(1);
        expect(JSON.parse(json.stdout)).toEqual({
          error: { code: 'db_unavailable', message: expect.stringContaining('cannot reach the database') },
        });
        expect(json.stdout + json.stderr + text.stderr).not.toContain(MASTER_KEY);

        proxy.restore();
        const restoredAt = Date.now();
        for (const port of responderPorts()) {
          // After the resync, what was written meanwhile is served, and readiness is back.
          await until(
            `token written during the cut on ${port}`,
            () => challenge(port, missed),
            (r) => r.status === 200,
          );
          await until(
            'readyz ready',
            () => get(port, '/readyz'),
            (r) => r.status === 200 && r.body === 'ready\n',
          );
          expect((await get(port, '/metrics')).body).toMatch(/^bigip_acme_database_up 1$/m);
          await until(
            'metrics current again',
            () => get(port, '/metrics'),
            (r) => /^bigip_acme_metrics_stale 0$/m.test(r.body),
          );
        }
        for (const p of [procs.worker!, procs.all!])
          await until(
            `${p.role} job after the cut`,
            async () => logged(p, 'job cleanup finished', restoredAt).length,
            (n) => n > 0,
          );
        for (const port of slackPorts())
          expect(await slashCommand(stub, port, 'profile list')).not.toContain('unavailable');
        const seen = await load.stop();
        expect(seen.filter((s) => s.status !== 200)).toEqual([]);
        for (const p of responders()) {
          expect(logged(p, /^database unreachable: serving \d+ cached challenge/).length).toBeGreaterThan(0);
          expect(logged(p, /^database reachable again/).length).toBeGreaterThan(0);
        }
        for (const p of Object.values(procs)) expect(p.alive(), `${p.role} exited:\n${p.log()}`).toBe(true);
      },
      PROCESS_TEST_MS,
    );
  },
);

describeWithPrivatePostgres('a real PostgreSQL restart under traffic (private cluster)', () => {
  let cluster: PrivatePostgres;
  let database: Database;
  let store: Store;
  let stub: SlackStub;
  let url: string;
  let token: string;
  let addToken: () => Promise<string>;
  const procs: Partial<Record<ServeRole, ServeProcess>> = {};

  beforeAll(async () => {
    cluster = await startPrivatePostgres();
    url = await cluster.createDatabase('bigip_acme');
    database = await openDatabase({ url });
    await database.migrate();
    store = createDrizzleStore(database);
    ({ token, addToken } = await seed(store));
    stub = await startSlackStub();
    const roles: ServeRole[] = ['responder', 'worker', 'all'];
    const started = await Promise.all(
      roles.map(async (role) => retryWhenAddressInUse(async () => startServe(role, await roleEnv(role, url, stub)))),
    );
    for (const p of started) procs[p.role] = p;
  }, PROCESS_TEST_MS);
  afterAll(async () => {
    await Promise.all(Object.values(procs).map((p) => p.stop()));
    await stub?.close();
    await database?.close();
    await cluster?.dispose();
  });

  it(
    'no process exits, every GET of the cached token is answered, readyz goes degraded then ready, and jobs run again after',
    async () => {
      const responders = [procs.responder!, procs.all!];
      const ports = responders.map((p) => Number(p.env['RESPONDER_PORT']));
      for (const port of ports) expect((await challenge(port, token)).status).toBe(200);
      const load = traffic(ports, token);
      const readiness = new Map<number, string[]>(ports.map((port) => [port, []]));
      let watching = true;
      const watchers = ports.map(async (port) => {
        while (watching) {
          const r = await get(port, '/readyz');
          readiness.get(port)!.push(`${r.status} ${r.body.split(':')[0]!.trim()}`);
          await sleep(100);
        }
      });

      await cluster.stop('fast');
      const stoppedAt = Date.now();
      for (const port of ports)
        await until(
          `readyz on ${port} degraded while the server is down`,
          async () => readiness.get(port)!.at(-1),
          (r) => r === '200 degraded',
        );
      await sleep(3_000);
      await cluster.start();
      const startedAt = Date.now();
      for (const port of ports)
        await until(
          `readyz on ${port} ready after the restart`,
          () => get(port, '/readyz'),
          (r) => r.body === 'ready\n',
        );
      // LISTEN is back: a token written now is heard.
      const fresh = await addToken();
      for (const port of ports)
        await until(
          `a token written after the restart on ${port}`,
          () => challenge(port, fresh),
          (r) => r.status === 200,
        );
      for (const p of [procs.worker!, procs.all!])
        await until(
          `${p.role}: a job run after the restart`,
          async () => logged(p, 'job cleanup finished', startedAt).length,
          (n) => n > 0,
        );
      expect(await slashCommand(stub, Number(procs.all!.env['SLACK_PORT']), 'profile list')).not.toContain(
        'unavailable',
      );

      watching = false;
      await Promise.all(watchers);
      const seen = await load.stop();
      expect(seen.length).toBeGreaterThan(100);
      expect(seen.filter((s) => s.status !== 200)).toEqual([]);
      for (const port of ports) {
        expect(readiness.get(port)).toContain('200 degraded');
        expect(readiness.get(port)!.at(-1)).toBe('200 ready');
      }
      for (const p of [procs.worker!, procs.all!])
        expect(logged(p, /^job cleanup skipped: the database is unavailable/, stoppedAt).length).toBeGreaterThan(0);
      for (const p of Object.values(procs)) expect(p.alive(), `${p.role} exited:\n${p.log()}`).toBe(true);
    },
    PROCESS_TEST_MS,
  );
});
