import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../support/free-port.ts';
import { type DeployHarness, startDeployHarness } from './deploy-harness.ts';

const PROFILE = '/Common/acme_www';
const VS = '/Common/vs_www_https';

/**
 * DEPLOY_HANDSHAKE_CHECK: a virtual server whose address this host cannot complete a handshake with (here a
 * loopback port that accepts and closes) fails every deploy at its last step while the check is required,
 * and is not dialled at all when it is off.
 */
describe.each([
  { handshake: 'required' as const, ok: false },
  { handshake: 'off' as const, ok: true },
])('deploy with the handshake check $handshake', ({ handshake, ok }) => {
  let h: DeployHarness;
  let dialled = 0;
  const closer = createServer((socket) => {
    dialled++;
    socket.destroy();
  });
  let port: number;

  beforeAll(async () => {
    port = await freeTcpPort();
    await new Promise<void>((resolve) => closer.listen(port, '127.0.0.1', resolve));
    h = await startDeployHarness({ deployChecks: { handshake, handshakeTimeoutMs: 2000 } });
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => closer.close(resolve));
  });

  it(
    ok ? 'deploys and says what clients see was not checked' : 'fails at the handshake and stays a candidate',
    async () => {
      const sim = await h.addDevice('solo');
      sim.addProfile(PROFILE);
      sim.addVirtual(VS, { profiles: [PROFILE], destination: `/Common/127.0.0.1:${port}` });
      const cert = await h.seedCertificate(['www.example.com']);
      await h.services.bindings.add({ certificate: cert.name, device: 'solo', profile: 'acme_www' }, 'test');
      const report = await h.services.deploys.deploy(cert.name, {}, 'test');
      expect(report.ok).toBe(ok);
      const [binding] = await h.store.bindings.list({ certificateId: cert.id });
      if (ok) {
        expect(report.devices[0]).toMatchObject({ result: 'succeeded' });
        expect(report.devices[0]!.outcome).toContain('what clients see was not checked (DEPLOY_HANDSHAKE_CHECK=off)');
        expect(dialled).toBe(0);
        expect(binding).toMatchObject({ deployedSerial: cert.serial, servedSerial: null });
      } else {
        expect(report.devices[0]).toMatchObject({ result: 'failed', step: 'handshake' });
        expect(dialled).toBeGreaterThan(0);
        expect(binding).toMatchObject({ deployedSerial: null, servedSerial: null });
        expect(await h.store.certificates.listDeployCandidates(100)).toContain(cert.id);
      }
    },
  );
});
