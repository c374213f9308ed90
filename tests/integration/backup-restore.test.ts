import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBackupTables } from '../../db/backup-tables.ts';
import { type Database, openDatabase, type Schema } from '../../db/client.ts';
import { assertProfilesConsistent } from '../bigip/deploy-harness.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { type CliService, runCli, startCliService, stepsBudget } from '../support/cli-process.ts';
import { retryOnPortClash } from '../support/free-port.ts';
import { describeWithPebble, pebbleEnv, usePebble } from '../support/pebble.ts';
import { postgresUrl } from '../support/test-db.ts';

const PROFILE = '/Common/acme_shop';
const NAME = 'shop.backup.test';

/** Every row of every table as PostgreSQL prints it (UTC), to prove a refused restore changed nothing. */
async function contents(target: { dataDir: string } | { url: string }): Promise<Record<string, string[]>> {
  const database: Database = await openDatabase(target);
  try {
    const db = database.db as PgliteDatabase<Schema>;
    return await db.transaction(async (tx) => {
      await tx.execute(sql`set local time zone 'UTC'`);
      const out: Record<string, string[]> = {};
      for (const t of createBackupTables(database).tables()) {
        const rows = await tx.execute(sql.raw(`select row_to_json(t)::text as r from "${t.name}" t order by 1`));
        out[t.name] = (rows.rows as { r: string }[]).map((r) => r.r);
      }
      return out;
    });
  } finally {
    await database.close();
  }
}

