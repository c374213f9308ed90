/**
 * How fast a challenge written through the store reaches another responder replica, on PostgreSQL
 * (LISTEN/NOTIFY into each replica's ChallengeCache).
 *
 *   npx tsx bench/responder-replicas.ts [--db postgres://…] [--n 200]
 *
 * Creates the database when missing and migrates it (`openDatabase({url}).migrate()`), inserts one profile and
 * one domain of its own, then starts two responder processes (`bench/responder-server.ts --db …`, replicas A
 * and B, each with its own pool and LISTEN connection). N times:
 *   1. upsert a pending authorization with a fresh HTTP-01 token through the store (this process is the
 *      "worker"); the clock starts when the upsert returns (the row is committed);
 *   2. GET the token from A and from B, back to back on one keep-alive connection each (the next request
 *      leaves as soon as the previous answer arrived), until each answers 200 with the key authorization;
 *   3. update the authorization to `valid`; clock restarts when the update returns; poll until each answers 404.
 * Prints the distribution (median, p95, p99, max) per replica and direction, and one JSON line at the end.
 * Removes its own rows afterwards; the replicas are stopped by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type { Authorization } from '../core/domain/managed-domain.ts';
import { openDatabase, type Schema } from '../db/client.ts';
import { createDrizzleStore } from '../db/drizzle-store.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../tests/fixtures/builders.ts';
import { ensureDatabase } from './lib/bench-database.ts';

const { values } = parseArgs({
  options: {
    db: {
      type: 'string',
      default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bigip_acme_bench',
    },
    n: { type: 'string', default: '200' },
    'port-a': { type: 'string', default: '18181' },
    'port-b': { type: 'string', default: '18182' },
    'timeout-ms': { type: 'string', default: '5000' },
  },
});
const url = values.db;
const N = Number(values.n);
const ports = { A: Number(values['port-a']), B: Number(values['port-b']) };
const timeoutMs = Number(values['timeout-ms']);
const root = fileURLToPath(new URL('..', import.meta.url));

async function startReplica(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/responder-server.ts', '--port', String(port), '--db', url],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica on :${port} not ready after 20 s: ${out}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`replica on :${port} exited (${code}): ${out}`)));
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('ready ')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  console.error(`replica :${port} ${out.trim()}`);
  return child;
}

/** One GET on a keep-alive connection with the CA's Host header (answers are bound to it); status and body. */
function get(agent: http.Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { host: identifier } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** Requests back to back until the answer matches; ms from `since` to the matching answer, and how many GETs. */
async function until(
  agent: http.Agent,
  port: number,
  path: string,
  want: (r: { status: number; body: string }) => boolean,
  since: number,
): Promise<{ ms: number; polls: number }> {
  let polls = 0;
  for (;;) {
    const r = await get(agent, port, path);
    polls++;
    const now = performance.now();
    if (want(r)) return { ms: now - since, polls };
    if (now - since > timeoutMs) throw new Error(`:${port}${path} still HTTP ${r.status} after ${timeoutMs} ms`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function summary(xs: number[]): { median: number; p95: number; p99: number; max: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
  const r = (v: number) => Math.round(v * 100) / 100;
  return {
    median: r(rank(50)),
    p95: r(rank(95)),
    p99: r(rank(99)),
    max: r(s[s.length - 1] ?? Number.NaN),
    min: r(s[0] ?? Number.NaN),
  };
}

await ensureDatabase(url);
const database = await openDatabase({ url });
await database.migrate();
const store = createDrizzleStore(database);
const db = database.db as PgliteDatabase<Schema>;

// Rows built with the test builders (tests/fixtures/builders.ts), so they follow the schema as it changes.
const profile = makeProfile({
  name: `responder-bench-${randomUUID().slice(0, 8)}`,
  accountKeySealed: 'v1.bench.dummy-sealed-account-key',
});
const profileId = profile.id;
await store.profiles.insert(profile);

const identifier = `replica-${profileId.slice(0, 8)}.bench.example`;
const thumbprint = randomBytes(32).toString('base64url');
const domain = makeDomain(profileId, { name: identifier, status: 'valid' });
const domainId = domain.id;
function authorization(): Authorization {
  const token = randomBytes(32).toString('base64url'); // 43 characters, like a real CA's
  return makeAuthorization(domainId, {
    identifier,
    expiresAt: new Date(Date.now() + 7 * 24 * 3600_000),
    challenges: { 'http-01': { url: `https://acme.example/chall/${randomUUID()}`, token } },
    httpToken: token,
    httpKeyAuthorization: `${token}.${thumbprint}`,
    dnsTxtValue: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
}
// The domain row with a first (already valid) authorization, as `domains add` leaves it after issuance.
await store.domains.insertWithAuthorization(domain, { ...authorization(), status: 'valid' });

const replicas: ChildProcess[] = [];
async function cleanup(): Promise<void> {
  for (const child of replicas) {
    if (child.exitCode === null && child.pid) {
      process.kill(child.pid, 'SIGTERM');
      await once(child, 'exit');
    }
  }
  await db.execute(sql`DELETE FROM authorizations WHERE domain_id = ${domainId}`);
  await db.execute(sql`UPDATE domains SET current_authorization_id = NULL WHERE id = ${domainId}`);
  await db.execute(sql`DELETE FROM domains WHERE id = ${domainId}`);
  await db.execute(sql`DELETE FROM profiles WHERE id = ${profileId}`);
  await database.close();
}

const results = {
  A: { appear: [] as number[], disappear: [] as number[], polls: [] as number[] },
  B: { appear: [] as number[], disappear: [] as number[], polls: [] as number[] },
};
const writeMs = { upsert: [] as number[], update: [] as number[] };
try {
  replicas.push(await startReplica(ports.A), await startReplica(ports.B));
  const agents = {
    A: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    B: new http.Agent({ keepAlive: true, maxSockets: 1 }),
  };
  const names = ['A', 'B'] as const;

  // Warm-up: open the keep-alive connections and JIT the paths; not counted.
  for (let i = 0; i < 20; i++)
    for (const r of names) await get(agents[r], ports[r], '/.well-known/acme-challenge/warmup_token_0123456789abcdef');

  for (let i = 0; i < N; i++) {
    const authz = authorization();
    const path = `/.well-known/acme-challenge/${authz.httpToken}`;

    let t = performance.now();
    await store.authorizations.upsert(authz);
    let since = performance.now();
    writeMs.upsert.push(since - t);
    const appeared = await Promise.all(
      names.map((r) =>
        until(agents[r], ports[r], path, (x) => x.status === 200 && x.body === authz.httpKeyAuthorization, since),
      ),
    );

    t = performance.now();
    await store.authorizations.update(authz.id, { status: 'valid' });
    since = performance.now();
    writeMs.update.push(since - t);
    const gone = await Promise.all(names.map((r) => until(agents[r], ports[r], path, (x) => x.status === 404, since)));

    names.forEach((r, k) => {
      results[r].appear.push(appeared[k]?.ms ?? Number.NaN);
      results[r].disappear.push(gone[k]?.ms ?? Number.NaN);
      results[r].polls.push((appeared[k]?.polls ?? 0) + (gone[k]?.polls ?? 0));
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  for (const agent of Object.values(agents)) agent.destroy();
} finally {
  await cleanup();
}

const fmt = (s: ReturnType<typeof summary>) => `| ${s.median} | ${s.p95} | ${s.p99} | ${s.max} |`;
console.log(
  `\nN = ${N} tokens, PostgreSQL ${url.replace(/\/\/[^@]*@/, '//')}; ms from the store write returning to the replica's answer`,
);
console.log('\n| Replica | Direction | median ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|');
for (const r of ['B', 'A'] as const) {
  console.log(`| ${r} | pending → 200 ${fmt(summary(results[r].appear))}`);
  console.log(`| ${r} | valid → 404 ${fmt(summary(results[r].disappear))}`);
}
console.log(`| (worker) | upsert itself ${fmt(summary(writeMs.upsert))}`);
console.log(`| (worker) | update itself ${fmt(summary(writeMs.update))}`);
const polls = summary(results.B.polls);
console.log(`\nGETs to B per token (both directions): median ${polls.median}, max ${polls.max}`);
console.log(
  JSON.stringify({
    n: N,
    B: { appear: summary(results.B.appear), disappear: summary(results.B.disappear) },
    A: { appear: summary(results.A.appear), disappear: summary(results.A.disappear) },
    write: { upsert: summary(writeMs.upsert), update: summary(writeMs.update) },
  }),
);
