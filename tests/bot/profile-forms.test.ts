import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VALUE } from '../../bot/modals/elements.ts';
import { PROFILE_BLOCK } from '../../bot/modals/profile-create.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import type { Database } from '../../db/client.ts';
import { makeProfile } from '../fixtures/builders.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/**
 * `/acme profile create|show` and the two-step profile form over the real Bolt receiver. Without a CA the
 * harness core's gateway throws; the full creation runs against Pebble, with and without EAB.
 */
const ADMIN = 'U0ADMIN';
const MALLORY = 'U0MALLORY';
const v = (value: unknown) => ({ [VALUE]: value });

function step1(over: Record<string, Record<string, unknown>> = {}): Record<string, Record<string, unknown>> {
  return {
    [PROFILE_BLOCK.name]: v('le-staging'),
    [PROFILE_BLOCK.server]: v({ selected: 'staging' }),
    [PROFILE_BLOCK.keySpec]: v({ selected: 'ec-p256' }),
    [PROFILE_BLOCK.contact]: v('ops@example.com'),
    [PROFILE_BLOCK.renewDays]: v({ type: 'number_input', value: '21' }),
    [PROFILE_BLOCK.deployTime]: v({ type: 'timepicker', selected_time: '02:15' }),
    [PROFILE_BLOCK.timeZone]: v('Europe/Berlin'),
    [PROFILE_BLOCK.automation]: v({ multi: ['auto_renew', 'auto_deploy'] }),
    [PROFILE_BLOCK.approvals]: v({ multi: ['renew_approval'] }),
    ...over,
  };
}

type View = {
  callback_id: string;
  private_metadata?: string;
  blocks: { type: string; block_id?: string }[];
  submit?: unknown;
};

async function nthUpdate(h: BotHarness, n: number): Promise<View> {
  const calls = await h.stub.waitForApi('views.update', n);
  return calls[n - 1]!['view'] as View;
}

const inputIds = (view: View) => view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id);

