import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import type { DeployReport } from '../../core/deploy/deploy-service.ts';
import type { BigIpSimulator, SimulatorFailure, SimulatorStep } from '../support/bigip-simulator/index.ts';
import { reissueTestCertificate } from '../support/test-certificates.ts';
import { assertProfilesConsistent, type DeployHarness, startDeployHarness, writesSeen } from './deploy-harness.ts';

const PROFILES = ['/Common/acme_www', '/Common/acme_www_alt'];

describe('deploying a certificate to simulated BIG-IPs', () => {
  let h: DeployHarness;
  let sim: BigIpSimulator;
  let cert: ManagedCertificate;

  beforeAll(async () => {
    h = await startDeployHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  beforeEach(async () => {
    sim = await h.addDevice('bigip1');
    sim.addProfile('/Common/acme_www', { defaultsFrom: '/Common/clientssl' });
    sim.addProfile('/Common/untouched', { defaultsFrom: '/Common/clientssl' });
    cert = await h.seedCertificate(['www.example.com', 'example.com']);
    await h.services.bindings.add({ certificate: cert.name, device: 'bigip1', profile: 'acme_www' }, 'test');
    await h.services.bindings.add(
      { certificate: cert.name, device: 'bigip1', profile: 'acme_www_alt', createProfile: true },
      'test',
    );
  });

  afterEach(async () => {
    await h.reset();
  });

  const deploy = (): Promise<DeployReport> => h.services.deploys.deploy(cert.name, {}, 'test');
  const renew = async () => {
    cert = await reissueTestCertificate(h.store, h.secrets, cert);
  };

  it('installs versioned objects with a password-protected key and switches both profiles, creating the missing one', async () => {
    const report = await deploy();
    expect(report.ok).toBe(true);
    expect(report.devices).toEqual([
      expect.objectContaining({ device: 'bigip1', result: 'succeeded', step: 'done', error: null }),
    ]);

    const serving = assertProfilesConsistent(sim, PROFILES);
    expect(Object.values(serving)).toEqual([cert.serial, cert.serial]);
    const entry = sim.state.profiles.get('/Common/acme_www')!.certKeyChain;
    expect(entry).toHaveLength(1);
    expect(entry[0]!.cert).toMatch(/^\/Common\/www\.example\.com_\d{8}-[0-9a-f]{8}\.crt$/);
    expect(entry[0]!.chain).toMatch(/_chain\.crt$/);
    expect(sim.state.profiles.get('/Common/acme_www_alt')!.defaultsFrom).toBe('/Common/clientssl');
    expect(sim.state.keys.get(entry[0]!.key)!.securityType).toBe('password');
    expect(sim.state.keys.get(entry[0]!.key)!.pem).toContain('ENCRYPTED PRIVATE KEY');
    // Nothing else touched: the default objects, the parent and an unrelated profile are as seeded.
    expect(sim.state.profiles.get('/Common/untouched')!.certKeyChain[0]!.cert).toBe('/Common/default.crt');
    expect(sim.state.certs.has('/Common/default.crt') && sim.state.keys.has('/Common/default.key')).toBe(true);
    expect(sim.state.uploads.size).toBe(0);
    expect(sim.state.saves).toBeGreaterThanOrEqual(1);
    // The switch is one transaction.
    const switchWrites = sim.requests.filter((r) => r.step === 'profile-patch' || r.step === 'profile-create');
    expect(switchWrites.length).toBe(2);
    expect(new Set(switchWrites.map((r) => r.transaction)).size).toBe(1);
    expect(switchWrites[0]!.transaction).not.toBeNull();

    const [record] = await h.store.deployments.list({ certificateId: cert.id });
    expect(record).toMatchObject({
      result: 'succeeded',
      step: 'done',
      serial: cert.serial,
      newFingerprint: cert.fingerprintSha256,
      profiles: PROFILES,
    });
    expect(record!.oldFingerprints['/Common/acme_www']).toMatch(/^SHA256\//);
    const bindings = await h.store.bindings.list({ certificateId: cert.id });
    expect(bindings.every((b) => b.deployedSerial === cert.serial)).toBe(true);
    const audit = await h.store.audit.list({ objectId: cert.id });
    expect(audit[0]).toMatchObject({
      action: 'certificate.deploy',
      result: 'ok',
      detail: expect.objectContaining({ device: 'bigip1', serial: cert.serial, result: 'succeeded' }),
    });
  });

  it('re-running a deploy that already happened writes nothing', async () => {
    await deploy();
    sim.resetRequests();
    const again = await deploy();
    expect(again.devices[0]).toMatchObject({ result: 'unchanged' });
    expect(writesSeen(sim)).toEqual([]);
  });

  it('a renewal switches to new objects and removes the old ones, and only those', async () => {
    await deploy();
    const first = sim.state.profiles.get('/Common/acme_www')!.certKeyChain[0]!;
    const savesBefore = sim.state.saves;
    await renew();
    const report = await deploy();
    expect(report.devices[0]).toMatchObject({ result: 'succeeded' });
    const serving = assertProfilesConsistent(sim, PROFILES);
    expect(Object.values(serving)).toEqual([cert.serial, cert.serial]);
    for (const old of [first.cert, first.key, first.chain]) {
      expect(sim.state.certs.has(old) || sim.state.keys.has(old), `${old} should be gone`).toBe(false);
    }
    const now = sim.state.profiles.get('/Common/acme_www')!.certKeyChain[0]!;
    expect([...sim.state.certs.keys()].sort()).toEqual(['/Common/default.crt', now.cert, now.chain].sort());
    expect([...sim.state.keys.keys()].sort()).toEqual(['/Common/default.key', now.key].sort());
    expect(sim.state.saves).toBeGreaterThan(savesBefore);
    const live = await h.store.deviceObjects.listLive((await h.store.devices.findByName('bigip1'))!.id, cert.id);
    expect(live.map((o) => o.serial)).toEqual([cert.serial, cert.serial, cert.serial]);
  });

  it('token expiry mid-deploy: the client logs in again and the deploy completes', async () => {
    let expired = false;
    sim.failAt('cert-install', {
      when: () => {
        if (!expired) sim.expireTokens();
        expired = true;
        return false;
      },
    } as SimulatorFailure);
    const report = await deploy();
    expect(expired).toBe(true);
    expect(report.devices[0]).toMatchObject({ result: 'succeeded' });
    expect(sim.requests.filter((r) => r.step === 'login' && r.status === 200).length).toBeGreaterThanOrEqual(2);
  });

  describe('a failure at each step keeps every profile on a matching, existing key and certificate, and a retry completes', () => {
    const switched = () => {
      const entry = sim.state.profiles.get('/Common/acme_www')?.certKeyChain[0];
      return entry?.cert.includes(`-${cert.serial!.slice(0, 8)}.crt`) ?? false;
    };
    const cases: [string, SimulatorStep, () => SimulatorFailure, 'previous' | 'new', RegExp][] = [
      // The client retries a failed upload once from offset 0, so the device must refuse twice.
      ['upload', 'upload', () => ({ times: 2 }), 'previous', /^upload$/],
      ['key install', 'key-install', () => ({}), 'previous', /^key_install$/],
      ['certificate install', 'cert-install', () => ({}), 'previous', /^cert_install$/],
      [
        'profile switch (commit rejected)',
        'transaction-commit',
        () => ({ status: 400, message: 'transaction failed:01070317:3: injected' }),
        'previous',
        /^switch$/,
      ],
      [
        'verify (read-back fails after the switch)',
        'cert-read',
        () => ({ when: () => switched() }) as SimulatorFailure,
        'previous',
        /^verify$/,
      ],
      ['save', 'save', () => ({}), 'new', /^save$/],
      ['cleanup (old certificate delete)', 'cert-delete', () => ({}), 'new', /^cleanup$/],
      ['cleanup (upload removal)', 'unix-rm', () => ({}), 'new', /^cleanup$/],
    ];

    it.each(cases)('%s', async (_what, step, failure, servingAfter, failedStep) => {
      await deploy();
      const previousSerial = cert.serial;
      const previousObjects = new Set([...sim.state.certs.keys(), ...sim.state.keys.keys()]);
      await renew();

      sim.failAt(step, failure());
      const failed = await deploy();
      expect(failed.ok).toBe(false);
      expect(failed.devices[0]!.step).toMatch(failedStep);
      expect(failed.devices[0]!.outcome.length).toBeGreaterThan(10);
      const serving = assertProfilesConsistent(sim, PROFILES);
      const expected = servingAfter === 'previous' ? previousSerial : cert.serial;
      expect(Object.values(serving)).toEqual([expected, expected]);
      if (servingAfter === 'previous') {
        // Before (or rolled back from) the switch: the device holds exactly the objects it held.
        expect(new Set([...sim.state.certs.keys(), ...sim.state.keys.keys()])).toEqual(previousObjects);
      }

      sim.clearFailures();
      const retried = await deploy();
      expect(retried.devices[0]).toMatchObject({ result: 'succeeded' });
      expect(Object.values(assertProfilesConsistent(sim, PROFILES))).toEqual([cert.serial, cert.serial]);
      expect([...sim.state.certs.keys()].filter((k) => k.includes('www.example.com_'))).toHaveLength(2);
      expect(sim.state.uploads.size).toBe(0);

      sim.resetRequests();
      expect((await deploy()).devices[0]).toMatchObject({ result: 'unchanged' });
      expect(writesSeen(sim)).toEqual([]);
    });
  });

  describe('a commit whose answer is lost: the profiles are read back before anything is reported', () => {
    it('applied: the read-back finds the new certificate, verifies it and completes', async () => {
      await deploy();
      await renew();
      sim.failAt('transaction-commit', { afterApply: true });
      const report = await deploy();
      expect(Object.values(assertProfilesConsistent(sim, PROFILES))).toEqual([cert.serial, cert.serial]);
      expect(report.devices[0]).toMatchObject({ result: 'succeeded', step: 'done', error: null });
      expect(report.devices[0]!.outcome).toMatch(/commit's answer was lost.*read back.*serve the new certificate/);
      expect(report.devices[0]!.outcome).not.toMatch(/nothing switched/);
      const [record] = await h.store.deployments.list({ certificateId: cert.id, limit: 1 });
      expect(record).toMatchObject({ result: 'succeeded', outcome: report.devices[0]!.outcome });
      sim.resetRequests();
      expect((await deploy()).devices[0]).toMatchObject({ result: 'unchanged' });
      expect(writesSeen(sim)).toEqual([]);
    });

    it('not applied: the read-back finds the old certificate and says so', async () => {
      await deploy();
      const previousSerial = cert.serial;
      await renew();
      sim.failAt('transaction-commit', { status: 500, message: 'connection reset' });
      const report = await deploy();
      expect(Object.values(assertProfilesConsistent(sim, PROFILES))).toEqual([previousSerial, previousSerial]);
      expect(report.devices[0]).toMatchObject({ result: 'failed', step: 'switch' });
      expect(report.devices[0]!.outcome).toMatch(
        /commit's answer was lost.*read back.*still serve what they served before/,
      );
    });

    it('unreadable: the report says it does not know, never that nothing switched', async () => {
      await deploy();
      await renew();
      sim.failAt('transaction-commit', { afterApply: true });
      // Every profile read after the switch fails: inspect reads them before it and succeeds.
      const servesNew = () =>
        sim.state.profiles
          .get('/Common/acme_www')
          ?.certKeyChain[0]?.cert.includes(`-${cert.serial!.slice(0, 8)}.crt`) ?? false;
      sim.failAt('profile-read', { times: 10, when: () => servesNew() });
      const report = await deploy();
      expect(report.devices[0]).toMatchObject({ result: 'failed', step: 'switch' });
      expect(report.devices[0]!.outcome).toMatch(/could not be read back.*unknown/);
      expect(report.devices[0]!.outcome).not.toMatch(/nothing switched/);
      sim.clearFailures();
      expect((await deploy()).devices[0]).toMatchObject({ result: 'succeeded' });
      expect(Object.values(assertProfilesConsistent(sim, PROFILES))).toEqual([cert.serial, cert.serial]);
    });
  });

  it('a second device that is down fails alone; the reachable one deploys', async () => {
    const sim2 = await h.addDevice('bigip2');
    sim2.addProfile('/Common/acme_www', { defaultsFrom: '/Common/clientssl' });
    await h.services.bindings.add({ certificate: cert.name, device: 'bigip2', profile: 'acme_www' }, 'test');
    await sim2.close();
    const report = await deploy();
    expect(report.ok).toBe(false);
    const byDevice = Object.fromEntries(report.devices.map((d) => [d.device, d]));
    expect(byDevice.bigip1).toMatchObject({ result: 'succeeded' });
    expect(byDevice.bigip2).toMatchObject({ result: 'failed', error: expect.objectContaining({ code: 'bigip_tcp' }) });
    expect(byDevice.bigip2!.outcome).toMatch(/nothing switched/);
  });

  it('keeps secrets out of records, audit, errors and reports', async () => {
    await renew();
    sim.failAt('save', { message: 'injected' });
    const report = await deploy();
    const device = (await h.store.devices.findByName('bigip1'))!;
    const passphrase = h.secrets.open(
      (await h.store.certificates.findById(cert.id))!.passphraseSealed!,
      `certificates:${cert.id}:passphrase`,
    );
    const everything = JSON.stringify([
      report,
      await h.store.deployments.list({}),
      await h.store.audit.list({ limit: 1000 }),
      await h.store.bindings.list({}),
    ]);
    for (const secret of [passphrase, sim.password, 'PRIVATE KEY']) {
      expect(everything).not.toContain(secret);
    }
    expect(device.passwordSealed).not.toContain(sim.password);
    expect(passphrase.length).toBeGreaterThanOrEqual(43);
  });

  it('refuses to deploy what is not issued or not bound, with a clear error', async () => {
    await expect(h.services.deploys.deploy('nope', {}, 'test')).rejects.toMatchObject({ code: 'not_found' });
    const unbound = await h.seedCertificate(['other.example.com']);
    await expect(h.services.deploys.deploy(unbound.name, {}, 'test')).rejects.toMatchObject({
      code: 'input_invalid',
      // The way out is a hint each edge words (`bigip-acme binding add`, `/acme …`), not CLI text in the message.
      hint: expect.objectContaining({ command: ['binding', 'add'] }),
    });
    await h.store.certificates.update(cert.id, { state: 'ordering' });
    await expect(deploy()).rejects.toMatchObject({ code: 'conflict' });
  });
});
