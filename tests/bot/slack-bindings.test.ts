import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import type { Database } from '../../db/client.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { freeTcpPort } from '../support/free-port.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';
import { type BotHarness, messageText, startBotHarness } from './bot-harness.ts';

/**
 * Bindings and deploy in Slack, through signed requests to the real Bolt receiver, against the BIG-IP
 * simulator and a certificate issued by Pebble: `/acme binding add` (device → its client-ssl profiles
 * listed live → bind, or a new profile from a parent), `/acme binding list` with what each profile was last
 * verified to serve, the Deploy button of `/acme cert show`, the Remove button and `/acme binding remove`.
 */
const ADMIN = 'U0ADMIN';
const ALICE = 'U0ALICE';
const WWW = 'www.bind.example.test';
const DEVICE_PASSWORD = 'device-Pa55-bind-never-shown';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(25);
  }
}

type Json = Record<string, unknown>;
const blocksOf = (view: Json) => view['blocks'] as (Json & { block_id?: string })[];
const optionValues = (block: Json | undefined) =>
  (((block?.['element'] as Json | undefined)?.['options'] ?? []) as { value: string }[]).map((o) => o.value);
/** Every button in a message: action id and value. */
const buttons = (message: Json) => {
  const out: { action_id: string; value: string }[] = [];
  for (const b of (message['blocks'] ?? []) as Json[]) {
    const acc = b['accessory'] as { action_id?: string; value?: string } | undefined;
    if (acc?.action_id) out.push({ action_id: acc.action_id, value: acc.value ?? '' });
    for (const el of (b['elements'] ?? []) as { action_id?: string; value?: string }[])
      if (el.action_id) out.push({ action_id: el.action_id, value: el.value ?? '' });
  }
  return out;
};

