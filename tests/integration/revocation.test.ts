import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generatePrivateKey } from '../../core/domain/key-spec.ts';
import { accountOf } from '../../core/services/core-deps.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { assertProfilesConsistent } from '../bigip/deploy-harness.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { type CliResult, runCli, stepsBudget } from '../support/cli-process.ts';
import { describeWithPebble, pebbleCertStatus, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { postgresUrl, truncateAll } from '../support/test-db.ts';

/**
 * Issue 14, revocation, end to end: the real CLI (`bin/bigip-acme cert revoke`) as a process against Pebble
 * and the BIG-IP simulator, on embedded PGlite and on PostgreSQL. Pebble's management API is the witness of
 * what the CA recorded (`/cert-status-by-serial/<serial>`); the simulator says what the BIG-IP serves.
 */

/** The CLI's actor: the OS user running it. */
const ACTOR = `cli:${userInfo().username}`;

type DbEnv = { DATA_DIR: string } | { DATABASE_URL: string };

const targets: { kind: string; db: () => DbEnv | null }[] = [
  { kind: 'embedded PGlite', db: () => ({ DATA_DIR: mkdtempSync(join(tmpdir(), 'bigip-acme-revoke-')) }) },
  ...(postgresUrl ? [{ kind: 'PostgreSQL', db: () => ({ DATABASE_URL: postgresUrl! }) }] : []),
];

for (const target of targets) {
  describeWithPebble(`cert revoke against Pebble and a BIG-IP, on ${target.kind}`, () => {
    const pebble = usePebble({ authzReuse: 0 });
    const masterKey = randomBytes(32).toString('base64');
    let db: DbEnv;
    let sim: BigIpSimulator;
    const serials: Record<string, string> = {};

    /** The core in this process, on the same database (on PGlite only while no CLI runs: one opener at a time). */
    async function withCore<T>(fn: (core: TestCore) => Promise<T>): Promise<T> {
      const database: Database =
        'DATA_DIR' in db ? await openDatabase({ dataDir: db.DATA_DIR }) : await openDatabase({ url: db.DATABASE_URL });
      try {
        await database.migrate();
        const core = await startTestCore(database, pebble(), masterKey);
        try {
          return await fn(core);
        } finally {
          await core.close();
        }
      } finally {
        await database.close();
      }
    }

    /**
     * The CLI as an operator runs it. On PGlite it serves HTTP-01 itself (a reissue orders a certificate); on
     * PostgreSQL CLI commands start no listeners, so the service's responder (here: this process's) answers.
     */
    async function cli(...args: string[]): Promise<CliResult & { body: unknown }> {
      const p = pebble();
      const env = {
        ...db,
        MASTER_KEY: masterKey,
        ACME_CA_FILE: p.caFile,
        RESPONDER_HOST: '127.0.0.1',
        RESPONDER_PORT: String(p.httpPort),
        CHALLENGE_HTTP_PORT: String(p.httpPort),
        CHALLENGE_DNS_SERVERS: p.dnsServer,
        LOG_LEVEL: 'warn',
      };
      const run = () => runCli(['--json', ...args], env);
      const result = 'DATA_DIR' in db ? await run() : await withCore(run);
      let body: unknown = null;
      try {
        body = JSON.parse(result.stdout);
      } catch {
        // asserted by the caller through `code` and `stdout`
      }
      return { ...result, body };
    }

    const serving = (profile: string) => assertProfilesConsistent(sim, [profile])[profile];

    beforeAll(async () => {
      db = target.db()!;
      sim = await startBigIpSimulator();
      for (const p of ['/Common/acme_a', '/Common/acme_b', '/Common/acme_c'])
        sim.addProfile(p, { defaultsFrom: '/Common/clientssl' });
      if ('DATABASE_URL' in db) {
        const database = await openDatabase({ url: db.DATABASE_URL });
        await database.migrate();
        await truncateAll(database);
        await database.close();
      }
      await withCore(async (core) => {
        const s = core.services;
        await s.profiles.create(
          { name: 'rv', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
          't',
        );
        await s.domains.add('rv', ['a.rv.example.test', 'b.rv.example.test', 'c.rv.example.test'], 'http-01', 't');
        await s.devices.add(
          { name: 'lb', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
          't',
        );
        for (const n of ['a', 'b', 'c']) {
          const c = await s.certificates.request({ profile: 'rv', commonName: `${n}.rv.example.test` }, 't');
          expect(c.state).toBe('issued');
          serials[n] = c.serial!;
          await s.bindings.add({ certificate: c.name, device: 'lb', profile: `/Common/acme_${n}` }, 't');
          expect((await s.deploys.deploy(c.name, {}, 't')).ok).toBe(true);
        }
      });
    }, stepsBudget(4));

    afterAll(async () => {
      await sim?.close();
      if (db && 'DATA_DIR' in db) rmSync(db.DATA_DIR, { recursive: true, force: true });
    });

    it(
      'bad input is refused with a clear error and nothing changes: unknown name, unknown or hold reason, no reason',
      async () => {
        const unknown = await cli('cert', 'revoke', 'nope.rv.example.test', '--reason', 'superseded');
        expect(unknown.code).toBe(2);
        expect(unknown.body).toMatchObject({ error: { code: 'not_found' } });
        expect((unknown.body as { error: { message: string } }).error.message).toContain(
          'no certificate named "nope.rv.example.test" (see: bigip-acme cert list)',
        );

        const hold = await cli('cert', 'revoke', 'a.rv.example.test', '--reason', 'certificateHold');
        expect(hold.code).toBe(2);
        expect(hold.body).toMatchObject({ error: { code: 'input_invalid' } });
        expect((hold.body as { error: { message: string } }).error.message).toMatch(
          /^certificateHold is not a revocation ACME CAs accept .*use one of unspecified, keyCompromise, .*aACompromise$/,
        );

        const wrong = await cli('cert', 'revoke', 'a.rv.example.test', '--reason', 'stolen');
        expect(wrong.code).toBe(2);
        expect((wrong.body as { error: { message: string } }).error.message).toContain(
          '"stolen" is not a revocation reason; use one of unspecified, keyCompromise',
        );

        const none = await cli('cert', 'revoke', 'a.rv.example.test');
        expect(none.code).toBe(2);
        expect(none.body).toMatchObject({ error: { code: 'usage' } });

        // Nothing changed: not at the CA, not on the row, not in the audit log, not on the BIG-IP.
        expect(await pebbleCertStatus(pebble(), serials.a!)).toMatchObject({ Status: 'Valid' });
        await withCore(async (core) => {
          const row = await core.store.certificates.findByName('a.rv.example.test');
          expect(row).toMatchObject({ serial: serials.a, revokedSerial: null, revokedAt: null, revokedBy: null });
          expect(await core.services.activity.audit({ action: 'certificate.revoke', limit: 50 })).toEqual([]);
        });
        expect(serving('/Common/acme_a')).toBe(serials.a);
      },
      stepsBudget(6),
    );

    it(
      'revokes with the account key; the BIG-IP keeps serving it until the renew and deploy jobs replace it',
      async () => {
        const revoked = await cli('cert', 'revoke', 'a.rv.example.test', '--reason', 'superseded');
        expect(revoked.code, revoked.stderr).toBe(0);
        expect(revoked.body).toMatchObject({
          outcome: 'revoked',
          serial: serials.a,
          reason: 'superseded',
          signedWith: 'account',
          replacement: null,
          certificate: { revokedSerial: serials.a, revocationReason: 'superseded', revokedBy: ACTOR },
        });
        expect(await pebbleCertStatus(pebble(), serials.a!)).toMatchObject({ Status: 'Revoked', Reason: 4 });
        expect(serving('/Common/acme_a')).toBe(serials.a);

        const show = await cli('cert', 'show', 'a.rv.example.test');
        expect(show.body).toMatchObject({
          serial: serials.a,
          revokedSerial: serials.a,
          revocationReason: 'superseded',
        });
        const list = await cli('cert', 'list');
        expect(list.body).toEqual(
          expect.arrayContaining([expect.objectContaining({ name: 'a.rv.example.test', revokedSerial: serials.a })]),
        );

        const again = await cli('cert', 'revoke', 'a.rv.example.test', '--reason', 'keyCompromise');
        expect(again.code).toBe(2);
        expect(again.body).toMatchObject({ error: { code: 'conflict' } });
        const refusal = (again.body as { error: { message: string } }).error.message;
        expect(refusal).toMatch(/ \(serial [0-9a-f]+\) was already revoked at \S+ \(superseded, by /);
        expect(refusal).toContain(
          `by ${ACTOR}); nothing changed; issue its replacement with: bigip-acme cert renew a.rv.example.test`,
        );

        // A revoked certificate still bound is renewed by the next renew run and deployed at once.
        await withCore(async (core) => {
          expect((await core.services.activity.audit({ action: 'certificate.revoke', limit: 50 })).length).toBe(1);
          // The gateway: revoking again is `already_revoked`, not an error; a key that is not the certificate's is refused.
          const profile = (await core.store.profiles.findByName('rv'))!;
          const old = (await core.store.certificates.findByName('a.rv.example.test'))!;
          expect(await core.deps.acme.revokeCertificate(accountOf(core.deps, profile), old.chainPem!, 4)).toBe(
            'already_revoked',
          );
          const other = (await core.store.certificates.findByName('c.rv.example.test'))!;
          await expect(
            core.deps.acme.revokeCertificateWithKey(
              profile.directoryUrl,
              other.chainPem!,
              await generatePrivateKey('ec-p256'),
              1,
            ),
          ).rejects.toMatchObject({ code: 'acme_error' });
          expect(await pebbleCertStatus(pebble(), serials.c!)).toMatchObject({ Status: 'Valid' });
          const revokedHealth = (await core.services.status.summary()).certificates;
          expect(revokedHealth).toContainEqual(
            expect.objectContaining({ name: 'a.rv.example.test', concern: 'revoked', level: 'degraded' }),
          );
          const sweep = await core.services.renewals.sweep();
          expect(sweep.renewed).toContain('a.rv.example.test');
          const renewed = (await core.store.certificates.findByName('a.rv.example.test'))!;
          expect(renewed.serial).not.toBe(serials.a);
          expect(renewed.revokedSerial).toBe(serials.a);
          const deployed = await core.services.autoDeploy.run();
          expect(deployed.deployed).toContain('a.rv.example.test@lb');
          expect(serving('/Common/acme_a')).toBe(renewed.serial);
          const after = (await core.services.status.summary()).certificates;
          expect(after.filter((c) => c.name === 'a.rv.example.test')).toEqual([]);
        });
      },
      stepsBudget(5),
    );

    it(
      '--reissue with keyCompromise: the replacement is ordered and deployed first, then the old one revoked with its own key',
      async () => {
        const r = await cli('cert', 'revoke', 'b.rv.example.test', '--reason', 'key-compromise', '--reissue');
        expect(r.code, r.stderr).toBe(0);
        // The certificate's key signed the request; neither it nor any sealed value reaches the output.
        expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY|Sealed"|"v1\./);
        const body = r.body as { replacement: { serial: string }; signedWith: string };
        expect(body).toMatchObject({ outcome: 'revoked', serial: serials.b, reason: 'keyCompromise' });
        expect(body.signedWith).toBe('certificate_key');
        expect(body.replacement.serial).not.toBe(serials.b);
        expect(await pebbleCertStatus(pebble(), serials.b!)).toMatchObject({ Status: 'Revoked', Reason: 1 });
        expect(await pebbleCertStatus(pebble(), body.replacement.serial)).toMatchObject({ Status: 'Valid' });
        expect(serving('/Common/acme_b')).toBe(body.replacement.serial);
        await withCore(async (core) => {
          const [entry] = await core.services.activity.audit({
            action: 'certificate.revoke',
            object: 'b.rv.example.test',
            limit: 50,
          });
          expect(JSON.stringify(entry)).not.toMatch(/PRIVATE KEY|Sealed/);
          expect(entry).toMatchObject({ result: 'ok', actor: ACTOR });
          expect(entry!.detail).toMatchObject({
            serial: serials.b,
            signedWith: 'certificate_key',
            replacementSerial: body.replacement.serial,
          });
        });
      },
      stepsBudget(3),
    );

    it(
      '--reissue whose deploy fails revokes nothing and says so; the same command finishes it once the cause is fixed',
      async () => {
        // The BIG-IP loses the profile the binding names: the replacement cannot be switched in.
        const profileC = sim.state.profiles.get('/Common/acme_c')!;
        sim.state.profiles.delete('/Common/acme_c');
        const r = await cli('cert', 'revoke', 'c.rv.example.test', '--reason', 'superseded', '--reissue');
        expect(r.code).toBe(1);
        const message = (r.body as { error: { message: string } }).error.message;
        expect(message).toMatch(/did not reach every device: lb: .*; serial \S+ was NOT revoked/);
        expect(message).toContain(`serial ${serials.c} was NOT revoked`);
        expect(message).toContain(
          'fix the cause, then finish it with: bigip-acme cert revoke c.rv.example.test --reason superseded --reissue',
        );
        expect(await pebbleCertStatus(pebble(), serials.c!)).toMatchObject({ Status: 'Valid' });
        const replacement = await withCore(async (core) => {
          const row = (await core.store.certificates.findByName('c.rv.example.test'))!;
          expect(row.revokedSerial).toBeNull();
          expect(row.pendingRevocation).toMatchObject({ serial: serials.c, reason: 'superseded' });
          expect(row.serial).not.toBe(serials.c);
          const [entry] = await core.services.activity.audit({
            action: 'certificate.revoke',
            object: 'c.rv.example.test',
            limit: 50,
          });
          expect(entry).toMatchObject({ result: 'error' });
          expect(entry!.detail).toMatchObject({ stage: 'deploy' });
          return row.serial!;
        });

        // Another reason for the waiting revocation is refused; nothing changes.
        const other = await cli('cert', 'revoke', 'c.rv.example.test', '--reason', 'keyCompromise', '--reissue');
        expect(other.code).toBe(2);
        expect((other.body as { error: { message: string } }).error.message).toContain(
          `serial ${serials.c} of "c.rv.example.test" waits to be revoked for superseded once its replacement is deployed`,
        );

        // The profile is back: the same command deploys the replacement already issued, then revokes.
        sim.state.profiles.set('/Common/acme_c', profileC);
        const done = await cli('cert', 'revoke', 'c.rv.example.test', '--reason', 'superseded', '--reissue');
        expect(done.code, done.stderr).toBe(0);
        expect(done.body).toMatchObject({
          outcome: 'revoked',
          serial: serials.c,
          replacement: { serial: replacement },
        });
        expect(await pebbleCertStatus(pebble(), serials.c!)).toMatchObject({ Status: 'Revoked', Reason: 4 });
        expect(serving('/Common/acme_c')).toBe(replacement);
        await withCore(async (core) => {
          const row = (await core.store.certificates.findByName('c.rv.example.test'))!;
          expect(row).toMatchObject({ serial: replacement, revokedSerial: serials.c, pendingRevocation: null });
        });
      },
      stepsBudget(6),
    );
  });
}
