import type { types } from '@slack/bolt';
import { beforeAll, describe, expect, it } from 'vitest';
import { deviceTestMessage, layerLadder } from '../../bot/blocks/device-test.ts';
import { linkOrText, profileDetailMessage } from '../../bot/blocks/profile-detail.ts';
import {
  DEVICE_BLOCK,
  decodeDeviceMetadata,
  deviceAddedView,
  deviceAddView,
  deviceTestingView,
  encodeDeviceMetadata,
  parseDeviceForm,
} from '../../bot/modals/device-add.ts';
import {
  decodeProfileMetadata,
  encodeProfileMetadata,
  MAX_METADATA,
  PROFILE_BLOCK,
  type ProfileDraft,
  profileCreatedView,
  profileStep1View,
  profileStep2View,
  profileWorkingView,
  parseProfileStep1,
  parseProfileStep2,
  summarizeDirectory,
} from '../../bot/modals/profile-create.ts';
import { VALUE } from '../../bot/modals/elements.ts';
import { publicView } from '../../core/domain/public-view.ts';
import { managementCertificate } from '../support/bigip-simulator/self-signed.ts';
import { makeDevice, makeProfile } from '../fixtures/builders.ts';
import { slackValues } from './bot-harness.ts';

/** Pure view builders and `view.state.values` parsers for the profile and device forms. */

type Values = Record<string, Record<string, unknown>>;
const state = (v: Values) => slackValues(v) as Parameters<typeof parseProfileStep1>[0];
const v = (value: unknown) => ({ [VALUE]: value });

function inputBlocks(view: types.ModalView): types.InputBlock[] {
  return view.blocks.filter((b): b is types.InputBlock => b.type === 'input');
}

function checkView(view: types.ModalView, expectedBlocks: string[]): void {
  expect(view.blocks.length).toBeLessThanOrEqual(100);
  expect(view.title.text.length).toBeLessThanOrEqual(24);
  const inputs = inputBlocks(view);
  expect(inputs.map((b) => b.block_id).sort()).toEqual([...expectedBlocks].sort());
  for (const b of inputs) expect((b.element as { action_id?: string }).action_id).toBe(VALUE);
  if (inputs.length > 0) expect(view.submit).toBeDefined();
  expect((view.private_metadata ?? '').length).toBeLessThanOrEqual(MAX_METADATA);
}

const STEP1_OK: Values = {
  [PROFILE_BLOCK.name]: v('letsencrypt-prod'),
  [PROFILE_BLOCK.server]: v({ selected: 'production' }),
  [PROFILE_BLOCK.serverUrl]: v(null),
  [PROFILE_BLOCK.keySpec]: v({ selected: 'ec-p384' }),
  [PROFILE_BLOCK.contact]: v('ops@example.com, mailto:pki@example.com'),
  [PROFILE_BLOCK.renewDays]: v({ type: 'number_input', value: '30' }),
  [PROFILE_BLOCK.deployTime]: v({ type: 'timepicker', selected_time: '03:30' }),
  [PROFILE_BLOCK.timeZone]: v('Europe/Berlin'),
  [PROFILE_BLOCK.automation]: v({ multi: ['auto_renew'] }),
  [PROFILE_BLOCK.approvals]: v({ multi: ['deploy_approval'] }),
};

const DRAFT: ProfileDraft = {
  name: 'letsencrypt-prod',
  server: 'production',
  customUrl: '',
  keySpec: 'ec-p384',
  contact: ['ops@example.com', 'pki@example.com'],
  renewDaysBefore: 30,
  deployTime: '03:30',
  deployTimeZone: 'Europe/Berlin',
  autoRenew: true,
  autoDeploy: false,
  renewApproval: false,
  deployApproval: true,
};

