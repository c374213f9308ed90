/**
 * Renewal sweep benchmark: 100,000 certificates in PostgreSQL, 1% of them due. Times what one sweep does before
 * any ACME traffic (`RenewalService.sweep()` in core/issuance/renewal-service.ts), through the real drizzle store:
 * - `ari`: `certificates.listAriPollCandidates(now, 500)` (the data set has every ARI poll in the future, so it
 *   returns nothing, but it still has to look);
 * - `select`: `certificates.listRenewalCandidates(now, limit)`;
 * - `claim`: for every id, 4 in flight (`boundedMap`, as the sweep): `withLease('renew:<id>')` (tryAcquire, then
 *   release when done), and under the claim the re-check reads `certificates.findById` + `profiles.findById` and
 *   the sweep's due / in-flight / back-off test. No renewal is started.
 * Each run is done twice: `limit 500` (one sweep as coded: SWEEP_BATCH = 500) and `all` (limit 100,000: every
 * candidate, 1,000). Leases are deleted before every run (untimed), so each run claims fresh.
 *
 *   npx tsx bench/sweep.ts [--runs 5] [--reload]        (npm run bench:sweep -- --reload)
 *
 * Database: BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/bigip_acme_bench_sweep;
 * created when missing, migrated, and its name must contain "bench" (loading truncates every table). Loading
 * (one INSERT … SELECT over generate_series, then VACUUM ANALYZE) is skipped when the data set is already there;
 * `--reload` forces it. The data set is built relative to its load time T0, which is kept as the main profile's
 * `created_at`; every run passes T0 as the sweep's `now`, so the mix stays exactly as described below however
 * long ago it was loaded (lease expiry uses the database clock, as in production).
 *
 * Data mix (positions drawn by a seeded shuffle of 1..N, so the due rows are scattered through the table):
 * - 98,730 `later`: issued, renew_at T0 + 1 min … 60 days (uniform); 2% of them on the auto_renew=false profile;
 * -    960 `due`: issued, renew_at T0 − 1 min … 7 days; 60 of them with next_attempt_at in the past (a back-off
 *              that has run out), the rest NULL;
 * -     40 `inflight`: state 'ordering', renewal_started_at T0 − 0 … 6 h, renew_at in the past, new order URLs;
 * -    250 `backoff`: issued, renew_at in the past, next_attempt_at T0 + 1 … 32 h (must NOT be selected);
 * -     20 `manual`: issued, renew_at in the past, on the profile with auto_renew = false (must NOT be selected).
 * Candidates = due + inflight = 1,000 (1%). Every row has ari_next_poll_at T0 + 1 … 24 h. Rows are sized like
 * real ones: an EC key sealed (≈ 380 chars), a CSR (≈ 530), a two-certificate chain (≈ 2.6 KB, random base64,
 * so TOAST cannot compress it), order / finalize / 2 authorization URLs, serial, fingerprint, subject, issuer.
 * Four profiles (three auto_renew, one not).
 *
 * Prints one JSON line on stdout (per mode: per-run ms of each phase, median and max; RSS; plan summaries) and
 * the EXPLAIN (ANALYZE, BUFFERS) plans of the store's own SQL (captured from the pool while it runs) on stderr.
 * Exits non-zero when a selection does not return exactly the expected rows.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { silentLogger } from '../core/ports/logger.ts';
import type { Store } from '../core/ports/store.ts';
import { boundedMap } from '../core/services/bounded-map.ts';
import { withLease } from '../core/services/with-lease.ts';
import { type Database, openDatabase } from '../db/client.ts';
import { createDrizzleStore } from '../db/drizzle-store.ts';
import { truncateAll } from '../tests/support/test-db.ts';
import { ensureDatabase } from './lib/bench-database.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    reload: { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs must be a positive integer');

const databaseUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/bigip_acme_bench_sweep';
if (!/bench/i.test(new URL(databaseUrl).pathname)) {
  throw new Error(
    `refusing to load ${new URL(databaseUrl).pathname.slice(1)}: the benchmark database's name must contain "bench"`,
  );
}

/** Bump when the mix below changes, so an old data set is reloaded. */
const DATASET = 'sweep-bench-v1';
const N = 100_000;
const MIX = { due: 960, dueRetried: 60, inflight: 40, backoff: 250, manual: 20 };
const CANDIDATES = MIX.due + MIX.inflight;
/** As in core/issuance/renewal-service.ts (not exported there). */
const SWEEP_BATCH = 500;
const SWEEP_CONCURRENCY = 4;
/** As the services' default (core/services/index.ts). */
const LEASE = { holder: `bench-sweep:${process.pid}`, ttlMs: 60_000 };
const MB = 2 ** 20;
const BLOBS = 64;

