import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DeployHarness, startDeployHarness } from './deploy-harness.ts';

/** A person's `cert deploy` is told to the notifier like the deploy job's: one event per device and serial. */
let h: DeployHarness;

beforeAll(async () => {
  h = await startDeployHarness();
});
afterAll(async () => {
  await h?.close();
});

it('a manual deploy emits deployed and deploy_failed per device, once per serial and day', async () => {
  const up = await h.addDevice('bigip-up');
  up.addProfile('/Common/acme_www', { defaultsFrom: '/Common/clientssl' });
  const down = await h.addDevice('bigip-down');
  down.addProfile('/Common/acme_www', { defaultsFrom: '/Common/clientssl' });
  const cert = await h.seedCertificate(['www.example.com']);
  for (const device of ['bigip-up', 'bigip-down'])
    await h.services.bindings.add({ certificate: cert.name, device, profile: 'acme_www' }, 'test');
  await down.close();

  const report = await h.services.deploys.deploy(cert.name, {}, 'cli:alice');
  expect(report.devices.map((d) => [d.device, d.result]).sort()).toEqual([
    ['bigip-down', 'failed'],
    ['bigip-up', 'succeeded'],
  ]);
  await h.services.deploys.deploy(cert.name, { device: 'bigip-up' }, 'cli:alice');

  const events = await h.store.events.list({ certificateId: cert.id });
  const told = events.map((e) => `${e.kind} ${e.detail.device} ${e.needsPerson}`).sort();
  expect(told).toEqual(['deploy_failed bigip-down true', 'deployed bigip-up false']);
  expect(events.every((e) => e.detail.serial === cert.serial && e.subject === cert.name)).toBe(true);
});
