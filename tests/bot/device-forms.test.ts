import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEVICE_BLOCK } from '../../bot/modals/device-add.ts';
import { VALUE } from '../../bot/modals/elements.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/**
 * `/acme device add|test` and the device form over the real Bolt receiver, the core's real iControl client
 * talking to the BIG-IP simulator.
 */
const ADMIN = 'U0ADMIN';
const MALLORY = 'U0MALLORY';
const PASSWORD = 'sim-Pa55word-7Q';
const WRONG = 'wrong-Pa55word-9Z';
const v = (value: unknown) => ({ [VALUE]: value });

type View = {
  callback_id: string;
  private_metadata?: string;
  blocks: { type: string; block_id?: string; element?: Record<string, unknown> }[];
  submit?: unknown;
};

let h: BotHarness;
let sim: BigIpSimulator;

beforeAll(async () => {
  h = await startBotHarness({ env: { SLACK_ADMINS: ADMIN } });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.reset();
  sim = await startBigIpSimulator({ password: PASSWORD });
});
afterEach(async () => {
  await sim?.close();
});

function form(over: Record<string, Record<string, unknown>> = {}): Record<string, Record<string, unknown>> {
  return {
    [DEVICE_BLOCK.name]: v('bigip-1'),
    [DEVICE_BLOCK.url]: v(sim.url),
    [DEVICE_BLOCK.username]: v(sim.username),
    [DEVICE_BLOCK.password]: v(PASSWORD),
    [DEVICE_BLOCK.partition]: v('Common'),
    [DEVICE_BLOCK.caPem]: v(sim.caPem!),
    [DEVICE_BLOCK.insecure]: v({ multi: [] }),
    ...over,
  };
}

/** Everything the bot sent to Slack (Web API and response_url), decoded, for "never echoed" checks. */
const sentToSlack = () => h.stub.calls.map((c) => decodeURIComponent(c.body.replace(/\+/g, ' '))).join('\n');

