import { createHash } from 'node:crypto';
import { CoreError } from '../errors.ts';
import { isSealed } from '../secrets/secret-box.ts';

/**
 * The backup archive, before compression: JSON lines.
 *
 *   {"type":"header", "format":"bigip-acme-backup", "version":1, appVersion, migration, createdAt, database,
 *    "tables":[{name, columns, rows}], "keyIds":[...]}
 *   {"type":"row","table":"<name>","row":<the row as PostgreSQL's row_to_json wrote it>}   (tables in FK order)
 *   {"type":"trailer","sha256":"<hex of every byte before this line>","rows":<count>}
 *
 * A row is kept as the text PostgreSQL produced and handed back to PostgreSQL unchanged on restore
 * (json_populate_recordset), so timestamps keep their microseconds, bigints their digits and bytea its bytes:
 * JavaScript never re-encodes a value (decision 0030).
 */
export const BACKUP_FORMAT = 'bigip-acme-backup';
export const BACKUP_VERSION = 1;

export interface BackupTableInfo {
  name: string;
  /** Column names (SQL) as the source schema had them. */
  columns: string[];
  rows: number;
}

export interface BackupHeader {
  type: 'header';
  format: typeof BACKUP_FORMAT;
  version: number;
  appVersion: string;
  /** The last migration tag the source database had applied (db/migrations/meta/_journal.json). */
  migration: string;
  createdAt: string;
  database: 'pglite' | 'postgres';
  tables: BackupTableInfo[];
  /** Ids of the master keys the archive's sealed values need (never a key itself). */
  keyIds: string[];
}

export interface BackupRow {
  table: string;
  /** The row's JSON text, exactly as read from the database. */
  json: string;
}

/** A sealed value found in a row, with where it lives, so restore can try to open it. */
export interface SealedSample {
  keyId: string;
  table: string;
  rowId: string;
  column: string;
  value: string;
}

export interface ParsedBackup {
  header: BackupHeader;
  rows: BackupRow[];
  /** Every sealed value, to prove the target's master key opens at least one per key id. */
  sealed: SealedSample[];
}

const rowPrefix = (table: string) => `{"type":"row","table":${JSON.stringify(table)},"row":`;

/** The archive's text for these tables and rows (in the order given); the caller compresses it. */
export function encodeBackup(header: Omit<BackupHeader, 'type' | 'format' | 'version' | 'keyIds'>, rows: BackupRow[]) {
  const keyIds = [...new Set(sealedValues(rows).map((s) => s.keyId))].sort();
  const full: BackupHeader = { type: 'header', format: BACKUP_FORMAT, version: BACKUP_VERSION, ...header, keyIds };
  const body = `${JSON.stringify(full)}\n${rows.map((r) => `${rowPrefix(r.table)}${r.json}}\n`).join('')}`;
  const sha256 = createHash('sha256').update(body, 'utf8').digest('hex');
  return `${body}${JSON.stringify({ type: 'trailer', sha256, rows: rows.length })}\n`;
}

const invalid = (what: string) => new CoreError('input_invalid', `not a usable ${BACKUP_FORMAT} archive: ${what}`);

/**
 * Checks a whole archive before anything is written anywhere: the format and version, the checksum over
 * every byte before the trailer, the trailer itself (a truncated archive has none), and that every row belongs
 * to a table of the header, in the header's counts.
 */
export function parseBackup(text: string): ParsedBackup {
  const firstNewline = text.indexOf('\n');
  let header: BackupHeader;
  try {
    header = JSON.parse(firstNewline === -1 ? text : text.slice(0, firstNewline)) as BackupHeader;
  } catch {
    throw invalid('it does not start with a backup header');
  }
  if (header?.type !== 'header' || header.format !== BACKUP_FORMAT) {
    throw invalid('it does not start with a backup header');
  }
  if (header.version !== BACKUP_VERSION) {
    throw invalid(`format version ${header.version}; this version reads version ${BACKUP_VERSION}`);
  }
  const trailerStart = text.lastIndexOf('\n', text.length - 2) + 1;
  let trailer: { type?: string; sha256?: string; rows?: number } | undefined;
  try {
    trailer = text.endsWith('\n') && trailerStart > firstNewline ? JSON.parse(text.slice(trailerStart)) : undefined;
  } catch {
    trailer = undefined;
  }
  if (trailer?.type !== 'trailer' || typeof trailer.sha256 !== 'string') {
    throw invalid('it ends before its trailer (truncated?)');
  }
  const body = text.slice(0, trailerStart);
  if (createHash('sha256').update(body, 'utf8').digest('hex') !== trailer.sha256) {
    throw invalid('its checksum does not match its content (changed or damaged since it was written)');
  }
  const tables = new Map(header.tables.map((t) => [t.name, t]));
  const counts = new Map<string, number>();
  const rows: BackupRow[] = [];
  for (const line of body.slice(firstNewline + 1).split('\n')) {
    if (line === '') continue;
    const table = /^\{"type":"row","table":("(?:[^"\\]|\\.)*")/.exec(line)?.[1];
    const name = table === undefined ? undefined : (JSON.parse(table) as string);
    if (name === undefined || !tables.has(name) || !line.startsWith(rowPrefix(name)) || !line.endsWith('}')) {
      throw invalid('a line is not a row of a table in its header');
    }
    const json = line.slice(rowPrefix(name).length, -1);
    if (!isJsonObject(json)) throw invalid(`a row of ${name} is not a JSON object`);
    rows.push({ table: name, json });
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  for (const t of header.tables) {
    if ((counts.get(t.name) ?? 0) !== t.rows) {
      throw invalid(`table ${t.name} holds ${counts.get(t.name) ?? 0} rows, its header says ${t.rows}`);
    }
  }
  if (rows.length !== trailer.rows) throw invalid(`it holds ${rows.length} rows, its trailer says ${trailer.rows}`);
  return { header, rows, sealed: sealedValues(rows) };
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/**
 * Every sealed value in the rows, found by its shape rather than a list of columns, so a sealed column added
 * later is covered too.
 */
function sealedValues(rows: BackupRow[]): SealedSample[] {
  const found: SealedSample[] = [];
  for (const r of rows) {
    const row = JSON.parse(r.json) as Record<string, unknown>;
    for (const [column, value] of Object.entries(row)) {
      if (typeof value !== 'string' || !isSealed(value)) continue;
      found.push({ keyId: value.split('.')[1]!, table: r.table, rowId: String(row.id ?? ''), column, value });
    }
  }
  return found;
}

/**
 * Whether an archive written at migration `archived` can be restored by a version whose migrations are
 * `ours` (in order): only at our level or below, since a newer archive may hold columns we do not know.
 */
export function checkMigrationLevel(archived: string, ours: readonly string[]): void {
  if (!ours.includes(archived)) {
    throw new CoreError(
      'input_invalid',
      `the backup was written at database migration ${archived}, which this version does not know (its last is ${ours.at(-1)}); restore it with that version or newer`,
    );
  }
}
