import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type { Database, Schema } from '../client.ts';

/**
 * The query builder every repository is written against. Both drivers (node-postgres and PGlite) expose the
 * same builder; one static type keeps the repositories readable.
 */
export type DrizzleDb = PgliteDatabase<Schema>;

export function queryBuilderOf(database: Database): DrizzleDb {
  return database.db as DrizzleDb;
}

/** The `updatedAt` stamp every update of a table with `timestamps` sets. */
export function touched(): { updatedAt: Date } {
  return { updatedAt: new Date() };
}
