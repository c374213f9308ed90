import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { bigint, bigserial, customType, jsonb, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupRow } from '../../core/backup/backup-archive.ts';
import type { Database, Schema } from '../../db/client.ts';
import { createBackupTables, inForeignKeyOrder } from '../../db/backup-tables.ts';
import * as schema from '../../db/schema/index.ts';
import { databaseTargets, freshDatabase, truncateAll } from '../support/test-db.ts';

const drizzleOf = (database: Database) => database.db as PgliteDatabase<Schema>;
const rowsOf = async (database: Database, query: string) =>
  (await drizzleOf(database).execute(sql.raw(query))).rows as Record<string, unknown>[];

/** Every table's rows as PostgreSQL prints them, in UTC, to compare two databases exactly. */
async function contents(database: Database, tables: string[]): Promise<Record<string, string[]>> {
  return drizzleOf(database).transaction(async (tx) => {
    await tx.execute(sql`set local time zone 'UTC'`);
    const out: Record<string, string[]> = {};
    for (const t of tables) {
      const rows = await tx.execute(sql.raw(`select row_to_json(t)::text as r from "${t}" t order by 1`));
      out[t] = (rows.rows as { r: string }[]).map((r) => r.r);
    }
    return out;
  });
}

const T = '2026-03-04 05:06:07.123456+00';

/** One row in every table of today's schema, with microsecond timestamps, arrays, JSON and a sealed-looking value. */
async function seedEveryTable(database: Database): Promise<void> {
  const db = drizzleOf(database);
  const [profileId, certId, deviceId, domainId] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  await db.insert(schema.profiles).values({
    id: profileId,
    name: 'demo',
    directoryUrl: 'https://ca.example/dir',
    keySpec: 'ec-p256',
    contact: ['mailto:a@example.com', 'mailto:b,c@example.com', 'say "hi"'],
    tosAgreed: true,
    accountKeySealed: 'v1.0123456789abcdef.sealed',
    accountUrl: 'https://ca.example/acct/1',
  });
  await db
    .insert(schema.domains)
    .values({ id: domainId, profileId, name: 'www.example.com', challengeType: 'http-01' });
  await db.insert(schema.authorizations).values({
    id: randomUUID(),
    domainId,
    url: 'https://ca.example/authz/1',
    identifier: 'www.example.com',
    status: 'pending',
    challenges: { 'http-01': { url: 'https://ca.example/chall/1', token: 'tok' } },
  });
  await db.insert(schema.certificates).values({
    id: certId,
    name: 'www.example.com',
    profileId,
    commonName: 'www.example.com',
    sans: ['api.example.com'],
    keySpec: 'ec-p256',
    state: 'issued',
    requestedBy: 'test',
    problem: { type: 'urn:x', detail: 'nested "quotes" — and ü', status: 400 },
  });
  await db.insert(schema.devices).values({
    id: deviceId,
    name: 'bigip1',
    url: 'https://bigip.example',
    username: 'admin',
    passwordSealed: 'v1.0123456789abcdef.sealed',
  });
  await db
    .insert(schema.bindings)
    .values({ id: randomUUID(), certificateId: certId, deviceId, profilePath: '/Common/p' });
  await db.insert(schema.deployments).values({
    id: randomUUID(),
    certificateId: certId,
    deviceId,
    serial: '0a',
    objects: { cert: '/Common/c.crt', key: '/Common/c.key', chain: '/Common/c_chain.crt' },
    newFingerprint: 'ff',
    result: 'succeeded',
    step: 'done',
    actor: 'test',
    startedAt: new Date(),
  });
  await db.insert(schema.deviceObjects).values({
    id: randomUUID(),
    deviceId,
    certificateId: certId,
    kind: 'cert',
    fullPath: '/Common/c.crt',
    serial: '0a',
    installedAt: new Date(),
  });
  await db.insert(schema.hookChallenges).values({
    id: randomUUID(),
    domainName: 'www.example.com',
    type: 'http',
    token: 'tok',
    content: 'tok.thumb',
  });
  await db.insert(schema.leases).values({ key: 'renew:x', holder: 'h', expiresAt: new Date() });
  await db.insert(schema.events).values({ kind: 'renewed', certificateId: certId, subject: 's', dedupeKey: 'd1' });
  const approvalId = randomUUID();
  await db.insert(schema.approvals).values({
    id: approvalId,
    kind: 'renewal',
    certificateId: certId,
    state: 'pending',
    requestedBy: 'test',
    requestedAt: new Date(),
  });
  await db
    .insert(schema.approvalMessages)
    .values({ approvalId, channel: 'C0TEST', ts: '1700000000.000100', postedAt: new Date() });
  await db.insert(schema.jobRuns).values({ job: 'renew', lastDetail: { n: [1, 2] } });
  await db.insert(schema.auditLog).values({ actor: 'test', action: 'x', objectType: 'system', result: 'ok' });
  // Microseconds, which a JavaScript Date cannot hold: they must survive anyway.
  for (const t of ['profiles', 'certificates', 'devices', 'domains', 'authorizations']) {
    await db.execute(sql.raw(`update "${t}" set created_at = '${T}'`));
  }
}

