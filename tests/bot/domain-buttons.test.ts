import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  DEPLOY_TEST_ACTION,
  decodeDomainRef,
  encodeDomainRef,
  RECONFIGURE_ACTION,
  TEST_CONNECTION_ACTION,
} from '../../bot/blocks/challenge.ts';
import { ADD_BLOCKS, DOMAIN_ADD_VIEW } from '../../bot/modals/domain-add.ts';
import { accountOf, secretAad } from '../../core/services/core-deps.ts';
import type { Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/**
 * The challenge message's *Reconfigure* and *Deploy & Test* buttons, `/acme domain reconfigure --profile P`,
 * the single-name `/acme domain test NAME`, and the post that falls back to the person's DM when the bot is
 * not in the channel, over the real Bolt receiver against Pebble. Each test works in a profile of its own,
 * so one test's Reconfigure never touches another's domains.
 */
const CHANNEL = 'C0BUTTONS';
const USER = 'U0ALICE';
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, get: () => T | undefined | null | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(20);
  }
}

type Block = { type: string; block_id?: string; elements?: { action_id?: string; value?: string }[] };
/** The buttons of a message (by action id), with the domain each one names. */
function buttons(message: Record<string, unknown>): { action: string; ref: ReturnType<typeof decodeDomainRef> }[] {
  const actions = (message['blocks'] as Block[]).find((b) => b.type === 'actions');
  return (actions?.elements ?? []).map((e) => ({ action: e.action_id!, ref: decodeDomainRef(e.value) }));
}