describeWithPebble('backup and restore through the CLI: PGlite → PostgreSQL → a new DATA_DIR', () => {
  const pebble = usePebble({ authzReuse: 0 });
  const masterKey = randomBytes(32).toString('base64');
  let dir: string;
  let sim: BigIpSimulator;
  const scratchDatabases: string[] = [];
  let admin: pg.Client | undefined;

  const base = () => ({
    MASTER_KEY: masterKey,
    LOG_LEVEL: 'warn',
    RESPONDER_HOST: '127.0.0.1',
    RESPONDER_PORT: String(pebble().httpPort),
    ...pebbleEnv(pebble()),
  });
  const embedded = (name: string) => ({ ...base(), DATA_DIR: join(dir, name) });
  const postgres = (url: string) => ({ ...base(), DATABASE_URL: url, DATA_DIR: join(dir, 'unused') });

  async function cli(args: string[], env: Record<string, string>, expected = 0) {
    const r = await runCli(['--json', ...args], env);
    expect(r.code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(expected);
    return JSON.parse(r.stdout) as Record<string, unknown> & { error?: { code: string; message: string } };
  }

  /** An empty PostgreSQL database of this test's own, dropped afterwards. */
  async function emptyPostgres(): Promise<string> {
    const name = `bigip_acme_backup_e2e_${randomBytes(4).toString('hex')}`;
    await admin!.query(`create database ${name}`);
    scratchDatabases.push(name);
    const url = new URL(postgresUrl!);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** A new serial, the same name, deployed: what a restored install must be able to do. */
  async function renewAndDeploy(env: Record<string, string>, serialBefore: string) {
    const shown = await cli(['cert', 'show', certName], env);
    expect(shown).toMatchObject({ name: certName, commonName: NAME, serial: serialBefore, state: 'issued' });
    const renewed = await cli(['cert', 'renew', certName], env);
    expect(renewed.serial).toEqual(expect.any(String));
    expect(renewed.serial).not.toBe(serialBefore);
    const deployed = await cli(['cert', 'deploy', certName], env);
    expect(deployed).toMatchObject({ ok: true, serial: renewed.serial });
    expect(Object.values(assertProfilesConsistent(sim, [PROFILE]))).toEqual([renewed.serial]);
    return renewed.serial as string;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backup-e2e-'));
    sim = await startBigIpSimulator();
    sim.addProfile(PROFILE, { defaultsFrom: '/Common/clientssl' });
    writeFileSync(join(dir, 'device.pw'), sim.password);
    writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
    if (postgresUrl) {
      admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
    }
  });
  afterAll(async () => {
    await sim?.close();
    for (const name of scratchDatabases) await admin?.query(`drop database if exists ${name} with (force)`);
    await admin?.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let archive: string;
  let firstSerial: string;
  let certName: string;

  it(
    'backs up an embedded install that issued and deployed a certificate',
    async () => {
      const env = embedded('source');
      await cli(
        [
          'profile',
          'create',
          'demo',
          '--server',
          pebble().directoryUrl,
          '--contact',
          'ops@example.com',
          '--accept-tos',
        ],
        env,
      );
      await cli(['domain', 'add', NAME, '--profile', 'demo'], env);
      const issued = await cli(['cert', 'request', '--profile', 'demo', '--cn', NAME], env);
      firstSerial = issued.serial as string;
      certName = issued.name as string;
      await cli(
        ['device', 'add', 'bigip1', '--url', sim.url, '--username', sim.username].concat([
          '--password-file',
          join(dir, 'device.pw'),
          '--ca-file',
          join(dir, 'ca.pem'),
        ]),
        env,
      );
      await cli(['binding', 'add', '--cert', certName, '--device', 'bigip1', '--profile', PROFILE], env);
      await cli(['cert', 'deploy', certName], env);
      expect(Object.values(assertProfilesConsistent(sim, [PROFILE]))).toEqual([firstSerial]);

      archive = join(dir, 'source.bak');
      const created = await cli(['backup', 'create', archive], env);
      expect(statSync(archive).mode & 0o777).toBe(0o600);
      expect(created).toMatchObject({ database: 'pglite', keyIds: [expect.stringMatching(/^[0-9a-f]{16}$/)] });
      expect((created.tables as Record<string, number>).certificates).toBe(1);
      expect((created.tables as Record<string, number>).deployments).toBe(1);
      const text = gunzipSync(readFileSync(archive)).toString();
      expect(text).not.toContain(masterKey);
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(sim.password);
    },
    stepsBudget(8),
  );

  it(
    'refuses a truncated, tampered or foreign file, and a wrong master key, before creating anything',
    async () => {
      const bytes = readFileSync(archive);
      const truncated = join(dir, 'truncated.bak');
      writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
      const tampered = join(dir, 'tampered.bak');
      writeFileSync(tampered, gzipSync(gunzipSync(bytes).toString().replace('"name":"bigip1"', '"name":"bigip2"')));
      const foreign = join(dir, 'notes.txt');
      writeFileSync(foreign, 'just some notes\n');
      const target = embedded('never');
      for (const [file, message] of [
        [truncated, /is cut short \(truncated\?\)/],
        [tampered, /checksum does not match its content/],
        [foreign, /is not a bigip-acme backup/],
      ] as const) {
        const refused = await cli(['backup', 'restore', file], target, 2);
        expect(refused.error).toMatchObject({ code: 'input_invalid', message: expect.stringMatching(message) });
      }
      const otherKey = randomBytes(32).toString('base64');
      const wrongKey = await cli(['backup', 'restore', archive], { ...target, MASTER_KEY: otherKey }, 2);
      expect(wrongKey.error).toMatchObject({
        code: 'config_invalid',
        message: expect.stringMatching(/sealed with master key [0-9a-f]{16}, but this install's master key is/),
      });
      const noKey = { ...target } as Record<string, string>;
      delete noKey.MASTER_KEY;
      const missingKey = await cli(['backup', 'restore', archive], noKey, 2);
      expect(missingKey.error!.message).toMatch(/no master key is set here/);
      expect(existsSync(target.DATA_DIR)).toBe(false);
      const verified = await cli(['backup', 'verify', tampered], target, 2);
      expect(verified.error!.code).toBe('input_invalid');
    },
    stepsBudget(7),
  );

  it(
    'refuses a non-empty target and changes nothing in it',
    async () => {
      const source = embedded('source');
      const before = await contents({ dataDir: source.DATA_DIR });
      const refused = await cli(['backup', 'restore', archive], source, 2);
      expect(refused.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('is not empty') });
      expect(await contents({ dataDir: source.DATA_DIR })).toEqual(before);
    },
    stepsBudget(2),
  );

  it(
    'refuses to restore into a DATA_DIR a running service holds; backup create is forwarded to that service',
    async () => {
      const held = embedded('held');
      let service: CliService | undefined;
      try {
        service = await retryOnPortClash(async (port) =>
          startCliService(['serve'], { ...held, RESPONDER_PORT: String(port), LOG_LEVEL: 'info' }, [
            'responder listening',
          ]),
        );
        const refused = await cli(['backup', 'restore', archive], held, 2);
        expect(refused.error).toMatchObject({
          code: 'conflict',
          message: expect.stringMatching(/in use by process \d+/),
        });
        const created = await cli(['backup', 'create', join(dir, 'held.bak')], held);
        expect(created).toMatchObject({ database: 'pglite' });
        expect(service.log()).toContain('"argv":["backup","create"]');
      } finally {
        await service?.stop();
      }
      expect((await contents({ dataDir: held.DATA_DIR })).profiles).toEqual([]);
    },
    stepsBudget(4),
  );

  it(
    'restores into an empty database of the other kind, which renews and deploys the same certificate',
    async () => {
      if (!postgresUrl) {
        // Without PostgreSQL the round trip is PGlite → a new DATA_DIR.
        const target = embedded('copy');
        const restored = await cli(['backup', 'restore', archive], target);
        expect(restored).toMatchObject({ database: 'pglite' });
        await renewAndDeploy(target, firstSerial);
        return;
      }
      const url = await emptyPostgres();
      const target = postgres(url);
      const restored = await cli(['backup', 'restore', archive], target);
      expect(restored).toMatchObject({ database: 'pglite', rows: expect.any(Number) });
      const restoredRows = await contents({ url });
      const again = await cli(['backup', 'restore', archive], target, 2);
      expect(again.error!.code).toBe('conflict');
      expect(await contents({ url })).toEqual(restoredRows);

      // On PostgreSQL the CLI serves no challenges: the service's responder does.
      const responder = await startCliService(['serve', '--role', 'responder'], { ...target, LOG_LEVEL: 'info' }, [
        'responder listening',
      ]);
      let renewedSerial: string;
      try {
        renewedSerial = await renewAndDeploy(target, firstSerial);
      } finally {
        await responder.stop();
      }
      const fromPostgres = join(dir, 'postgres.bak');
      const created = await cli(['backup', 'create', fromPostgres], target);
      expect(created).toMatchObject({ database: 'postgres' });

      const back = embedded('from-postgres');
      await cli(['backup', 'restore', fromPostgres], back);
      await renewAndDeploy(back, renewedSerial);
    },
    stepsBudget(16),
  );
});
