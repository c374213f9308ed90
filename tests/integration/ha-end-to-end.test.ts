import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.ts';
import { assertProfilesConsistent } from '../bigip/deploy-harness.ts';
import { type BigIpCluster, startBigIpCluster } from '../support/bigip-simulator/ha-cluster.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

const PROFILE = '/Common/acme_shop';
const VS = '/Common/vs_shop_https';

function servedSerial(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
      socket.destroy();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

describeWithPebble('HA end to end: issue against Pebble, deploy once to a sync-failover pair, renew, fail over', () => {
  const pebble = usePebble({ authzReuse: 0 });
  let database: Database;
  let core: TestCore;
  let cluster: BigIpCluster;
  let port: number;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
    cluster = await startBigIpCluster({ members: ['bigip-a', 'bigip-b'], group: 'shop_dg' });
    const first = cluster.members[0]!;
    first.addProfile(PROFILE, { serverName: 'shop.example.test' });
    first.addVirtual(VS, { profiles: ['/Common/clientssl', PROFILE] });
    cluster.syncNow('bigip-a');
    port = await cluster.serveVirtualTls(VS);
    for (const [i, sim] of cluster.members.entries()) {
      await core.services.devices.add(
        { name: `lb-${i + 1}`, url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
        'test',
      );
    }
  }, 180_000);
  afterAll(async () => {
    await core?.close();
    await database?.close();
    await cluster?.close();
  });

  it('every member and the virtual server serve the issued, then the renewed certificate; old objects are gone on both', async () => {
    await core.services.profiles.create(
      { name: 'e2e', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    await core.services.domains.add('e2e', ['shop.example.test'], 'http-01', 'test');
    const issued = await core.services.certificates.request(
      { profile: 'e2e', commonName: 'shop.example.test' },
      'test',
    );
    expect(issued.state).toBe('issued');
    await core.services.bindings.add({ certificate: issued.name, device: 'lb-1', profile: 'acme_shop' }, 'test');

    const first = await core.services.deploys.deploy(issued.name, {}, 'test');
    expect(first.ok).toBe(true);
    expect(first.devices.map((d) => [d.device, d.group, d.result])).toEqual([
      ['lb-1', 'shop_dg', 'succeeded'],
      ['lb-2', 'shop_dg', 'succeeded'],
    ]);
    for (const sim of cluster.members) expect(assertProfilesConsistent(sim, [PROFILE])[PROFILE]).toBe(issued.serial);
    expect(await servedSerial(port, 'shop.example.test')).toBe(issued.serial);
    const oldObjects = cluster.members[0]!.state.profiles.get(PROFILE)!.certKeyChain[0]!;

    // The pair fails over; the renewal goes through the new active member.
    cluster.setActive('bigip-b');
    const renewed = await core.services.certificates.renew(issued.name, 'test');
    expect(renewed.serial).not.toBe(issued.serial);
    const second = await core.services.deploys.deploy(issued.name, {}, 'test');
    expect(second.ok, JSON.stringify(second.devices)).toBe(true);
    expect(second.devices.find((d) => d.step === 'done' && d.outcome.includes('clients see'))?.device).toBe('lb-2');
    for (const sim of cluster.members) expect(assertProfilesConsistent(sim, [PROFILE])[PROFILE]).toBe(renewed.serial);
    expect(await servedSerial(port, 'shop.example.test')).toBe(renewed.serial);
    const [binding] = await core.services.bindings.list({ certificate: issued.name });
    expect(binding).toMatchObject({ deployedSerial: renewed.serial, servedSerial: renewed.serial });
    // Installed through bigip-a and received by bigip-b, the first objects are removed through bigip-b and the
    // removal reaches bigip-a by the sync.
    for (const sim of cluster.members)
      for (const path of [oldObjects.cert, oldObjects.key, oldObjects.chain])
        expect(sim.state.certs.has(path) || sim.state.keys.has(path)).toBe(false);
  }, 180_000);
});
