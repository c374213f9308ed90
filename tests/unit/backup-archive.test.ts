import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type BackupRow, checkMigrationLevel, encodeBackup, parseBackup } from '../../core/backup/backup-archive.ts';
import { checkMasterKey, createBackup, readBackup } from '../../core/backup/backup-service.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';

const masterKey = randomBytes(32).toString('base64');
const box = createSecretBox(masterKey);
const profileId = randomUUID();

const rows: BackupRow[] = [
  {
    table: 'profiles',
    json: JSON.stringify({
      id: profileId,
      name: 'demo',
      account_key_sealed: box.seal('-----BEGIN PRIVATE KEY-----', `profiles:${profileId}:account_key`),
      created_at: '2026-12-04T14:20:56.123456+00:00',
    }),
  },
  { table: 'audit_log', json: '{"id":9007199254740993,"detail":{"a":[1,"two",null]}}' },
];

const header = {
  appVersion: '0.1.0',
  migration: '0007_x',
  createdAt: '2026-12-04T14:00:00.000Z',
  database: 'pglite' as const,
  tables: [
    { name: 'profiles', columns: ['id', 'name', 'account_key_sealed', 'created_at'], rows: 1 },
    { name: 'audit_log', columns: ['id', 'detail'], rows: 1 },
  ],
};

const archive = encodeBackup(header, rows);

describe('backup archive format', () => {
  it('round-trips every row byte for byte (a bigint beyond 2^53, microseconds), and lists the key ids', () => {
    const parsed = parseBackup(archive);
    expect(parsed.rows).toEqual(rows);
    expect(parsed.header).toMatchObject({ format: 'bigip-acme-backup', version: 1, keyIds: [box.keyId] });
    expect(parsed.sealed.map((s) => [s.table, s.rowId, s.column])).toEqual([
      ['profiles', profileId, 'account_key_sealed'],
    ]);
    expect(archive).not.toContain(masterKey);
  });

  const tamper = (text: string) => text.replace('"name":"demo"', '"name":"dem0"');
  const dropLine = (text: string) =>
    text
      .split('\n')
      .filter((l) => !l.includes('audit_log","row"'))
      .join('\n');
  const recount = (text: string) => {
    // A consistent archive whose checksum is recomputed but whose header count is wrong.
    const body = text.slice(0, text.lastIndexOf('{"type":"trailer"'));
    const changed = dropLine(body);
    return `${changed}${JSON.stringify({ type: 'trailer', sha256: createHash('sha256').update(changed).digest('hex'), rows: 1 })}\n`;
  };
  /** The archive with its checksum recomputed, as a careless tool (not damage) would leave it. */
  const reseal = (text: string) => {
    const body = text.slice(0, text.lastIndexOf('{"type":"trailer"'));
    const sha256 = createHash('sha256').update(body).digest('hex');
    return `${body}${JSON.stringify({ type: 'trailer', sha256, rows: 2 })}\n`;
  };
  it.each([
    ['empty text', '', /does not start with a backup header/],
    ['another JSON document', '{"hello":"world"}\n', /does not start with a backup header/],
    [
      'a newer format version',
      archive.replace('"version":1', '"version":2'),
      /format version 2; this version reads version 1/,
    ],
    [
      'cut after a row',
      archive.slice(0, archive.indexOf('\n', archive.indexOf('"row"')) + 1),
      /ends before its trailer/,
    ],
    ['cut in the middle of the trailer', archive.slice(0, -20), /ends before its trailer/],
    ['a changed value', tamper(archive), /checksum does not match/],
    ['a removed row', dropLine(archive), /checksum does not match/],
    ['header counts that do not match the rows', recount(archive), /table audit_log holds 0 rows, its header says 1/],
    [
      'a row that is not an object',
      reseal(
        archive
          .replace('"row":{"id":9007199254740993', '"row":[{"id":9007199254740993')
          .replace(',null]}}}', ',null]}}]}'),
      ),
      /a row of audit_log is not a JSON object/,
    ],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseBackup(text)).toThrow(message);
  });

  it.each([
    ['the same level', '0002_b', true],
    ['an older level', '0001_a', true],
    ['a level this version does not know (newer)', '0003_c', false],
  ])('migration level: %s', (_what, archived, ok) => {
    const check = () => checkMigrationLevel(archived, ['0000_init', '0001_a', '0002_b']);
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(/migration 0003_c, which this version does not know \(its last is 0002_b\)/);
  });
});

