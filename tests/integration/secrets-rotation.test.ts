import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { masterKeyId, createSecretBox, type SecretBox } from '../../core/secrets/secret-box.ts';
import { SEALED_COLUMNS, sealedColumnName } from '../../core/secrets/sealed-columns.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import type { Store } from '../../core/ports/store.ts';
import { openDatabase, type Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { type CliResult, runCli, stepsBudget } from '../support/cli-process.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { sealedValuesOutsideRegistry } from '../support/sealed-scan.ts';
import { startTestCore } from '../support/test-core.ts';
import { postgresUrl, truncateAll } from '../support/test-db.ts';

/**
 * `secrets rotate` / `retire-key` end to end, as an operator runs them: the real CLI on a database filled by a
 * real issuance (Pebble, with EAB and TLS-ALPN-01) and a real deploy (the BIG-IP simulator), killed half-way
 * (BIGIP_ACME_FAILPOINT=secrets_rotate_batch) and resumed. Embedded PGlite rotates DATA_DIR/master.key itself;
 * PostgreSQL takes the new key from MASTER_KEY with the old one in MASTER_KEY_PREVIOUS.
 */

const EAB_KID = 'kid-rotate';
const EAB_KEY = randomBytes(32).toString('base64url');

type Mode = 'file' | 'environment';
const targets: { mode: Mode; label: string }[] = [
  { mode: 'file', label: 'embedded PGlite (DATA_DIR/master.key)' },
  ...(postgresUrl ? [{ mode: 'environment' as const, label: 'PostgreSQL (MASTER_KEY from the environment)' }] : []),
];

/** Every sealed value in the database, keyed `table.column:rowId`. */
async function sealedValues(store: Store): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const c of SEALED_COLUMNS) {
    for (const row of await store.sealedValues.listNotUnder(c, 'no-such-key', null, 10_000)) {
      all.set(`${sealedColumnName(c)}:${row.id}`, row.value);
    }
  }
  return all;
}

/** Opens every sealed value with `box`: the plaintexts, keyed like sealedValues. Throws if one does not open. */
function openAll(values: Map<string, string>, box: SecretBox): Map<string, string> {
  const out = new Map<string, string>();
  for (const [where, value] of values) {
    const [column, id] = where.split(':') as [string, string];
    const c = SEALED_COLUMNS.find((s) => sealedColumnName(s) === column)!;
    out.set(where, box.open(value, secretAad(c.table, id, c.aadColumn)));
  }
  return out;
}

const keyIdsOf = (values: Map<string, string>) => [...values.values()].map((v) => v.split('.')[1]);

