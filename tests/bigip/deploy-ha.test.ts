import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeployReport } from '../../core/deploy/deploy-service.ts';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import {
  type BigIpCluster,
  type BigIpClusterOptions,
  startBigIpCluster,
} from '../support/bigip-simulator/ha-cluster.ts';
import type { BigIpSimulator } from '../support/bigip-simulator/index.ts';
import { reissueTestCertificate } from '../support/test-certificates.ts';
import { databaseTargets } from '../support/test-db.ts';
import { assertProfilesConsistent, type DeployHarness, startDeployHarness } from './deploy-harness.ts';

const PROFILE = '/Common/acme_www';
const VS = '/Common/vs_www_https';

/** The serial a real TLS handshake with `port` shows (SNI when given), lower-case hex. */
function servedSerial(port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}) },
      () => {
        const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
        socket.destroy();
        resolve(serial);
      },
    );
    socket.on('error', reject);
  });
}

const byDevice = (r: DeployReport) => Object.fromEntries(r.devices.map((d) => [d.device, d]));

describe.each(databaseTargets)(
  'deploying to BIG-IP device groups (config-sync, every peer, what clients see) on $kind',
  ({ open }) => {
    let h: DeployHarness;
    let cluster: BigIpCluster | null = null;
    let cert: ManagedCertificate;
    let port: number;

    beforeAll(async () => {
      h = await startDeployHarness({ deployChecks: { timeoutMs: 1500, pollMs: 20, handshakeTimeoutMs: 2000 } }, open);
    }, 180_000);
    afterAll(async () => {
      await h?.close();
    });
    afterEach(async () => {
      await cluster?.close();
      cluster = null;
      await h.reset();
    });

    /**
     * A group whose members carry the bound profile and an HTTPS virtual server using it (in sync), each member
     * registered as a device named like its device name; the certificate is bound on `bindOn` only.
     */
    async function group(options: BigIpClusterOptions, bindOn: string[], serverName?: string) {
      cluster = await startBigIpCluster({ syncDelayMs: 20, autoSyncDelayMs: 20, ...options });
      const first = cluster.members[0]!;
      first.addProfile(PROFILE, serverName ? { serverName } : {});
      // With a server name, the SNI default is the stock profile: only a handshake with SNI sees ours.
      first.addVirtual(VS, { profiles: serverName ? ['/Common/clientssl', PROFILE] : [PROFILE] });
      cluster.syncNow(options.members[0]!);
      port = await cluster.serveVirtualTls(VS);
      for (const [i, sim] of cluster.members.entries()) {
        await h.services.devices.add(
          {
            name: options.members[i]!,
            url: sim.url,
            username: sim.username,
            password: sim.password,
            caPem: sim.caPem!,
          },
          'test',
        );
      }
      cert = await h.seedCertificate(['www.example.com']);
      for (const device of bindOn)
        await h.services.bindings.add({ certificate: cert.name, device, profile: 'acme_www' }, 'test');
      return cluster;
    }

    const deploy = (opts = {}) => h.services.deploys.deploy(cert.name, opts, 'test');
    const servingEverywhere = (c: BigIpCluster) =>
      c.members.map((m) => assertProfilesConsistent(m, [PROFILE])[PROFILE]);

    async function bindingsState() {
      return (await h.store.bindings.list({ certificateId: cert.id })).map((b) => ({
        deployed: b.deployedSerial,
        served: b.servedSerial,
        verifiedAt: b.servedVerifiedAt !== null,
      }));
    }

    async function isCandidate() {
      return (await h.store.certificates.listDeployCandidates(100)).includes(cert.id);
    }

    it('device add of a member shows its group and peers; device list carries group and failover state', async () => {
      const c = await group({ members: ['bigip1', 'bigip2'] }, ['bigip1']);
      const one = await h.services.devices.show('bigip1');
      expect(one.haTopology).toMatchObject({
        self: 'bigip1',
        failoverState: 'active',
        group: { name: 'dg1', type: 'sync-failover', autoSync: false, members: ['bigip1', 'bigip2'] },
        syncStatus: 'In Sync',
      });
      expect(one.lastTest?.message).toContain('in device group dg1 (sync-failover, manual sync, In Sync)');
      expect(await h.services.devices.peers(await h.services.devices.get('bigip1'))).toEqual([
        { name: 'bigip2', registeredAs: 'bigip2' },
      ]);
      c.setActive('bigip2');
      await h.services.devices.test('bigip2', 'test');
      expect((await h.services.devices.show('bigip2')).haTopology?.failoverState).toBe('active');
    });

    it('device add-group registers every member under its device name, or nothing when a URL is not a member', async () => {
      cluster = await startBigIpCluster({ members: ['bigip1', 'bigip2', 'bigip3'] });
      const [a, b, c] = cluster.members as [BigIpSimulator, BigIpSimulator, BigIpSimulator];
      const solo = await h.addDevice('solo', { password: a.password });
      // Each simulator has its own management certificate: one CA file cannot cover them all here.
      const credentials = { username: a.username, password: a.password, insecure: true };
      // A standalone device among the URLs: refused, nothing stored.
      await expect(
        h.services.devices.addGroup({ ...credentials, group: 'dg1', urls: [a.url, solo.url] }, 'test'),
      ).rejects.toThrow(/is not a member of device group dg1; nothing stored/);
      await expect(
        h.services.devices.addGroup({ ...credentials, group: 'dg9', urls: [a.url] }, 'test'),
      ).rejects.toThrow(/\(bigip1\) is not a member of device group dg9 \(it is in dg1\); nothing stored/);
      expect((await h.services.devices.list()).map((d) => d.name)).toEqual(['solo']);
      const r = await h.services.devices.addGroup({ ...credentials, group: 'dg1', urls: [a.url, b.url] }, 'test');
      expect(r.added.map((d) => d.name)).toEqual(['bigip1', 'bigip2']);
      expect(r.missing).toEqual(['bigip3']);
      const again = await h.services.devices.addGroup({ ...credentials, group: 'dg1', urls: [b.url, c.url] }, 'test');
      expect(again).toMatchObject({ alreadyRegistered: ['bigip2'], missing: ['bigip1'] });
      expect(await h.services.devices.peers(await h.services.devices.get('bigip1'))).toEqual([
        { name: 'bigip2', registeredAs: 'bigip2' },
        { name: 'bigip3', registeredAs: 'bigip3' },
      ]);
    });

    it('two-member sync-failover group, manual sync: deployed once on the active, pushed with to-group, every peer and the virtual server verified', async () => {
      const c = await group({ members: ['bigip1', 'bigip2'] }, ['bigip1']);
      const report = await deploy();
      expect(report.ok).toBe(true);
      const d = byDevice(report);
      expect(d['bigip1']).toMatchObject({ group: 'dg1', result: 'succeeded', step: 'done', error: null });
      expect(d['bigip1']!.outcome).toContain('device group dg1 in sync (config-sync to-group)');
      expect(d['bigip1']!.outcome).toContain(`clients see serial ${cert.serial}`);
      expect(d['bigip2']).toMatchObject({ group: 'dg1', result: 'succeeded', error: null });
      // Written once: only the active member saw uploads and installs; the standby got it by the sync.
      expect(
        c.member('bigip2').requests.filter((r) => r.method !== 'GET' && r.step !== 'login' && r.step !== 'logout'),
      ).toEqual([]);
      expect(c.member('bigip1').requests.filter((r) => r.step === 'config-sync')).toHaveLength(1);
      expect(c.syncs.at(-1)).toEqual({ from: 'bigip1', to: ['bigip2'] });
      expect(servingEverywhere(c)).toEqual([cert.serial, cert.serial]);
      expect(await servedSerial(port)).toBe(cert.serial);
      expect(await bindingsState()).toEqual([{ deployed: cert.serial, served: cert.serial, verifiedAt: true }]);
      expect(await isCandidate()).toBe(false);
      // A failover now shows clients the same certificate.
      c.setActive('bigip2');
      expect(await servedSerial(port)).toBe(cert.serial);
      const records = await h.store.deployments.list({ certificateId: cert.id });
      expect(records.map((r) => r.result).sort()).toEqual(['succeeded', 'succeeded']);
      // No device password in the report, the records or the audit trail.
      const audit = await h.store.audit.list({ limit: 100 });
      expect(JSON.stringify([report, records, audit])).not.toContain(c.member('bigip2').password);

      // Re-running writes nothing and pushes nothing: already served, group in sync.
      c.member('bigip1').resetRequests();
      const again = await deploy();
      expect(again.ok).toBe(true);
      expect(
        c.member('bigip1').requests.filter((r) => r.method !== 'GET' && r.step !== 'login' && r.step !== 'logout'),
      ).toEqual([]);
    });

    it('three-member auto-sync group: deploys on the active member wherever the binding is, waits for auto-sync, SNI picks the profile', async () => {
      const c = await group(
        { members: ['bigip1', 'bigip2', 'bigip3'], autoSync: true, type: 'sync-failover', active: 'bigip2' },
        ['bigip1', 'bigip3'],
        'www.example.com',
      );
      // Without SNI clients get the stock profile: the check must send the profile's server name.
      const stock = await servedSerial(port);
      const report = await deploy();
      expect(report.ok).toBe(true);
      const d = byDevice(report);
      expect(Object.keys(d).sort()).toEqual(['bigip1', 'bigip2', 'bigip3']);
      expect(d['bigip2']!.outcome).toContain('device group dg1 in sync (auto-sync)');
      expect(d['bigip2']!.outcome).toContain('(SNI www.example.com)');
      for (const sim of c.members) expect(sim.requests.filter((r) => r.step === 'config-sync')).toEqual([]);
      expect(c.syncs.at(-1)?.from).toBe('bigip2');
      expect(servingEverywhere(c)).toEqual([cert.serial, cert.serial, cert.serial]);
      expect(await servedSerial(port, 'www.example.com')).toBe(cert.serial);
      expect(await servedSerial(port)).toBe(stock);
      expect(await bindingsState()).toEqual([
        { deployed: cert.serial, served: cert.serial, verifiedAt: true },
        { deployed: cert.serial, served: cert.serial, verifiedAt: true },
      ]);
    });

    it('the operator may choose the member (--via); a member that is not registered is refused, writing nothing', async () => {
      const c = await group({ members: ['bigip1', 'bigip2'] }, ['bigip1']);
      const refused = await deploy({ via: 'nope' });
      expect(refused.ok).toBe(false);
      expect(refused.devices[0]!.error?.message).toContain('not a registered member of device group dg1');
      expect(servingEverywhere(c)).not.toContain(cert.serial);
      const report = await deploy({ via: 'bigip2' });
      expect(report.ok).toBe(true);
      expect(c.syncs.at(-1)?.from).toBe('bigip2');
      expect(servingEverywhere(c)).toEqual([cert.serial, cert.serial]);
    });

    it('sync refused: the deploy fails at sync, the peer keeps what it served, nothing marked deployed; the next run finishes', async () => {
      const c = await group({ members: ['bigip1', 'bigip2'] }, ['bigip1']);
      const before = servingEverywhere(c)[1];
      c.member('bigip1').failAt('config-sync', { status: 400, message: '01070712:3: Simulated refusal.' });
      const report = await deploy();
      expect(report.ok).toBe(false);
      expect(byDevice(report)['bigip1']).toMatchObject({ result: 'failed', step: 'sync' });
      expect(byDevice(report)['bigip1']!.error?.message).toContain('config-sync to-group dg1 from bigip1 was refused');
      expect(servingEverywhere(c)[1]).toBe(before);
      expect(await bindingsState()).toEqual([{ deployed: null, served: null, verifiedAt: false }]);
      expect(await isCandidate()).toBe(true);
      const retry = await deploy();
      expect(retry.ok).toBe(true);
      expect(servingEverywhere(c)).toEqual([cert.serial, cert.serial]);
      expect(await isCandidate()).toBe(false);
    });

    it('a disconnected peer fails alone with a clear message; the peer already in sync keeps the new certificate; reconnected, the retry completes', async () => {
      const c = await group({ members: ['bigip1', 'bigip2', 'bigip3'] }, ['bigip1']);
      const old = servingEverywhere(c)[2];
      c.disconnect('bigip3');
      const report = await deploy();
      expect(report.ok).toBe(false);
      const d = byDevice(report);
      expect(d['bigip1']).toMatchObject({ result: 'failed', step: 'peer_verify' });
      expect(d['bigip2']).toMatchObject({ result: 'succeeded' });
      expect(d['bigip3']).toMatchObject({ result: 'failed', step: 'peer_verify' });
      expect(d['bigip3']!.error?.message).toBe(
        'bigip3 is disconnected from device group dg1 and did not receive the sync; it keeps what it served before; the next deploy run retries',
      );
      // Nothing rolled back on the peer that has it; the disconnected one serves what it served.
      expect(servingEverywhere(c)).toEqual([cert.serial, cert.serial, old]);
      expect(await isCandidate()).toBe(true);
      c.reconnect('bigip3');
      const retry = await deploy();
      expect(retry.ok).toBe(true);
      expect(servingEverywhere(c)).toEqual([cert.serial, cert.serial, cert.serial]);
      expect(await bindingsState()).toEqual([{ deployed: cert.serial, served: cert.serial, verifiedAt: true }]);
    });

    it('a sync that never completes times out: peers fail saying the group stayed Changes Pending; the next run finishes', async () => {
      const c = await group({ members: ['bigip1', 'bigip2'] }, ['bigip1']);
      c.stallSyncs(true);
      const report = await deploy();
      expect(report.ok).toBe(false);
      const d = byDevice(report);
      expect(d['bigip1']!.outcome).toMatch(/device group dg1 not in sync after \d+ s \(Changes Pending\)/);
      expect(d['bigip2']!.error?.message).toMatch(
        /^bigip2 did not receive the sync within \d+ s \(group dg1 is changes pending\): \/Common\/www\.example\.com_.*\.crt is missing; it keeps what it served before/,
      );
      expect(await bindingsState()).toEqual([{ deployed: null, served: null, verifiedAt: false }]);
      c.stallSyncs(false);
      expect((await deploy()).ok).toBe(true);
    });

    it('an auto-sync group with a peer away: that peer fails, the others hold it', async () => {
      const c = await group({ members: ['bigip1', 'bigip2', 'bigip3'], autoSync: true }, ['bigip1']);
      c.disconnect('bigip2');
      const report = await deploy();
      expect(report.ok).toBe(false);
      expect(byDevice(report)['bigip2']!.error?.message).toContain('bigip2 is disconnected from device group dg1');
      expect(byDevice(report)['bigip3']).toMatchObject({ result: 'succeeded' });
      c.reconnect('bigip2');
      expect((await deploy()).ok).toBe(true);
    });

    it('the handshake shows the old serial: the deploy fails at its last step and is retried; a renewal is checked again', async () => {
      const c = await group({ members: ['bigip1', 'bigip2'] }, ['bigip1']);
      const old = await servedSerial(port);
      c.freezeServedTls(true);
      const report = await deploy();
      expect(report.ok).toBe(false);
      expect(byDevice(report)['bigip1']).toMatchObject({ result: 'failed', step: 'handshake' });
      expect(byDevice(report)['bigip1']!.error?.message).toBe(
        `clients are not shown the new certificate: ${VS} at 127.0.0.1:${port} presents serial ${old}, not the deployed ${cert.serial}`,
      );
      // Both members hold it (synced), but it is not marked deployed or served: the deploy job retries.
      expect(servingEverywhere(c)).toEqual([cert.serial, cert.serial]);
      expect(await bindingsState()).toEqual([{ deployed: null, served: null, verifiedAt: false }]);
      expect(await isCandidate()).toBe(true);
      c.freezeServedTls(false);
      const retry = await deploy();
      expect(retry.ok).toBe(true);
      expect(await bindingsState()).toEqual([{ deployed: cert.serial, served: cert.serial, verifiedAt: true }]);

      cert = await reissueTestCertificate(h.store, h.secrets, cert);
      expect((await deploy()).ok).toBe(true);
      expect(await servedSerial(port)).toBe(cert.serial);
      expect(await bindingsState()).toEqual([{ deployed: cert.serial, served: cert.serial, verifiedAt: true }]);
    });

    it('a standalone device: the handshake is the last step too, and binding list reports what was verified', async () => {
      const sim: BigIpSimulator = await h.addDevice('solo');
      sim.addProfile(PROFILE);
      sim.addVirtual(VS, { profiles: [PROFILE] });
      const soloPort = await sim.serveVirtualTls(VS);
      cert = await h.seedCertificate(['www.example.com']);
      await h.services.bindings.add({ certificate: cert.name, device: 'solo', profile: 'acme_www' }, 'test');
      expect((await h.services.devices.show('solo')).haTopology).toBeNull();
      const report = await deploy();
      expect(report.ok).toBe(true);
      expect(report.devices[0]).toMatchObject({ device: 'solo', result: 'succeeded' });
      expect(report.devices[0]!.group ?? null).toBeNull();
      expect(await servedSerial(soloPort)).toBe(cert.serial);
      const [listed] = await h.services.bindings.list({ certificate: cert.name });
      expect(listed).toMatchObject({ servedSerial: cert.serial });
    });
  },
);
