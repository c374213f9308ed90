import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import pg from 'pg';
import { silentLogger, type Logger } from '../core/ports/logger.ts';
import { reasonOf } from './connection-loss.ts';
import { acquireEmbeddedLock } from './embedded-lock.ts';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema> | PgliteDatabase<Schema>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Applies the committed migrations; safe to call on every start. */
  migrate(): Promise<void>;
  /**
   * LISTEN on a channel. `onLost` runs when the subscription drops (a killed connection, a server restart):
   * notifications are missed from then on. `onResync` runs once it is back, so the listener reloads its
   * state. Returns the unsubscribe function.
   */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onResync: () => void,
    onLost?: (err: unknown) => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

export type DatabaseTarget = { url: string } | { dataDir: string } | { memory: true };

export interface DatabaseOptions {
  /** Where connection losses are reported; they never throw out of an event handler. */
  log?: Logger;
}

/** How long a new PostgreSQL connection may take before the query that wanted it fails as `db_unavailable`. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Opens PostgreSQL when given a URL, otherwise embedded PGlite (on disk under dataDir, or in memory for tests). */
export async function openDatabase(target: DatabaseTarget, opts: DatabaseOptions = {}): Promise<Database> {
  const log = opts.log ?? silentLogger;
  if ('url' in target) {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    // An idle pooled connection that dies (the server restarts, a backend is terminated) is emitted here; the
    // pool has already dropped it and opens a new one on the next query. Without a listener it kills the process.
    pool.on('error', (err) =>
      log.warn({ reason: reasonOf(err) }, 'lost an idle database connection; the next query opens a new one'),
    );
    // A connection that dies while checked out (inside a transaction, between its statements) emits on the
    // client, where the pool listens only while it is idle. The statement in flight fails on its own.
    pool.on('connect', (client) =>
      client.on('error', (err) => log.debug({ reason: reasonOf(err) }, 'database connection lost while in use')),
    );
    const db = drizzlePg(pool, { schema });
    let closed: Promise<void> | undefined;
    return {
      db,
      kind: 'postgres',
      migrate: () => migratePg(db, { migrationsFolder }),
      listen: (channel, onMessage, onResync, onLost) =>
        listenPostgres(target.url, channel, { onMessage, onResync, onLost, log }),
      // Idempotent: pool.end() rejects when called twice, and several closers may share one database.
      close: () => (closed ??= pool.end()),
    };
  }
  let client: PGlite;
  let release = () => {};
  if ('dataDir' in target) {
    mkdirSync(target.dataDir, { recursive: true, mode: 0o700 });
    release = acquireEmbeddedLock(target.dataDir);
  }
  // Loaded only here: a PostgreSQL process never loads PGlite or its drivers (memory and start time).
  const [{ openFilePglite, openMemoryPglite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] =
    await Promise.all([
      import('./embedded-pglite.ts'),
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
    ]);
  try {
    client = 'dataDir' in target ? await openFilePglite(`${target.dataDir}/pglite`) : await openMemoryPglite();
  } catch (err) {
    release();
    throw err;
  }
  const db = drizzlePglite(client, { schema });
  return {
    db,
    kind: 'pglite',
    migrate: () => migratePglite(db, { migrationsFolder }),
    // One process owns PGlite, so its notifications are never missed: no resync needed.
    listen: async (channel, onMessage) => {
      const unsubscribe = await client.listen(channel, onMessage);
      return () => unsubscribe();
    },
    close: async () => {
      await client.close();
      release();
    },
  };
}

/** How often the LISTEN connection proves it is alive (a silently dead TCP connection delivers nothing, forever). */
const LISTEN_HEARTBEAT_MS = 30_000;
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;

/**
 * A dedicated connection for LISTEN (a pooled one could be handed to a query and lose the subscription).
 * When it drops — killed, the server restarted, a heartbeat unanswered — it reports `onLost` once and
 * reconnects with backoff (250 ms doubling to 10 s) until it is back, then calls `onResync`, since
 * notifications sent meanwhile are lost. Every error is handled here; none escapes as an 'error' event or
 * an unhandled rejection.
 */
async function listenPostgres(
  url: string,
  channel: string,
  handlers: {
    onMessage: (payload: string) => void;
    onResync: () => void;
    onLost: ((err: unknown) => void) | undefined;
    log: Logger;
  },
): Promise<() => Promise<void>> {
  const { onMessage, onResync, onLost, log } = handlers;
  let stopped = false;
  let client: pg.Client | undefined;
  let retryMs = RETRY_FIRST_MS;
  let retryTimer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let failedAttempts = 0;

  /** Ends a client without waiting: on a dead socket end() may never settle, and its rejection means nothing. */
  const discard = (c: pg.Client) => {
    c.end().catch(() => undefined);
  };

  const lost = (from: pg.Client, err: unknown) => {
    if (stopped || client !== from) return;
    client = undefined;
    clearInterval(heartbeat);
    discard(from);
    log.warn(
      { channel, reason: reasonOf(err) },
      'database LISTEN connection lost; reconnecting, notifications are missed until then',
    );
    safely(() => onLost?.(err));
    schedule();
  };

  const connect = async (): Promise<pg.Client> => {
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
    next.on('notification', (n) => {
      if (n.channel === channel) safely(() => onMessage(n.payload ?? ''));
    });
    // Before connect(): an 'error' can be emitted at any time after the socket opens, even while connecting.
    next.on('error', (err) => lost(next, err));
    next.on('end', () => lost(next, new Error('Connection terminated unexpectedly')));
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      discard(next);
      throw err;
    }
    return next;
  };

  const adopt = (next: pg.Client) => {
    client = next;
    retryMs = RETRY_FIRST_MS;
    heartbeat = setInterval(() => {
      const current = client;
      if (!current) return;
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('Connection terminated: heartbeat unanswered')), CONNECT_TIMEOUT_MS).unref(),
      );
      Promise.race([current.query('SELECT 1'), timeout]).catch((err: unknown) => lost(current, err));
    }, LISTEN_HEARTBEAT_MS);
    heartbeat.unref();
  };

  const schedule = () => {
    if (stopped) return;
    retryTimer = setTimeout(attempt, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };

  const attempt = () => {
    if (stopped) return;
    connect().then(
      (next) => {
        if (stopped) return discard(next);
        adopt(next);
        log.info(
          { channel, failedAttempts },
          'database LISTEN connection re-established; resyncing what may have been missed',
        );
        failedAttempts = 0;
        safely(onResync);
      },
      (err: unknown) => {
        failedAttempts++;
        log.debug({ channel, reason: reasonOf(err), retryInMs: retryMs }, 'database LISTEN reconnect failed');
        schedule();
      },
    );
  };

  /** A listener's own exception must not stop the reconnect loop nor escape as an unhandled error. */
  const safely = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      log.error({ channel, err: err instanceof Error ? err.message : String(err) }, 'database LISTEN handler threw');
    }
  };

  adopt(await connect());
  return async () => {
    stopped = true;
    clearTimeout(retryTimer);
    clearInterval(heartbeat);
    const current = client;
    client = undefined;
    await current?.end().catch(() => undefined);
  };
}