for (const target of targets) {
  describeWithPebble(`secrets rotate on ${target.label}`, () => {
    const pebble = usePebble({ authzReuse: 0, eabKeys: { [EAB_KID]: EAB_KEY } });
    const oldKey = randomBytes(32).toString('base64');
    // The environment's new key; in embedded mode the CLI generates it and the test reads master.key.
    let newKey = randomBytes(32).toString('base64');
    let dir: string;
    let sim: BigIpSimulator;
    let certName: string;
    let plaintexts: Map<string, string>;

    const open = (): Promise<Database> =>
      target.mode === 'file' ? openDatabase({ dataDir: join(dir, 'data') }) : openDatabase({ url: postgresUrl! });
    const withStore = async <T>(fn: (store: Store, database: Database) => Promise<T>): Promise<T> => {
      const database = await open();
      try {
        return await fn(createDrizzleStore(database), database);
      } finally {
        await database.close();
      }
    };
    const snapshot = () => withStore(sealedValues);

    /** The CLI's environment: the keys as the operator would set them at each stage. */
    const cli = (args: string[], keys: { primary?: string; previous?: string } = {}, extra = {}): Promise<CliResult> =>
      runCli(args, {
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'warn',
        ...(target.mode === 'environment' ? { DATABASE_URL: postgresUrl! } : {}),
        ...(keys.primary ? { MASTER_KEY: keys.primary } : {}),
        ...(keys.previous ? { MASTER_KEY_PREVIOUS: keys.previous } : {}),
        ...extra,
      });
    /** The keys after the operator's step 1: new primary, old previous (embedded: the files, nothing to set). */
    const rotating = () => (target.mode === 'file' ? {} : { primary: newKey, previous: oldKey });
    /** After step 4: the new key alone. */
    const current = () => (target.mode === 'file' ? {} : { primary: newKey });

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'secrets-rotation-'));
      sim = await startBigIpSimulator();
      sim.addProfile('/Common/acme_rot', { defaultsFrom: '/Common/clientssl' });
      if (target.mode === 'file') {
        const data = join(dir, 'data');
        rmSync(data, { recursive: true, force: true });
        mkdirSync(data, { mode: 0o700 });
        writeFileSync(join(data, 'master.key'), `${oldKey}\n`, { mode: 0o600 });
      }
      await withStore(async (store, database) => {
        await database.migrate();
        if (target.mode === 'environment') await truncateAll(database);
        const core = await startTestCore(database, pebble(), oldKey);
        try {
          const s = core.services;
          await s.profiles.create(
            {
              name: 'rot',
              server: pebble().directoryUrl,
              keySpec: 'ec-p256',
              acceptTos: true,
              eab: { kid: EAB_KID, hmacKey: EAB_KEY },
            },
            'test',
          );
          await s.domains.add('rot', ['tls.rot.example.test'], 'tls-alpn-01', 'test');
          await s.domains.add('rot', ['api.rot.example.test'], 'http-01', 'test');
          await s.domains.setEndpoint(
            { name: 'api.rot.example.test' },
            { url: 'https://127.0.0.1:9/hook', username: 'hook', password: 'endpoint-password-1' },
            'test',
          );
          // A DNS-01 domain's TSIG secret (domain dns set --rfc2136); no update is sent here.
          await s.domains.add('rot', ['dns.rot.example.test'], 'dns-01', 'test');
          await s.domains.setDnsRfc2136(
            { name: 'dns.rot.example.test' },
            {
              server: '127.0.0.1:53',
              keyName: 'acme-rot',
              algorithm: 'hmac-sha256',
              secret: randomBytes(32).toString('base64'),
            },
            'test',
          );
          const cert = await s.certificates.request({ profile: 'rot', commonName: 'tls.rot.example.test' }, 'test');
          expect(cert.state).toBe('issued');
          certName = cert.name;
          await s.devices.add(
            { name: 'bigip1', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
            'test',
          );
          await s.bindings.add({ certificate: certName, device: 'bigip1', profile: 'acme_rot' }, 'test');
          expect((await s.deploys.deploy(certName, {}, 'test')).ok).toBe(true);
          const hookId = randomUUID();
          await store.hookChallenges.replace('hook.rot.example.test', [
            {
              id: hookId,
              domainName: 'hook.rot.example.test',
              type: 'tls',
              content: 'not a certificate; only its sealed key matters here',
              token: null,
              keySealed: core.deps.secrets.seal('hook key', secretAad('hook_challenges', hookId, 'key')),
              createdAt: new Date(),
            },
          ]);
          // What `cert revoke --reissue --reason keyCompromise` keeps while its replacement is on the way: the
          // old key, moved over unchanged (sealed for the row's `key`), to sign the revocation with.
          const issued = (await store.certificates.findByName(certName))!;
          await store.certificates.update(issued.id, { pendingRevocationKeySealed: issued.keySealed });
        } finally {
          await core.close();
        }
        // Every value that looks sealed lives in a registered column, so the rotation reaches all of them.
        expect(await sealedValuesOutsideRegistry(database)).toEqual([]);
      });
      const values = await snapshot();
      // Every kind of sealed column holds at least one value, so the rotation is shown on each (but a renewal's
      // key, which exists only while a renewal is in flight).
      expect(new Set([...values.keys()].map((k) => k.split(':')[0])).size).toBe(SEALED_COLUMNS.length - 1);
      plaintexts = openAll(values, createSecretBox(oldKey));
    }, stepsBudget(4));

    afterAll(async () => {
      await sim?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it(
      'refuses a wrong or malformed key, a key file others can read, and a retire of a key in use; nothing changes',
      async () => {
        const before = await snapshot();
        const wrong = randomBytes(32).toString('base64');
        if (target.mode === 'environment') {
          const onlyNew = await cli(['secrets', 'rotate'], { primary: newKey });
          expect(onlyNew.code, onlyNew.stderr).toBe(2);
          expect(onlyNew.stderr).toContain(`sealed under keys this process cannot open (`);
          expect(onlyNew.stderr).toContain(`under ${masterKeyId(oldKey)}`);
          expect(onlyNew.stderr).toContain('nothing changed');
          const view = await cli(['secrets', 'status'], { primary: newKey });
          expect(view.code, view.stderr).toBe(0);
          expect(view.stdout).toContain('UNKNOWN (cannot open)');
          expect(view.stdout).toContain(
            `this process cannot open values sealed under ${masterKeyId(oldKey)}: give it that key in MASTER_KEY_PREVIOUS`,
          );

          const oneKey = await cli(['--json', 'secrets', 'rotate'], { primary: oldKey });
          expect(oneKey.code).toBe(2);
          expect(JSON.parse(oneKey.stdout).error.code).toBe('config_invalid');
          expect(JSON.parse(oneKey.stdout).error.message).toContain('MASTER_KEY_PREVIOUS');

          const wrongPrevious = await cli(['secrets', 'rotate'], { primary: newKey, previous: wrong });
          expect(wrongPrevious.code).toBe(2);
          expect(wrongPrevious.stderr).toContain(masterKeyId(oldKey));
        } else {
          const previousFile = join(dir, 'data', 'master.key.previous');
          writeFileSync(previousFile, 'not-a-key\n', { mode: 0o600 });
          const malformedFile = await cli(['secrets', 'rotate']);
          expect(malformedFile.code).toBe(2);
          expect(malformedFile.stderr).toContain('master.key.previous line 1 is not a base64-encoded 32-byte key');
          writeFileSync(previousFile, `${wrong}\n`);
          chmodSync(previousFile, 0o644);
          const readable = await cli(['secrets', 'rotate']);
          expect(readable.code).toBe(2);
          expect(readable.stderr).toContain('readable or writable by group/other (mode 644)');
          rmSync(previousFile);
        }
        const malformed = await cli(['secrets', 'rotate'], { ...rotating(), previous: 'c2hvcnQ=' });
        expect(malformed.code).toBe(2);
        expect(malformed.stderr).toContain('MASTER_KEY_PREVIOUS must be a comma-separated list of base64 32-byte keys');
        expect(malformed.stderr).not.toContain('c2hvcnQ');

        const retireInUse = await cli(['secrets', 'retire-key', masterKeyId(oldKey)], {
          primary: oldKey,
        });
        expect(retireInUse.code).toBe(2);
        expect(retireInUse.stderr).toContain('is the primary key');
        const badId = await cli(['secrets', 'retire-key', 'not-a-key-id'], { primary: oldKey });
        expect(badId.code).toBe(2);
        expect(badId.stderr).toContain('a key id is 16 lower-case hex digits');

        expect(await snapshot()).toEqual(before);
        if (target.mode === 'file') expect(readFileSync(join(dir, 'data', 'master.key'), 'utf8')).toBe(`${oldKey}\n`);
      },
      stepsBudget(8),
    );

    it(
      'a rotation killed half-way resumes; every value opens under the new key and none is lost',
      async () => {
        const killed = await cli(['secrets', 'rotate', '--batch-size', '2'], rotating(), {
          BIGIP_ACME_FAILPOINT: 'secrets_rotate_batch',
        });
        expect(killed.signal).toBe('SIGKILL');
        // Killed right after its first batch was committed (a batch never spans two columns).
        const firstBatch = /re-sealed (\d+)\/(\d+)/.exec(killed.stderr);
        expect(firstBatch, killed.stderr).not.toBeNull();
        const done = Number(firstBatch![1]);
        if (target.mode === 'file') {
          newKey = readFileSync(join(dir, 'data', 'master.key'), 'utf8').trim();
          expect(readFileSync(join(dir, 'data', 'master.key.previous'), 'utf8')).toBe(`${oldKey}\n`);
        }
        const half = await snapshot();
        const ids = keyIdsOf(half);
        expect(done).toBeGreaterThanOrEqual(1);
        expect(done).toBeLessThan(half.size);
        expect(Number(firstBatch![2])).toBe(half.size);
        expect(ids.filter((id) => id === masterKeyId(newKey))).toHaveLength(done);
        expect(ids.filter((id) => id === masterKeyId(oldKey))).toHaveLength(half.size - done);
        // Both keys open the half-rotated database, so it serves on as it is.
        expect(openAll(half, createSecretBox(newKey, [oldKey]))).toEqual(plaintexts);

        // A process without the new key (a replica nobody updated) fails clearly on re-sealed values.
        const moved = new Map([...half].filter(([, v]) => v.split('.')[1] === masterKeyId(newKey)));
        expect(() => openAll(moved, createSecretBox(oldKey))).toThrow(
          `was sealed with key ${masterKeyId(newKey)}, which is neither MASTER_KEY (${masterKeyId(oldKey)}) nor a configured previous key`,
        );

        const retireEarly = await cli(['secrets', 'retire-key', masterKeyId(oldKey)], rotating());
        expect(retireEarly.code).toBe(2);
        expect(retireEarly.stderr).toContain(
          `value(s) are still sealed under key ${masterKeyId(oldKey)}; nothing changed`,
        );
        expect(retireEarly.stderr).toContain('bigip-acme secrets rotate');
        expect(await snapshot()).toEqual(half);

        const resumed = await cli(['--json', 'secrets', 'rotate'], rotating());
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(JSON.parse(resumed.stdout)).toEqual({
          keyId: masterKeyId(newKey),
          generated: null,
          resealed: half.size - done,
          changedMeanwhile: 0,
          remaining: 0,
          retirable: [masterKeyId(oldKey)],
        });
        const after = await snapshot();
        expect(new Set(keyIdsOf(after))).toEqual(new Set([masterKeyId(newKey)]));
        // A replica nobody gave the new key: a clear error naming both keys, and it writes nothing.
        const stale = await cli(['device', 'test', 'bigip1'], { primary: oldKey });
        expect(stale.code).toBe(1);
        expect(stale.stderr).toContain(
          `was sealed with key ${masterKeyId(newKey)}, which is neither MASTER_KEY (${masterKeyId(oldKey)}) nor a configured previous key`,
        );
        expect(await snapshot()).toEqual(after);
        expect([...after.keys()]).toEqual([...half.keys()]);
        expect(openAll(after, createSecretBox(newKey))).toEqual(plaintexts);

        const status = await cli(['--json', 'secrets', 'status'], rotating());
        expect(JSON.parse(status.stdout)).toMatchObject({
          source: target.mode,
          primaryKeyId: masterKeyId(newKey),
          total: after.size,
          keys: [
            { keyId: masterKeyId(newKey), role: 'primary', values: after.size },
            { keyId: masterKeyId(oldKey), role: 'previous', values: 0 },
          ],
        });
        // Key ids only: no key, and no sealed value, is ever printed.
        for (const r of [killed, resumed, status]) {
          for (const secret of [oldKey, newKey, ...plaintexts.values()])
            expect(r.stdout + r.stderr).not.toContain(secret);
          expect(r.stdout + r.stderr).not.toMatch(/v1\.[0-9a-f]{16}\./);
        }
      },
      stepsBudget(5),
    );

    it(
      'after retire-key the old key opens nothing; the service issues (TLS-ALPN-01 at Pebble) and deploys with the new key alone',
      async () => {
        const retired = await cli(['secrets', 'retire-key', masterKeyId(oldKey)], rotating());
        expect(retired.code, retired.stderr).toBe(0);
        if (target.mode === 'file') {
          expect(readFileSync(join(dir, 'data', 'master.key.previous'), 'utf8')).toBe('');
          expect(retired.stdout).toContain('removed from DATA_DIR/master.key.previous');
        } else {
          expect(retired.stdout).toContain('now remove it from MASTER_KEY_PREVIOUS on every process');
        }
        const status = await cli(['--json', 'secrets', 'status'], current());
        expect(JSON.parse(status.stdout).keys.map((k: { keyId: string }) => k.keyId)).toEqual([masterKeyId(newKey)]);
        const audit = await cli(['--json', 'audit', '--action', 'secrets'], current());
        expect(JSON.parse(audit.stdout).map((e: { action: string }) => e.action)).toEqual(
          expect.arrayContaining(['secrets.retire_key', 'secrets.rotate']),
        );

        // The new key alone: the account key, the TLS-ALPN-01 key the responder presents to Pebble, the device
        // password and the key passphrase all open. Embedded, `cert renew` answers the challenges itself; on
        // PostgreSQL the service's responder does (here one in this process), as in production.
        const acme = {
          ACME_CA_FILE: pebble().caFile,
          CHALLENGE_DNS_SERVERS: pebble().dnsServer,
          CHALLENGE_HTTP_PORT: String(pebble().httpPort),
          CHALLENGE_TLS_PORT: String(pebble().tlsPort),
          RESPONDER_HOST: '127.0.0.1',
          RESPONDER_PORT: String(pebble().httpPort),
          TLS_ALPN_PORT: String(pebble().tlsPort),
        };
        const renewed =
          target.mode === 'file'
            ? await cli(['cert', 'renew', certName], current(), acme)
            : await withStore(async (_store, database) => {
                const responder = await startTestCore(database, pebble(), newKey);
                try {
                  return await cli(['cert', 'renew', certName], current(), acme);
                } finally {
                  await responder.close();
                }
              });
        expect(renewed.code, renewed.stderr).toBe(0);
        expect(renewed.stdout).toMatch(/state\s+issued/);
        const deploy = await cli(['--json', 'cert', 'deploy', certName], current());
        expect(deploy.code, deploy.stderr).toBe(0);
        expect(JSON.parse(deploy.stdout).devices.map((d: { result: string }) => d.result)).toEqual(['succeeded']);
        const final = await snapshot();
        expect(new Set(keyIdsOf(final))).toEqual(new Set([masterKeyId(newKey)]));
      },
      stepsBudget(6),
    );
  });
}
