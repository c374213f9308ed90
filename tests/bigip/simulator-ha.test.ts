import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type BigIpCluster, startBigIpCluster } from '../support/bigip-simulator/ha-cluster.ts';
import type { BigIpSimulator } from '../support/bigip-simulator/index.ts';
import { issueTestCertificate } from '../support/test-certificates.ts';

// biome-ignore lint/suspicious/noExplicitAny: F5 JSON answers are read loosely here, each field asserted.
type Loose = any;

/** One request to a member's management interface (Basic auth, its own CA). */
function call(
  sim: BigIpSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Loose }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, sim.url);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      url,
      {
        method,
        ca: sim.caPem,
        headers: {
          authorization: `Basic ${Buffer.from(`${sim.username}:${sim.password}`).toString('base64')}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function syncStatusOf(json: Loose): { status: string; details: string[] } {
  const top = Object.values(json.entries)[0] as Loose;
  const e = top.nestedStats.entries;
  const detailsKey = Object.keys(e).find((k) => k.endsWith('/details'))!;
  const details = Object.values(e[detailsKey].nestedStats.entries).map(
    (d: Loose) => d.nestedStats.entries.details.description as string,
  );
  return { status: e.status.description, details };
}

async function statusOf(sim: BigIpSimulator): Promise<string> {
  return syncStatusOf((await call(sim, 'GET', '/mgmt/tm/cm/sync-status')).json).status;
}

async function until(what: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The serial the TLS listener on `port` presents (with `servername` as SNI when given). */
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

function serialOf(chainPem: string): string {
  return new X509Certificate(chainPem).serialNumber.toLowerCase();
}

/** Installs a leaf + key directly and points `profile` at them (a change on that member). */
async function installOn(sim: BigIpSimulator, profile: string, tag: string, names = ['www.example.com']) {
  const issued = await issueTestCertificate(names);
  sim.addCert(`/Common/${tag}.crt`, issued.chainPem);
  sim.addKey(`/Common/${tag}.key`, issued.keyPem);
  const r = await call(sim, 'PATCH', `/mgmt/tm/ltm/profile/client-ssl/${profile.split('/').join('~')}`, {
    certKeyChain: [{ name: tag, cert: `/Common/${tag}.crt`, key: `/Common/${tag}.key` }],
  });
  expect(r.status).toBe(200);
  return serialOf(issued.chainPem);
}

let cluster: BigIpCluster | null = null;
afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

describe('BIG-IP simulator: device groups and config-sync', () => {
  it('lists the devices, the group with its members, failover state and an in-sync group', async () => {
    cluster = await startBigIpCluster({ members: ['bigip1', 'bigip2'] });
    const [a, b] = cluster.members as [BigIpSimulator, BigIpSimulator];
    const devices = (await call(b, 'GET', '/mgmt/tm/cm/device')).json.items;
    expect(devices.map((d: Loose) => [d.name, d.failoverState, d.selfDevice])).toEqual([
      ['bigip1', 'active', 'false'],
      ['bigip2', 'standby', 'true'],
    ]);
    const groups = (await call(a, 'GET', '/mgmt/tm/cm/device-group')).json.items;
    expect(groups.map((g: Loose) => [g.name, g.type, g.autoSync])).toEqual([
      ['device_trust_group', 'sync-only', 'disabled'],
      ['dg1', 'sync-failover', 'disabled'],
    ]);
    const members = (await call(a, 'GET', '/mgmt/tm/cm/device-group/~Common~dg1/devices')).json.items;
    expect(members.map((m: Loose) => m.name)).toEqual(['bigip1', 'bigip2']);
    expect((await call(a, 'GET', '/mgmt/tm/cm/device-group/~Common~nope')).status).toBe(404);
    const failover = (await call(a, 'GET', '/mgmt/tm/cm/failover-status')).json;
    expect(JSON.stringify(failover)).toContain('"ACTIVE"');
    expect(JSON.stringify((await call(b, 'GET', '/mgmt/tm/cm/failover-status')).json)).toContain('"STANDBY"');
    const sync = syncStatusOf((await call(a, 'GET', '/mgmt/tm/cm/sync-status')).json);
    expect(sync.status).toBe('In Sync');
    expect(sync.details).toContain('bigip2: connected');
    cluster.setActive('bigip2');
    expect(JSON.stringify((await call(b, 'GET', '/mgmt/tm/cm/failover-status')).json)).toContain('"ACTIVE"');
  });

  it('a change makes the group Changes Pending; to-group copies certificates, keys and profiles to the peer', async () => {
    cluster = await startBigIpCluster({ members: ['bigip1', 'bigip2'] });
    const [a, b] = cluster.members as [BigIpSimulator, BigIpSimulator];
    a.addProfile('/Common/www_ssl');
    cluster.syncNow('bigip1');
    expect(await statusOf(b)).toBe('In Sync');
    await installOn(a, '/Common/www_ssl', 'new');
    expect(await statusOf(a)).toBe('Changes Pending');
    expect(b.state.certs.has('/Common/new.crt')).toBe(false);
    const refusedArgs = await call(a, 'POST', '/mgmt/tm/cm', {
      command: 'run',
      utilCmdArgs: 'config-sync sideways dg1',
    });
    expect(refusedArgs.status).toBe(400);
    const unknown = await call(a, 'POST', '/mgmt/tm/cm', { command: 'run', utilCmdArgs: 'config-sync to-group dg9' });
    expect(unknown.status).toBe(400);
    const started = await call(a, 'POST', '/mgmt/tm/cm', { command: 'run', utilCmdArgs: 'config-sync to-group dg1' });
    expect(started.status).toBe(200);
    await until(async () => (await statusOf(b)) === 'In Sync');
    expect(b.state.certs.has('/Common/new.crt')).toBe(true);
    expect(b.state.keys.has('/Common/new.key')).toBe(true);
    expect(b.state.profiles.get('/Common/www_ssl')?.certKeyChain[0]?.cert).toBe('/Common/new.crt');
    // The other spelling of the same command.
    await installOn(b, '/Common/www_ssl', 'newer');
    const again = await call(b, 'POST', '/mgmt/tm/cm/config-sync', { command: 'run', utilCmdArgs: 'to-group dg1' });
    expect(again.status).toBe(200);
    await until(async () => (await statusOf(a)) === 'In Sync');
    expect(a.state.profiles.get('/Common/www_ssl')?.certKeyChain[0]?.cert).toBe('/Common/newer.crt');
    expect(cluster.syncs.map((s) => s.from)).toEqual(['bigip1', 'bigip1', 'bigip2']);
  });

  it('two changed members show a possible change conflict', async () => {
    cluster = await startBigIpCluster({ members: ['bigip1', 'bigip2'] });
    const [a, b] = cluster.members as [BigIpSimulator, BigIpSimulator];
    a.addProfile('/Common/one');
    b.addProfile('/Common/two');
    const sync = syncStatusOf((await call(a, 'GET', '/mgmt/tm/cm/sync-status')).json);
    expect(sync.status).toBe('Changes Pending');
    expect(sync.details.join('\n')).toContain('possible change conflict between bigip1 and bigip2');
  });

  it('faults: a refused sync, a disconnected peer that receives nothing, a sync that never completes', async () => {
    cluster = await startBigIpCluster({ members: ['bigip1', 'bigip2', 'bigip3'] });
    const [a, b, c] = cluster.members as [BigIpSimulator, BigIpSimulator, BigIpSimulator];
    a.addProfile('/Common/www_ssl');
    cluster.syncNow('bigip1');
    await installOn(a, '/Common/www_ssl', 'new');

    a.failAt('config-sync', { status: 400, message: '01070712:3: Simulated refusal of the sync.' });
    expect(
      (await call(a, 'POST', '/mgmt/tm/cm', { command: 'run', utilCmdArgs: 'config-sync to-group dg1' })).status,
    ).toBe(400);
    expect(await statusOf(a)).toBe('Changes Pending');

    cluster.disconnect('bigip3');
    expect(await statusOf(a)).toBe('Disconnected');
    expect(syncStatusOf((await call(b, 'GET', '/mgmt/tm/cm/sync-status')).json).details).toContain(
      'bigip3: disconnected',
    );
    await call(a, 'POST', '/mgmt/tm/cm', { command: 'run', utilCmdArgs: 'config-sync to-group dg1' });
    await until(async () => b.state.certs.has('/Common/new.crt'));
    expect(c.state.certs.has('/Common/new.crt')).toBe(false);
    expect(await statusOf(a)).toBe('Disconnected');
    cluster.reconnect('bigip3');
    expect(await statusOf(a)).toBe('Changes Pending');

    cluster.stallSyncs(true);
    expect(
      (await call(a, 'POST', '/mgmt/tm/cm', { command: 'run', utilCmdArgs: 'config-sync to-group dg1' })).status,
    ).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(await statusOf(a)).toBe('Changes Pending');
    expect(c.state.certs.has('/Common/new.crt')).toBe(false);
    cluster.stallSyncs(false);
    await call(a, 'POST', '/mgmt/tm/cm', { command: 'run', utilCmdArgs: 'config-sync to-group dg1' });
    await until(async () => (await statusOf(c)) === 'In Sync');
    expect(c.state.certs.has('/Common/new.crt')).toBe(true);
  });

  it('an auto-sync group syncs a change by itself and catches up a reconnected peer', async () => {
    cluster = await startBigIpCluster({ members: ['bigip1', 'bigip2', 'bigip3'], autoSync: true, type: 'sync-only' });
    const [a, , c] = cluster.members as [BigIpSimulator, BigIpSimulator, BigIpSimulator];
    const groups = (await call(a, 'GET', '/mgmt/tm/cm/device-group/~Common~dg1')).json;
    expect([groups.type, groups.autoSync]).toEqual(['sync-only', 'enabled']);
    a.addProfile('/Common/www_ssl');
    await until(async () => (await statusOf(a)) === 'In Sync' && c.state.profiles.has('/Common/www_ssl'));
    cluster.disconnect('bigip3');
    await installOn(a, '/Common/www_ssl', 'new');
    await until(async () => cluster!.member('bigip2').state.certs.has('/Common/new.crt'));
    expect(c.state.certs.has('/Common/new.crt')).toBe(false);
    cluster.reconnect('bigip3');
    await until(async () => c.state.certs.has('/Common/new.crt') && (await statusOf(a)) === 'In Sync');
  });

  it('a new group is Awaiting Initial Sync until a to-group push', async () => {
    cluster = await startBigIpCluster({ members: ['bigip1', 'bigip2'], awaitingInitialSync: true });
    const [a] = cluster.members as [BigIpSimulator];
    expect(await statusOf(a)).toBe('Awaiting Initial Sync');
    await call(a, 'POST', '/mgmt/tm/cm', { command: 'run', utilCmdArgs: 'config-sync to-group dg1' });
    await until(async () => (await statusOf(a)) === 'In Sync');
  });

  it('a virtual server serves real TLS with what its client-ssl profile holds now, from the active member, SNI picking the profile', async () => {
    cluster = await startBigIpCluster({ members: ['bigip1', 'bigip2'] });
    const [a, b] = cluster.members as [BigIpSimulator, BigIpSimulator];
    for (const sim of [a, b]) {
      sim.addProfile('/Common/www_ssl');
      sim.addProfile('/Common/api_ssl', { serverName: 'api.example.com' });
      sim.addVirtual('/Common/vs_https', {
        destination: '/Common/10.0.0.10:443',
        profiles: ['/Common/www_ssl', '/Common/api_ssl', '/Common/http'],
      });
    }
    cluster.syncNow('bigip1');
    const port = await cluster.serveVirtualTls('/Common/vs_https');
    const vs = (await call(a, 'GET', '/mgmt/tm/ltm/virtual?expandSubcollections=true')).json.items[0];
    expect(vs.destination).toBe(`/Common/127.0.0.1:${port}`);
    expect(vs.profilesReference.items.map((p: Loose) => [p.fullPath, p.context])).toEqual([
      ['/Common/www_ssl', 'clientside'],
      ['/Common/api_ssl', 'clientside'],
      ['/Common/http', 'all'],
    ]);
    expect(await statusOf(a)).toBe('In Sync');

    const wwwSerial = await installOn(a, '/Common/www_ssl', 'www1');
    const apiSerial = await installOn(a, '/Common/api_ssl', 'api1', ['api.example.com']);
    expect(await servedSerial(port)).toBe(wwwSerial);
    expect(await servedSerial(port, 'api.example.com')).toBe(apiSerial);
    // The standby has not been synced: after a failover clients see its (old, factory default) certificate.
    cluster.setActive('bigip2');
    expect(await servedSerial(port)).not.toBe(wwwSerial);
    cluster.syncNow('bigip1');
    expect(await servedSerial(port)).toBe(wwwSerial);
  });
});
