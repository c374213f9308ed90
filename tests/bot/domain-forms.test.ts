import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeDomainRef, encodeDomainRef, TEST_CONNECTION_ACTION } from '../../bot/blocks/challenge.ts';
import { ADD_BLOCKS, DOMAIN_ADD_VIEW } from '../../bot/modals/domain-add.ts';
import { DOMAIN_ENDPOINT_VIEW, ENDPOINT_BLOCKS } from '../../bot/modals/domain-endpoint.ts';
import type { Database } from '../../db/client.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../fixtures/builders.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';
import { type BotHarness, startBotHarness } from './bot-harness.ts';

/**
 * `/acme domain add | test | endpoint`, the add and endpoint modals and the challenge message's buttons over
 * the real Bolt receiver: first against a core without a CA (forms, validation, refusals), then against
 * Pebble (domains really added, challenge content posted, Test Connection, the bulk test).
 */
const CHANNEL = 'C0DOMAINS';
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

type View = { title?: { text?: string }; blocks?: unknown[] };
const viewTitles = (h: BotHarness, method: string) =>
  h.stub.api(method).map((c) => (c['view'] as View | undefined)?.title?.text);

describe('domain forms without a CA', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  async function seedProfiles() {
    const prod = makeProfile({ name: 'prod' });
    const staging = makeProfile({ name: 'staging' });
    await h.store.profiles.insert(prod);
    await h.store.profiles.insert(staging);
    return { prod, staging };
  }

  async function seedDomain(profileId: string, overrides: Parameters<typeof makeDomain>[1]) {
    const domain = makeDomain(profileId, overrides);
    await h.store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
  }

  it('opens the add modal with the profile options, the --profile preselected and the names filled in', async () => {
    await seedProfiles();
    const res = await h.command('domain add a.example.com b.example.com --profile staging', { channelId: CHANNEL });
    expect(res.status).toBe(200);
    const [open] = await h.stub.waitForApi('views.open');
    const view = open!['view'] as {
      callback_id: string;
      private_metadata: string;
      blocks: { block_id?: string; element?: Record<string, unknown> }[];
    };
    expect(open!['trigger_id']).toBe(`trigger-${res.id}`);
    expect(view.callback_id).toBe(DOMAIN_ADD_VIEW);
    expect(JSON.parse(view.private_metadata)).toEqual({ c: CHANNEL });
    const profile = view.blocks.find((b) => b.block_id === ADD_BLOCKS.profile)!.element as {
      options: { value: string }[];
      initial_option: { value: string };
    };
    expect(profile.options.map((o) => o.value).sort()).toEqual(['prod', 'staging']);
    expect(profile.initial_option.value).toBe('staging');
    expect(view.blocks.find((b) => b.block_id === ADD_BLOCKS.names)!.element!['initial_value']).toBe(
      'a.example.com\nb.example.com',
    );
  });

  it('answers instead of opening the modal when there is no profile, or the named one does not exist', async () => {
    const none = await h.command('domain add');
    expect(JSON.stringify(await h.response(none.id))).toContain('no CA profile yet');
    await seedProfiles();
    const typo = await h.command('domain add --profile prdo');
    expect(JSON.stringify(await h.response(typo.id))).toContain('No profile named');
    expect(h.stub.api('views.open')).toHaveLength(0);
  });

  it.each([
    ['no names', { names: ' ' }, ADD_BLOCKS.names, 'at least one'],
    ['a malformed name', { names: 'good.example.com\nbad..example.com' }, ADD_BLOCKS.names, 'empty label'],
    ['an incomplete endpoint', { url: 'https://web.example.com/hook' }, ADD_BLOCKS.username, 'user name'],
    [
      'a bad endpoint URL',
      { url: 'not a url', username: 'acme', password: 'long enough password' },
      ADD_BLOCKS.url,
      'Not a URL',
    ],
    ['an unknown profile', { profile: 'gone' }, ADD_BLOCKS.profile, 'No profile named'],
  ])('refuses %s inline and creates nothing', async (_what, input, block, message) => {
    await seedProfiles();
    const o = { profile: 'prod', names: 'www.example.com', url: '', username: '', password: '', ...input };
    const res = await h.submitView(
      DOMAIN_ADD_VIEW,
      {
        [ADD_BLOCKS.profile]: { profile: { selected: o.profile } },
        [ADD_BLOCKS.names]: { names: o.names },
        [ADD_BLOCKS.type]: { type: { selected: 'http-01' } },
        [ADD_BLOCKS.url]: { url: o.url },
        [ADD_BLOCKS.username]: { username: o.username },
        [ADD_BLOCKS.password]: { password: o.password },
      },
      { privateMetadata: JSON.stringify({ c: CHANNEL }) },
    );
    expect(res.status).toBe(200);
    expect(res.json?.['response_action']).toBe('errors');
    expect((res.json?.['errors'] as Record<string, string> | undefined)?.[block]).toContain(message);
    expect(h.coreCalls.calls).not.toContain('domains.add');
    expect(await h.services.domains.list()).toEqual([]);
    expect(JSON.stringify(res.json)).not.toContain('long enough password');
  });

  it("refuses a domain already in the profile inline (the core's conflict), before the CA is asked", async () => {
    const { prod } = await seedProfiles();
    await seedDomain(prod.id, { name: 'www.example.com' });
    const res = await h.submitView(
      DOMAIN_ADD_VIEW,
      {
        [ADD_BLOCKS.profile]: { profile: { selected: 'prod' } },
        [ADD_BLOCKS.names]: { names: 'new.example.com, WWW.example.com' },
        [ADD_BLOCKS.type]: { type: { selected: 'http-01' } },
      },
      { privateMetadata: JSON.stringify({ c: CHANNEL }) },
    );
    expect((res.json?.['errors'] as Record<string, string> | undefined)?.[ADD_BLOCKS.names]).toContain(
      'Already in profile "prod": www.example.com',
    );
    expect(h.coreCalls.calls).not.toContain('domains.add');
    expect((await h.services.domains.list('prod')).map((d) => d.name)).toEqual(['www.example.com']);
  });

  it("shows the core's failure in the modal when the CA cannot be reached", async () => {
    await seedProfiles();
    const res = await h.submitView(
      DOMAIN_ADD_VIEW,
      {
        [ADD_BLOCKS.profile]: { profile: { selected: 'prod' } },
        [ADD_BLOCKS.names]: { names: 'www.example.com' },
        [ADD_BLOCKS.type]: { type: { selected: 'http-01' } },
      },
      { privateMetadata: JSON.stringify({ c: CHANNEL }) },
    );
    expect(res.json?.['response_action']).toBe('update');
    expect(JSON.stringify(res.json)).toContain('Adding 1 domain');
    await until('the failure view', () => viewTitles(h, 'views.update').includes('Adding domains failed'));
    expect(await h.services.domains.list()).toEqual([]);
  });

  it('domain endpoint: opens the modal for the resolved domain, refuses bad input inline, saves, never echoes the password', async () => {
    const { prod } = await seedProfiles();
    await seedDomain(prod.id, { name: 'www.example.com' });
    const missing = await h.command('domain endpoint nope.example.com');
    expect(JSON.stringify(await h.response(missing.id))).toContain('no domain');

    await h.command('domain endpoint www.example.com');
    const [open] = await h.stub.waitForApi('views.open');
    const view = open!['view'] as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(DOMAIN_ENDPOINT_VIEW);
    expect(JSON.parse(view.private_metadata)).toEqual({ d: 'www.example.com', p: 'prod' });

    const submit = (mode: string, url: string, username: string, password: string) =>
      h.submitView(
        DOMAIN_ENDPOINT_VIEW,
        {
          [ENDPOINT_BLOCKS.mode]: { mode: { selected: mode } },
          [ENDPOINT_BLOCKS.url]: { url },
          [ENDPOINT_BLOCKS.username]: { username },
          [ENDPOINT_BLOCKS.password]: { password },
        },
        { privateMetadata: view.private_metadata },
      );
    const bad = await submit('set', 'https://web.example.com/hook', 'acme', 'short');
    expect(bad.json?.['response_action']).toBe('errors');
    expect(Object.keys(bad.json?.['errors'] as object)).toEqual([ENDPOINT_BLOCKS.password]);
    expect(h.coreCalls.calls).not.toContain('domains.setEndpoint');

    const good = await submit('set', 'https://web.example.com/hook', 'acme', 'correct horse battery');
    expect(good.json?.['response_action']).toBe('update');
    expect(JSON.stringify(good.json)).toContain('https://web.example.com/hook');
    expect(JSON.stringify(good.json)).not.toContain('correct horse battery');
    const { domain } = await h.services.domains.show({ name: 'www.example.com' });
    expect(domain.endpointUrl).toBe('https://web.example.com/hook');
    expect(domain.endpointUsername).toBe('acme');

    const builtin = await submit('builtin', '', '', '');
    expect(builtin.json?.['response_action']).toBe('update');
    expect((await h.services.domains.show({ name: 'www.example.com' })).domain.endpointUrl).toContain(
      '/challenge-hook/www.example.com',
    );

    const cleared = await submit('clear', '', '', '');
    expect(cleared.json?.['response_action']).toBe('update');
    expect((await h.services.domains.show({ name: 'www.example.com' })).domain.endpointUrl).toBeNull();
  });

  it('a button that names no domain changes nothing', async () => {
    const res = await h.click(TEST_CONNECTION_ACTION, 'garbage', { channelId: CHANNEL });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await h.response(res.id))).toContain('does not name a domain');
    expect(h.coreCalls.calls).toEqual([]);
  });

  it('domain test --profile with nothing pending says so', async () => {
    const { prod } = await seedProfiles();
    await seedDomain(prod.id, { name: 'www.example.com', status: 'valid' });
    const res = await h.command('domain test --profile prod');
    expect(JSON.stringify(await h.response(res.id))).toContain('Nothing to test');
    expect(h.coreCalls.calls).not.toContain('domains.test');
  });
});