describe('the master key check before restore', () => {
  const parsed = parseBackup(archive);
  it('accepts the key the archive was sealed with', () => {
    expect(() => checkMasterKey(parsed, box)).not.toThrow();
  });
  it('refuses another key, naming both key ids', () => {
    const other = createSecretBox(randomBytes(32).toString('base64'));
    expect(() => checkMasterKey(parsed, other)).toThrow(
      new RegExp(`sealed with master key ${box.keyId}, but this install's master key is ${other.keyId}`),
    );
  });
  it('accepts an archive sealed before a key rotation, with the old key among the previous keys', () => {
    const rotated = createSecretBox(randomBytes(32).toString('base64'), [masterKey]);
    expect(() => checkMasterKey(parsed, rotated)).not.toThrow();
  });
  it('refuses when no key is set at all', () => {
    expect(() => checkMasterKey(parsed, null)).toThrow(/no master key is set here; set MASTER_KEY/);
  });
});

describe('reading a backup file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backup-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Buffer | string) => {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    return file;
  };
  const gz = gzipSync(archive);

  it('reads a complete file', () => {
    expect(readBackup(write('ok.bak', gz)).rows).toEqual(rows);
  });
  it.each([
    ['a file that is not gzip', () => write('plain.txt', 'hello'), /is not a bigip-acme backup \(not a gzip file/],
    ['a truncated file', () => write('short.bak', gz.subarray(0, gz.length - 30)), /is cut short \(truncated\?\)/],
    ['gzip of something else', () => write('other.gz', gzipSync('{"a":1}\n')), /does not start with a backup header/],
    ['a missing file', () => join(dir, 'nope.bak'), /cannot read .*nope\.bak: ENOENT/],
  ])('refuses %s with a clear message', (_what, file, message) => {
    expect(() => readBackup(file())).toThrow(message);
  });
});

describe('writing a backup file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backup-write-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const audited: string[] = [];
  const deps = {
    tables: {
      kind: 'postgres' as const,
      tables: () => header.tables.map(({ name, columns }) => ({ name, columns })),
      migrations: () => ['0000_init', '0007_x'],
      readAll: async () => rows,
      nonEmptyTables: async () => [],
      migrate: async () => undefined,
      restore: async () => undefined,
    },
    audit: {
      append: async (e: { action: string }) => {
        audited.push(e.action);
      },
      list: async () => [],
    },
    clock: { now: () => new Date('2026-12-04T14:00:00Z'), sleep: async () => undefined },
  };

  it('writes an owner-only file that reads back whole, leaves no temporary file, and is audited', async () => {
    const file = join(dir, 'out.bak');
    writeFileSync(file, 'an older backup, replaced whole');
    const summary = await createBackup(deps, file, { appVersion: '9.9.9', actor: 'cli:test' });
    expect(summary).toMatchObject({ rows: 2, migration: '0007_x', database: 'postgres', keyIds: [box.keyId] });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readBackup(file).rows).toEqual(rows);
    expect(readdirSync(dir)).toEqual(['out.bak']);
    expect(audited).toEqual(['backup.create']);
  });

  it('fails clearly where the file cannot be written, leaving nothing behind', async () => {
    const file = join(dir, 'missing-dir', 'out.bak');
    await expect(createBackup(deps, file, { appVersion: '9.9.9', actor: 'cli:test' })).rejects.toThrow(
      /cannot write the backup to .*out\.bak: ENOENT/,
    );
    expect(readdirSync(dir)).toEqual(['out.bak']);
  });
});
