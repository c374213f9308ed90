import pg from 'pg';
import { type Database, openDatabase } from '../../db/client.ts';
import { truncateAll } from '../../tests/support/test-db.ts';

/** CREATE DATABASE when the target is missing (connecting to the server's `postgres` database for that). */
export async function ensureDatabase(target: string): Promise<void> {
  const name = decodeURIComponent(new URL(target).pathname.slice(1));
  const admin = new URL(target);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/**
 * A migrated database for a benchmark: in-memory PGlite, or PostgreSQL at BENCH_DATABASE_URL / DATABASE_URL /
 * `defaultUrl` (created when missing, then emptied).
 */
export async function openBenchDatabase(kind: string, defaultUrl: string): Promise<Database> {
  if (kind === 'pglite') {
    const database = await openDatabase({ memory: true });
    await database.migrate();
    return database;
  }
  const url = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? defaultUrl;
  await ensureDatabase(url);
  const database = await openDatabase({ url });
  await database.migrate();
  await truncateAll(database);
  return database;
}
