import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  clientSslOptions,
  NEW_PROFILE_PREFIX,
  newProfileName,
  parseServeRequest,
  SERVE_BLOCK,
  SERVE_REQUEST_VIEW,
} from '../../bot/modals/serve-request.ts';
import { makeProfile } from '../fixtures/builders.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { type BotHarness, messageText, slackValues, startBotHarness } from './bot-harness.ts';

/**
 * The request-where-it-serves form (`/acme cert new`, step 3 of `/acme setup`) over the real Bolt receiver:
 * its client-ssl picker reads the BIG-IP simulator live; refusals are inline and write nothing. The whole
 * path against Pebble is tests/bot/six-interactions.test.ts.
 */
const ADMIN = 'U0ADMIN';
const ALICE = 'U0ALICE';
const PASSWORD = 'sim-Pa55word-serve';
const v = (value: unknown) => ({ value });

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
  sim.addProfile('/Common/www_clientssl');
  sim.addProfile('/Common/api_clientssl');
});
afterEach(async () => {
  await sim?.close();
});

async function seed(): Promise<void> {
  await h.store.profiles.insert(makeProfile({ name: 'le' }));
  await h.services.devices.add(
    { name: 'lb-1', url: sim.url, username: sim.username, password: PASSWORD, caPem: sim.caPem! },
    'test',
  );
}

describe('the client-ssl picker (block_suggestion)', () => {
  it("lists the chosen device's client-ssl profiles live, filtered by what is typed, with 'new from parent'", async () => {
    await seed();
    const all = await h.suggest(SERVE_BLOCK.clientSsl, '', {
      callbackId: SERVE_REQUEST_VIEW,
      viewValues: { [SERVE_BLOCK.device]: v({ selected: 'lb-1' }) },
    });
    expect(all.status).toBe(200);
    expect(all.options.map((o) => o.value)).toEqual([
      '/Common/api_clientssl',
      '/Common/clientssl',
      '/Common/www_clientssl',
      `${NEW_PROFILE_PREFIX}/Common/clientssl`,
    ]);
    const typed = await h.suggest(SERVE_BLOCK.clientSsl, 'WWW', {
      viewValues: { [SERVE_BLOCK.device]: v({ selected: 'lb-1' }) },
    });
    expect(typed.options.map((o) => o.value)).toEqual([
      '/Common/www_clientssl',
      `${NEW_PROFILE_PREFIX}/Common/clientssl`,
    ]);
    // The device was asked over iControl, not a cache.
    expect(sim.requests.some((r) => r.path.includes('/ltm/profile/client-ssl'))).toBe(true);
  });

  it('falls back to the device /acme setup chose, and gives no options for an unknown device', async () => {
    await seed();
    const fromSetup = await h.suggest(SERVE_BLOCK.clientSsl, '', {
      privateMetadata: JSON.stringify({ device: 'lb-1' }),
    });
    expect(fromSetup.options.length).toBe(4);
    const unknown = await h.suggest(SERVE_BLOCK.clientSsl, '', {
      viewValues: { [SERVE_BLOCK.device]: v({ selected: 'nope' }) },
    });
    expect(unknown).toMatchObject({ status: 200, options: [] });
  });
});

