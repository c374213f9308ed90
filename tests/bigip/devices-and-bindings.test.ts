import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoreError } from '../../core/errors.ts';
import { startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { type DeployHarness, startDeployHarness, writesSeen } from './deploy-harness.ts';

async function rejection(promise: Promise<unknown>): Promise<CoreError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CoreError);
  return err as CoreError;
}

describe('devices and bindings', () => {
  let h: DeployHarness;
  beforeAll(async () => {
    h = await startDeployHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await h.reset();
  });

  describe('the connection test names the layer that failed, and a failed test adds nothing', () => {
    let closedPort: number;
    let silent: Server;
    beforeAll(async () => {
      // A port that accepts TCP and never answers: the handshake times out. It reads (and drops) what it
      // gets, so it sees the client hang up.
      silent = createServer((socket) => socket.resume());
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      closedPort = (probe.address() as AddressInfo).port;
      await new Promise((r) => probe.close(r));
    });
    afterAll(async () => {
      await new Promise((r) => silent.close(r));
    });

    it.each([
      ['dns', () => ({ url: 'https://bigip.invalid', password: 'x' })],
      ['tcp', () => ({ url: `https://127.0.0.1:${closedPort}`, password: 'x' })],
    ] as const)('%s', async (stage, input) => {
      const err = await rejection(
        h.services.devices.add({ name: 'dev', username: 'admin', caPem: undefined, ...input() }, 'test'),
      );
      expect(err.code).toBe('input_invalid');
      expect(err.detail).toEqual({ stage });
      expect(await h.store.devices.list()).toEqual([]);
    });

    it('tls (certificate not trusted), credentials, and API', async () => {
      const sim = await startBigIpSimulator({ password: 'right-password-1' });
      h.simulators.push(sim);
      const untrusted = await rejection(
        h.services.devices.add({ name: 'd1', url: sim.url, username: 'admin', password: 'right-password-1' }, 'test'),
      );
      expect(untrusted.detail).toEqual({ stage: 'tls' });
      const wrong = await rejection(
        h.services.devices.add(
          { name: 'd1', url: sim.url, username: 'admin', password: 'wrong-password-9', caPem: sim.caPem! },
          'test',
        ),
      );
      expect(wrong.detail).toEqual({ stage: 'credentials' });
      expect(wrong.message).not.toContain('wrong-password-9');
      sim.failAt('device-info', { status: 500, message: '01070000:3: injected' });
      const api = await rejection(
        h.services.devices.add(
          { name: 'd1', url: sim.url, username: 'admin', password: 'right-password-1', caPem: sim.caPem! },
          'test',
        ),
      );
      expect(api.detail).toEqual({ stage: 'api' });
      expect(await h.store.devices.list()).toEqual([]);

      const { device, test } = await h.services.devices.add(
        { name: 'd1', url: sim.url, username: 'admin', password: 'right-password-1', caPem: sim.caPem! },
        'test',
      );
      expect(test).toMatchObject({ ok: true, stage: 'ok', hostname: 'bigip-sim.example.test', version: '17.1.2.1' });
      expect(device).not.toHaveProperty('passwordSealed');
      expect(device).toMatchObject({ hostname: 'bigip-sim.example.test', insecure: false });

      await sim.close();
      const down = await h.services.devices.test('d1', 'test');
      expect(down).toMatchObject({ ok: false, stage: 'tcp' });
      expect((await h.services.devices.show('d1')).lastTest).toMatchObject({ ok: false, stage: 'tcp' });
    });

    it('a silent port times out at the TCP/TLS layer instead of hanging', async () => {
      const port = (silent.address() as AddressInfo).port;
      const device = await h.services.devices.add(
        { name: 'quiet', url: `https://127.0.0.1:${port}`, username: 'admin', password: 'x', skipTest: true },
        'test',
      );
      expect(device.test).toBeNull();
      const stored = (await h.store.devices.findByName('quiet'))!;
      const client = h.deps.bigip({ ...h.services.devices.connection(stored), timeoutMs: 300 });
      const err = await rejection(client.deviceInfo());
      expect(['bigip_timeout', 'bigip_tls', 'bigip_tcp']).toContain(err.code);
      await client.close();
    });
  });

  it('refuses bad settings before touching the network', async () => {
    const add = (over: Record<string, unknown>) =>
      rejection(
        h.services.devices.add(
          { name: 'd', url: 'https://10.0.0.5', username: 'admin', password: 'p', skipTest: true, ...over },
          'test',
        ),
      );
    expect((await add({ name: 'bad name' })).message).toMatch(/device name/);
    expect((await add({ url: 'ftp://x' })).message).toMatch(/https/);
    expect((await add({ url: 'https://admin:pw@10.0.0.5' })).message).toMatch(/credentials/);
    expect((await add({ url: 'https://10.0.0.5/mgmt' })).message).toMatch(/only scheme, host and port/);
    expect((await add({ url: 'http://10.0.0.5' })).message).toMatch(/unencrypted/);
    expect((await add({ partition: 'bad/part' })).message).toMatch(/partition/);
    expect((await add({ caPem: 'not a pem' })).message).toMatch(/CA file/);
    expect(
      (await add({ caPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', insecure: true })).message,
    ).toMatch(/either/);
    expect(await h.store.devices.list()).toEqual([]);
    expect(await h.store.audit.list()).toEqual([]);
  });

  it('records --insecure and shows it; the password is sealed', async () => {
    const sim = await h.addDevice('plain', { tls: false });
    const d = await h.services.devices.show('plain');
    expect(d).toMatchObject({ insecure: true, url: sim.url });
    const stored = (await h.store.devices.findByName('plain'))!;
    expect(stored.passwordSealed).toMatch(/^v1\./);
    expect(stored.passwordSealed).not.toContain(sim.password);
  });

  it('bindings: profile must exist unless created; one certificate per profile; unbinding leaves the device alone', async () => {
    const sim = await h.addDevice('b1');
    sim.addProfile('/Common/acme_x', { defaultsFrom: '/Common/clientssl' });
    const cert = await h.seedCertificate(['x.example.com']);
    const other = await h.seedCertificate(['y.example.com']);
    const missing = await rejection(
      h.services.bindings.add({ certificate: cert.name, device: 'b1', profile: 'nope' }, 'test'),
    );
    expect(missing).toMatchObject({ code: 'not_found', message: expect.stringMatching(/--create-profile/) });
    const badParent = await rejection(
      h.services.bindings.add(
        { certificate: cert.name, device: 'b1', profile: 'new', createProfile: true, parent: '/Common/nope' },
        'test',
      ),
    );
    expect(badParent.message).toMatch(/parent profile \/Common\/nope/);
    expect(
      (await rejection(h.services.bindings.add({ certificate: cert.name, device: 'b1', profile: 'bad path!' }, 'test')))
        .code,
    ).toBe('input_invalid');

    const b = await h.services.bindings.add({ certificate: cert.name, device: 'b1', profile: 'acme_x' }, 'test');
    expect(b).toMatchObject({ profilePath: '/Common/acme_x', certificateName: 'x.example.com', deviceName: 'b1' });
    const taken = await rejection(
      h.services.bindings.add({ certificate: other.name, device: 'b1', profile: '/Common/acme_x' }, 'test'),
    );
    expect(taken).toMatchObject({ code: 'conflict', message: expect.stringMatching(/x\.example\.com/) });
    expect((await rejection(h.services.devices.remove('b1', 'test'))).code).toBe('conflict');

    sim.resetRequests();
    await h.services.bindings.remove({ certificate: cert.name, device: 'b1', profile: 'acme_x' }, 'test');
    expect(writesSeen(sim)).toEqual([]);
    expect(await h.services.bindings.list()).toEqual([]);
    await h.services.devices.remove('b1', 'test');
    expect(await h.services.devices.list()).toEqual([]);
  });

  it('install-responder needs an existing virtual server and leaves it alone otherwise', async () => {
    const sim = await h.addDevice('edge');
    const err = await rejection(h.services.devices.installResponder('edge', { virtual: 'vs_missing' }, 'test'));
    expect(err).toMatchObject({ code: 'not_found', message: expect.stringMatching(/\/Common\/vs_missing/) });
    expect(sim.state.dataGroups.size).toBe(0);
    expect(
      (await rejection(h.services.devices.installResponder('edge', { virtual: 'vs', dataGroup: 'no-slash' }, 'test')))
        .code,
    ).toBe('input_invalid');
  });
});
