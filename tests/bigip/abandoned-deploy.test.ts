import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployTargetLeaseKey } from '../../core/domain/abandoned-deployment.ts';
import type { Deployment } from '../../core/domain/deployment.ts';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import type { BigIpSimulator } from '../support/bigip-simulator/index.ts';
import { reissueTestCertificate } from '../support/test-certificates.ts';
import { assertProfilesConsistent, type DeployHarness, startDeployHarness, writesSeen } from './deploy-harness.ts';

/**
 * A deploy whose process stopped (SIGKILL at a failpoint: tests/integration/deploy-kill.test.ts does it for
 * real) leaves its record `running`; here that record is made directly through the store.
 */
describe('a deployment record whose process stopped does not read as running forever', () => {
  let h: DeployHarness;
  let sim: BigIpSimulator;
  let cert: ManagedCertificate;
  let deviceId: string;

  beforeAll(async () => {
    h = await startDeployHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    sim = await h.addDevice('bigip1');
    sim.addProfile('/Common/acme_www', { defaultsFrom: '/Common/clientssl' });
    cert = await h.seedCertificate(['www.example.com']);
    await h.services.bindings.add({ certificate: cert.name, device: 'bigip1', profile: 'acme_www' }, 'test');
    deviceId = (await h.store.devices.findByName('bigip1'))!.id;
  });
  afterEach(async () => {
    await h.reset();
  });

  /** What the killed process left: its record, `running` at `step`. */
  const leftRunning = async (step: Deployment['step']): Promise<Deployment> => {
    const d: Deployment = {
      id: h.deps.newId(),
      certificateId: cert.id,
      deviceId,
      serial: cert.serial!,
      objects: { key: '/Common/x.key', cert: '/Common/x.crt', chain: null },
      profiles: ['/Common/acme_www'],
      oldFingerprints: {},
      newFingerprint: cert.fingerprintSha256!,
      result: 'running',
      step,
      error: null,
      outcome: null,
      actor: 'killed',
      startedAt: new Date(Date.now() - 60_000),
      finishedAt: null,
    };
    await h.store.deployments.insert(d);
    return d;
  };
  const reread = async (id: string) =>
    (await h.store.deployments.list({ certificateId: cert.id })).find((d) => d.id === id)!;

  it('the next deploy of the same certificate to the same device settles it, naming the step and itself', async () => {
    await h.services.deploys.deploy(cert.name, {}, 'test');
    cert = await reissueTestCertificate(h.store, h.secrets, cert);
    const killed = await leftRunning('switch');

    const report = await h.services.deploys.deploy(cert.name, {}, 'test');
    expect(report.devices[0]).toMatchObject({ result: 'succeeded' });
    const settled = await reread(killed.id);
    expect(settled).toMatchObject({ result: 'failed', step: 'switch', error: { code: 'deploy_failed' } });
    expect(settled.error!.message).toBe(
      `the process running this deploy stopped at step switch; superseded by ${report.devices[0]!.deploymentId}`,
    );
    expect(settled.outcome).toMatch(/either what they served before or the new certificate/);
    expect(settled.finishedAt).not.toBeNull();
    expect((await h.services.deploys.history(cert.name)).filter((d) => d.result === 'running')).toEqual([]);
    expect(Object.values(assertProfilesConsistent(sim, ['/Common/acme_www']))).toEqual([cert.serial]);
  });

  it("a deploy right after a kill waits for the dead process's claim to lapse, then settles its record", async () => {
    const killed = await leftRunning('verify');
    // The killed process's claim, last renewed just now; it lapses after its length (here 300 ms).
    expect(await h.store.leases.tryAcquire(deployTargetLeaseKey(cert.id, deviceId), 'killed-process', 300)).toBe(true);
    const report = await h.services.deploys.deploy(cert.name, {}, 'test');
    expect(report.devices[0]).toMatchObject({ result: 'succeeded' });
    expect((await reread(killed.id)).error!.message).toBe(
      `the process running this deploy stopped at step verify; superseded by ${report.devices[0]!.deploymentId}`,
    );
  });

  it('the cleanup job settles it once nobody holds its lease, and leaves a live deploy alone', async () => {
    const killed = await leftRunning('cert_install');
    const key = deployTargetLeaseKey(cert.id, deviceId);
    // A live process deploying this certificate to this device holds the lease.
    expect(await h.store.leases.tryAcquire(key, 'other-process', 60_000)).toBe(true);
    expect(await h.services.jobs.run('cleanup')).toMatchObject({ abandonedDeploys: 0 });
    expect(await reread(killed.id)).toMatchObject({ result: 'running' });

    // …and a second deploy does not start beside it: nothing written, the running one named.
    sim.resetRequests();
    const lines: string[] = [];
    const report = await h.services.deploys.deploy(cert.name, { waitMs: 50 }, 'test', (line) => lines.push(line));
    expect(report.devices[0]).toMatchObject({ result: 'failed', deploymentId: killed.id, error: { code: 'conflict' } });
    expect(report.devices[0]!.error!.message).toMatch(
      new RegExp(`deployment ${killed.id} .* running in another process, or that process stopped less than 60 s ago`),
    );
    expect(lines[0]).toMatch(new RegExp(`waiting up to 1 s for deployment ${killed.id}`));
    expect(writesSeen(sim)).toEqual([]);

    // The process dies: its lease is no longer renewed (released here instead of waiting 60 s).
    await h.store.leases.release(key, 'other-process');
    expect(await h.services.jobs.run('cleanup')).toMatchObject({ abandonedDeploys: 1 });
    expect(await reread(killed.id)).toMatchObject({
      result: 'failed',
      error: { message: 'the process running this deploy stopped at step cert_install; found by the cleanup job' },
      outcome: expect.stringMatching(/^the profiles were not switched/),
    });
    expect(await h.services.jobs.run('cleanup')).toMatchObject({ abandonedDeploys: 0 });
  });
});