describeWithPebble('domain buttons against Pebble', () => {
  const pebble = usePebble();
  /** The built-in responder, on the free port Pebble validates http-01 against (known once Pebble runs). */
  const responderUrl = () => `http://127.0.0.1:${pebble().httpPort}`;
  let database: Database;
  let core: TestCore;
  let h: BotHarness;
  let profiles = 0;

  beforeAll(async () => {
    database = await freshDatabase(databaseTargets[0]!.open);
    core = await startTestCore(database, pebble());
    h = await startBotHarness({
      core: { database, store: core.store, secrets: core.deps.secrets, services: core.services },
      env: { RESPONDER_URL: responderUrl() },
    });
  });
  afterAll(async () => {
    await h?.close();
    await core?.close();
    await database?.close();
  });
  beforeEach(() => {
    h.stub.calls.length = 0;
    h.coreCalls.calls.length = 0;
    h.stub.clearOverrides();
  });

  /** A profile of its own (a fresh Pebble account) with these domains added; returns their first content. */
  async function profileWith(names: string[], type: 'http-01' | 'tls-alpn-01' = 'http-01') {
    const profile = `p${++profiles}`;
    await core.services.profiles.create(
      { name: profile, server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    const fqdn = (label: string) => `${label}.${profile}.buttons.example.test`;
    const contents = await core.services.domains.add(profile, names.map(fqdn), type, 'test');
    return { profile, fqdn, contents: new Map(contents.map((c) => [c.domain, c])) };
  }

  /** Makes the CA drop a domain's authorization, as an expired or failed challenge would: Reconfigure's case. */
  async function deactivate(profileName: string, name: string): Promise<string> {
    const profile = (await core.store.profiles.findByName(profileName))!;
    const domain = (await core.store.domains.find(profile.id, name))!;
    const authz = (await core.store.authorizations.findById(domain.currentAuthorizationId!))!;
    await core.deps.acme.deactivateAuthorization(accountOf(core.deps, profile), authz.url);
    return authz.id;
  }

  const currentAuthorization = async (profileName: string, name: string) => {
    const profile = (await core.store.profiles.findByName(profileName))!;
    return (await core.store.domains.find(profile.id, name))!.currentAuthorizationId;
  };

  /** Everything the bot sent Slack: Web API calls, response_url posts and uploaded file bodies. */
  const everythingSent = () => h.stub.calls.map((c) => c.body).join('\n');
  /** What a person can read: messages, updates, modals and response_url posts (not the uploaded files). */
  const visibleText = () =>
    h.stub.calls
      .filter(
        (c) =>
          c.path.startsWith('/api/chat.') ||
          c.path.startsWith('/api/views.') ||
          c.path.startsWith('/response/') ||
          c.path.startsWith('/api/files.completeUploadExternal'),
      )
      .map((c) => c.body)
      .join('\n');

  /** Waits until the message at channel/ts was updated with a final (non-busy) notice containing `text`. */
  const updatesUntil = (text: string) =>
    until(`a chat.update containing ${text}`, () => {
      const u = h.stub.api('chat.update');
      return u.length >= 2 && JSON.stringify(u.at(-1)).includes(text) ? u : null;
    });

  // -------------------------------------------------------------------------------------------------------
  // Reconfigure

  it('Reconfigure on a domain the CA dropped: updated in place with fresh content, a new authorization that then validates', async () => {
    const { profile, fqdn, contents } = await profileWith(['gone', 'kept']);
    const gone = fqdn('gone');
    const before = contents.get(gone)!.http!;
    const oldAuthz = await deactivate(profile, gone);
    const keptAuthz = await currentAuthorization(profile, fqdn('kept'));
    const ts = '1700000000.000301';

    const res = await h.click(RECONFIGURE_ACTION, encodeDomainRef({ name: gone, profile }), {
      channelId: CHANNEL,
      messageTs: ts,
      userId: 'U0BOB',
    });
    expect(res.status).toBe(200);
    const updates = await updatesUntil('fresh challenge content for this domain');
    expect(updates.every((u) => u['channel'] === CHANNEL && u['ts'] === ts)).toBe(true);
    expect(JSON.stringify(updates[0])).toContain('Reconfiguring…');

    const after = await core.services.domains.challenge({ name: gone, profile });
    expect(await currentAuthorization(profile, gone)).not.toBe(oldAuthz);
    expect(after.status).toBe('pending');
    expect(after.http!.fileName).not.toBe(before.fileName);
    expect(after.http!.content).not.toBe(before.content);
    const last = updates.at(-1)!;
    expect(JSON.stringify(last['blocks'])).toContain(after.http!.fileName);
    expect(JSON.stringify(last['blocks'])).toContain(after.http!.content);
    expect(JSON.stringify(last['blocks'])).not.toContain(before.content);
    expect(buttons(last).map((b) => b.action)).toEqual([TEST_CONNECTION_ACTION, RECONFIGURE_ACTION]);
    expect(buttons(last).every((b) => b.ref?.name === gone && b.ref.profile === profile)).toBe(true);

    // The other domain was still pending: it keeps its authorization, and no other message is posted.
    expect(await currentAuthorization(profile, fqdn('kept'))).toBe(keptAuthz);
    expect(h.stub.api('chat.postMessage')).toEqual([]);
    expect(h.coreCalls.calls).toContain('domains.reconfigure');

    // The fresh content is real: the CA validates it.
    expect((await core.services.domains.test({ name: gone, profile }, 'test')).outcome).toBe('valid');
  });

  it('Reconfigure on a domain that keeps its content says so, and posts the one that got fresh content as a new message', async () => {
    const { profile, fqdn, contents } = await profileWith(['stays', 'dropped']);
    const oldAuthz = await deactivate(profile, fqdn('dropped'));
    const ts = '1700000000.000302';

    await h.click(RECONFIGURE_ACTION, encodeDomainRef({ name: fqdn('stays'), profile }), {
      channelId: CHANNEL,
      messageTs: ts,
    });
    const updates = await updatesUntil('this domain kept its challenge content');
    expect(updates.every((u) => u['channel'] === CHANNEL && u['ts'] === ts)).toBe(true);
    expect(JSON.stringify(updates.at(-1))).toContain(
      `1 other domain of profile ${profile} got fresh content, posted below`,
    );
    expect(JSON.stringify(updates.at(-1)!['blocks'])).toContain(contents.get(fqdn('stays'))!.http!.content);

    const [post] = await h.stub.waitForApi('chat.postMessage');
    const fresh = await core.services.domains.challenge({ name: fqdn('dropped'), profile });
    expect(await currentAuthorization(profile, fqdn('dropped'))).not.toBe(oldAuthz);
    expect(post!['channel']).toBe(CHANNEL);
    expect(JSON.stringify(post!['blocks'])).toContain(fresh.http!.content);
    expect(buttons(post!)[0]!.ref).toEqual({ name: fqdn('dropped'), profile });
  });

  it('Reconfigure with nothing to refresh leaves every authorization alone', async () => {
    const { profile, fqdn } = await profileWith(['fine']);
    const authz = await currentAuthorization(profile, fqdn('fine'));
    await h.click(RECONFIGURE_ACTION, encodeDomainRef({ name: fqdn('fine'), profile }), {
      channelId: CHANNEL,
      messageTs: '1700000000.000303',
    });
    await updatesUntil('still has usable challenge content; nothing was refreshed');
    expect(await currentAuthorization(profile, fqdn('fine'))).toBe(authz);
    expect(h.stub.api('chat.postMessage')).toEqual([]);
  });

  it("Reconfigure on a tls-alpn-01 domain uploads the fresh .cert and .key into the message's thread, never as text", async () => {
    const { profile, fqdn, contents } = await profileWith(['tls'], 'tls-alpn-01');
    const name = fqdn('tls');
    await deactivate(profile, name);
    const ts = '1700000000.000304';
    await h.click(RECONFIGURE_ACTION, encodeDomainRef({ name, profile }), { channelId: CHANNEL, messageTs: ts });
    await updatesUntil('fresh challenge content for this domain');
    const fresh = (await core.services.domains.challenge({ name, profile })).tls!;
    expect(fresh.certPem).not.toBe(contents.get(name)!.tls!.certPem);

    const [complete] = await h.stub.waitForApi('files.completeUploadExternal');
    expect(complete!['channel_id']).toBe(CHANNEL);
    expect(complete!['thread_ts']).toBe(ts);
    const uploads = h.stub.calls.filter((c) => c.path.startsWith('/upload/')).map((c) => c.body);
    expect(uploads.some((b) => b.includes(fresh.keyPem))).toBe(true);
    expect(uploads.some((b) => b.includes(fresh.certPem))).toBe(true);
    expect(JSON.stringify(h.stub.api('chat.update').at(-1))).toContain('files are in this message');
    expect(visibleText()).not.toContain('PRIVATE KEY');
  });

  it('/acme domain reconfigure --profile P: says it is working, posts the fresh content in the channel, then the summary', async () => {
    const { profile, fqdn } = await profileWith(['cmd-gone', 'cmd-kept']);
    const oldAuthz = await deactivate(profile, fqdn('cmd-gone'));
    const keptAuthz = await currentAuthorization(profile, fqdn('cmd-kept'));

    const res = await h.command(`domain reconfigure --profile ${profile}`, { channelId: CHANNEL });
    expect(res.status).toBe(200);
    const posts = await until('the summary', () => {
      const r = h.stub.responses(res.id);
      return r.length >= 2 ? r : null;
    });
    expect(JSON.stringify(posts[0])).toContain(`Reconfiguring profile ${profile}`);
    const summary = posts.at(-1)!;
    expect(summary['replace_original']).toBe(true);
    expect(summary['response_type']).toBe('ephemeral');
    expect(JSON.stringify(summary)).toContain(`Fresh challenge content for 1 domain of profile`);
    expect(JSON.stringify(summary)).toContain(`<#${CHANNEL}>`);
    expect(JSON.stringify(summary)).toContain(fqdn('cmd-gone'));

    const fresh = await core.services.domains.challenge({ name: fqdn('cmd-gone'), profile });
    expect(await currentAuthorization(profile, fqdn('cmd-gone'))).not.toBe(oldAuthz);
    expect(await currentAuthorization(profile, fqdn('cmd-kept'))).toBe(keptAuthz);
    const messages = h.stub.api('chat.postMessage');
    expect(messages).toHaveLength(1);
    expect(messages[0]!['channel']).toBe(CHANNEL);
    expect(JSON.stringify(messages[0]!['blocks'])).toContain(fresh.http!.content);
    expect(buttons(messages[0]!).map((b) => b.action)).toContain(RECONFIGURE_ACTION);

    // Run again: nothing left to refresh, nothing posted.
    h.stub.calls.length = 0;
    const again = await h.command(`domain reconfigure --profile ${profile}`, { channelId: CHANNEL });
    const last = await until('the second summary', () => {
      const r = h.stub.responses(again.id);
      return r.length >= 2 ? r.at(-1) : null;
    });
    expect(JSON.stringify(last)).toContain('still has usable challenge content; nothing was refreshed');
    expect(h.stub.api('chat.postMessage')).toEqual([]);
  });

  it("/acme domain reconfigure of an unknown profile answers the core's error and posts nothing", async () => {
    const res = await h.command('domain reconfigure --profile no-such-profile', { channelId: CHANNEL });
    const last = await until('the answer', () => {
      const r = h.stub.responses(res.id);
      return r.length >= 2 ? r.at(-1) : null;
    });
    expect(JSON.stringify(last)).toMatch(/no-such-profile/);
    expect(h.stub.api('chat.postMessage')).toEqual([]);
  });

  // -------------------------------------------------------------------------------------------------------
  // Deploy & Test

  it("Deploy & Test: publishes to the built-in responder's challenge-hook, then validates; the message shows it in place", async () => {
    const { profile, fqdn } = await profileWith(['deploy']);
    const name = fqdn('deploy');
    const ref = { name, profile };
    const view = await core.services.domains.useBuiltinEndpoint(ref, responderUrl(), 'test');
    expect(view.endpointUrl).toBe(`${responderUrl()}/challenge-hook/${name}`);
    const stored = (await core.store.domains.find((await core.store.profiles.findByName(profile))!.id, name))!;
    const password = core.deps.secrets.open(
      stored.endpointPasswordSealed!,
      secretAad('domains', stored.id, 'endpoint_password'),
    );
    const ts = '1700000000.000401';

    const res = await h.click(DEPLOY_TEST_ACTION, encodeDomainRef(ref), {
      channelId: CHANNEL,
      messageTs: ts,
      userId: 'U0BOB',
    });
    expect(res.status).toBe(200);
    const updates = await updatesUntil('valid: the CA validated the challenge');
    expect(updates.every((u) => u['channel'] === CHANNEL && u['ts'] === ts)).toBe(true);
    expect(JSON.stringify(updates[0])).toContain('Deploying the challenge content to the endpoint');
    const last = updates.at(-1)!;
    const lastText = JSON.stringify(last['blocks']);
    expect(lastText).toContain('Deploy &amp; Test (published to');
    expect(lastText).toContain(':white_check_mark: *valid*');
    expect(lastText).toContain(`publishes to \`${responderUrl()}/challenge-hook/${name}\``);
    // The endpoint is set, so the button stays: Test Connection, Deploy & Test, Reconfigure, all naming this domain.
    expect(buttons(last).map((b) => b.action)).toEqual([
      TEST_CONNECTION_ACTION,
      DEPLOY_TEST_ACTION,
      RECONFIGURE_ACTION,
    ]);
    expect(buttons(last).every((b) => b.ref?.name === name && b.ref.profile === profile)).toBe(true);

    expect((await core.services.domains.show(ref)).domain.status).toBe('valid');
    expect((await core.store.hookChallenges.list(name)).map((c) => c.type)).toEqual(['http']);
    expect(h.coreCalls.calls).toContain('domains.deployAndTest');
    expect(everythingSent()).not.toContain(password);
    expect(everythingSent()).not.toContain('PRIVATE KEY');
  });

  it('Deploy & Test from a stale message, after the endpoint was cleared: says why and drops the button', async () => {
    const { profile, fqdn } = await profileWith(['stale']);
    const ref = { name: fqdn('stale'), profile };
    await core.services.domains.useBuiltinEndpoint(ref, responderUrl(), 'test');
    await core.services.domains.clearEndpoint(ref, 'test');
    const ts = '1700000000.000402';
    await h.click(DEPLOY_TEST_ACTION, encodeDomainRef(ref), { channelId: CHANNEL, messageTs: ts });
    const updates = await updatesUntil('has no API endpoint');
    expect(updates.every((u) => u['channel'] === CHANNEL && u['ts'] === ts)).toBe(true);
    expect(JSON.stringify(updates.at(-1)!['blocks'])).toContain(':warning:');
    expect(buttons(updates.at(-1)!).map((b) => b.action)).toEqual([TEST_CONNECTION_ACTION, RECONFIGURE_ACTION]);
    expect((await core.services.domains.show(ref)).domain.status).toBe('pending');
  });

  it('a domain added with the built-in responder gets a message with Deploy & Test, and that button validates it', async () => {
    const profile = `p${++profiles}`;
    await core.services.profiles.create(
      { name: profile, server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    const name = `added.${profile}.buttons.example.test`;
    const ts = '1700000000.000999';
    h.stub.override('chat.postMessage', (fields) => ({ ok: true, channel: fields['channel'], ts }));
    const res = await h.submitView(
      DOMAIN_ADD_VIEW,
      {
        [ADD_BLOCKS.profile]: { profile: { selected: profile } },
        [ADD_BLOCKS.names]: { names: name },
        [ADD_BLOCKS.type]: { type: { selected: 'http-01' } },
        [ADD_BLOCKS.builtin]: { builtin: { multi: ['builtin'] } },
      },
      { privateMetadata: JSON.stringify({ c: CHANNEL }) },
    );
    expect(res.json?.['response_action']).toBe('update');
    const [post] = await h.stub.waitForApi('chat.postMessage');
    expect(post!['channel']).toBe(CHANNEL);
    expect(JSON.stringify(post!['blocks'])).toContain(`${responderUrl()}/challenge-hook/${name}`);
    const deploy = buttons(post!).find((b) => b.action === DEPLOY_TEST_ACTION);
    expect(deploy?.ref).toEqual({ name, profile });

    // Click the posted button, on the posted message.
    await h.click(DEPLOY_TEST_ACTION, encodeDomainRef(deploy!.ref!), { channelId: CHANNEL, messageTs: ts });
    const updates = await updatesUntil('valid: the CA validated the challenge');
    expect(updates.every((u) => u['channel'] === CHANNEL && u['ts'] === ts)).toBe(true);
    expect((await core.services.domains.show({ name, profile })).domain.status).toBe('valid');
  });

  // -------------------------------------------------------------------------------------------------------
  // /acme domain test NAME

  it('/acme domain test NAME: the domain\'s message with "Testing…", replaced by the outcome and its buttons', async () => {
    const { profile, fqdn } = await profileWith(['single']);
    const name = fqdn('single');
    const res = await h.command(`domain test ${name}`, { channelId: CHANNEL });
    expect(res.status).toBe(200);
    const posts = await until('the outcome', () => {
      const r = h.stub.responses(res.id);
      return r.length >= 2 ? r : null;
    });
    expect(posts).toHaveLength(2);
    expect(posts[0]!['response_type']).toBe('ephemeral');
    expect(posts[0]!['replace_original']).toBeUndefined();
    expect(JSON.stringify(posts[0])).toContain('Testing…');
    const final = posts[1]!;
    expect(final['replace_original']).toBe(true);
    expect(JSON.stringify(final['blocks'])).toContain('Test Connection: valid: the CA validated the challenge');
    expect(JSON.stringify(final['blocks'])).toContain(':white_check_mark: *valid*');
    expect(buttons(final).map((b) => b.action)).toEqual([TEST_CONNECTION_ACTION, RECONFIGURE_ACTION]);
    expect(buttons(final)[0]!.ref).toEqual({ name, profile });
    expect((await core.services.domains.show({ name, profile })).domain.status).toBe('valid');
    // Answered through response_url only: no message posted or edited.
    expect(h.stub.api('chat.postMessage')).toEqual([]);
    expect(h.stub.api('chat.update')).toEqual([]);
  });

  it('/acme domain test NAME on a domain the CA dropped: the outcome says to reconfigure', async () => {
    const { profile, fqdn } = await profileWith(['dropped-test']);
    const name = fqdn('dropped-test');
    await deactivate(profile, name);
    const res = await h.command(`domain test ${name} --profile ${profile}`, { channelId: CHANNEL });
    const final = await until('the outcome', () => {
      const r = h.stub.responses(res.id);
      return r.length >= 2 ? r.at(-1) : null;
    });
    const text = JSON.stringify(final!['blocks']);
    expect(text).toContain(':warning: Test Connection: expired');
    expect(text).toContain(`\`/acme domain reconfigure --profile ${profile}\``);
    expect((await core.services.domains.show({ name, profile })).domain.status).not.toBe('valid');
  });

  it('/acme domain test NAME on a tls-alpn-01 domain points at the CLI for the files and never shows the key', async () => {
    const { profile, fqdn } = await profileWith(['single-tls'], 'tls-alpn-01');
    const name = fqdn('single-tls');
    const res = await h.command(`domain test ${name}`, { channelId: CHANNEL });
    const final = await until('the outcome', () => {
      const r = h.stub.responses(res.id);
      return r.length >= 2 ? r.at(-1) : null;
    });
    expect(JSON.stringify(final)).toContain(
      `\`domain challenge ${name} --profile ${profile} --out DIR\` (an operator runs it on the server`,
    );
    expect(JSON.stringify(final)).toContain('Test Connection: valid');
    expect(everythingSent()).not.toContain('PRIVATE KEY');
    expect(h.stub.api('files.getUploadURLExternal')).toEqual([]);
  });

  it("/acme domain test of an unknown name answers the core's not-found", async () => {
    const res = await h.command('domain test nowhere.buttons.example.test', { channelId: CHANNEL });
    expect((await h.response(res.id))['text']).toContain('no domain "nowhere.buttons.example.test"');
    expect(h.coreCalls.calls).not.toContain('domains.test');
  });

  // -------------------------------------------------------------------------------------------------------
  // Not in the channel

  /** Slack refuses posts to `channel` (the bot is not in it); a post to the user opens their DM, `D0ALICE`. */
  function botNotIn(channel: string) {
    let n = 0;
    h.stub.override('chat.postMessage', (fields) => {
      if (fields['channel'] === channel) return { ok: false, error: 'not_in_channel' };
      if (fields['channel'] === USER)
        return { ok: true, channel: 'D0ALICE', ts: `1700000001.${String(++n).padStart(6, '0')}` };
      return undefined;
    });
  }

  it("/acme domain reconfigure in a channel the bot is not in: the fresh content goes to the person's DM", async () => {
    const { profile, fqdn } = await profileWith(['dm']);
    await deactivate(profile, fqdn('dm'));
    botNotIn('C0NOTIN');
    const res = await h.command(`domain reconfigure --profile ${profile}`, { channelId: 'C0NOTIN', userId: USER });
    const last = await until('the summary', () => {
      const r = h.stub.responses(res.id);
      return r.length >= 2 ? r.at(-1) : null;
    });
    expect(JSON.stringify(last)).toContain('your DM with this app');
    const posts = h.stub.api('chat.postMessage');
    expect(posts.map((p) => p['channel'])).toEqual(['C0NOTIN', USER]);
    const fresh = await core.services.domains.challenge({ name: fqdn('dm'), profile });
    expect(JSON.stringify(posts[1]!['blocks'])).toContain(fresh.http!.content);
  });

  it('adding a tls-alpn-01 domain from a channel the bot is not in: message and files go to the DM, the modal says so', async () => {
    const profile = `p${++profiles}`;
    await core.services.profiles.create(
      { name: profile, server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    const name = `dm-tls.${profile}.buttons.example.test`;
    botNotIn('C0NOTIN');
    await h.submitView(
      DOMAIN_ADD_VIEW,
      {
        [ADD_BLOCKS.profile]: { profile: { selected: profile } },
        [ADD_BLOCKS.names]: { names: name },
        [ADD_BLOCKS.type]: { type: { selected: 'tls-alpn-01' } },
      },
      { privateMetadata: JSON.stringify({ c: 'C0NOTIN' }), userId: USER },
    );
    const done = await until('the added view', () =>
      h.stub.api('views.update').find((u) => JSON.stringify(u).includes('Domains added')),
    );
    expect(JSON.stringify(done)).toContain('your DM with this app');
    expect(h.stub.api('chat.postMessage').map((p) => p['channel'])).toEqual(['C0NOTIN', USER]);
    const [complete] = await h.stub.waitForApi('files.completeUploadExternal');
    // In the DM's thread: the channel Slack answered with, not the user id.
    expect(complete!['channel_id']).toBe('D0ALICE');
    expect(complete!['thread_ts']).toBe('1700000001.000001');
    expect(visibleText()).not.toContain('PRIVATE KEY');
    expect((await core.services.domains.list(profile)).map((d) => d.name)).toEqual([name]);
  });

  it('when the DM is refused too, the added modal points at the CLI instead', async () => {
    const profile = `p${++profiles}`;
    await core.services.profiles.create(
      { name: profile, server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    const name = `nowhere.${profile}.buttons.example.test`;
    h.stub.override('chat.postMessage', () => ({ ok: false, error: 'not_in_channel' }));
    await h.submitView(
      DOMAIN_ADD_VIEW,
      {
        [ADD_BLOCKS.profile]: { profile: { selected: profile } },
        [ADD_BLOCKS.names]: { names: name },
        [ADD_BLOCKS.type]: { type: { selected: 'http-01' } },
      },
      { privateMetadata: JSON.stringify({ c: 'C0NOTIN' }), userId: USER },
    );
    const done = await until('the added view', () =>
      h.stub.api('views.update').find((u) => JSON.stringify(u).includes('Domains added')),
    );
    expect(JSON.stringify(done)).toContain('`domain show NAME` (an operator runs it on the server');
    expect(h.stub.api('chat.postMessage').map((p) => p['channel'])).toEqual(['C0NOTIN', USER]);
    expect((await core.services.domains.list(profile)).map((d) => d.name)).toEqual([name]);
  });
});
