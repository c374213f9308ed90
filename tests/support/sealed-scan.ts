import { getTableColumns, getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { SEALED_COLUMNS } from '../../core/secrets/sealed-columns.ts';
import type { Database, Schema } from '../../db/client.ts';
import * as schema from '../../db/schema/index.ts';

/** Every table the schema declares. */
export const schemaTables = (): PgTable[] => Object.values(schema).filter((v) => is(v, PgTable)) as PgTable[];

const SEALED_SHAPE = /^v1\.[0-9a-f]{16}\./;
const registered = new Set(SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`));

/**
 * `table.column` of every value in the database that looks sealed (`v1.<keyId>.…`) but lives in a column the
 * sealed-column registry does not list: rotation would never re-seal it.
 */
export async function sealedValuesOutsideRegistry(database: Database): Promise<string[]> {
  const db = database.db as PgliteDatabase<Schema>;
  const found = new Set<string>();
  for (const table of schemaTables()) {
    const columns = Object.entries(getTableColumns(table));
    for (const row of (await db.select().from(table)) as Record<string, unknown>[]) {
      for (const [property, column] of columns) {
        const v = row[property];
        const where = `${getTableName(table)}.${column.name}`;
        if (typeof v === 'string' && SEALED_SHAPE.test(v) && !registered.has(where)) found.add(where);
      }
    }
  }
  return [...found];
}
