/**
 * PostgreSQL databases for the scenarios that run several processes on one database (PGlite is single
 * process). Each scenario gets its own database, `<base>_<suffix>`, created when missing, migrated and
 * emptied; the base comes from CHAOS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bigip_acme_chaos)
 * and must contain "chaos", because it is truncated.
 */
import pg from 'pg';
import { openDatabase } from '../../db/client.ts';
import { truncateAll } from '../../tests/support/test-db.ts';

export const DEFAULT_CHAOS_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/bigip_acme_chaos';

export function chaosDatabaseUrl(
  suffix: string,
  base = process.env.CHAOS_DATABASE_URL ?? DEFAULT_CHAOS_DATABASE_URL,
): string {
  const url = new URL(base);
  const name = `${url.pathname.slice(1)}_${suffix}`;
  if (!/chaos/i.test(name))
    throw new Error(`refusing to truncate ${name}: the fault suite's database name must contain "chaos"`);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates (when missing), migrates and empties the database at `url`. */
export async function freshChaosDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  const database = await openDatabase({ url });
  try {
    await database.migrate();
    await truncateAll(database);
  } finally {
    await database.close();
  }
}
