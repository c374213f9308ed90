/**
 * How long an outbox event takes to reach Slack's chat.postMessage (issue 11: "within 2 s", was 0–30 s).
 *
 * One process, as the bot role runs it: the store on PGlite or PostgreSQL announces each event with
 * pg_notify, the notifier (startSlackNotifier, the production wiring, poll set to 10 minutes so only the wake
 * can deliver) wakes, debounces, reads the outbox under its lease and posts to a local stub of Slack's Web
 * API. Each sample is one `renewal_failed` event: from just before `events.emit` to the stub receiving the
 * post (`post`), and to the notification reaching the notifier (`wake`). Samples are spaced so each is its
 * own run (no Slack spacing inside a run is measured).
 *
 *   npm run bench:notify -- [--samples 20] [--gap 400] [--db pglite|postgres|both]
 *
 * PostgreSQL: BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/bigip_acme_bench_notify
 * (created when missing). Prints one JSON line per database: median, p90 and max in ms.
 */
import { parseArgs } from 'node:util';
import { startSlackNotifier } from '../cli/slack-notifier.ts';
import { silentLogger } from '../core/ports/logger.ts';
import { createDrizzleStore } from '../db/drizzle-store.ts';
import { startSlackStub } from '../tests/bot/bot-harness.ts';
import { openBenchDatabase } from './lib/bench-database.ts';
import { percentile } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '20' },
    gap: { type: 'string', default: '400' },
    db: { type: 'string', default: 'both' },
  },
});
const SAMPLES = Number(args.samples);
const GAP_MS = Number(args.gap);

function summary(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    max: percentile(sorted, 100),
  };
}

async function measure(kind: 'pglite' | 'postgres'): Promise<void> {
  const database = await openBenchDatabase(kind, 'postgres://postgres@127.0.0.1:5432/bigip_acme_bench_notify');
  const store = createDrizzleStore(database);
  const stub = await startSlackStub();
  const wakes: number[] = [];
  const timed = {
    ...database,
    listen: (channel: string, onMessage: (payload: string) => void, onResync: () => void) =>
      database.listen(
        channel,
        (payload) => {
          wakes.push(Date.now());
          onMessage(payload);
        },
        onResync,
      ),
  };
  const notifier = await startSlackNotifier(
    { store, database: timed },
    { SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_API_URL: `${stub.url}/api/`, SLACK_NOTIFY_CHANNEL: 'C0BENCH' },
    silentLogger,
    {
      pollMs: 600_000,
    },
  );
  const post: number[] = [];
  const wake: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < SAMPLES; i++) {
      const posts = stub.api('chat.postMessage').length;
      const before = wakes.length;
      const t0 = Date.now();
      await store.events.emit({
        kind: 'renewal_failed',
        certificateId: null,
        subject: `bench-${i}.example.com`,
        dedupeKey: `bench:${Date.now()}:${i}`,
        detail: { code: 'acme_unreachable', message: 'bench', attempt: 1 },
        needsPerson: true,
      });
      await stub.waitForApi('chat.postMessage', posts + 1, 30_000);
      const received = stub.calls.filter((c) => c.path === '/api/chat.postMessage').at(-1)!.at;
      post.push(received - t0);
      if (wakes.length > before) wake.push(wakes[before]! - t0);
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
  } finally {
    await notifier.stop();
    await stub.close();
    await database.close();
  }
  console.log(
    JSON.stringify({
      database: kind,
      samples: SAMPLES,
      debounceMs: 150,
      emitToPostMs: summary(post),
      emitToWakeMs: summary(wake),
    }),
  );
}

const kinds: ('pglite' | 'postgres')[] =
  args.db === 'both' ? ['pglite', 'postgres'] : [args.db as 'pglite' | 'postgres'];
for (const kind of kinds) await measure(kind);