// ---- Database and data set ------------------------------------------------------------------------------

/** T0 of the data set when it is complete, else null. */
async function loadedAt(client: pg.Client): Promise<Date | null> {
  const { rows } = await client.query<{ t0: Date | null; ours: string; total: string }>(
    `SELECT (SELECT created_at FROM profiles WHERE name = $1) AS t0,
            (SELECT count(*) FROM certificates WHERE name LIKE 'sweep-%') AS ours,
            (SELECT count(*) FROM certificates) AS total`,
    [`${DATASET}-main`],
  );
  const row = rows[0];
  return row?.t0 && Number(row.ours) === N && Number(row.total) === N ? row.t0 : null;
}

function base64Lines(bytes: number): string {
  return (
    randomBytes(bytes)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  ).join('\n');
}

function pem(label: string, bytes: number): string {
  return `-----BEGIN ${label}-----\n${base64Lines(bytes)}\n-----END ${label}-----\n`;
}

/** Truncates everything and loads the data set (see the header), with T0 = now. Returns T0. */
async function load(database: Database, client: pg.Client): Promise<Date> {
  await truncateAll(database);
  const t0 = new Date();
  const profileIds = { main: randomUUID(), internal: randomUUID(), partner: randomUUID(), manual: randomUUID() };
  await client.query('BEGIN');
  try {
    for (const [key, id] of Object.entries(profileIds)) {
      await client.query(
        `INSERT INTO profiles (id, name, directory_url, key_spec, contact, tos_agreed, account_key_sealed, account_url,
                               auto_renew, renew_days_before, created_at, updated_at)
         VALUES ($1, $2, 'https://acme-v02.example/directory', 'ec-p256', '{mailto:pki@example.com}', true,
                 $3, $4, $5, 30, $6, $6)`,
        [
          id,
          `${DATASET}-${key}`,
          `v1.k1.${randomBytes(12).toString('base64url')}.${randomBytes(200).toString('base64url')}.${randomBytes(16).toString('base64url')}`,
          `https://acme-v02.example/acme/acct/${key}`,
          key !== 'manual',
          t0,
        ],
      );
    }
    // Random, incompressible blobs shaped like the real columns; rows share them (TOAST compresses per value).
    const blob = { chain: [] as string[], csr: [] as string[], key: [] as string[] };
    for (let i = 0; i < BLOBS; i++) {
      blob.chain.push(pem('CERTIFICATE', 960) + pem('CERTIFICATE', 820));
      blob.csr.push(pem('CERTIFICATE REQUEST', 370));
      blob.key.push(
        `v1.k1.${randomBytes(12).toString('base64url')}.${randomBytes(241).toString('base64url')}.${randomBytes(16).toString('base64url')}`,
      );
    }
    await client.query(
      `CREATE TEMP TABLE sweep_blobs ON COMMIT DROP AS
         SELECT (ord - 1)::int AS k, chain, csr, key FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS b(chain, csr, key, ord)`,
      [blob.chain, blob.csr, blob.key],
    );
    await client.query('SELECT setseed(0.42)');
    const inserted = await client.query(
      `WITH s AS (
         SELECT i, row_number() OVER (ORDER BY random()) AS rank, random() AS r, random() AS r2 FROM generate_series(1, $1::int) AS i
       ), c AS (
         SELECT s.*, CASE WHEN rank <= $7 THEN 'due' WHEN rank <= $7 + $8 THEN 'inflight' WHEN rank <= $7 + $8 + $9 THEN 'backoff'
                          WHEN rank <= $7 + $8 + $9 + $10 THEN 'manual' ELSE 'later' END AS cat,
                'sweep-' || lpad(i::text, 6, '0') || '.bench.example.com' AS cn
         FROM s
       ), t AS (
         SELECT c.*,
                CASE cat WHEN 'later' THEN $2::timestamptz + interval '1 minute' + r * (interval '60 days' - interval '1 minute')
                         WHEN 'due' THEN $2::timestamptz - interval '1 minute' - r * (interval '7 days' - interval '1 minute')
                         WHEN 'inflight' THEN $2::timestamptz - interval '6 hours' - r * interval '1 day'
                         ELSE $2::timestamptz - r * interval '14 days' END AS renew_at
         FROM c
       )
       INSERT INTO certificates (
         id, name, profile_id, partition, common_name, sans, key_spec, key_sealed, csr_pem, state, order_url, finalize_url,
         authorization_urls, order_status, order_attempts, chain_pem, serial, not_before, not_after, fingerprint_sha256,
         subject, issuer, issued_at, requested_by, renew_at, renew_reason, ari_next_poll_at, failed_attempts,
         next_attempt_at, renewal_started_at, created_at, updated_at)
       SELECT gen_random_uuid(), t.cn,
              CASE WHEN cat = 'manual' OR (cat = 'later' AND i % 50 = 0) THEN $6::uuid
                   WHEN i % 3 = 0 THEN $3::uuid WHEN i % 3 = 1 THEN $4::uuid ELSE $5::uuid END,
              'Common', t.cn, ARRAY['www.' || t.cn], 'ec-p256', b.key, b.csr,
              CASE cat WHEN 'inflight' THEN 'ordering' ELSE 'issued' END,
              'https://acme-v02.example/acme/order/1000/' || i || CASE cat WHEN 'inflight' THEN 'r' ELSE '' END,
              'https://acme-v02.example/acme/finalize/1000/' || i || CASE cat WHEN 'inflight' THEN 'r' ELSE '' END,
              ARRAY['https://acme-v02.example/acme/authz/1000/' || i || 'a', 'https://acme-v02.example/acme/authz/1000/' || i || 'b'],
              CASE cat WHEN 'inflight' THEN 'pending' ELSE 'valid' END, 1, b.chain,
              upper(substr(md5(i::text), 1, 36)),
              renew_at + interval '30 days' - interval '90 days', renew_at + interval '30 days',
              upper(regexp_replace(md5(i::text) || md5((i + 1)::text), '(..)(?!$)', '\\1:', 'g')),
              'CN=' || t.cn, 'CN=E6,O=Let''s Encrypt,C=US', renew_at + interval '30 days' - interval '90 days', 'U0BENCH',
              renew_at, 'two_thirds', $2::timestamptz + interval '1 hour' + r2 * interval '23 hours',
              CASE cat WHEN 'backoff' THEN 1 + (i % 5) WHEN 'due' THEN CASE WHEN rank <= $11 THEN 2 ELSE 0 END ELSE 0 END,
              CASE cat WHEN 'backoff' THEN $2::timestamptz + interval '1 hour' + r2 * interval '31 hours'
                       WHEN 'due' THEN CASE WHEN rank <= $11 THEN $2::timestamptz - r2 * interval '2 hours' END END,
              CASE cat WHEN 'inflight' THEN $2::timestamptz - r2 * interval '6 hours' END,
              renew_at - interval '60 days', $2::timestamptz - r2 * interval '30 days'
       FROM t JOIN sweep_blobs b ON b.k = t.i % ${BLOBS}`,
      [
        N,
        t0,
        profileIds.main,
        profileIds.internal,
        profileIds.partner,
        profileIds.manual,
        MIX.due,
        MIX.inflight,
        MIX.backoff,
        MIX.manual,
        MIX.dueRetried,
      ],
    );
    if (inserted.rowCount !== N) throw new Error(`inserted ${inserted.rowCount} certificates, expected ${N}`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
  await client.query('VACUUM (ANALYZE) certificates, profiles, leases');
  return t0;
}

// ---- The measured sweep ---------------------------------------------------------------------------------

interface RunResult {
  ariMs: number;
  selectMs: number;
  claimMs: number;
  totalMs: number;
  ari: number;
  candidates: number;
  claimed: number;
  due: number;
  inflight: number;
  skipped: number;
}

/** The sweep's store calls up to (not including) the renewal, with its concurrency and re-check. */
async function sweepOnce(store: Store, now: Date, limit: number): Promise<RunResult> {
  const r = { ari: 0, candidates: 0, claimed: 0, due: 0, inflight: 0, skipped: 0 };
  const start = performance.now();
  r.ari = (await store.certificates.listAriPollCandidates(now, SWEEP_BATCH)).length;
  const afterAri = performance.now();
  const ids = await store.certificates.listRenewalCandidates(now, limit);
  r.candidates = ids.length;
  const afterSelect = performance.now();
  await boundedMap(ids, SWEEP_CONCURRENCY, async (id) => {
    const claimed = await withLease(store.leases, `renew:${id}`, LEASE, silentLogger, async () => {
      r.claimed++;
      const cert = await store.certificates.findById(id);
      if (!cert) return;
      const profile = (await store.profiles.findById(cert.profileId))!;
      // The re-check of RenewalService.renewOne, verbatim.
      const inFlight = cert.state !== 'issued' && cert.renewalStartedAt !== null;
      const due = cert.state === 'issued' && profile.autoRenew && cert.renewAt !== null && cert.renewAt <= now;
      const allowed = !cert.nextAttemptAt || cert.nextAttemptAt <= now;
      if (!(inFlight || due) || !allowed) r.skipped++;
      else if (due) r.due++;
      else r.inflight++;
    });
    if (!claimed.ran) r.skipped++;
  });
  const end = performance.now();
  const ms = (x: number) => Math.round(x * 10) / 10;
  return {
    ariMs: ms(afterAri - start),
    selectMs: ms(afterSelect - afterAri),
    claimMs: ms(end - afterSelect),
    totalMs: ms(end - start),
    ...r,
  };
}

// ---- EXPLAIN of the store's own SQL -----------------------------------------------------------------------

interface Captured {
  text: string;
  params: unknown[];
}
type QueryFn = (...args: unknown[]) => Promise<unknown>;

/** Runs `fn` and returns the SQL the store sent to the pool meanwhile (drizzle's node-postgres session). */
async function captureSql(database: Database, fn: () => Promise<unknown>): Promise<Captured[]> {
  const pool = (database.db as unknown as { $client: { query: QueryFn } }).$client;
  const original = pool.query;
  const seen: Captured[] = [];
  pool.query = (...args: unknown[]) => {
    const [config, params] = args;
    seen.push({
      text: typeof config === 'string' ? config : (config as { text: string }).text,
      params: (params as unknown[] | undefined) ?? [],
    });
    return original.apply(pool, args);
  };
  try {
    await fn();
  } finally {
    pool.query = original;
  }
  return seen;
}

interface PlanSummary {
  sql: string;
  params: unknown[];
  usesRenewAtIndex: boolean;
  nodes: string[];
  executionMs: number;
  plan: string;
}

async function explain(client: pg.Client, captured: Captured): Promise<PlanSummary> {
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (ANALYZE, BUFFERS) ${captured.text}`,
    captured.params,
  );
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  const nodes = [
    ...plan.matchAll(
      /(?:^|->\s+)((?:Parallel )?(?:Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan|Bitmap Index Scan|Sort|Limit|Hash Join|Nested Loop|Merge Join|Hash|Incremental Sort|Gather Merge|Gather)(?: using \w+)?(?: on \w+)?)/gm,
    ),
  ].map((m) => m[1]!.trim());
  return {
    sql: captured.text,
    params: captured.params,
    usesRenewAtIndex: plan.includes('certificates_renew_at_idx'),
    nodes,
    executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? Number.NaN),
    plan,
  };
}

// ---- Main -------------------------------------------------------------------------------------------------

function stats(xs: number[]): { median: number; max: number; runs: number[] } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median: Math.round(median * 10) / 10, max: s[s.length - 1]!, runs: xs };
}

await ensureDatabase(databaseUrl);
const database = await openDatabase({ url: databaseUrl });
const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();
let failed = false;
try {
  await database.migrate();
  let t0 = values.reload ? null : await loadedAt(admin);
  let loadSeconds: number | null = null;
  if (!t0) {
    const started = performance.now();
    t0 = await load(database, admin);
    loadSeconds = Math.round((performance.now() - started) / 10) / 100;
    process.stderr.write(`loaded ${N} certificates in ${loadSeconds} s (T0 ${t0.toISOString()})\n`);
  }
  const size = (
    await admin.query<{ heap: string; total: string }>(
      `SELECT pg_relation_size('certificates') AS heap, pg_total_relation_size('certificates') AS total`,
    )
  ).rows[0]!;
  const store = createDrizzleStore(database);
  const rssStartMB = Math.round(process.memoryUsage().rss / MB);

  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 10);
  const modes = [
    { name: 'limit500', limit: SWEEP_BATCH, expected: SWEEP_BATCH },
    { name: 'all', limit: N, expected: CANDIDATES },
  ];
  const results: Record<string, RunResult[]> = { limit500: [], all: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const mode of modes) {
      await admin.query('DELETE FROM leases');
      const result = await sweepOnce(store, t0, mode.limit);
      results[mode.name]!.push(result);
      process.stderr.write(`run ${run + 1} ${mode.name}: ${JSON.stringify(result)}\n`);
      const wrong =
        result.ari !== 0 ||
        result.candidates !== mode.expected ||
        result.claimed !== mode.expected ||
        result.skipped !== 0 ||
        (mode.name === 'all' && (result.due !== MIX.due || result.inflight !== MIX.inflight));
      if (wrong) {
        failed = true;
        process.stderr.write(
          `run ${run + 1} ${mode.name}: unexpected selection (expected ${mode.expected} candidates, all claimed, none skipped)\n`,
        );
      }
    }
  }
  clearInterval(sampler);
  const leftover = Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM leases')).rows[0]!.n);
  if (leftover !== 0) {
    failed = true;
    process.stderr.write(`${leftover} lease(s) left after the runs\n`);
  }
  const memory = {
    maxRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / MB),
    rssAfterMB: Math.round(process.memoryUsage().rss / MB),
    rssStartMB,
    peakRssDuringSweepsMB: Math.round(peakRss / MB),
  };

  // Plans of the exact SQL the store sends (captured while it runs; the leases it takes are released).
  const [ariSql] = await captureSql(database, () => store.certificates.listAriPollCandidates(t0, SWEEP_BATCH));
  const plans: Record<string, PlanSummary> = {};
  plans['ari'] = await explain(admin, ariSql!);
  for (const mode of modes) {
    const [dueSql] = await captureSql(database, () => store.certificates.listRenewalCandidates(t0, mode.limit));
    plans[`due_${mode.name}`] = await explain(admin, dueSql!);
  }
  for (const [name, p] of Object.entries(plans)) {
    process.stderr.write(
      `\n== EXPLAIN (ANALYZE, BUFFERS) ${name}\n${p.sql}\n-- params ${JSON.stringify(p.params)}\n${p.plan}\n`,
    );
  }

  const summary = Object.fromEntries(
    modes.map((mode) => {
      const rs = results[mode.name]!;
      return [
        mode.name,
        {
          limit: mode.limit,
          candidates: rs[0]!.candidates,
          ariMs: stats(rs.map((r) => r.ariMs)),
          selectMs: stats(rs.map((r) => r.selectMs)),
          claimMs: stats(rs.map((r) => r.claimMs)),
          totalMs: stats(rs.map((r) => r.totalMs)),
        },
      ];
    }),
  );
  const line = {
    database: new URL(databaseUrl).pathname.slice(1),
    certificates: N,
    candidates: CANDIDATES,
    t0: t0.toISOString(),
    loadSeconds,
    certificatesHeapMB: Math.round(Number(size.heap) / MB),
    certificatesTotalMB: Math.round(Number(size.total) / MB),
    concurrency: SWEEP_CONCURRENCY,
    runs: RUNS,
    ...summary,
    ...memory,
    plans: Object.fromEntries(
      Object.entries(plans).map(([k, p]) => [
        k,
        { usesRenewAtIndex: p.usesRenewAtIndex, nodes: p.nodes, executionMs: p.executionMs },
      ]),
    ),
    ok: !failed,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
} finally {
  await admin.end();
  await database.close();
}
if (failed) process.exitCode = 1;