const STEP1_BLOCKS = [
  PROFILE_BLOCK.name,
  PROFILE_BLOCK.server,
  PROFILE_BLOCK.serverUrl,
  PROFILE_BLOCK.keySpec,
  PROFILE_BLOCK.contact,
  PROFILE_BLOCK.renewDays,
  PROFILE_BLOCK.deployTime,
  PROFILE_BLOCK.timeZone,
  PROFILE_BLOCK.automation,
  PROFILE_BLOCK.approvals,
  // Decision 0035: the ToS agreement on step 1 (optional; unticked, step 2 shows the CA's link and asks).
  PROFILE_BLOCK.tos,
];

describe('profile form, step 1', () => {
  it('has the block ids its parser reads, within Slack limits, with defaults chosen', () => {
    const view = profileStep1View({ metadata: encodeProfileMetadata({ channel: 'C0TEST' }) });
    checkView(view, STEP1_BLOCKS);
    expect(view.callback_id).toBe('profile_create');
    expect(view.submit?.text).toBe('Create');
    const key = inputBlocks(view).find((b) => b.block_id === PROFILE_BLOCK.keySpec)!.element as types.StaticSelect;
    expect(key.options?.map((o) => o.value)).toEqual(['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384']);
    expect(key.initial_option?.value).toBe('ec-p256');
    const server = inputBlocks(view).find((b) => b.block_id === PROFILE_BLOCK.server)!.element as types.StaticSelect;
    expect(server.options?.map((o) => o.value)).toEqual(['production', 'staging', 'custom']);
  });

  it('parses a good submission into a draft', () => {
    expect(parseProfileStep1(state(STEP1_OK))).toEqual({ ok: true, value: DRAFT });
  });

  it('prefills every field from a draft, so a CA error does not cost the typing', () => {
    const view = profileStep1View({ metadata: '{}', draft: DRAFT, error: 'the CA said <no>' });
    const json = JSON.stringify(view);
    expect(json).toContain('the CA said &lt;no&gt;');
    const byId = Object.fromEntries(
      inputBlocks(view).map((b) => [b.block_id, b.element as unknown as Record<string, unknown>]),
    );
    expect(byId[PROFILE_BLOCK.name]!['initial_value']).toBe('letsencrypt-prod');
    expect((byId[PROFILE_BLOCK.server]!['initial_option'] as { value: string }).value).toBe('production');
    expect(byId[PROFILE_BLOCK.deployTime]!['initial_time']).toBe('03:30');
    expect(byId[PROFILE_BLOCK.renewDays]!['initial_value']).toBe('30');
    expect((byId[PROFILE_BLOCK.approvals]!['initial_options'] as { value: string }[]).map((o) => o.value)).toEqual([
      'deploy_approval',
    ]);
  });

  it.each([
    ['a bad name', { [PROFILE_BLOCK.name]: v('-bad name') }, PROFILE_BLOCK.name],
    ['no CA server', { [PROFILE_BLOCK.server]: v({ selected: null }) }, PROFILE_BLOCK.server],
    ['custom without a URL', { [PROFILE_BLOCK.server]: v({ selected: 'custom' }) }, PROFILE_BLOCK.serverUrl],
    [
      'custom with a bad URL',
      { [PROFILE_BLOCK.server]: v({ selected: 'custom' }), [PROFILE_BLOCK.serverUrl]: v('ftp://ca.example/dir') },
      PROFILE_BLOCK.serverUrl,
    ],
    [
      'custom with no URL at all',
      { [PROFILE_BLOCK.server]: v({ selected: 'custom' }), [PROFILE_BLOCK.serverUrl]: v('not a url') },
      PROFILE_BLOCK.serverUrl,
    ],
    ['a URL beside Production', { [PROFILE_BLOCK.serverUrl]: v('https://ca.example/dir') }, PROFILE_BLOCK.serverUrl],
    ['an unknown key', { [PROFILE_BLOCK.keySpec]: v({ selected: 'dsa-1024' }) }, PROFILE_BLOCK.keySpec],
    ['a bad e-mail', { [PROFILE_BLOCK.contact]: v('ops@example.com, nobody') }, PROFILE_BLOCK.contact],
    ['0 days', { [PROFILE_BLOCK.renewDays]: v('0') }, PROFILE_BLOCK.renewDays],
    ['400 days', { [PROFILE_BLOCK.renewDays]: v('400') }, PROFILE_BLOCK.renewDays],
    ['fractional days', { [PROFILE_BLOCK.renewDays]: v('7.5') }, PROFILE_BLOCK.renewDays],
    [
      'a bad time',
      { [PROFILE_BLOCK.deployTime]: v({ type: 'timepicker', selected_time: '25:00' }) },
      PROFILE_BLOCK.deployTime,
    ],
    [
      'no time',
      { [PROFILE_BLOCK.deployTime]: v({ type: 'timepicker', selected_time: null }) },
      PROFILE_BLOCK.deployTime,
    ],
    ['a bad time zone', { [PROFILE_BLOCK.timeZone]: v('Mars/Olympus') }, PROFILE_BLOCK.timeZone],
  ])('%s is an error on its field', (_label, over, block) => {
    const result = parseProfileStep1(state({ ...STEP1_OK, ...over }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(Object.keys(result.errors)).toEqual([block]);
      expect(STEP1_BLOCKS).toContain(block);
    }
  });

  it('reports every bad field at once', () => {
    const result = parseProfileStep1(state({}));
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(Object.keys(result.errors).sort()).toEqual(
        [
          PROFILE_BLOCK.deployTime,
          PROFILE_BLOCK.keySpec,
          PROFILE_BLOCK.name,
          PROFILE_BLOCK.renewDays,
          PROFILE_BLOCK.server,
        ].sort(),
      );
  });

  it('takes a custom directory URL and an empty contact', () => {
    const result = parseProfileStep1(
      state({
        ...STEP1_OK,
        [PROFILE_BLOCK.server]: v({ selected: 'custom' }),
        [PROFILE_BLOCK.serverUrl]: v('https://127.0.0.1:14000/dir'),
        [PROFILE_BLOCK.contact]: v(null),
      }),
    );
    expect(result).toMatchObject({
      ok: true,
      value: { server: 'custom', customUrl: 'https://127.0.0.1:14000/dir', contact: [] },
    });
  });
});

describe('profile form, step 2', () => {
  const directory = {
    termsOfService: 'https://letsencrypt.org/tos.pdf',
    website: null,
    externalAccountRequired: false,
  };

  it('has the ToS checkbox, and EAB inputs only when the CA requires them', () => {
    const plain = profileStep2View({
      metadata: encodeProfileMetadata({ draft: DRAFT, directory }),
      draft: DRAFT,
      directory,
    });
    checkView(plain, [PROFILE_BLOCK.tos]);
    expect(plain.callback_id).toBe('profile_create_confirm');
    expect(plain.submit?.text).toBe('Create');
    expect(JSON.stringify(plain)).toContain('<https://letsencrypt.org/tos.pdf>');
    const eab = profileStep2View({
      metadata: '{}',
      draft: DRAFT,
      directory: { ...directory, externalAccountRequired: true },
      eabKid: 'kid-7',
    });
    checkView(eab, [PROFILE_BLOCK.tos, PROFILE_BLOCK.eabKid, PROFILE_BLOCK.eabHmac]);
    const byId = Object.fromEntries(
      inputBlocks(eab).map((b) => [b.block_id, b.element as unknown as Record<string, unknown>]),
    );
    expect(byId[PROFILE_BLOCK.eabKid]!['initial_value']).toBe('kid-7');
    expect(byId[PROFILE_BLOCK.eabHmac]).not.toHaveProperty('initial_value');
  });

  it('needs the ToS accepted', () => {
    expect(parseProfileStep2(state({ [PROFILE_BLOCK.tos]: v({ multi: [] }) }), false)).toEqual({
      ok: false,
      errors: { [PROFILE_BLOCK.tos]: expect.any(String) },
    });
    expect(parseProfileStep2(state({ [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }) }), false)).toEqual({
      ok: true,
      value: {},
    });
  });

  it('needs both EAB fields when the CA requires them, and ignores them otherwise', () => {
    const missing = parseProfileStep2(state({ [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }) }), true);
    expect(missing).toEqual({
      ok: false,
      errors: { [PROFILE_BLOCK.eabKid]: expect.any(String), [PROFILE_BLOCK.eabHmac]: expect.any(String) },
    });
    const bad = parseProfileStep2(
      state({
        [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }),
        [PROFILE_BLOCK.eabKid]: v('kid 1'),
        [PROFILE_BLOCK.eabHmac]: v('not base64!'),
      }),
      true,
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(Object.keys(bad.errors).sort()).toEqual([PROFILE_BLOCK.eabHmac, PROFILE_BLOCK.eabKid]);
    const good = parseProfileStep2(
      state({
        [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }),
        [PROFILE_BLOCK.eabKid]: v('kid-1'),
        [PROFILE_BLOCK.eabHmac]: v('c2VjcmV0LWtleQ'),
      }),
      true,
    );
    expect(good).toEqual({ ok: true, value: { eab: { kid: 'kid-1', hmacKey: 'c2VjcmV0LWtleQ' } } });
    const ignored = parseProfileStep2(
      state({ [PROFILE_BLOCK.tos]: v({ multi: ['accept'] }), [PROFILE_BLOCK.eabHmac]: v('x') }),
      false,
    );
    expect(ignored).toEqual({ ok: true, value: {} });
  });

  it('metadata round-trips, drops what does not fit, and stays under 3000 characters at the largest', () => {
    const big: ProfileDraft = {
      ...DRAFT,
      name: 'n'.repeat(64),
      server: 'custom',
      customUrl: `https://ca.example/${'d'.repeat(480)}`,
      contact: Array.from({ length: 45 }, (_, i) => `o${i}@example.com`).slice(0, 35),
      deployTimeZone: 'America/Argentina/ComodRivadavia',
    };
    const dir = summarizeDirectory({
      url: big.customUrl,
      termsOfService: `https://ca.example/${'t'.repeat(580)}`,
      website: `https://ca.example/${'w'.repeat(280)}`,
      caaIdentities: [],
      externalAccountRequired: true,
      profiles: { a: 'b'.repeat(2000) },
      renewalInfo: null,
    });
    const raw = encodeProfileMetadata({ channel: 'C0TEST', draft: big, directory: dir });
    expect(raw.length).toBeLessThanOrEqual(MAX_METADATA);
    expect(decodeProfileMetadata(raw)).toEqual({ channel: 'C0TEST', draft: big, directory: dir });
    expect(
      summarizeDirectory({
        url: 'x',
        termsOfService: 'x'.repeat(900),
        website: null,
        externalAccountRequired: false,
        caaIdentities: [],
        profiles: {},
        renewalInfo: null,
      }).termsOfService,
    ).toBeNull();
    // Longer than the inputs allow (a forged or future field): the optional links go, the rest stays.
    const huge = encodeProfileMetadata({
      channel: 'C0TEST',
      draft: { ...big, contact: Array.from({ length: 100 }, (_, i) => `o${i}@example.com`) },
      directory: dir,
    });
    expect(huge.length).toBeLessThanOrEqual(MAX_METADATA);
    expect(decodeProfileMetadata(huge).directory).toEqual({
      termsOfService: null,
      website: null,
      externalAccountRequired: true,
    });
    expect(decodeProfileMetadata('not json')).toEqual({});
    expect(decodeProfileMetadata(JSON.stringify({ channel: '<!here>', draft: { ...DRAFT, keySpec: 'dsa' } }))).toEqual(
      {},
    );
  });
});

