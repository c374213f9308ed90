import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite, type PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
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
   * LISTEN on a channel. `onResync` runs whenever notifications may have been missed (after a reconnect),
   * so the listener reloads its state. Returns the unsubscribe function.
   */
  listen(channel: string, onMessage: (payload: string) => void, onResync: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

export type DatabaseTarget = { url: string } | { dataDir: string } | { memory: true };

/** Opens PostgreSQL when given a URL, otherwise embedded PGlite (on disk under dataDir, or in memory for tests). */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if ('url' in target) {
    const pool = new pg.Pool({ connectionString: target.url, max: 10 });
    const db = drizzlePg(pool, { schema });
    return {
      db,
      kind: 'postgres',
      migrate: () => migratePg(db, { migrationsFolder }),
      listen: (channel, onMessage, onResync) => listenPostgres(target.url, channel, onMessage, onResync),
      close: () => pool.end(),
    };
  }
  let client: PGlite;
  let release = () => {};
  if ('dataDir' in target) {
    mkdirSync(target.dataDir, { recursive: true, mode: 0o700 });
    release = acquireEmbeddedLock(target.dataDir);
    client = new PGlite(`${target.dataDir}/pglite`);
  } else {
    client = new PGlite();
  }
  try {
    await client.waitReady;
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

/**
 * A dedicated connection for LISTEN (a pooled one could be handed to a query and lose the subscription).
 * Reconnects with backoff after any error and asks the caller to resync, since notifications sent while
 * disconnected are lost.
 */
async function listenPostgres(
  url: string,
  channel: string,
  onMessage: (payload: string) => void,
  onResync: () => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retryMs = 250;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    next.on('notification', (n) => {
      if (n.channel === channel) onMessage(n.payload ?? '');
    });
    next.on('error', () => {
      if (stopped || client !== next) return;
      client = undefined;
      next.end().catch(() => undefined);
      setTimeout(reconnect, retryMs);
    });
    await next.connect();
    await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    client = next;
    retryMs = 250;
  };
  const reconnect = () => {
    if (stopped) return;
    connect().then(onResync, () => {
      retryMs = Math.min(retryMs * 2, 10_000);
      setTimeout(reconnect, retryMs);
    });
  };
  await connect();
  return async () => {
    stopped = true;
    await client?.end().catch(() => undefined);
  };
}
