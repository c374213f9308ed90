import { readFileSync } from 'node:fs';
import { getTableName, is, type SQL, sql } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import type { BackupRow } from '../core/backup/backup-archive.ts';
import { CoreError } from '../core/errors.ts';
import type { BackupTable, BackupTables } from '../core/ports/backup-tables.ts';
import type { Database } from './client.ts';
import * as schema from './schema/index.ts';

const journalFile = new URL('./migrations/meta/_journal.json', import.meta.url);

/** Rows per INSERT: one JSON parameter each, far below any statement size limit. */
const BATCH_ROWS = 500;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

interface TableShape extends BackupTable {
  primaryKey: string[];
  /** Columns backed by a sequence (serial, bigserial), moved past the restored values. */
  serials: string[];
  parents: string[];
}

/** Every table exported by the schema module, with what backup needs to know about it. */
function shapesOf(tables: readonly PgTable[]): TableShape[] {
  return tables.map((table) => {
    const config = getTableConfig(table);
    const primaryKey = [
      ...config.columns.filter((c) => c.primary).map((c) => c.name),
      ...config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name)),
    ];
    return {
      name: config.name,
      columns: config.columns.map((c) => c.name),
      primaryKey,
      serials: config.columns.filter((c) => /Serial/.test(c.columnType)).map((c) => c.name),
      parents: config.foreignKeys.map((fk) => getTableName(fk.reference().foreignTable)),
    };
  });
}

/** Parents before children (a table's foreign keys point only to tables earlier in the list); schema order otherwise. */
export function inForeignKeyOrder<T extends { name: string; parents: string[] }>(tables: T[]): T[] {
  const placed = new Set<string>();
  const ordered: T[] = [];
  let rest = [...tables];
  while (rest.length > 0) {
    const ready = rest.filter((t) =>
      t.parents.every((p) => p === t.name || placed.has(p) || !tables.some((x) => x.name === p)),
    );
    if (ready.length === 0) {
      throw new CoreError('internal', `foreign keys form a cycle among ${rest.map((t) => t.name).join(', ')}`);
    }
    for (const t of ready) placed.add(t.name);
    ordered.push(...ready);
    rest = rest.filter((t) => !placed.has(t.name));
  }
  return ordered;
}

/** The application's tables: every PgTable the schema module exports. */
export const schemaTables = (): PgTable[] =>
  (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));

type Executor = { execute(query: SQL): Promise<{ rows: unknown[] }> };

/**
 * Backup and restore over the drizzle schema. `tables` defaults to the application's schema; a test passes
 * its own to prove value types round-trip.
 */
export function createBackupTables(database: Database, tables: readonly PgTable[] = schemaTables()): BackupTables {
  const shapes = inForeignKeyOrder(shapesOf(tables));
  const db = database.db as unknown as Executor & {
    transaction<T>(fn: (tx: Executor) => Promise<T>, config?: { isolationLevel?: 'repeatable read' }): Promise<T>;
  };
  const rowsOf = async (ex: Executor, query: string) =>
    ((await ex.execute(sql.raw(query))).rows as Record<string, unknown>[]) ?? [];

  const occupied = async (ex: Executor): Promise<string[]> => {
    const found: string[] = [];
    for (const t of shapes) {
      const [exists] = await rowsOf(ex, `select to_regclass('public.${quote(t.name).replace(/'/g, "''")}') as r`);
      if (exists?.r === null || exists?.r === undefined) continue;
      const [any] = await rowsOf(ex, `select exists (select 1 from ${quote(t.name)}) as r`);
      if (any?.r === true) found.push(t.name);
    }
    return found;
  };

  return {
    kind: database.kind,
    tables: () => shapes.map(({ name, columns }) => ({ name, columns: [...columns] })),
    migrations: () =>
      (JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] }).entries.map((e) => e.tag),
    readAll: () =>
      db.transaction(
        async (tx) => {
          const out: BackupRow[] = [];
          for (const t of shapes) {
            const order = t.primaryKey.length > 0 ? t.primaryKey.map(quote).join(', ') : '1';
            const rows = await rowsOf(tx, `select row_to_json(t)::text as r from ${quote(t.name)} t order by ${order}`);
            for (const row of rows) out.push({ table: t.name, json: row.r as string });
          }
          return out;
        },
        // One snapshot on PostgreSQL, where the service may write while the backup reads.
        { isolationLevel: 'repeatable read' },
      ),
    nonEmptyTables: () => occupied(db),
    migrate: () => database.migrate(),
    restore: (rows) =>
      db.transaction(async (tx) => {
        // Checked again inside the transaction: another process may have written since the first check.
        const taken = await occupied(tx);
        if (taken.length > 0) {
          throw new CoreError(
            'conflict',
            `the target database is not empty (rows in ${taken.join(', ')}); nothing changed`,
          );
        }
        for (const t of shapes) {
          const mine = rows.filter((r) => r.table === t.name);
          if (mine.length === 0) continue;
          // The archive's columns (a backup from an older migration may lack newer ones: they take their defaults).
          const columns = Object.keys(JSON.parse(mine[0]!.json) as object)
            .map(quote)
            .join(', ');
          for (let i = 0; i < mine.length; i += BATCH_ROWS) {
            const batch = `[${mine
              .slice(i, i + BATCH_ROWS)
              .map((r) => r.json)
              .join(',')}]`;
            await tx.execute(
              sql`insert into ${sql.raw(quote(t.name))} (${sql.raw(columns)}) select ${sql.raw(columns)} from json_populate_recordset(null::${sql.raw(quote(t.name))}, ${batch}::json)`,
            );
          }
        }
        for (const t of shapes) {
          for (const column of t.serials) {
            await tx.execute(
              sql.raw(
                `select setval(pg_get_serial_sequence('${quote(t.name)}', '${column}'), coalesce(max(${quote(column)}), 0) + 1, false) from ${quote(t.name)}`,
              ),
            );
          }
        }
      }),
  };
}
