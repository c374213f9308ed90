import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUESTS_IN_FLIGHT_PER_DEVICE } from '../../core/domain/deploy-fan-out.ts';
import type { BigIpSimulator } from '../support/bigip-simulator/index.ts';
import { reissueTestCertificate } from '../support/test-certificates.ts';
import { assertProfilesConsistent, type DeployHarness, startDeployHarness } from './deploy-harness.ts';

/** Each simulated device counts the requests it has in flight at once; latency makes overlaps visible. */
describe('deploy fan-out: every device at once, at most two requests in flight per device', () => {
  let h: DeployHarness;
  const sims: BigIpSimulator[] = [];

  beforeAll(async () => {
    h = await startDeployHarness();
    for (let i = 0; i < 4; i++) {
      const sim = await h.addDevice(`bigip${i}`, { latencyMs: 15 });
      sim.addProfile('/Common/acme_www', { defaultsFrom: '/Common/clientssl' });
      sims.push(sim);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it('first deploy and renewal of two certificates at once stay within two requests per device', async () => {
    let www = await h.seedCertificate(['www.example.com']);
    let api = await h.seedCertificate(['api.example.com']);
    for (const [i, cert] of [www, api].entries()) {
      for (const sim of sims.keys())
        await h.services.bindings.add(
          { certificate: cert.name, device: `bigip${sim}`, profile: `acme_${i}`, createProfile: true },
          'test',
        );
    }
    for (const sim of sims) sim.resetRequests();

    const both = () => Promise.all([www, api].map((c) => h.services.deploys.deploy(c.name, {}, 'test')));
    for (const report of await both()) expect(report.ok).toBe(true);
    www = await reissueTestCertificate(h.store, h.secrets, www);
    api = await reissueTestCertificate(h.store, h.secrets, api);
    for (const report of await both()) {
      expect(report.ok).toBe(true);
      expect(report.devices.map((d) => d.result)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    }

    for (const sim of sims) {
      expect(sim.maxConcurrentRequests()).toBeLessThanOrEqual(MAX_REQUESTS_IN_FLIGHT_PER_DEVICE);
      assertProfilesConsistent(sim, ['/Common/acme_0', '/Common/acme_1']);
    }
    // The limit is reached, not just respected: independent requests (uploads) do go side by side.
    expect(Math.max(...sims.map((s) => s.maxConcurrentRequests()))).toBe(MAX_REQUESTS_IN_FLIGHT_PER_DEVICE);
  });
});