describeWithPebble('bindings and deploy in Slack', () => {
  const pebble = usePebble();
  let database: Database;
  let core: TestCore;
  let h: BotHarness;
  let sim: BigIpSimulator;
  let keySealed = '';

  beforeAll(async () => {
    database = await freshDatabase(databaseTargets[0]!.open);
    const masterKey = randomBytes(32).toString('base64');
    core = await startTestCore(database, pebble(), masterKey);
    h = await startBotHarness({
      core: { database, store: core.store, secrets: createSecretBox(masterKey), services: core.services },
      env: { SLACK_ADMINS: ADMIN },
    });
    const { profiles, domains, certificates, devices } = core.services;
    await profiles.create({ name: 'web', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true }, 't');
    await domains.add('web', [WWW], 'http-01', 't');
    const cert = await certificates.request({ profile: 'web', commonName: WWW }, 't');
    expect(cert.state).toBe('issued');
    const row = await core.store.certificates.findByName(WWW);
    keySealed = row?.keySealed ?? '';
    sim = await startBigIpSimulator({ password: DEVICE_PASSWORD });
    sim.addProfile('/Common/acme_www');
    sim.addProfile('/Tenant_A/shop');
    await devices.add(
      { name: 'lb-1', url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem! },
      't',
    );
    // A device that answers nothing: its profiles cannot be listed.
    await devices.add(
      {
        name: 'lb-down',
        url: `https://127.0.0.1:${await freeTcpPort()}`,
        username: 'admin',
        password: 'x-down-pw',
        skipTest: true,
      },
      't',
    );
  });
  afterAll(async () => {
    await h?.close();
    await core?.close();
    await database?.close();
    await sim?.close();
  });

  async function openForm(): Promise<Json> {
    const before = h.stub.api('views.open').length;
    const res = await h.command(`binding add ${WWW}`, { userId: ADMIN });
    expect(res.status).toBe(200);
    const opened = await h.stub.waitForApi('views.open', before + 1);
    return opened[before]!['view'] as Json;
  }

  async function pick(device: string, privateMetadata: string): Promise<Json> {
    const before = h.stub.api('views.update').length;
    const res = await h.click('binding_device_pick', '', {
      userId: ADMIN,
      viewId: 'V0BIND',
      hash: 'hash-3',
      callbackId: 'binding_add',
      privateMetadata,
      selected: device,
      blockId: 'binding_device',
    });
    expect(res.status).toBe(200);
    const updates = await h.stub.waitForApi('views.update', before + 1);
    expect(updates.at(-1)).toMatchObject({ view_id: 'V0BIND', hash: 'hash-3' });
    return updates.at(-1)!['view'] as Json;
  }

  it('refuses binding add and remove for a non-admin before the core is called', async () => {
    const add = await h.command(`binding add ${WWW}`, { userId: ALICE });
    expect(messageText(await h.response(add.id))).toContain('SLACK_ADMINS');
    const remove = await h.command(`binding remove ${WWW} lb-1 acme_www`, { userId: ALICE });
    expect(messageText(await h.response(remove.id))).toContain('SLACK_ADMINS');
    expect(h.stub.api('views.open')).toHaveLength(0);
    expect(h.coreCalls.calls.filter((c) => c.startsWith('bindings.'))).toEqual([]);
  });

  it('binding add: device select, then the device’s client-ssl profiles listed live, then bound', async () => {
    const view = await openForm();
    expect(view['callback_id']).toBe('binding_add');
    const deviceBlock = blocksOf(view).find((b) => b.block_id === 'binding_device')!;
    expect(deviceBlock['dispatch_action']).toBe(true);
    expect(optionValues(deviceBlock)).toEqual(['lb-1', 'lb-down']);
    const meta = view['private_metadata'] as string;

    const listed = await pick('lb-1', meta);
    const profiles = optionValues(blocksOf(listed).find((b) => b.block_id === 'binding_profile'));
    expect(profiles).toEqual(expect.arrayContaining(['/Common/acme_www', '/Common/clientssl', '/Tenant_A/shop']));

    const res = await h.submitView(
      'binding_add',
      {
        binding_device: { binding_device_pick: { selected: 'lb-1' } },
        binding_profile: { value: { selected: '/Common/acme_www' } },
        binding_new_profile: { value: '' },
        binding_parent: { value: { selected: '/Common/clientssl' } },
      },
      { userId: ADMIN, privateMetadata: meta },
    );
    expect(res.json).toMatchObject({ response_action: 'update' });
    expect(JSON.stringify(res.json)).toContain('is bound to');
    const bound = await core.services.bindings.list({ certificate: WWW });
    expect(bound.map((b) => [b.deviceName, b.profilePath, b.createProfile])).toEqual([
      ['lb-1', '/Common/acme_www', false],
    ]);
  });

  it('binding add: a new profile from a parent, and the core’s refusal of a taken profile inline', async () => {
    const meta = (await openForm())['private_metadata'] as string;
    const taken = await h.submitView(
      'binding_add',
      {
        binding_device: { binding_device_pick: { selected: 'lb-1' } },
        binding_profile: { value: { selected: '/Common/acme_www' } },
        binding_new_profile: { value: '' },
        binding_parent: { value: { selected: '/Common/clientssl' } },
      },
      { userId: ADMIN, privateMetadata: meta },
    );
    expect(taken.json).toMatchObject({ response_action: 'errors' });
    expect(JSON.stringify(taken.json)).toContain('already bound');
    const both = await h.submitView(
      'binding_add',
      {
        binding_device: { binding_device_pick: { selected: 'lb-1' } },
        binding_profile: { value: { selected: '/Common/acme_www' } },
        binding_new_profile: { value: 'acme_new' },
        binding_parent: { value: { selected: '/Common/clientssl' } },
      },
      { userId: ADMIN, privateMetadata: meta },
    );
    expect(both.json).toMatchObject({ response_action: 'errors', errors: { binding_new_profile: expect.any(String) } });
    const created = await h.submitView(
      'binding_add',
      {
        binding_device: { binding_device_pick: { selected: 'lb-1' } },
        binding_profile: { value: { selected: null } },
        binding_new_profile: { value: 'acme_new' },
        binding_parent: { value: { selected: '/Common/clientssl' } },
      },
      { userId: ADMIN, privateMetadata: meta },
    );
    expect(created.json).toMatchObject({ response_action: 'update' });
    const rows = await core.services.bindings.list({ certificate: WWW });
    expect(rows.find((b) => b.profilePath === '/Common/acme_new')).toMatchObject({
      createProfile: true,
      parentProfile: '/Common/clientssl',
    });
  });

  it('binding add: a device that cannot be reached says why and asks for the path instead', async () => {
    const meta = (await openForm())['private_metadata'] as string;
    const view = await pick('lb-down', meta);
    const json = JSON.stringify(view);
    expect(json).toContain('could not be listed');
    expect(blocksOf(view).find((b) => b.block_id === 'binding_profile')).toBeUndefined();
    expect(blocksOf(view).find((b) => b.block_id === 'binding_new_profile')).toBeDefined();
    expect(json).not.toContain('x-down-pw');
  });

  it('binding list: what each profile was last verified to serve; Remove buttons for admins only', async () => {
    const mine = await h.command(`binding list ${WWW}`, { userId: ADMIN });
    const listed = await h.response(mine.id);
    expect(messageText(listed)).toContain('/Common/acme_www');
    expect(messageText(listed)).toContain('not deployed yet');
    expect(buttons(listed).filter((b) => b.action_id === 'binding_remove')).toHaveLength(2);
    const theirs = await h.command('binding list', { userId: ALICE });
    const plain = await h.response(theirs.id);
    expect(messageText(plain)).toContain('/Common/acme_new');
    expect(buttons(plain)).toEqual([]);
  });

  it('Deploy button on cert show: refused for a non-admin, deploys for an admin; the list shows the verified serial', async () => {
    // The created-at-first-deploy binding goes first, so the deploy covers one existing and one new profile.
    const shown = await h.response((await h.command(`cert show ${WWW}`, { userId: ADMIN })).id);
    const deploy = buttons(shown).find((b) => b.action_id === 'cert_deploy_now');
    expect(deploy).toEqual({ action_id: 'cert_deploy_now', value: WWW });

    const refused = await h.click('cert_deploy_now', WWW, { userId: ALICE, ephemeral: true });
    expect(refused.status).toBe(200);
    expect(messageText(await h.response(refused.id))).toContain('SLACK_ADMINS');
    expect(h.coreCalls.calls).not.toContain('deploys.deploy');

    // As clicked on an ephemeral answer: its response_url is replaced by the progress and then the result.
    const clicked = await h.click('cert_deploy_now', WWW, { userId: ADMIN, ephemeral: true });
    expect(clicked.status).toBe(200);
    const done = await until('the deploy result', () =>
      h.stub.responses(clicked.id).find((r) => messageText(r).includes('Deployed')),
    );
    expect(messageText(done)).toContain('*lb-1* succeeded');
    const cert = (await core.store.certificates.findByName(WWW))!;
    const list = await h.response((await h.command(`binding list ${WWW}`, { userId: ALICE })).id);
    const text = messageText(list);
    expect(text).toContain(cert.serial!);
    expect(text).toContain('verified');
    expect(text).not.toContain('not deployed yet');
    expect(sim.state.profiles.get('/Common/acme_new')).toBeDefined();
  });

  it('Deploy button on a channel message answers in a thread and leaves the message as it was', async () => {
    const before = h.stub.api('chat.postMessage').length;
    const clicked = await h.click('cert_deploy_now', WWW, {
      userId: ADMIN,
      channelId: 'C0OPS',
      messageTs: '1700.0001',
    });
    expect(clicked.status).toBe(200);
    const posted = await h.stub.waitForApi('chat.postMessage', before + 1);
    expect(posted[before]).toMatchObject({ channel: 'C0OPS', thread_ts: '1700.0001' });
    await until('the deploy result in the thread', () =>
      h.stub.api('chat.update').find((u) => u['channel'] === 'C0OPS' && messageText(u).includes('lb-1')),
    );
    expect(h.stub.responses(clicked.id)).toEqual([]);
  });

  it('Remove button and /acme binding remove unbind; the device keeps its profile', async () => {
    const listed = await h.response((await h.command(`binding list ${WWW}`, { userId: ADMIN })).id);
    const rows = await core.services.bindings.list({ certificate: WWW });
    const target = rows.find((b) => b.profilePath === '/Common/acme_new')!;
    const refused = await h.click('binding_remove', target.id, { userId: ALICE, ephemeral: true });
    expect(messageText(await h.response(refused.id))).toContain('SLACK_ADMINS');
    expect(buttons(listed).map((b) => b.value)).toContain(target.id);
    const clicked = await h.click('binding_remove', target.id, { userId: ADMIN, ephemeral: true });
    const answer = await h.response(clicked.id);
    expect(answer).toMatchObject({ replace_original: true });
    expect(messageText(answer)).not.toContain('/Common/acme_new');
    expect((await core.services.bindings.list({ certificate: WWW })).map((b) => b.profilePath)).toEqual([
      '/Common/acme_www',
    ]);
    const removed = await h.command(`binding remove ${WWW} lb-1 acme_www`, { userId: ADMIN });
    expect(messageText(await h.response(removed.id))).toContain('Unbound');
    expect(await core.services.bindings.list({ certificate: WWW })).toEqual([]);
    expect(sim.state.profiles.get('/Common/acme_www')).toBeDefined();
    const again = await h.command(`binding remove ${WWW} lb-1 acme_www`, { userId: ADMIN });
    expect(messageText(await h.response(again.id))).toContain('is not bound');
  });

  it('never sends a key, the device password or a secret to Slack', () => {
    expect(keySealed).not.toBe('');
    expect(JSON.stringify(h.stub.calls)).not.toContain(keySealed);
    const all = h.stub.calls.map((c) => c.body).join('\n');
    expect(all).not.toContain(DEVICE_PASSWORD);
    expect(all).not.toContain('x-down-pw');
    expect(all).not.toContain('PRIVATE KEY');
    expect(all).not.toContain(encodeURIComponent('PRIVATE KEY'));
  });
});