describe('device add', () => {
  it('refuses `device add` to a non-admin: no modal', async () => {
    const { id } = await h.command('device add', { userId: MALLORY });
    expect(JSON.stringify(await h.response(id))).toContain('SLACK_ADMINS');
    expect(h.stub.api('views.open')).toEqual([]);
  });

  it('opens the form for an admin, partition Common by default', async () => {
    await h.command('device add', { userId: ADMIN, channelId: 'C0OPS' });
    const [open] = await h.stub.waitForApi('views.open');
    const view = open!['view'] as View;
    expect(view.callback_id).toBe('device_add');
    expect(view.blocks.find((b) => b.block_id === DEVICE_BLOCK.partition)?.element?.['initial_value']).toBe('Common');
    expect(JSON.parse(view.private_metadata!)).toEqual({ channel: 'C0OPS' });
  });

  it('adds a device after a "Testing…" ack, shows what it found, and never echoes the password', async () => {
    const res = await h.submitView('device_add', form(), {
      userId: ADMIN,
      viewId: 'V0DEVICE',
      privateMetadata: '{"channel":"C0OPS"}',
    });
    expect(res.json).toMatchObject({ response_action: 'update' });
    expect(JSON.stringify(res.json)).toContain('Testing the connection to *bigip-1*');
    const [update] = await h.stub.waitForApi('views.update');
    expect(update!['view_id']).toBe('V0DEVICE');
    const done = JSON.stringify(update!['view']);
    expect(done).toContain('Device *bigip-1* added');
    expect(done).toContain('bigip-sim.example.test');

    const stored = await h.store.devices.findByName('bigip-1');
    expect(stored).toMatchObject({
      url: sim.url,
      username: sim.username,
      partition: 'Common',
      insecure: false,
      hostname: 'bigip-sim.example.test',
    });
    expect(stored!.caPem).toContain('BEGIN CERTIFICATE');
    expect(h.coreCalls.calls).toEqual(['devices.show', 'devices.add']);
    const [ephemeral] = await h.stub.waitForApi('chat.postEphemeral');
    expect(ephemeral).toMatchObject({ channel: 'C0OPS', user: ADMIN });
    expect(sentToSlack()).not.toContain(PASSWORD);
  });

  it('a wrong password: the form comes back showing the credentials layer failed, password empty, nothing added', async () => {
    await h.submitView('device_add', form({ [DEVICE_BLOCK.password]: v(WRONG) }), { userId: ADMIN });
    const [update] = await h.stub.waitForApi('views.update');
    const view = update!['view'] as View;
    expect(view.callback_id).toBe('device_add');
    const json = JSON.stringify(view);
    expect(json).toContain('the credentials (login) check failed');
    expect(json).toContain(':x: credentials (login)');
    expect(json).not.toContain('--skip-test');
    expect(view.blocks.find((b) => b.block_id === DEVICE_BLOCK.name)?.element?.['initial_value']).toBe('bigip-1');
    expect(view.blocks.find((b) => b.block_id === DEVICE_BLOCK.password)?.element).not.toHaveProperty('initial_value');
    expect(await h.store.devices.list()).toEqual([]);
    expect(sentToSlack()).not.toContain(WRONG);
  });

  it('an untrusted management certificate fails at the TLS layer', async () => {
    const other = await startBigIpSimulator({ password: PASSWORD });
    try {
      await h.submitView('device_add', form({ [DEVICE_BLOCK.caPem]: v(other.caPem!) }), { userId: ADMIN });
      const [update] = await h.stub.waitForApi('views.update');
      expect(JSON.stringify(update!['view'])).toContain(':x: TLS (management certificate)');
      expect(await h.store.devices.list()).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('answers an invalid form inline and calls nothing in the core', async () => {
    const res = await h.submitView(
      'device_add',
      form({
        [DEVICE_BLOCK.url]: v(`${sim.url}/mgmt`),
        [DEVICE_BLOCK.caPem]: v(null),
        [DEVICE_BLOCK.password]: v(null),
      }),
      { userId: ADMIN },
    );
    expect(res.json).toEqual({
      response_action: 'errors',
      errors: {
        [DEVICE_BLOCK.url]: expect.any(String),
        [DEVICE_BLOCK.caPem]: expect.any(String),
        [DEVICE_BLOCK.password]: expect.any(String),
      },
    });
    expect(h.coreCalls.calls).toEqual([]);
  });

  it('answers a taken name inline, before testing anything', async () => {
    await h.submitView('device_add', form(), { userId: ADMIN });
    await h.stub.waitForApi('views.update');
    h.coreCalls.calls.length = 0;
    const res = await h.submitView('device_add', form(), { userId: ADMIN });
    expect(res.json).toEqual({
      response_action: 'errors',
      errors: { [DEVICE_BLOCK.name]: 'A device named "bigip-1" already exists.' },
    });
    expect(h.coreCalls.calls).toEqual(['devices.show']);
  });

  it('refuses a forged submission from a non-admin: nothing tested, nothing added', async () => {
    const res = await h.submitView('device_add', form(), { userId: MALLORY });
    expect(res.json).toEqual({
      response_action: 'errors',
      errors: { [DEVICE_BLOCK.name]: expect.stringContaining('SLACK_ADMINS') },
    });
    expect(h.coreCalls.calls).toEqual([]);
    expect(sim.requests).toEqual([]);
    expect(await h.store.devices.list()).toEqual([]);
  });
});

describe('device test', () => {
  async function addDevice(): Promise<void> {
    await h.services.devices.add(
      { name: 'bigip-1', url: sim.url, username: sim.username, password: PASSWORD, caPem: sim.caPem! },
      'test',
    );
    h.coreCalls.calls.length = 0;
  }

  it('says "Testing…" first, then the result', async () => {
    await addDevice();
    const { id } = await h.command('device test bigip-1', { userId: ADMIN });
    const deadline = Date.now() + 5_000;
    while (h.stub.responses(id).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const [testing, result] = h.stub.responses(id);
    expect(JSON.stringify(testing)).toContain('Testing the connection to *bigip-1*');
    expect(JSON.stringify(result)).toContain('bigip-1*: connection ok');
    expect(h.coreCalls.calls).toEqual(['devices.show', 'devices.test']);
  });

  it('names the failing layer when the device is down', async () => {
    await addDevice();
    await sim.close();
    const { id } = await h.command('device test bigip-1', { userId: ADMIN });
    const deadline = Date.now() + 10_000;
    while (h.stub.responses(id).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const result = JSON.stringify(h.stub.responses(id)[1]);
    expect(result).toContain(':x: TCP (connection)');
    expect((await h.store.devices.findByName('bigip-1'))!.lastTest).toMatchObject({ ok: false, stage: 'tcp' });
  });

  it('refuses a non-admin and answers an unknown device without "Testing…"', async () => {
    const refused = await h.command('device test bigip-1', { userId: MALLORY });
    expect(JSON.stringify(await h.response(refused.id))).toContain('SLACK_ADMINS');
    const unknown = await h.command('device test nope', { userId: ADMIN });
    expect(JSON.stringify(await h.response(unknown.id))).toContain('no device named');
    expect(h.stub.responses(unknown.id)).toHaveLength(1);
    expect(h.coreCalls.calls).toEqual(['devices.show']);
  });
});
