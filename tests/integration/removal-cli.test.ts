import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAcmeClientGateway } from '../../core/acme/acme-client-gateway.ts';
import type { AcmeAccount, AcmeGateway } from '../../core/ports/acme-gateway.ts';
import { accountOf } from '../../core/services/core-deps.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { type CliResult, runCli, stepsBudget } from '../support/cli-process.ts';
import { describeWithPebble, pebbleEnv, usePebble } from '../support/pebble.ts';
import { startTestCore } from '../support/test-core.ts';
import { freshDatabase, postgresUrl } from '../support/test-db.ts';

type Target = { kind: 'pglite' } | { kind: 'postgres'; url: string };
const targets: Target[] = [
  { kind: 'pglite' },
  ...(postgresUrl ? [{ kind: 'postgres' as const, url: postgresUrl }] : []),
];

/**
 * Issue 14, removal: `profile remove`, `domain remove` and `cert remove` driven through the real CLI process,
 * against Pebble and the BIG-IP simulator, on the embedded database and on PostgreSQL. The objects are set up
 * in this process with the core services (issued by Pebble, deployed to the simulator), then the process
 * closes the database and every step is a `bin/bigip-acme` child.
 */
describeWithPebble('profile, domain and cert remove through the CLI', () => {
  const pebble = usePebble({ authzReuse: 0 });

  for (const target of targets) {
    describe(`on ${target.kind}`, () => {
      let dir: string;
      let env: Record<string, string>;
      let sim: BigIpSimulator;
      let gateway: AcmeGateway;
      let account: AcmeAccount;
      let spareAuthz: string;
      const outputs: string[] = [];

      async function cli(...args: string[]): Promise<CliResult> {
        const r = await runCli(args, env);
        outputs.push(r.stdout, r.stderr);
        return r;
      }
      async function json(...args: string[]) {
        const r = await cli('--json', ...args);
        return { code: r.code, body: JSON.parse(r.stdout) };
      }
      /** What the database holds, as the CLI lists it. */
      async function inventory() {
        const names = (rows: { name: string }[]) => rows.map((r) => r.name).sort();
        return {
          profiles: names((await json('profile', 'list')).body),
          domains: names((await json('domain', 'list')).body),
          certificates: names((await json('cert', 'list')).body),
          bindings: (await json('binding', 'list')).body.map((b: { profilePath: string }) => b.profilePath).sort(),
        };
      }

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'bigip-acme-remove-'));
        const masterKey = randomBytes(32).toString('base64');
        const dataDir = join(dir, 'data');
        env = {
          ...pebbleEnv(pebble()),
          MASTER_KEY: masterKey,
          LOG_LEVEL: 'error',
          ...(target.kind === 'pglite' ? { DATA_DIR: dataDir } : { DATABASE_URL: target.url }),
        };
        const database: Database = await freshDatabase(() =>
          target.kind === 'pglite' ? openDatabase({ dataDir }) : openDatabase({ url: target.url }),
        );
        const core = await startTestCore(database, pebble(), masterKey);
        try {
          sim = await startBigIpSimulator({ hostname: 'lb1.example.test' });
          sim.addProfile('/Common/acme_shop', { defaultsFrom: '/Common/clientssl' });
          sim.addProfile('/Common/acme_api', { defaultsFrom: '/Common/clientssl' });
          sim.addProfile('/Common/other_app', { defaultsFrom: '/Common/clientssl' });
          const s = core.services;
          await s.devices.add(
            { name: 'lb1', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
            'test',
          );
          const profile = await s.profiles.create(
            { name: 'rm', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
            'test',
          );
          await s.domains.add(
            'rm',
            ['shop.rm.test', 'www.shop.rm.test', 'api.rm.test', 'spare.rm.test'],
            'http-01',
            'test',
          );
          for (const [cn, sans] of [
            ['shop.rm.test', ['www.shop.rm.test']],
            ['api.rm.test', []],
          ] as const) {
            await s.certificates.request({ profile: 'rm', commonName: cn, sans: [...sans] }, 'test');
          }
          await s.bindings.add({ certificate: 'shop.rm.test', device: 'lb1', profile: 'acme_shop' }, 'test');
          await s.bindings.add({ certificate: 'api.rm.test', device: 'lb1', profile: 'acme_api' }, 'test');
          for (const name of ['shop.rm.test', 'api.rm.test']) {
            expect((await s.deploys.deploy(name, {}, 'test')).ok).toBe(true);
          }
          // api.rm.test is unbound here, and on the device acme_api moves back to the default certificate,
          // while another application's profile borrows its chain bundle: that object must survive a purge.
          await s.bindings.remove({ certificate: 'api.rm.test', device: 'lb1', profile: 'acme_api' }, 'test');
          const apiEntry = sim.state.profiles.get('/Common/acme_api')!.certKeyChain[0]!;
          const fallback = sim.state.profiles.get('/Common/clientssl')!.certKeyChain.map((e) => ({ ...e }));
          sim.state.profiles.get('/Common/acme_api')!.certKeyChain = fallback.map((e) => ({ ...e }));
          sim.state.profiles.get('/Common/other_app')!.certKeyChain = fallback.map((e) => ({
            ...e,
            chain: apiEntry.chain,
          }));
          // A deploy of shop.rm.test waiting for an approver.
          const shop = (await core.store.certificates.findByName('shop.rm.test'))!;
          await core.store.approvals.open({
            id: randomUUID(),
            kind: 'deploy',
            certificateId: shop.id,
            state: 'pending',
            summary: { certificate: 'shop.rm.test' },
            requestedBy: 'test',
            requestedAt: new Date(),
            decidedBy: null,
            decidedAt: null,
            reason: null,
          });
          const full = (await core.store.profiles.findById(profile.id))!;
          account = accountOf(core.deps, full);
          const spare = (await core.store.domains.find(profile.id, 'spare.rm.test'))!;
          spareAuthz = (await core.store.authorizations.findById(spare.currentAuthorizationId!))!.url;
        } finally {
          await core.close();
          await database.close();
        }
        gateway = createAcmeClientGateway({ caPem: readFileSync(pebble().caFile, 'utf8') });
      }, stepsBudget(4));

      afterAll(async () => {
        await sim?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it(
        'unknown names: a clear not_found, exit code 2, and nothing changed',
        async () => {
          const before = await inventory();
          expect(before).toEqual({
            profiles: ['rm'],
            domains: ['api.rm.test', 'shop.rm.test', 'spare.rm.test', 'www.shop.rm.test'],
            certificates: ['api.rm.test', 'shop.rm.test'],
            bindings: ['/Common/acme_shop'],
          });
          const cert = await cli('cert', 'remove', 'nope.rm.test', '--force', '--purge-devices');
          expect(cert.code).toBe(2);
          expect(cert.stderr).toContain('no certificate named "nope.rm.test" (see: bigip-acme cert list)');
          const domain = await json('domain', 'remove', 'nope.rm.test');
          expect(domain).toEqual({
            code: 2,
            body: {
              error: expect.objectContaining({
                code: 'not_found',
                message: expect.stringContaining('no domain "nope.rm.test"'),
              }),
            },
          });
          const profile = await cli('profile', 'remove', 'nope', '--force', '--deactivate-account');
          expect(profile.code).toBe(2);
          expect(profile.stderr).toContain('no profile named "nope"');
          expect(await inventory()).toEqual(before);
        },
        stepsBudget(11),
      );

      it(
        'refusals name the dependents, say how to go on, and change nothing',
        async () => {
          const before = await inventory();
          const cert = await cli('cert', 'remove', 'shop.rm.test');
          expect(cert.code).toBe(2);
          expect(cert.stderr.trim()).toBe(
            'error: certificate "shop.rm.test" is still in use: bound to device lb1 profile /Common/acme_shop; ' +
              '1 pending approval (use --force to take them along)',
          );
          const profile = await cli('profile', 'remove', 'rm');
          expect(profile.code).toBe(2);
          expect(profile.stderr).toContain(
            'profile "rm" is still in use: 4 domains: api.rm.test, shop.rm.test, spare.rm.test, www.shop.rm.test; ' +
              '2 certificates: api.rm.test, shop.rm.test; bound to device lb1 profile /Common/acme_shop; 1 pending approval',
          );
          const domain = await cli('domain', 'remove', 'www.shop.rm.test');
          expect(domain.code).toBe(2);
          expect(domain.stderr.trim()).toBe(
            'error: domain "www.shop.rm.test" is still in use: 1 certificate: shop.rm.test; ' +
              'remove it first: bigip-acme cert remove shop.rm.test',
          );
          expect(await inventory()).toEqual(before);
          expect((await gateway.getAuthorization(account, spareAuthz)).status).toBe('pending');
        },
        stepsBudget(8),
      );

      it(
        'domain remove deactivates its pending authorization at the CA',
        async () => {
          const r = await cli('domain', 'remove', 'spare.rm.test');
          expect(r.code, r.stderr).toBe(0);
          expect(r.stdout).toContain('removed domain spare.rm.test');
          expect(r.stdout).toContain('pending authorizations deactivated at the CA: 1');
          expect((await gateway.getAuthorization(account, spareAuthz)).status).toBe('deactivated');
        },
        stepsBudget(1),
      );

      it(
        'cert remove --purge-devices deletes its objects from the device but keeps one another profile uses',
        async () => {
          const ours = (suffix: string) =>
            [...sim.state.certs.keys(), ...sim.state.keys.keys()].filter(
              (p) => p.startsWith('/Common/api.rm.test_') && p.endsWith(suffix),
            );
          const [chain] = ours('_chain.crt');
          expect(chain).toBeDefined();
          expect(ours('.key')).toHaveLength(1);
          sim.resetRequests();
          const r = await cli('cert', 'remove', 'api.rm.test', '--purge-devices');
          expect(r.code, r.stderr).toBe(0);
          expect(r.stdout).toMatch(/lb1: deleted \/Common\/api\.rm\.test_\d{8}-[0-9a-f]{8}\.crt/);
          expect(r.stdout).toContain(`lb1: kept ${chain} (used by /Common/other_app)`);
          expect(ours('.key')).toEqual([]);
          expect(ours('_chain.crt')).toEqual([chain]);
          expect(sim.state.profiles.get('/Common/other_app')!.certKeyChain[0]!.chain).toBe(chain);
          // Kept because the device was asked first, not because it refused: no delete was ever sent for it, and
          // no request was refused.
          const deletes = sim.requests.filter((q) => q.step === 'cert-delete' || q.step === 'key-delete');
          expect(deletes).toHaveLength(2);
          const chainName = chain!.split('/').at(-1)!;
          expect(deletes.filter((q) => decodeURIComponent(q.path).includes(chainName))).toEqual([]);
          expect(sim.requests.filter((q) => q.status >= 400)).toEqual([]);
        },
        stepsBudget(1),
      );

      it(
        'cert remove --force unbinds first and cancels the approval; --purge-devices keeps what the bound profile serves',
        async () => {
          const served = sim.state.profiles.get('/Common/acme_shop')!.certKeyChain[0]!;
          const { code, body } = await json('cert', 'remove', 'shop.rm.test', '--force', '--purge-devices');
          expect(code).toBe(0);
          expect(body).toMatchObject({
            removed: { type: 'certificate', name: 'shop.rm.test' },
            unbound: [{ certificate: 'shop.rm.test', device: 'lb1', profile: '/Common/acme_shop' }],
            cancelledApprovals: 1,
            devices: [{ device: 'lb1', removed: [], error: null }],
          });
          expect(body.devices[0].kept.map((k: { path: string }) => k.path).sort()).toEqual(
            [served.cert, served.key, served.chain].sort(),
          );
          // The device still serves it: removing a certificate never breaks a profile.
          expect(sim.state.profiles.get('/Common/acme_shop')!.certKeyChain[0]).toEqual(served);
          expect(sim.state.certs.has(served.cert) && sim.state.keys.has(served.key)).toBe(true);
          const left = await inventory();
          expect(left.certificates).toEqual([]);
          expect(left.bindings).toEqual([]);
          expect((await json('approval', 'list')).body).toEqual([]);
        },
        stepsBudget(6),
      );

      it(
        'profile remove --force --deactivate-account removes its domains and deactivates the account',
        async () => {
          const r = await cli('profile', 'remove', 'rm', '--force', '--deactivate-account');
          expect(r.code, r.stderr).toBe(0);
          expect(r.stdout).toContain('removed profile rm');
          expect(r.stdout).toContain('domains removed: api.rm.test, shop.rm.test, www.shop.rm.test');
          expect(r.stdout).toContain('ACME account deactivated at the CA');
          expect(await inventory()).toEqual({ profiles: [], domains: [], certificates: [], bindings: [] });
          // The CA refuses the account from now on.
          await expect(gateway.newOrder(account, ['later.rm.test'])).rejects.toMatchObject({ code: 'acme_error' });
          const audit = await json('audit', '--action', 'profile.remove');
          expect(audit.body).toHaveLength(1);
          expect(audit.body[0]).toMatchObject({ objectName: 'rm', result: 'ok', detail: { accountDeactivated: true } });
          const removals = (await json('audit', '--action', 'certificate.remove')).body;
          expect(removals.map((e: { objectName: string }) => e.objectName).sort()).toEqual([
            'api.rm.test',
            'shop.rm.test',
          ]);
          for (const out of outputs) expect(out).not.toMatch(/PRIVATE KEY|MASTER_KEY|password/i);
        },
        stepsBudget(8),
      );
    });
  }
});