describe('profile views and messages', () => {
  it('shows a profile by named fields only: no sealed secret, user text escaped', () => {
    const profile = publicView(
      makeProfile({
        name: 'p1',
        eabKid: 'kid-<1>',
        tosUrl: 'data:text/plain,Do <what>',
        eabHmacKeySealed: 'v1.sealed-hmac',
      }),
    );
    const json = JSON.stringify(profileDetailMessage(profile));
    expect(json).toContain('kid-&lt;1&gt;');
    expect(json).toContain('`data:text/plain,Do &lt;what&gt;`');
    expect(json).not.toContain('sealed');
    const done = profileCreatedView(profile);
    expect(done.blocks.length).toBeLessThanOrEqual(100);
    expect(done.submit).toBeUndefined();
    expect(profileWorkingView('Validating https://x…').submit).toBeUndefined();
  });

  it('links only http(s) URLs', () => {
    expect(linkOrText('https://ca.example/tos.pdf')).toBe('<https://ca.example/tos.pdf>');
    expect(linkOrText('https://ca.example/x|<!channel>')).toBe('`https://ca.example/x|&lt;!channel&gt;`');
  });
});

describe('device form', () => {
  let caPem: string;
  beforeAll(async () => {
    caPem = (await managementCertificate()).certPem;
  });

  const ok = (): Values => ({
    [DEVICE_BLOCK.name]: v('bigip-1'),
    [DEVICE_BLOCK.url]: v('https://10.0.0.5:8443/'),
    [DEVICE_BLOCK.username]: v('admin'),
    [DEVICE_BLOCK.password]: v('s3cret-Pa55'),
    [DEVICE_BLOCK.partition]: v(null),
    [DEVICE_BLOCK.caPem]: v(caPem),
    [DEVICE_BLOCK.insecure]: v({ multi: [] }),
  });

  it('has the block ids its parser reads; the password is never prefilled', () => {
    const draft = {
      name: 'bigip-1',
      url: 'https://10.0.0.5:8443',
      username: 'admin',
      partition: 'Common',
      caPem: '',
      insecure: true,
    };
    const view = deviceAddView({
      metadata: encodeDeviceMetadata({ channel: 'C0TEST' }),
      draft,
      error: 'no',
      test: { ok: false, stage: 'credentials', message: 'login refused' },
    });
    checkView(view, Object.values(DEVICE_BLOCK));
    expect(view.callback_id).toBe('device_add');
    const password = inputBlocks(view).find((b) => b.block_id === DEVICE_BLOCK.password)!.element;
    expect(password).not.toHaveProperty('initial_value');
    const partition = inputBlocks(view).find((b) => b.block_id === DEVICE_BLOCK.partition)!
      .element as types.PlainTextInput;
    expect(partition.initial_value).toBe('Common');
    expect(JSON.stringify(view)).toContain(':x: credentials (login)');
    expect(deviceTestingView(draft).submit).toBeUndefined();
  });

  it('parses a good submission; the password is beside the draft, not in it', () => {
    const result = parseDeviceForm(state(ok()));
    expect(result).toEqual({
      ok: true,
      draft: {
        name: 'bigip-1',
        url: 'https://10.0.0.5:8443',
        username: 'admin',
        partition: 'Common',
        caPem: caPem.trim(),
        insecure: false,
      },
      password: 's3cret-Pa55',
    });
    if (result.ok) expect(JSON.stringify(result.draft)).not.toContain('s3cret');
  });

  it('takes "skip TLS verification" instead of a CA bundle, also for http://', () => {
    const result = parseDeviceForm(
      state({
        ...ok(),
        [DEVICE_BLOCK.caPem]: v(null),
        [DEVICE_BLOCK.url]: v('http://10.0.0.5'),
        [DEVICE_BLOCK.insecure]: v({ multi: ['insecure'] }),
      }),
    );
    expect(result).toMatchObject({ ok: true, draft: { insecure: true, caPem: '', url: 'http://10.0.0.5' } });
  });

  it.each([
    ['a bad name', { [DEVICE_BLOCK.name]: v('bad name') }, [DEVICE_BLOCK.name]],
    ['a URL with a path', { [DEVICE_BLOCK.url]: v('https://10.0.0.5/mgmt') }, [DEVICE_BLOCK.url]],
    ['not a URL', { [DEVICE_BLOCK.url]: v('10.0.0.5') }, [DEVICE_BLOCK.url]],
    ['plain http without skipping verification', { [DEVICE_BLOCK.url]: v('http://10.0.0.5') }, [DEVICE_BLOCK.url]],
    ['a user name with a colon', { [DEVICE_BLOCK.username]: v('ad:min') }, [DEVICE_BLOCK.username]],
    ['no password', { [DEVICE_BLOCK.password]: v(null) }, [DEVICE_BLOCK.password]],
    ['a bad partition', { [DEVICE_BLOCK.partition]: v('/Common') }, [DEVICE_BLOCK.partition]],
    ['neither CA bundle nor insecure', { [DEVICE_BLOCK.caPem]: v(null) }, [DEVICE_BLOCK.caPem]],
    ['both CA bundle and insecure', { [DEVICE_BLOCK.insecure]: v({ multi: ['insecure'] }) }, [DEVICE_BLOCK.insecure]],
    ['a CA bundle that is no PEM', { [DEVICE_BLOCK.caPem]: v('hello') }, [DEVICE_BLOCK.caPem]],
    [
      'a CA bundle that does not parse',
      { [DEVICE_BLOCK.caPem]: v('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----') },
      [DEVICE_BLOCK.caPem],
    ],
  ])('%s is an error on its field', (_label, over, blocks) => {
    const result = parseDeviceForm(state({ ...ok(), ...over }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(Object.keys(result.errors)).toEqual(blocks);
      expect(JSON.stringify(result.errors)).not.toContain('s3cret');
    }
  });

  it('metadata carries only a channel id', () => {
    expect(decodeDeviceMetadata(encodeDeviceMetadata({ channel: 'C0TEST' }))).toEqual({ channel: 'C0TEST' });
    expect(decodeDeviceMetadata('{"channel":"<!here>"}')).toEqual({});
    expect(decodeDeviceMetadata('nope')).toEqual({});
  });

  it('shows an added device without its password', () => {
    const device = publicView(
      makeDevice({ name: 'b<1>', insecure: true, caPem: null, hostname: 'bigip.example', version: '17.1.2' }),
    );
    const json = JSON.stringify(
      deviceAddedView(device, {
        ok: true,
        stage: 'ok',
        message: 'BIG-IP 17.1.2 on bigip.example',
        hostname: 'bigip.example',
        version: '17.1.2',
      }),
    );
    expect(json).toContain('b&lt;1&gt;');
    expect(json).toContain('TLS verification off');
    expect(json).not.toContain('Sealed');
  });
});

describe('device test message', () => {
  it('marks the layers passed, the one that failed, and those not reached', () => {
    expect(layerLadder({ ok: false, stage: 'tls' }).split('\n')).toEqual([
      ':white_check_mark: URL',
      ':white_check_mark: DNS (name lookup)',
      ':white_check_mark: TCP (connection)',
      ':x: TLS (management certificate)',
      ':white_circle: credentials (login)',
      ':white_circle: iControl REST API',
    ]);
    expect(layerLadder({ ok: true, stage: 'ok' })).not.toContain(':x:');
  });

  it('names the failed layer and escapes the message', () => {
    const m = deviceTestMessage('b1', { ok: false, stage: 'credentials', message: 'login <refused>' });
    expect(m.text).toBe('b1: credentials (login) check failed');
    expect(JSON.stringify(m.blocks)).toContain('login &lt;refused&gt;');
    expect(m.blocks.length).toBeLessThanOrEqual(50);
  });
});
