import { afterAll, beforeAll, expect, it } from 'vitest';
import { acmeResponderRule } from '../../core/domain/acme-irule.ts';
import { openDatabase, type Database } from '../../db/client.ts';
import { assertProfilesConsistent } from '../bigip/deploy-harness.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

/** Everything on a device that is not a bigip-acme object, to prove a deploy touched nothing else. */
function foreignState(sim: BigIpSimulator) {
  const ours = (path: string) => /_\d{8}-[0-9a-f]{8}(_chain)?\.(crt|key)$/.test(path);
  return JSON.stringify({
    certs: [...sim.state.certs].filter(([k]) => !ours(k)),
    keys: [...sim.state.keys].filter(([k]) => !ours(k)).map(([k, v]) => [k, v.pem]),
    profiles: [...sim.state.profiles].filter(([k]) => k.startsWith('/Common/other')),
    virtuals: [...sim.state.virtuals],
    rules: [...sim.state.rules],
    dataGroups: [...sim.state.dataGroups].map(([k, v]) => [k, [...v.records]]),
  });
}

async function addDevice(core: TestCore, name: string, sim: BigIpSimulator) {
  await core.services.devices.add(
    { name, url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
    'test',
  );
}

describeWithPebble('BIG-IP end to end: issue against Pebble, deploy to two devices, renew, deploy again', () => {
  const pebble = usePebble({ authzReuse: 0 });
  let database: Database;
  let core: TestCore;
  const sims: BigIpSimulator[] = [];
  const PROFILES: Record<string, string[]> = {
    'bigip-a': ['/Common/acme_shop', '/Common/acme_shop_created'],
    'bigip-b': ['/Common/acme_shop', '/Tenant/acme_shop'],
  };

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
    for (const name of Object.keys(PROFILES)) {
      const sim = await startBigIpSimulator({ hostname: `${name}.example.test` });
      sims.push(sim);
      sim.addProfile('/Common/acme_shop', { defaultsFrom: '/Common/clientssl' });
      sim.addProfile('/Common/other_app', { defaultsFrom: '/Common/clientssl' });
      if (name === 'bigip-b') sim.addProfile('/Tenant/acme_shop', { defaultsFrom: '/Common/clientssl' });
      await addDevice(core, name, sim);
    }
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
    await Promise.all(sims.map((s) => s.close()));
  });

  it('profiles point to the new objects after renewal, old objects are gone, nothing else is touched', async () => {
    await core.services.profiles.create(
      { name: 'e2e', server: pebble().directoryUrl, keySpec: 'rsa-2048', acceptTos: true },
      'test',
    );
    await core.services.domains.add('e2e', ['shop.example.test', 'www.shop.example.test'], 'http-01', 'test');
    const issued = await core.services.certificates.request(
      { profile: 'e2e', commonName: 'shop.example.test', sans: ['www.shop.example.test'] },
      'test',
    );
    expect(issued.state).toBe('issued');
    for (const [device, profiles] of Object.entries(PROFILES)) {
      for (const profile of profiles) {
        await core.services.bindings.add(
          { certificate: issued.name, device, profile, createProfile: profile.endsWith('_created') },
          'test',
        );
      }
    }
    const before = sims.map(foreignState);

    const first = await core.services.deploys.deploy(issued.name, {}, 'test');
    expect(first.devices.map((d) => [d.device, d.result])).toEqual([
      ['bigip-a', 'succeeded'],
      ['bigip-b', 'succeeded'],
    ]);
    const firstObjects = sims.map((s) => s.state.profiles.get('/Common/acme_shop')!.certKeyChain[0]!);
    sims.forEach((sim, i) => {
      const serving = assertProfilesConsistent(sim, PROFILES[Object.keys(PROFILES)[i]!]!);
      expect(new Set(Object.values(serving))).toEqual(new Set([issued.serial]));
    });

    const renewed = await core.services.certificates.renew(issued.name, 'test');
    expect(renewed.state).toBe('issued');
    expect(renewed.serial).not.toBe(issued.serial);
    const second = await core.services.deploys.deploy(issued.name, {}, 'test');
    expect(second.ok).toBe(true);

    sims.forEach((sim, i) => {
      const serving = assertProfilesConsistent(sim, PROFILES[Object.keys(PROFILES)[i]!]!);
      expect(new Set(Object.values(serving))).toEqual(new Set([renewed.serial]));
      const old = firstObjects[i]!;
      for (const path of [old.cert, old.key, old.chain])
        expect(sim.state.certs.has(path) || sim.state.keys.has(path)).toBe(false);
      expect(foreignState(sim)).toBe(before[i]);
      expect(sim.state.uploads.size).toBe(0);
    });
  });
});

