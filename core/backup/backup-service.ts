import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CoreError } from '../errors.ts';
import type { BackupTables } from '../ports/backup-tables.ts';
import type { Clock } from '../ports/clock.ts';
import type { AuditLog } from '../ports/repositories/audit.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { appendAudit } from '../services/audit-trail.ts';
import {
  type BackupHeader,
  checkMigrationLevel,
  encodeBackup,
  type ParsedBackup,
  parseBackup,
} from './backup-archive.ts';

/** What a backup holds, for the edges to show: never a row, never a secret. */
export interface BackupSummary {
  file: string;
  appVersion: string;
  migration: string;
  createdAt: string;
  database: BackupHeader['database'];
  tables: Record<string, number>;
  rows: number;
  keyIds: string[];
}

const summaryOf = (file: string, h: BackupHeader): BackupSummary => ({
  file,
  appVersion: h.appVersion,
  migration: h.migration,
  createdAt: h.createdAt,
  database: h.database,
  tables: Object.fromEntries(h.tables.map((t) => [t.name, t.rows])),
  rows: h.tables.reduce((n, t) => n + t.rows, 0),
  keyIds: h.keyIds,
});

export interface BackupDeps {
  tables: BackupTables;
  audit: AuditLog;
  clock: Clock;
}

/**
 * Writes every table to `file` as one gzip'd, checksummed archive. Sealed values stay sealed and the master key
 * is never read. The file appears only complete (a temporary file beside it, renamed) and owner-only.
 */
export async function createBackup(
  deps: BackupDeps,
  file: string,
  opts: { appVersion: string; actor: string },
): Promise<BackupSummary> {
  const schema = deps.tables.tables();
  const rows = await deps.tables.readAll();
  const text = encodeBackup(
    {
      appVersion: opts.appVersion,
      migration: deps.tables.migrations().at(-1)!,
      createdAt: deps.clock.now().toISOString(),
      database: deps.tables.kind,
      tables: schema.map((t) => ({
        name: t.name,
        columns: t.columns,
        rows: rows.filter((r) => r.table === t.name).length,
      })),
    },
    rows,
  );
  writeAtomically(file, gzipSync(text));
  const summary = summaryOf(file, parseBackup(text).header);
  await appendAudit(deps.audit, 'system', { id: null, name: null }, opts.actor, 'backup.create', 'ok', {
    rows: summary.rows,
    migration: summary.migration,
    keyIds: summary.keyIds,
  });
  return summary;
}

function writeAtomically(file: string, bytes: Buffer): void {
  const temp = `${file}.${process.pid}.partial`;
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw new CoreError('input_invalid', `cannot write the backup to ${file}: ${code ?? (err as Error).message}`, {
      cause: err,
    });
  }
}

/** Reads and verifies a whole archive (gzip, format, checksum, counts); throws input_invalid saying what is wrong. */
export function readBackup(file: string): ParsedBackup {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CoreError(code === 'ENOENT' ? 'not_found' : 'input_invalid', `cannot read ${file}: ${code}`);
  }
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CoreError(
      'input_invalid',
      code === 'Z_BUF_ERROR'
        ? `${file} is cut short (truncated?): it is not a complete backup`
        : `${file} is not a bigip-acme backup (not a gzip file, or damaged)`,
    );
  }
  return parseBackup(text);
}

/** The archive's summary without restoring it (after the same verification restore does). */
export function inspectBackup(file: string): BackupSummary {
  return summaryOf(file, readBackup(file).header);
}

/**
 * Proves `secrets` opens the archive's sealed values before anything is written: at least one value per key id
 * must open with its row's AAD (`table:id:column`), with the primary key or a previous one.
 */
export function checkMasterKey(backup: ParsedBackup, secrets: SecretBox | null): void {
  for (const keyId of backup.header.keyIds) {
    if (secrets === null) {
      throw new CoreError(
        'config_invalid',
        `the backup's secrets are sealed with master key ${keyId}, and no master key is set here; set MASTER_KEY to that key (or put the master.key it came from into DATA_DIR)`,
      );
    }
    // Not only the primary key: during a key rotation the previous keys open too (decision 0029), so an archive
    // taken before or in the middle of a rotation restores with the rotated install's keys.
    const opens = backup.sealed
      .filter((s) => s.keyId === keyId)
      .some((s) => {
        try {
          secrets.open(s.value, `${s.table}:${s.rowId}:${s.column.replace(/_sealed$/, '')}`);
          return true;
        } catch {
          return false;
        }
      });
    if (!opens) {
      throw new CoreError(
        'config_invalid',
        keyId !== secrets.keyId
          ? `the backup's secrets are sealed with master key ${keyId}, but this install's master key is ${secrets.keyId}; restore with the MASTER_KEY (or master.key) of the install the backup came from, or give that key in MASTER_KEY_PREVIOUS`
          : `no secret of the backup sealed with master key ${keyId} opens with this install's master key`,
      );
    }
  }
}

/** The archive's tables and columns must all exist in this version's schema. */
function checkSchema(backup: ParsedBackup, tables: BackupTables): void {
  const ours = new Map(tables.tables().map((t) => [t.name, new Set(t.columns)]));
  for (const t of backup.header.tables) {
    const columns = ours.get(t.name);
    if (!columns) throw new CoreError('input_invalid', `the backup holds table ${t.name}, which this version has not`);
    const unknown = t.columns.filter((c) => !columns.has(c));
    if (unknown.length > 0) {
      throw new CoreError('input_invalid', `the backup's table ${t.name} has columns this version has not: ${unknown}`);
    }
  }
}

/**
 * Restores a verified archive into an empty database: checks the migration level, the schema and the master
 * key, refuses a target holding any row, then migrates it and inserts everything in one transaction.
 * Every refusal happens before the target is written.
 */
export async function restoreBackup(
  deps: BackupDeps & { secrets: SecretBox | null },
  backup: ParsedBackup,
  opts: { file: string; actor: string },
): Promise<BackupSummary> {
  checkMigrationLevel(backup.header.migration, deps.tables.migrations());
  checkSchema(backup, deps.tables);
  checkMasterKey(backup, deps.secrets);
  const occupied = await deps.tables.nonEmptyTables();
  if (occupied.length > 0) {
    throw new CoreError(
      'conflict',
      `the target database is not empty (rows in ${occupied.join(', ')}); restore only into an empty database or data directory. Nothing changed`,
    );
  }
  await deps.tables.migrate();
  await deps.tables.restore(backup.rows);
  const summary = summaryOf(opts.file, backup.header);
  await appendAudit(deps.audit, 'system', { id: null, name: null }, opts.actor, 'backup.restore', 'ok', {
    rows: summary.rows,
    from: summary.database,
    createdAt: summary.createdAt,
    migration: summary.migration,
  });
  return summary;
}
