import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

describeWithPebble('semi-automatic mode: renewals and deploys wait for an approval', () => {
  const pebble = usePebble({ authzReuse: 0 });
  let database: Database;
  let core: TestCore;
  let sim: BigIpSimulator;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble(), undefined, { approvers: ['cli:alice', 'cli:bob', 'cli:carol'] });
    sim = await startBigIpSimulator();
    sim.addProfile('/Common/acme_semi', { defaultsFrom: '/Common/clientssl' });
    await core.services.profiles.create(
      {
        name: 'semi',
        server: pebble().directoryUrl,
        keySpec: 'ec-p256',
        acceptTos: true,
        renewApproval: true,
        deployApproval: true,
      },
      'test',
    );
    await core.services.domains.add('semi', ['semi.example.test', 'deny.example.test'], 'http-01', 'test');
    await core.services.devices.add(
      { name: 'semi-lb', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
      'test',
    );
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
    await sim?.close();
  });

  it('asks once, renews only after an approval, and a replayed decision changes nothing', async () => {
    const { services, store } = core;
    const cert = await services.certificates.request({ profile: 'semi', commonName: 'semi.example.test' }, 'cli:alice');
    await store.certificates.update(cert.id, { renewAt: new Date(Date.now() - 1000) });

    const first = await services.renewals.sweep();
    expect(first.waiting).toEqual([cert.name]);
    expect(first.renewed).toEqual([]);
    await services.renewals.sweep();
    const pending = await services.approvals.list('pending');
    expect(pending).toHaveLength(1);
    // Asked by the scheduler on behalf of the certificate's requester, who therefore may not decide it.
    expect(pending[0]).toMatchObject({
      kind: 'renewal',
      certificateName: cert.name,
      requestedBy: 'cli:alice',
      summary: expect.objectContaining({ serial: cert.serial, initiatedBy: 'scheduler' }),
    });
    expect(
      (await store.events.list({ certificateId: cert.id })).filter((e) => e.kind === 'approval_requested'),
    ).toHaveLength(1);

    await expect(services.approvals.approve(pending[0]!.id, 'scheduler')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(services.approvals.approve(pending[0]!.id, 'cli:alice')).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/cli:alice requested certificate .* cannot decide its renewal/),
    });
    const decided = await services.approvals.approve(pending[0]!.id, 'cli:bob');
    expect(decided).toMatchObject({ state: 'approved', decidedBy: 'cli:bob' });
    await expect(services.approvals.approve(pending[0]!.id, 'cli:carol')).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/already approved by cli:bob/),
    });
    await expect(services.approvals.deny(pending[0]!.id, 'cli:carol', 'too late')).rejects.toMatchObject({
      code: 'conflict',
    });

    const renewedRun = await services.renewals.sweep();
    expect(renewedRun.renewed).toEqual([cert.name]);
    expect((await store.approvals.findById(pending[0]!.id))?.state).toBe('used');
    const renewed = (await store.certificates.findById(cert.id))!;
    expect(renewed.serial).not.toBe(cert.serial);

    // The redeploy waits for its own approval; what is served expires within the minute, so it is due now.
    await services.bindings.add({ certificate: cert.name, device: 'semi-lb', profile: 'acme_semi' }, 'test');
    const [binding] = await store.bindings.list({ certificateId: cert.id });
    await store.bindings.update(binding!.id, {
      deployedFingerprint: 'old',
      deployedNotAfter: new Date(Date.now() + 60_000),
    });
    const waiting = await services.autoDeploy.run();
    expect(waiting.waiting).toEqual([cert.name]);
    expect(sim.requests.filter((r) => r.step === 'profile-patch')).toHaveLength(0);
    const deployApproval = (await services.approvals.list('pending')).find((a) => a.kind === 'deploy')!;
    expect(deployApproval.requestedBy).toBe('cli:alice');
    await expect(services.approvals.approve(deployApproval.id, 'cli:alice')).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/cannot decide its deploy/),
    });
    await services.approvals.approve(deployApproval.id, 'cli:bob');
    const deployed = await services.autoDeploy.run();
    expect(deployed.deployed).toEqual([`${cert.name}@semi-lb`]);

    const actions = (await store.audit.list({ objectId: cert.id, limit: 200 })).map((e) => `${e.actor} ${e.action}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'scheduler approval.request',
        'cli:bob approval.approve',
        'scheduler certificate.renew',
        'scheduler certificate.deploy',
      ]),
    );
  });

  it('a denial is recorded with its reason and the scheduler does not ask again for a day', async () => {
    const { services, store } = core;
    const cert = await services.certificates.request({ profile: 'semi', commonName: 'deny.example.test' }, 'cli:alice');
    await store.certificates.update(cert.id, { renewAt: new Date(Date.now() - 1000) });
    await services.renewals.sweep();
    const approval = (await services.approvals.list('pending')).find((a) => a.certificateId === cert.id)!;
    await expect(services.approvals.deny(approval.id, 'cli:bob', '  ')).rejects.toMatchObject({
      code: 'input_invalid',
    });
    const denied = await services.approvals.deny(approval.id, 'cli:bob', 'change freeze');
    expect(denied).toMatchObject({ state: 'denied', reason: 'change freeze' });
    const row = (await store.certificates.findById(cert.id))!;
    expect(row.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    const again = await services.renewals.sweep();
    expect(again.waiting).not.toContain(cert.name);
    expect((await services.approvals.list('pending')).find((a) => a.certificateId === cert.id)).toBeUndefined();
  });
});
