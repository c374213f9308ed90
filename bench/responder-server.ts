/**
 * The HTTP-01 responder, wired as `responder/start.ts` `startResponder` wires it in production
 * (a ChallengeCache over a ChallengeSource; createResponderApp and createResponderServer both answering through
 * `cache.answer(token, host)`), for the responder benchmarks. Run it with the same loader production uses (`node --import tsx`, see `bin/bigip-acme`), so the
 * pid it prints is the serving process:
 *
 *   node --import tsx bench/responder-server.ts --port 18080 [--token T --key-auth K --domain D]
 *       An in-memory ChallengeSource holding one token for domain D (default bench.example; answers are bound
 *       to the Host, so requests must send `Host: D`): the numbers measure the HTTP path, not a database. The
 *       challenge-hook routes (Hono, never on the measured path) are left out, as they need the store.
 *   node --import tsx bench/responder-server.ts --port 18081 --db postgres://…
 *       The real store and database (openDatabase, createDrizzleStore, challengeSource with LISTEN/NOTIFY),
 *       challenge-hook included, without MASTER_KEY like a `serve --role responder` replica.
 *
 * Listens on 127.0.0.1 (--host to change), prints `ready pid=N port=N cached=N` on stdout once it serves, and
 * shuts down cleanly on SIGTERM/SIGINT.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ChallengeHookService, challengeHookDeps } from '../core/challenges/challenge-hook-service.ts';
import { challengeSource } from '../responder/start.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { createDrizzleStore } from '../db/drizzle-store.ts';
import { createResponderApp, type ResponderDeps } from '../responder/app.ts';
import { ChallengeCache, type ChallengeSource } from '../responder/challenge-cache.ts';
import { createResponderServer } from '../responder/server.ts';

/** The token the throughput runs ask for (43 base64url characters, like a real CA's). */
const BENCH_TOKEN = 'bench_token_0123456789abcdefghijklmnopqrstu';
const BENCH_KEY_AUTH = `${BENCH_TOKEN}.Zx9wQ0bTHUMBPRINTthumbprintTHUMBPRINT012345`;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '18080' },
    host: { type: 'string', default: '127.0.0.1' },
    token: { type: 'string', default: BENCH_TOKEN },
    'key-auth': { type: 'string', default: BENCH_KEY_AUTH },
    domain: { type: 'string', default: 'bench.example' },
    db: { type: 'string' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad --port ${values.port}`);

/** One fixed token, never changing: what the cache serves in the throughput runs. */
function memorySource(token: string, keyAuthorization: string, domain: string): ChallengeSource {
  return {
    all: async () => [{ token, keyAuthorization, domain }],
    one: async (t) => (t === token ? { keyAuthorization, domain } : null),
    listen: async () => async () => {},
  };
}

let database: Database | undefined;
let source: ChallengeSource;
let ready: () => Promise<boolean>;
let hook: ResponderDeps['hook'];
if (values.db) {
  database = await openDatabase({ url: values.db });
  const store = createDrizzleStore(database);
  source = challengeSource(store, database);
  ready = () =>
    store.profiles.list().then(
      () => true,
      () => false,
    );
  hook = new ChallengeHookService(challengeHookDeps(store, null, () => new Date(), randomUUID));
} else {
  source = memorySource(values.token, values['key-auth'], values.domain);
  ready = async () => true;
}

const cache = new ChallengeCache(source, {
  onError: (err) => console.error(`challenge cache refresh failed: ${(err as Error).message}`),
});
await cache.start();
const app = createResponderApp({
  httpKeyAuthorization: (token, host) => cache.answer(token, host),
  ready,
  ...(hook ? { hook } : {}),
});
const lookup = (token: string, host: string | undefined) => cache.answer(token, host);
const server = createResponderServer(app, lookup);
await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, values.host, resolve));
console.log(`ready pid=${process.pid} port=${port} cached=${cache.size} source=${values.db ? 'postgres' : 'memory'}`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await cache.stop();
  await database?.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