describe('foreign-key order', () => {
  it.each([
    ['already ordered', ['a', 'b<a', 'c<b'], ['a', 'b', 'c']],
    ['children first', ['c<b', 'b<a', 'a'], ['a', 'b', 'c']],
    ['a self reference and an outside table are ignored', ['b<b,zz', 'a'], ['b', 'a']],
  ])('%s', (_what, spec, expected) => {
    const tables = spec.map((s) => {
      const [name, parents] = s.split('<');
      return { name: name!, parents: parents ? parents.split(',') : [] };
    });
    expect(inForeignKeyOrder(tables).map((t) => t.name)).toEqual(expected);
  });
  it('refuses a cycle', () => {
    expect(() =>
      inForeignKeyOrder([
        { name: 'a', parents: ['b'] },
        { name: 'b', parents: ['a'] },
      ]),
    ).toThrow(/cycle/);
  });
});

for (const target of databaseTargets) {
  describe(`backup tables on ${target.kind}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await freshDatabase(target.open);
      // A probe table left by an interrupted run would otherwise count as a table the backup misses.
      await drizzleOf(database).execute(sql`drop table if exists backup_value_probe`);
    });
    afterAll(async () => {
      await database?.close();
    });

    it('backs up every table and column the migrated database has (no table of the schema left out)', async () => {
      const inDatabase = await rowsOf(
        database,
        `select table_name as t, array_agg(column_name::text order by ordinal_position) as c
           from information_schema.columns where table_schema = 'public' group by table_name`,
      );
      const tables = createBackupTables(database).tables();
      expect(Object.fromEntries(tables.map((t) => [t.name, [...t.columns].sort()]))).toEqual(
        Object.fromEntries(inDatabase.map((r) => [r.t, [...(r.c as string[])].sort()])),
      );
      // Parents come first, so rows can be inserted in this order.
      const names = tables.map((t) => t.name);
      expect(names.indexOf('profiles')).toBeLessThan(names.indexOf('certificates'));
      expect(names.indexOf('certificates')).toBeLessThan(names.indexOf('bindings'));
      expect(names.indexOf('devices')).toBeLessThan(names.indexOf('bindings'));
    });

    it('restores every table exactly (microseconds, arrays, JSON, serial ids) and moves the sequences on', async () => {
      await truncateAll(database);
      await seedEveryTable(database);
      const tables = createBackupTables(database);
      const names = tables.tables().map((t) => t.name);
      const before = await contents(database, names);
      expect(Object.entries(before).filter(([, rows]) => rows.length === 0)).toEqual([]);
      const rows = await tables.readAll();
      expect(rows.map((r) => r.table)).toEqual(names.flatMap((n) => before[n]!.map(() => n)));

      await truncateAll(database);
      expect(await tables.nonEmptyTables()).toEqual([]);
      await tables.restore(rows);
      expect(await contents(database, names)).toEqual(before);
      expect(before.profiles![0]).toContain('"created_at":"2026-03-04T05:06:07.123456+00:00"');
      // The next audit row and event get new ids, not the restored ones.
      await drizzleOf(database)
        .insert(schema.auditLog)
        .values({ actor: 't', action: 'y', objectType: 'system', result: 'ok' });
      const ids = await rowsOf(database, 'select id from audit_log order by id');
      expect(ids.map((r) => Number(r.id))).toEqual([
        Number(JSON.parse(before.audit_log![0]!).id),
        Number(JSON.parse(before.audit_log![0]!).id) + 1,
      ]);
    });

    it('refuses a target holding rows, inside the restore too, and changes nothing', async () => {
      const tables = createBackupTables(database);
      const rows = await tables.readAll();
      const before = await contents(database, ['profiles', 'audit_log']);
      expect(await tables.nonEmptyTables()).toContain('profiles');
      await expect(tables.restore(rows)).rejects.toMatchObject({ code: 'conflict' });
      expect(await contents(database, ['profiles', 'audit_log'])).toEqual(before);
    });

    it('leaves the target empty when a row fails half-way (one transaction)', async () => {
      const tables = createBackupTables(database);
      const rows = await tables.readAll();
      await truncateAll(database);
      // The certificate now points to a profile that does not exist: its insert fails after the profile's.
      const broken: BackupRow[] = rows.map((r) =>
        r.table === 'certificates'
          ? { ...r, json: r.json.replace(/"profile_id":"[^"]+"/, `"profile_id":"${randomUUID()}"`) }
          : r,
      );
      await expect(tables.restore(broken)).rejects.toThrow();
      expect(await tables.nonEmptyTables()).toEqual([]);
    });

    it('round-trips bytea, timestamps with and without zone, numeric and bigint beyond 2^53 exactly', async () => {
      const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });
      const probe = pgTable('backup_value_probe', {
        id: bigserial('id', { mode: 'bigint' }).primaryKey(),
        at: timestamp('at', { withTimezone: true }),
        local: timestamp('local'),
        bytes: bytea('bytes'),
        doc: jsonb('doc'),
        list: text('list').array(),
        amount: numeric('amount'),
        big: bigint('big', { mode: 'bigint' }),
      });
      await drizzleOf(database).execute(sql`drop table if exists backup_value_probe`);
      await drizzleOf(database).execute(
        sql`create table backup_value_probe (id bigserial primary key, at timestamptz, local timestamp, bytes bytea, doc jsonb, list text[], amount numeric, big bigint)`,
      );
      try {
        await drizzleOf(database).execute(
          sql.raw(`insert into backup_value_probe (id, at, local, bytes, doc, list, amount, big) values
            (9007199254740993, '${T}', '2026-03-04 05:06:07.654321', '\\x00ff0a5c22', '{"a":[1,2.5,"x",null],"b":{"c":"ü"}}',
             array['a','b,c','NULL',null,'{x}'], 12345678901234567890.123456789, 9223372036854775807),
            (9007199254740994, null, null, null, null, null, null, null)`),
        );
        const tables = createBackupTables(database, [probe]);
        const before = await contents(database, ['backup_value_probe']);
        const rows = await tables.readAll();
        await drizzleOf(database).execute(sql`truncate backup_value_probe`);
        await tables.restore(rows);
        expect(await contents(database, ['backup_value_probe'])).toEqual(before);
        expect(before.backup_value_probe![0]).toContain('"big":9223372036854775807');
        const next = await rowsOf(database, `insert into backup_value_probe default values returning id::text as id`);
        expect(next[0]!.id).toBe('9007199254740995');
      } finally {
        await drizzleOf(database).execute(sql`drop table if exists backup_value_probe`);
      }
    });
  });
}

const [pglite, postgres] = [databaseTargets[0]!, databaseTargets[1]];
(postgres ? describe : describe.skip)('backup tables across PGlite and PostgreSQL', () => {
  it('a PGlite backup restores into PostgreSQL, and back, exactly', async () => {
    const a = await freshDatabase(pglite.open);
    const b = await freshDatabase(postgres!.open);
    try {
      await seedEveryTable(a);
      const names = createBackupTables(a)
        .tables()
        .map((t) => t.name);
      const original = await contents(a, names);
      await createBackupTables(b).restore(await createBackupTables(a).readAll());
      expect(await contents(b, names)).toEqual(original);
      await truncateAll(a);
      await createBackupTables(a).restore(await createBackupTables(b).readAll());
      expect(await contents(a, names)).toEqual(original);
    } finally {
      await truncateAll(b);
      await a.close();
      await b.close();
    }
  });
});