describe('submitting the request form', () => {
  it('refuses what a person must do first (no built-in responder here): the form comes back as typed, nothing written', async () => {
    await seed();
    const res = await h.submitView(
      SERVE_REQUEST_VIEW,
      {
        [SERVE_BLOCK.profile]: v({ selected: 'le' }),
        [SERVE_BLOCK.names]: v('www.serve.example.test'),
        [SERVE_BLOCK.challenge]: v({ selected: 'http-01' }),
        [SERVE_BLOCK.device]: v({ selected: 'lb-1' }),
        [SERVE_BLOCK.clientSsl]: v({ selected: '/Common/www_clientssl' }),
      },
      { userId: ALICE },
    );
    // Acked at once with a "working" view, before the core is asked.
    expect(res.json).toMatchObject({
      response_action: 'update',
      view: { callback_id: `${SERVE_REQUEST_VIEW}_working` },
    });
    const [update] = await h.stub.waitForApi('views.update', 1);
    const back = JSON.stringify(update!['view']);
    expect(back).toContain(`"callback_id":"${SERVE_REQUEST_VIEW}"`);
    expect(back).toMatch(/no built-in responder/);
    expect(back).toContain('"initial_value":"www.serve.example.test"');
    expect(back).toContain('"initial_option":{"value":"/Common/www_clientssl"');
    expect(await h.services.domains.list('le')).toEqual([]);
    expect(await h.services.certificates.list('le')).toEqual([]);
    expect(await h.services.bindings.list()).toEqual([]);
  });

  it('says every missing field at once', async () => {
    const res = await h.submitView(SERVE_REQUEST_VIEW, { [SERVE_BLOCK.names]: v('') }, { userId: ALICE });
    expect(Object.keys((res.json as { errors: Record<string, string> }).errors).sort()).toEqual(
      [SERVE_BLOCK.challenge, SERVE_BLOCK.clientSsl, SERVE_BLOCK.device, SERVE_BLOCK.names, SERVE_BLOCK.profile].sort(),
    );
  });
});

describe('the commands', () => {
  it('/acme setup is for admins; /acme cert new without a profile says to start with /acme setup', async () => {
    const refused = await h.command('setup', { userId: ALICE });
    expect(messageText(await h.response(refused.id))).toContain('SLACK_ADMINS');
    expect(h.stub.api('views.open')).toHaveLength(0);
    const none = await h.command('cert new', { userId: ALICE });
    expect(messageText(await h.response(none.id))).toContain('/acme setup');
    const opened = await h.command('setup', { userId: ADMIN });
    expect(opened.status).toBe(200);
    const [view] = await h.stub.waitForApi('views.open', 1);
    expect(JSON.stringify(view)).toContain('Step 1 of 3');
  });

  it('/acme cert new opens the form with the profiles and devices as stored', async () => {
    await seed();
    await h.command('cert new', { userId: ALICE });
    const [opened] = await h.stub.waitForApi('views.open', 1);
    const view = JSON.stringify(opened!['view']);
    expect(view).toContain(SERVE_REQUEST_VIEW);
    expect(view).toContain('"lb-1"');
    expect(view).toContain('external_select');
  });
});

describe('parsing (pure)', () => {
  it('reads a new profile from a parent as createProfile with a name from the common name', () => {
    const parsed = parseServeRequest(
      slackValues({
        [SERVE_BLOCK.profile]: v({ selected: 'le' }),
        [SERVE_BLOCK.names]: v('*.example.test, example.test\nwww.example.test'),
        [SERVE_BLOCK.challenge]: v({ selected: 'tls-alpn-01' }),
        [SERVE_BLOCK.device]: v({ selected: 'lb-1' }),
        [SERVE_BLOCK.clientSsl]: v({ selected: `${NEW_PROFILE_PREFIX}/Common/clientssl` }),
      }) as never,
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        profile: 'le',
        names: ['*.example.test', 'example.test', 'www.example.test'],
        challengeType: 'tls-alpn-01',
        device: 'lb-1',
        clientSslProfile: 'acme_wildcard.example.test',
        createProfile: true,
        parent: '/Common/clientssl',
      },
    });
    expect(newProfileName('www.example.test')).toBe('acme_www.example.test');
  });

  it('offers at most 100 options, "new from parent" last', () => {
    const many = Array.from({ length: 150 }, (_, i) => `/Common/p${i}`);
    const options = clientSslOptions(many, '');
    expect(options).toHaveLength(100);
    expect(options.at(-1)!.value).toBe(`${NEW_PROFILE_PREFIX}/Common/p0`);
    expect(clientSslOptions([], '')).toEqual([]);
  });
});
