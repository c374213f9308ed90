import { sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { type Database, openDatabase, type Schema } from '../../db/client.ts';

/** The PostgreSQL URL for database suites, when one is configured (CI sets it); PGlite always runs. */
export const postgresUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

export const databaseTargets: { kind: 'pglite' | 'postgres'; open: () => Promise<Database> }[] = [
  { kind: 'pglite', open: () => openDatabase({ memory: true }) },
  ...(postgresUrl ? [{ kind: 'postgres' as const, open: () => openDatabase({ url: postgresUrl }) }] : []),
];

/** Opens, migrates and empties a database so each suite starts clean. */
export async function freshDatabase(open: () => Promise<Database>): Promise<Database> {
  const database = await open();
  await database.migrate();
  await truncateAll(database);
  return database;
}

export async function truncateAll(database: Database): Promise<void> {
  const db = database.db as PgliteDatabase<Schema>;
  await db.execute(
    sql`TRUNCATE audit_log, events, approval_messages, approvals, leases, job_runs, deployments, device_objects, bindings, devices, certificates, authorizations, domains, profiles, hook_challenges RESTART IDENTITY CASCADE`,
  );
}