describeWithPebble(
  'BIG-IP data-group HTTP-01: the simulated BIG-IP answers Pebble from its data-group through the iRule',
  () => {
    const pebble = usePebble({ authzReuse: 0 });
    let database: Database;
    let core: TestCore;
    let sim: BigIpSimulator;

    beforeAll(async () => {
      database = await openDatabase({ memory: true });
      await database.migrate();
      // No built-in responder on Pebble's HTTP port: only the BIG-IP's port-80 virtual server answers there.
      core = await startTestCore(database, pebble(), undefined, { httpResponder: false });
      sim = await startBigIpSimulator();
      sim.addRule('/Common/existing_redirect', 'when HTTP_REQUEST { HTTP::redirect https://[HTTP::host][HTTP::uri] }');
      sim.addVirtual('/Common/vs_shop_http', {
        destination: '/Common/192.0.2.10:80',
        rules: ['/Common/existing_redirect'],
      });
      await addDevice(core, 'edge', sim);
      await sim.listenVirtual('/Common/vs_shop_http', pebble().httpPort, '127.0.0.1');
    });
    afterAll(async () => {
      await core?.close();
      await database?.close();
      await sim?.close();
    });

    it('install-responder creates the data-group and iRule, merges the rule, and is idempotent', async () => {
      const first = await core.services.devices.installResponder('edge', { virtual: 'vs_shop_http' }, 'test');
      expect(first.created).toHaveLength(3);
      expect(sim.state.dataGroups.get('/Common/acme_responder_dg')?.type).toBe('string');
      expect(sim.state.rules.get('/Common/bigip_acme_responder')).toBe(acmeResponderRule('/Common/acme_responder_dg'));
      expect(sim.state.virtuals.get('/Common/vs_shop_http')!.rules).toEqual([
        '/Common/existing_redirect',
        '/Common/bigip_acme_responder',
      ]);
      const saves = sim.state.saves;
      const again = await core.services.devices.installResponder('edge', { virtual: '/Common/vs_shop_http' }, 'test');
      expect(again.created).toEqual([]);
      expect(sim.state.saves).toBe(saves);
    });

    it('issues a certificate whose HTTP-01 is answered by the BIG-IP, and removes the record afterwards', async () => {
      await core.services.profiles.create(
        { name: 'onbox', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
        'test',
      );
      await core.services.domains.add('onbox', ['onbox.example.test'], 'http-01', 'test');
      await core.services.domains.setDataGroup({ name: 'onbox.example.test' }, { devices: ['edge'] }, 'test');
      const cert = await core.services.certificates.request(
        { profile: 'onbox', commonName: 'onbox.example.test' },
        'test',
      );
      expect(cert.state).toBe('issued');
      const patches = sim.requests
        .filter((r) => r.step === 'data-group-patch' && r.status === 200)
        .map((r) => decodeURIComponent(r.path));
      expect(patches.some((p) => p.includes('records add'))).toBe(true);
      expect(patches.some((p) => p.includes('records delete'))).toBe(true);
      expect(sim.state.dataGroups.get('/Common/acme_responder_dg')!.records.size).toBe(0);
    });

    it('refuses the data-group method for a non-http-01 domain and alongside an API endpoint', async () => {
      await core.services.domains.add('onbox', ['dns.onbox.example.test'], 'dns-01', 'test');
      await expect(
        core.services.domains.setDataGroup({ name: 'dns.onbox.example.test' }, { devices: ['edge'] }, 'test'),
      ).rejects.toMatchObject({ code: 'input_invalid' });
      await expect(
        core.services.domains.setEndpoint(
          { name: 'onbox.example.test' },
          { url: 'http://127.0.0.1:1/x', username: 'u', password: 'long-enough-password' },
          'test',
        ),
      ).rejects.toMatchObject({ code: 'conflict' });
    });
  },
);