describe('profile commands and step 1 (no CA)', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({ env: { SLACK_ADMINS: ADMIN } });
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  it('refuses `profile create` to a non-admin: no modal, no core call', async () => {
    const { id } = await h.command('profile create', { userId: MALLORY });
    expect(JSON.stringify(await h.response(id))).toContain('SLACK_ADMINS');
    expect(h.stub.api('views.open')).toEqual([]);
    expect(h.coreCalls.calls).toEqual([]);
  });

  it('opens step 1 for an admin, remembering the channel', async () => {
    const res = await h.command('profile create', { userId: ADMIN, channelId: 'C0OPS' });
    expect(res.status).toBe(200);
    const [open] = await h.stub.waitForApi('views.open');
    expect(open!['trigger_id']).toMatch(/^trigger-/);
    const view = open!['view'] as View;
    expect(view.callback_id).toBe('profile_create');
    expect(inputIds(view)).toContain(PROFILE_BLOCK.name);
    expect(JSON.parse(view.private_metadata!)).toEqual({ channel: 'C0OPS' });
    expect(h.coreCalls.calls).toEqual([]);
  });

  it('answers an invalid step 1 with inline errors and calls nothing in the core', async () => {
    const res = await h.submitView(
      'profile_create',
      step1({
        [PROFILE_BLOCK.name]: v('bad name!'),
        [PROFILE_BLOCK.server]: v({ selected: 'custom' }),
        [PROFILE_BLOCK.contact]: v('nobody'),
      }),
      { userId: ADMIN },
    );
    expect(res.json).toEqual({
      response_action: 'errors',
      errors: {
        [PROFILE_BLOCK.name]: expect.any(String),
        [PROFILE_BLOCK.serverUrl]: expect.any(String),
        [PROFILE_BLOCK.contact]: expect.any(String),
      },
    });
    expect(h.coreCalls.calls).toEqual([]);
    expect(await h.store.profiles.list()).toEqual([]);
  });

  it('answers a taken name inline, before asking the CA', async () => {
    await h.store.profiles.insert(makeProfile({ name: 'le-staging' }));
    const res = await h.submitView('profile_create', step1(), { userId: ADMIN });
    expect(res.json).toEqual({
      response_action: 'errors',
      errors: { [PROFILE_BLOCK.name]: 'A profile named "le-staging" already exists.' },
    });
    expect(h.coreCalls.calls).toEqual(['profiles.show']);
  });

  it('refuses a forged step 1 or step 2 from a non-admin: nothing asked, nothing created', async () => {
    const one = await h.submitView('profile_create', step1(), { userId: MALLORY });
    expect(one.json).toEqual({
      response_action: 'errors',
      errors: { [PROFILE_BLOCK.name]: expect.stringContaining('SLACK_ADMINS') },
    });
    const meta = JSON.stringify({
      draft: {
        name: 'x',
        server: 'staging',
        customUrl: '',
        keySpec: 'ec-p256',
        contact: [],
        renewDaysBefore: 7,
        deployTime: '00:00',
        deployTimeZone: 'UTC',
        autoRenew: true,
        autoDeploy: true,
        renewApproval: false,
        deployApproval: false,
      },
      directory: { termsOfService: null, website: null, externalAccountRequired: false },
    });
    const two = await h.submitView(
      'profile_create_confirm',
      { [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }) },
      { userId: MALLORY, privateMetadata: meta },
    );
    expect(two.json).toEqual({
      response_action: 'errors',
      errors: { [PROFILE_BLOCK.tos]: expect.stringContaining('SLACK_ADMINS') },
    });
    expect(h.coreCalls.calls).toEqual([]);
    expect(h.stub.api('views.update')).toEqual([]);
    expect(await h.store.profiles.list()).toEqual([]);
  });

  it('refuses a step 2 whose metadata is not ours', async () => {
    const res = await h.submitView(
      'profile_create_confirm',
      { [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }) },
      { userId: ADMIN, privateMetadata: '{"draft":{"name":1}}' },
    );
    expect(res.json).toEqual({
      response_action: 'errors',
      errors: { [PROFILE_BLOCK.tos]: expect.stringContaining('lost its state') },
    });
    expect(h.coreCalls.calls).toEqual([]);
  });

  it('acks a valid step 1 with "Validating…" and, when the CA cannot be reached, brings step 1 back filled in', async () => {
    const res = await h.submitView('profile_create', step1(), {
      userId: ADMIN,
      privateMetadata: '{"channel":"C0OPS"}',
      viewId: 'V0PROFILE',
    });
    expect(res.json).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
    expect(JSON.stringify(res.json)).toContain('Validating https://acme-staging-v02.api.letsencrypt.org/directory');
    expect((res.json!['view'] as View).submit).toBeUndefined();
    const [update] = await h.stub.waitForApi('views.update');
    expect(update!['view_id']).toBe('V0PROFILE');
    const view = update!['view'] as View;
    expect(view.callback_id).toBe('profile_create');
    expect(JSON.stringify(view)).toContain('could not be validated');
    expect(JSON.stringify(view)).toContain('"initial_value":"le-staging"');
    expect(JSON.parse(view.private_metadata!)).toEqual({ channel: 'C0OPS' });
    expect(h.coreCalls.calls).toEqual(['profiles.show', 'profiles.validate']);
  });

  it('shows a profile to anyone, without secrets; an unknown one is an error', async () => {
    await h.store.profiles.insert(
      makeProfile({ name: 'prod', eabKid: 'kid-9', eabHmacKeySealed: 'v1.k1.sealed-hmac' }),
    );
    const { id } = await h.command('profile show prod', { userId: MALLORY });
    const shown = JSON.stringify(await h.response(id));
    expect(shown).toContain('Profile prod');
    expect(shown).toContain('kid-9');
    expect(shown).toContain('*Auto-deploy:* off');
    expect(shown).not.toContain('sealed');
    const missing = await h.command('profile show nope', { userId: MALLORY });
    expect(JSON.stringify(await h.response(missing.id))).toContain('no profile named');
  });
});

describeWithPebble('profile form against Pebble', () => {
  const pebble = usePebble();
  let database: Database;
  let core: TestCore;
  let h: BotHarness;

  beforeAll(async () => {
    const masterKey = randomBytes(32).toString('base64');
    database = await freshDatabase(databaseTargets[0]!.open);
    core = await startTestCore(database, pebble(), masterKey);
    h = await startBotHarness({
      env: { SLACK_ADMINS: ADMIN },
      core: { database, store: core.store, secrets: createSecretBox(masterKey), services: core.services },
    });
  });
  afterAll(async () => {
    await h?.close();
    await core?.close();
    await database?.close();
  });

  it('validates against the CA, shows its ToS, needs it accepted, then creates the profile', async () => {
    const url = pebble().directoryUrl;
    const one = await h.submitView(
      'profile_create',
      step1({ [PROFILE_BLOCK.server]: v({ selected: 'custom' }), [PROFILE_BLOCK.serverUrl]: v(url) }),
      {
        userId: ADMIN,
        privateMetadata: '{"channel":"C0OPS"}',
      },
    );
    expect(one.json).toMatchObject({ response_action: 'update' });
    const step2 = await nthUpdate(h, 1);
    expect(step2.callback_id).toBe('profile_create_confirm');
    expect(inputIds(step2)).toEqual([PROFILE_BLOCK.tos]);
    expect(JSON.stringify(step2)).toContain(url);
    expect(JSON.stringify(step2)).toContain('data:text/plain');

    const noTos = await h.submitView(
      'profile_create_confirm',
      { [PROFILE_BLOCK.tos]: v({ multi: [] }) },
      { userId: ADMIN, privateMetadata: step2.private_metadata! },
    );
    expect(noTos.json).toEqual({ response_action: 'errors', errors: { [PROFILE_BLOCK.tos]: expect.any(String) } });
    expect(await h.store.profiles.list()).toEqual([]);

    const two = await h.submitView(
      'profile_create_confirm',
      { [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }) },
      { userId: ADMIN, privateMetadata: step2.private_metadata! },
    );
    expect(JSON.stringify(two.json)).toContain('Creating profile le-staging');
    const done = await nthUpdate(h, 2);
    expect(done.submit).toBeUndefined();
    expect(JSON.stringify(done)).toContain('Profile created');

    const stored = await h.store.profiles.findByName('le-staging');
    expect(stored).toMatchObject({
      directoryUrl: url,
      keySpec: 'ec-p256',
      contact: ['ops@example.com'],
      renewDaysBefore: 21,
      deployTime: '02:15',
      deployTimeZone: 'Europe/Berlin',
      autoRenew: true,
      autoDeploy: true,
      renewApproval: true,
      deployApproval: false,
      tosAgreed: true,
    });
    const [ephemeral] = await h.stub.waitForApi('chat.postEphemeral');
    expect(ephemeral).toMatchObject({ channel: 'C0OPS', user: ADMIN });
    const audit = await h.store.audit.list({ objectId: stored!.id });
    expect(audit.map((a) => [a.action, a.actor])).toContainEqual(['profile.create', `slack:${ADMIN}`]);
  });
});

