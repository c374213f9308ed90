import type { BackupRow } from '../backup/backup-archive.ts';

/** One table of the application's schema as a backup sees it. */
export interface BackupTable {
  name: string;
  /** SQL column names, in the schema's order. */
  columns: string[];
}

/**
 * The application's data as whole tables, for backup and restore. The adapter enumerates the tables from the
 * schema itself (nothing is listed by hand), so tables and columns added later are included without a change here.
 */
export interface BackupTables {
  readonly kind: 'pglite' | 'postgres';
  /** Every table, parents before the tables that reference them. */
  tables(): BackupTable[];
  /** Migration tags this version knows, in order; the last is the level its databases are at. */
  migrations(): string[];
  /** Every row of every table, in `tables()` order, read in one snapshot. */
  readAll(): Promise<BackupRow[]>;
  /** Tables of the schema that exist and hold at least one row (before any migration: nothing is created). */
  nonEmptyTables(): Promise<string[]>;
  /** Brings the database to this version's schema; safe on an empty one. */
  migrate(): Promise<void>;
  /**
   * Inserts the rows (parents first) and moves every serial sequence past its largest value, in ONE
   * transaction: a failure leaves the tables as they were.
   */
  restore(rows: BackupRow[]): Promise<void>;
}