describeWithPebble('domain forms against Pebble', () => {
  const pebble = usePebble();
  let database: Database;
  let core: TestCore;
  let h: BotHarness;
  const name = (label: string) => `${label}.slack.example.test`;

  beforeAll(async () => {
    database = await freshDatabase(databaseTargets[0]!.open);
    core = await startTestCore(database, pebble());
    await core.services.profiles.create(
      { name: 'web', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    h = await startBotHarness({
      core: { database, store: core.store, secrets: core.deps.secrets, services: core.services },
    });
  });
  afterAll(async () => {
    await h?.close();
    await core?.close();
    await database?.close();
  });

  const submitAdd = (names: string, type: string) =>
    h.submitView(
      DOMAIN_ADD_VIEW,
      {
        [ADD_BLOCKS.profile]: { profile: { selected: 'web' } },
        [ADD_BLOCKS.names]: { names },
        [ADD_BLOCKS.type]: { type: { selected: type } },
      },
      { privateMetadata: JSON.stringify({ c: CHANNEL }), userId: 'U0ALICE' },
    );

  /** Text a person can read in Slack: messages, updates, modals, response_url posts and upload comments. */
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

  it('adds http-01 domains: "Adding…", then one challenge message each in the channel, then "added"', async () => {
    const res = await submitAdd(`${name('one')}\n${name('two')}`, 'http-01');
    expect(res.json?.['response_action']).toBe('update');
    expect(JSON.stringify(res.json)).toContain('Adding 2 domains');
    await until('the added view', () => viewTitles(h, 'views.update').includes('Domains added'));
    const posts = h.stub.api('chat.postMessage');
    expect(posts).toHaveLength(2);
    for (const [i, label] of ['one', 'two'].entries()) {
      const post = posts[i]!;
      expect(post['channel']).toBe(CHANNEL);
      const content = await core.services.domains.challenge({ name: name(label), profile: 'web' });
      const json = JSON.stringify(post['blocks']);
      expect(json).toContain(content.http!.fileName);
      expect(json).toContain(content.http!.content);
      expect(json).toContain('Test Connection');
      expect(json).not.toContain('Deploy & Test');
    }
    expect((await core.services.domains.list('web')).map((d) => d.name).sort()).toEqual([name('one'), name('two')]);
    expect(JSON.stringify(h.stub.api('views.update').at(-1))).toContain(`<#${CHANNEL}>`);
  });

  it('adds a tls-alpn-01 domain: the .cert and the throwaway .key are uploaded as files, never as text', async () => {
    h.stub.calls.length = 0;
    await submitAdd(name('tls'), 'tls-alpn-01');
    const [complete] = await h.stub.waitForApi('files.completeUploadExternal', 1);
    await until('the added view', () => viewTitles(h, 'views.update').includes('Domains added'));
    const content = await core.services.domains.challenge({ name: name('tls'), profile: 'web' });
    expect(content.tls!.keyPem).toContain('PRIVATE KEY');

    const [post] = h.stub.api('chat.postMessage');
    expect(complete!['channel_id']).toBe(CHANNEL);
    // In the thread of the challenge message (the stub answers postMessage with ts 1700000000.<n>).
    expect(complete!['thread_ts']).toMatch(/^1700000000\.\d{6}$/);
    const asked = h.stub.api('files.getUploadURLExternal').map((c) => c['filename']);
    expect(asked.sort()).toEqual([`${name('tls')}.cert`, `${name('tls')}.key`]);
    const uploads = h.stub.calls.filter((c) => c.path.startsWith('/upload/')).map((c) => c.body);
    expect(uploads).toHaveLength(2);
    expect(uploads.some((b) => b.includes(content.tls!.keyPem))).toBe(true);
    expect(uploads.some((b) => b.includes(content.tls!.certPem))).toBe(true);

    expect(visibleText()).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(post!['blocks'])).toContain('throwaway challenge key');
  });

  it('Test Connection updates the message in place: "Testing…", then valid', async () => {
    h.stub.calls.length = 0;
    const ref = { name: name('one'), profile: 'web' };
    const ts = '1700000000.000777';
    const res = await h.click(TEST_CONNECTION_ACTION, encodeDomainRef(ref), {
      channelId: CHANNEL,
      messageTs: ts,
      userId: 'U0BOB',
    });
    expect(res.status).toBe(200);
    const updates = await until('the final update', () => {
      const u = h.stub.api('chat.update');
      return u.length >= 2 && JSON.stringify(u.at(-1)).includes('Test Connection: valid') ? u : null;
    });
    expect(updates.every((u) => u['channel'] === CHANNEL && u['ts'] === ts)).toBe(true);
    expect(JSON.stringify(updates[0])).toContain('Testing…');
    expect(JSON.stringify(updates.at(-1)!['blocks'])).toContain(':white_check_mark: *valid*');
    const { domain } = await core.services.domains.show(ref);
    expect(domain.status).toBe('valid');
    const actions = (updates.at(-1)!['blocks'] as { type: string; elements?: { value: string }[] }[]).find(
      (b) => b.type === 'actions',
    )!;
    expect(decodeDomainRef(actions.elements![0]!.value)).toEqual(ref);
  });

  it('bulk domain test --profile: a progress message, replaced with the summary', async () => {
    h.stub.calls.length = 0;
    const pending = (await core.services.domains.list('web')).filter((d) => d.status === 'pending').map((d) => d.name);
    expect(pending.sort()).toEqual([name('tls'), name('two')]);
    const res = await h.command('domain test --profile web', { channelId: CHANNEL });
    expect(res.status).toBe(200);
    const posts = await until('the summary', () => {
      const r = h.stub.responses(res.id);
      return r.length >= 2 && JSON.stringify(r.at(-1)).includes('Test Connection: done') ? r : null;
    });
    expect(JSON.stringify(posts[0])).toContain('testing…');
    expect(JSON.stringify(posts[0])).toContain('0 of 2 tested so far');
    expect(posts.length).toBeLessThanOrEqual(5);
    for (const p of posts.slice(1)) expect(p['replace_original']).toBe(true);
    const summary = JSON.stringify(posts.at(-1));
    expect(summary).toContain('2 of 2 tested: 2 valid');
    expect(summary).toContain(name('two'));
    expect(summary).toContain(name('tls'));
    expect((await core.services.domains.list('web')).every((d) => d.status === 'valid')).toBe(true);
    expect(visibleText()).not.toContain('PRIVATE KEY');
  });
});