const EAB_KID = 'kid-slack';
const EAB_KEY = randomBytes(32).toString('base64url');

describeWithPebble('profile form against Pebble requiring EAB', () => {
  const pebble = usePebble({ eabKeys: { [EAB_KID]: EAB_KEY } });
  let database: Database;
  let core: TestCore;
  let h: BotHarness;

  beforeAll(async () => {
    const masterKey = randomBytes(32).toString('base64');
    database = await freshDatabase(databaseTargets[0]!.open);
    core = await startTestCore(database, pebble(), masterKey);
    h = await startBotHarness({
      env: { SLACK_ADMINS: ADMIN },
      core: { database, store: core.store, secrets: createSecretBox(masterKey), services: core.services },
    });
  });
  afterAll(async () => {
    await h?.close();
    await core?.close();
    await database?.close();
  });

  it('asks for EAB, survives a wrong HMAC key without echoing it, and creates the profile with the right one', async () => {
    const wrongKey = randomBytes(32).toString('base64url');
    await h.submitView(
      'profile_create',
      step1({
        [PROFILE_BLOCK.name]: v('eab-ca'),
        [PROFILE_BLOCK.server]: v({ selected: 'custom' }),
        [PROFILE_BLOCK.serverUrl]: v(pebble().directoryUrl),
      }),
      {
        userId: ADMIN,
      },
    );
    const step2 = await nthUpdate(h, 1);
    expect(inputIds(step2)).toEqual([PROFILE_BLOCK.tos, PROFILE_BLOCK.eabKid, PROFILE_BLOCK.eabHmac]);
    const meta = step2.private_metadata!;
    const accept = { [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }) };

    const missing = await h.submitView('profile_create_confirm', accept, { userId: ADMIN, privateMetadata: meta });
    expect(missing.json).toEqual({
      response_action: 'errors',
      errors: { [PROFILE_BLOCK.eabKid]: expect.any(String), [PROFILE_BLOCK.eabHmac]: expect.any(String) },
    });

    await h.submitView(
      'profile_create_confirm',
      { ...accept, [PROFILE_BLOCK.eabKid]: v(EAB_KID), [PROFILE_BLOCK.eabHmac]: v(wrongKey) },
      { userId: ADMIN, privateMetadata: meta },
    );
    const failed = await nthUpdate(h, 2);
    expect(failed.callback_id).toBe('profile_create_confirm');
    expect(JSON.stringify(failed)).toContain('Nothing was created');
    expect(JSON.stringify(failed)).toContain(`"initial_value":"${EAB_KID}"`);
    expect(await h.store.profiles.list()).toEqual([]);

    await h.submitView(
      'profile_create_confirm',
      { ...accept, [PROFILE_BLOCK.eabKid]: v(EAB_KID), [PROFILE_BLOCK.eabHmac]: v(EAB_KEY) },
      { userId: ADMIN, privateMetadata: failed.private_metadata! },
    );
    const done = await nthUpdate(h, 3);
    expect(JSON.stringify(done)).toContain('Profile created');
    expect(JSON.stringify(done)).toContain(EAB_KID);
    const stored = await h.store.profiles.findByName('eab-ca');
    expect(stored).toMatchObject({ eabKid: EAB_KID });

    // Neither HMAC key reached Slack: not in any view, metadata or message the bot sent.
    const sent = h.stub.calls.map((c) => decodeURIComponent(c.body.replace(/\+/g, ' '))).join('\n');
    expect(sent).toContain(EAB_KID);
    expect(sent).not.toContain(EAB_KEY);
    expect(sent).not.toContain(wrongKey);
  });
});
