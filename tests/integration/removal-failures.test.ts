import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployTargetLeaseKey } from '../../core/domain/abandoned-deployment.ts';
import { CoreError } from '../../core/errors.ts';
import type { AcmeAccount, AcmeGateway } from '../../core/ports/acme-gateway.ts';
import { accountOf } from '../../core/services/core-deps.ts';
import type { Database } from '../../db/client.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

/** Which CA call fails next (once), as the CA being down would make it. */
const failing: { call: keyof AcmeGateway | null } = { call: null };

function withFailingCa(acme: AcmeGateway): AcmeGateway {
  return new Proxy(acme, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (failing.call === prop) {
          failing.call = null;
          return Promise.reject(
            new CoreError('acme_unreachable', 'the CA did not answer (simulated)', { retryable: true }),
          );
        }
        return value.apply(target, args);
      };
    },
  });
}

/**
 * A removal whose CA or device work fails, or that meets a renewal or deploy at work, removes nothing from
 * the database and says what happened; run again, it completes. Core use case on both databases.
 */
describeWithPebble('removal when the CA, a device or a running job is in the way', () => {
  const pebble = usePebble({ authzReuse: 0 });

  for (const target of databaseTargets) {
    describe(`on ${target.kind}`, () => {
      let database: Database;
      let core: TestCore;
      let sim: BigIpSimulator;
      let account: AcmeAccount;

      async function snapshot() {
        const s = core.store;
        const profile = await s.profiles.findByName('rf');
        if (!profile) return null;
        const certs = await s.certificates.list({ profileId: profile.id });
        return {
          domains: (await s.domains.listByProfile(profile.id)).map((d) => d.name),
          certificates: certs.map((c) => c.name),
          bindings: (await s.bindings.list()).map((b) => b.profilePath),
          objects: (
            await Promise.all(certs.map(async (c) => s.deviceObjects.listLive((await s.devices.list())[0]!.id, c.id)))
          )
            .flat()
            .map((o) => o.fullPath)
            .sort(),
        };
      }

      beforeAll(async () => {
        database = await freshDatabase(target.open);
        core = await startTestCore(database, pebble(), undefined, {
          wrapDeps: (deps) => ({ ...deps, acme: withFailingCa(deps.acme) }),
        });
        sim = await startBigIpSimulator();
        sim.addProfile('/Common/acme_rf', { defaultsFrom: '/Common/clientssl' });
        const s = core.services;
        await s.devices.add(
          { name: 'lb1', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
          'test',
        );
        await s.profiles.create(
          { name: 'rf', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
          'test',
        );
        await s.domains.add('rf', ['cert.rf.test', 'spare.rf.test'], 'http-01', 'test');
        await s.certificates.request({ profile: 'rf', commonName: 'cert.rf.test' }, 'test');
        await s.bindings.add({ certificate: 'cert.rf.test', device: 'lb1', profile: 'acme_rf' }, 'test');
        expect((await s.deploys.deploy('cert.rf.test', {}, 'test')).ok).toBe(true);
        account = accountOf(core.deps, (await core.store.profiles.findByName('rf'))!);
      }, 120_000);

      afterAll(async () => {
        await core?.close();
        await database?.close();
        await sim?.close();
      });

      it('a CA failure while deactivating a pending authorization removes nothing', async () => {
        const spare = (await core.store.domains.findByName('spare.rf.test'))[0]!;
        const authz = (await core.store.authorizations.findById(spare.currentAuthorizationId!))!;
        const before = await snapshot();
        failing.call = 'deactivateAuthorization';
        const err = await core.services.removals.removeDomain({ name: 'spare.rf.test' }, 'test').catch((e) => e);
        expect(err).toBeInstanceOf(CoreError);
        expect(err).toMatchObject({ code: 'acme_unreachable', retryable: true });
        expect(err.message).toBe(
          `could not deactivate the pending authorization ${authz.url}: the CA did not answer (simulated); nothing was removed`,
        );
        expect(await snapshot()).toEqual(before);
        expect((await core.deps.acme.getAuthorization(account, authz.url)).status).toBe('pending');
        // The attempt is audited as failed, with why.
        const [entry, ...more] = await core.store.audit.list({ action: 'domain.remove' });
        expect(more).toEqual([]);
        expect(entry).toMatchObject({
          objectName: 'spare.rf.test',
          result: 'error',
          detail: { code: 'acme_unreachable' },
        });
      });

      it('a failed account deactivation removes nothing and says which authorizations went first', async () => {
        const before = await snapshot();
        failing.call = 'deactivateAccount';
        const err = await core.services.removals
          .removeProfile('rf', { force: true, deactivateAccount: true }, 'test')
          .catch((e) => e);
        expect(err).toMatchObject({ code: 'acme_unreachable' });
        // spare.rf.test's, and the one cert.rf.test's domain row got at `domain add` (the order used a new one).
        expect(err.message).toBe(
          'could not deactivate the ACME account of profile "rf": the CA did not answer (simulated); ' +
            '2 pending authorization(s) were deactivated first; nothing was removed',
        );
        expect(await snapshot()).toEqual(before);
        expect(await core.store.audit.list({ action: 'profile.remove' })).toMatchObject([{ result: 'error' }]);
        // The account still works.
        expect((await core.deps.acme.newOrder(account, ['still.rf.test'])).status).toBe('pending');
      });

      it('a renewal or deploy at work on the certificate refuses the removal, retryable, nothing changed', async () => {
        const cert = (await core.store.certificates.findByName('cert.rf.test'))!;
        const device = (await core.store.devices.findByName('lb1'))!;
        const before = await snapshot();
        for (const key of [`renew:${cert.id}`, deployTargetLeaseKey(cert.id, device.id)]) {
          expect(await core.store.leases.tryAcquire(key, 'another-worker', 60_000)).toBe(true);
          const err = await core.services.removals
            .removeCertificate('cert.rf.test', { force: true }, 'test')
            .catch((e) => e);
          expect(err).toMatchObject({ code: 'conflict', retryable: true });
          expect(err.message).toContain('a renewal or deploy of certificate "cert.rf.test" is running right now');
          await core.store.leases.release(key, 'another-worker');
          expect(await snapshot()).toEqual(before);
        }
      });

      it('a device that fails during --purge-devices keeps the certificate; run again, it completes', async () => {
        const certId = (await core.store.certificates.findByName('cert.rf.test'))!.id;
        const before = await snapshot();
        sim.failAt('profile-list', { status: 503, times: Number.POSITIVE_INFINITY });
        const err = await core.services.removals
          .removeCertificate('cert.rf.test', { force: true, purgeDevices: true }, 'test')
          .catch((e) => e);
        expect(err).toBeInstanceOf(CoreError);
        expect(err.retryable).toBe(true);
        expect(err.message).toMatch(
          /^could not delete the objects of certificate "cert\.rf\.test" from lb1 \(lb1: .+\); /,
        );
        expect(err.message).toContain(
          'the certificate is still here: run the removal again once the device is reachable',
        );
        expect(await snapshot()).toEqual(before);

        sim.clearFailures();
        const report = await core.services.removals.removeCertificate(
          'cert.rf.test',
          { force: true, purgeDevices: true },
          'test',
        );
        expect(report.unbound).toEqual([{ certificate: 'cert.rf.test', device: 'lb1', profile: '/Common/acme_rf' }]);
        // The profile on the device still serves the certificate, so its objects stay.
        expect(report.devices[0]!.removed).toEqual([]);
        expect(report.devices[0]!.kept.every((k) => k.usedBy.includes('/Common/acme_rf'))).toBe(true);
        expect(await core.store.certificates.findByName('cert.rf.test')).toBeNull();
        // Its claims were given back: a renewal could take the lease again at once.
        expect(await core.store.leases.tryAcquire(`renew:${certId}`, 'x', 1000)).toBe(true);
      });

      it('removing a certificate whose order waits for challenge content deactivates that order at the CA', async () => {
        // dns-01 with no TXT record published: the request stops in awaiting_challenge with its order open.
        await core.services.domains.add('rf', ['dns.rf.test'], 'dns-01', 'test');
        const waiting = await core.services.certificates.request({ profile: 'rf', commonName: 'dns.rf.test' }, 'test');
        expect(waiting.state).toBe('awaiting_challenge');
        const [orderAuthz] = (await core.store.certificates.findByName('dns.rf.test'))!.authorizationUrls;
        expect((await core.deps.acme.getAuthorization(account, orderAuthz!)).status).toBe('pending');
        const report = await core.services.removals.removeCertificate('dns.rf.test', {}, 'test');
        expect(report.deactivatedAuthorizations).toEqual([orderAuthz]);
        expect((await core.deps.acme.getAuthorization(account, orderAuthz!)).status).toBe('deactivated');
        expect(await core.store.certificates.findByName('dns.rf.test')).toBeNull();
      });
    });
  }
});
