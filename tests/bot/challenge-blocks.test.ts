import { describe, expect, it } from 'vitest';
import type { ChallengeContent } from '../../core/domain/challenge-content.ts';
import {
  type ChallengeCard,
  challengeMessage,
  DEPLOY_TEST_ACTION,
  decodeDomainRef,
  encodeDomainRef,
  RECONFIGURE_ACTION,
  TEST_CONNECTION_ACTION,
  tlsFileUploads,
  tlsUploadComment,
} from '../../bot/blocks/challenge.ts';
import { type BulkTestRow, domainTestMessage, outcomeCounts } from '../../bot/blocks/domain-test.ts';
import { MAX_BLOCKS } from '../../bot/blocks/message.ts';
import {
  ADD_BLOCKS,
  BUILTIN_OPTION,
  domainAddModal,
  MAX_NAMES,
  readDomainAddForm,
  splitNames,
} from '../../bot/modals/domain-add.ts';
import {
  DOMAIN_ENDPOINT_VIEW,
  domainEndpointModal,
  ENDPOINT_BLOCKS,
  readEndpointForm,
  validateEndpointFields,
} from '../../bot/modals/domain-endpoint.ts';
import { slackValues } from './bot-harness.ts';

const KEY_PEM =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';
const base = { status: 'pending' as const, expiresAt: new Date('2030-01-02T03:04:00Z') };

const CONTENT: Record<string, ChallengeContent> = {
  http: {
    ...base,
    domain: 'www.example.com',
    type: 'http-01',
    http: { fileName: 'tok3n', content: 'tok3n.thumb', urlPath: '/.well-known/acme-challenge/tok3n' },
  },
  dns: {
    ...base,
    domain: '*.example.com',
    type: 'dns-01',
    dns: {
      recordName: '_acme-challenge.example.com',
      value: 'txtVALUE',
      zoneLine: '_acme-challenge.example.com. 60 IN TXT "txtVALUE"',
    },
  },
  tls: { ...base, domain: 'tls.example.com', type: 'tls-alpn-01', tls: { certPem: CERT_PEM, keyPem: KEY_PEM } },
  none: { ...base, domain: 'gone.example.com', type: 'http-01', status: 'expired' },
};

const card = (content: ChallengeContent, extra: Partial<ChallengeCard> = {}): ChallengeCard => ({
  content,
  profileName: 'prod',
  publishesTo: null,
  ...extra,
});
const buttons = (m: ReturnType<typeof challengeMessage>) =>
  m.blocks.flatMap((b) =>
    b.type === 'actions' ? (b.elements as { action_id: string; value: string; text: { text: string } }[]) : [],
  );

describe('challenge message', () => {
  it.each([
    ['http', ['tok3n', 'tok3n.thumb', 'http://www.example.com/.well-known/acme-challenge/tok3n']],
    ['dns', ['_acme-challenge.example.com', 'txtVALUE', 'IN TXT']],
    [
      'tls',
      [
        'tls.example.com.cert',
        'tls.example.com.key',
        'throwaway challenge key',
        '`domain challenge tls.example.com --profile prod --out DIR` (an operator runs it on the server; Slack has no command for it)',
      ],
    ],
    ['none', ['No challenge content', 'Reconfigure']],
  ])('%s: shows what to publish, status and buttons, within the limits', (kind, expected) => {
    const m = challengeMessage(card(CONTENT[kind]!, { tlsFiles: 'thread' }));
    const json = JSON.stringify(m);
    for (const text of expected) expect(json).toContain(text);
    expect(json).toContain('2030-01-02 03:04 UTC');
    expect(m.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    expect(m.text.length).toBeGreaterThan(0);
    for (const b of buttons(m)) expect(b.text.text.length).toBeLessThanOrEqual(75);
  });

  it('never puts the TLS-ALPN-01 key in the message; the key goes only into the upload list', () => {
    for (const tlsFiles of ['thread', 'failed', 'cli'] as const) {
      const json = JSON.stringify(
        challengeMessage(card(CONTENT['tls']!, { tlsFiles, notice: { tone: 'ok', text: 'done' } })),
      );
      expect(json).not.toContain('PRIVATE KEY');
      expect(json).not.toContain('MIGHAgEAMBMG');
    }
    expect(tlsFileUploads(CONTENT['tls']!)).toEqual([
      { filename: 'tls.example.com.cert', content: CERT_PEM },
      { filename: 'tls.example.com.key', content: KEY_PEM },
    ]);
    expect(tlsFileUploads(CONTENT['http']!)).toEqual([]);
    expect(tlsUploadComment('tls.example.com')).not.toContain('PRIVATE');
  });

  it('says when the files could not be posted, pointing to the CLI', () => {
    expect(JSON.stringify(challengeMessage(card(CONTENT['tls']!, { tlsFiles: 'failed' })))).toContain(
      'could not be posted here',
    );
  });

  it('offers Deploy & Test only when the domain publishes somewhere; buttons carry only name and profile', () => {
    const without = buttons(challengeMessage(card(CONTENT['http']!)));
    expect(without.map((b) => b.action_id)).toEqual([TEST_CONNECTION_ACTION, RECONFIGURE_ACTION]);
    const withEndpoint = buttons(
      challengeMessage(card(CONTENT['http']!, { publishesTo: 'https://web.example.com/hook' })),
    );
    expect(withEndpoint.map((b) => b.action_id)).toEqual([
      TEST_CONNECTION_ACTION,
      DEPLOY_TEST_ACTION,
      RECONFIGURE_ACTION,
    ]);
    for (const b of withEndpoint) {
      expect(decodeDomainRef(b.value)).toEqual({ name: 'www.example.com', profile: 'prod' });
      expect(Object.keys(JSON.parse(b.value))).toEqual(['d', 'p']);
    }
  });

  it('escapes user-controlled text (details, notices, endpoint)', () => {
    const m = challengeMessage(
      card(CONTENT['http']!, {
        publishesTo: 'https://x/<!channel>',
        lastCheckedAt: new Date('2030-01-01T00:00:00Z'),
        lastCheckDetail: 'got <@U123> & more',
        notice: { tone: 'bad', text: 'CA said <!here>' },
      }),
    );
    const json = JSON.stringify(m);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U123>');
    expect(json).not.toContain('<!here>');
    expect(json).toContain('&lt;@U123&gt; &amp; more');
  });

  it('shows a busy notice in the text too', () => {
    expect(challengeMessage(card(CONTENT['http']!, { notice: { tone: 'busy', text: 'Testing…' } })).text).toContain(
      'Testing…',
    );
  });

  it.each([
    ['', null],
    ['not json', null],
    ['{"d":"a.example.com"}', null],
    ['{"d":"","p":"prod"}', null],
    ['[1,2]', null],
    [encodeDomainRef({ name: 'a.example.com', profile: 'prod' }), { name: 'a.example.com', profile: 'prod' }],
  ])('decodes button value %j', (raw, expected) => {
    expect(decodeDomainRef(raw)).toEqual(expected);
  });
});

describe('bulk test message', () => {
  const rows = (n: number): BulkTestRow[] =>
    Array.from({ length: n }, (_, i) => ({
      name: `d${i}.example.com`,
      profile: 'prod',
      outcome: i % 3 === 0 ? 'valid' : i % 3 === 1 ? 'unreachable' : 'error',
      detail: `detail <${i}>`,
    }));

  it('counts outcomes in a fixed order', () => {
    expect(outcomeCounts(rows(5))).toBe('2 valid, 2 unreachable, 1 error');
    expect(outcomeCounts([])).toBe('no results yet');
  });

  it('shows progress, then the summary', () => {
    const progress = JSON.stringify(domainTestMessage({ scope: 'profile prod', total: 4, rows: rows(2), done: false }));
    expect(progress).toContain('testing…');
    expect(progress).toContain('2 of 4 tested so far');
    const done = JSON.stringify(domainTestMessage({ scope: 'profile prod', total: 4, rows: rows(4), done: true }));
    expect(done).toContain('done');
    expect(done).toContain('4 of 4 tested: 2 valid, 1 unreachable, 1 error');
    expect(done).toContain('detail &lt;3&gt;');
  });

  it('stays within 50 blocks and 3000 characters a section for a long run', () => {
    const m = domainTestMessage({ scope: 'profile prod', total: 2000, rows: rows(2000), done: true });
    expect(m.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    for (const b of m.blocks) if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(m.blocks.at(-1))).toContain('more results than fit');
  });
});

describe('domain add form', () => {
  const values = (o: {
    profile?: string | null;
    names?: string;
    type?: string;
    url?: string;
    username?: string;
    password?: string;
    builtin?: boolean;
  }) =>
    slackValues({
      [ADD_BLOCKS.profile]: { profile: { selected: o.profile === undefined ? 'prod' : o.profile } },
      [ADD_BLOCKS.names]: { names: o.names ?? 'www.example.com' },
      [ADD_BLOCKS.type]: { type: { selected: o.type ?? 'http-01' } },
      [ADD_BLOCKS.url]: { url: o.url ?? '' },
      [ADD_BLOCKS.username]: { username: o.username ?? '' },
      [ADD_BLOCKS.password]: { password: o.password ?? '' },
      [ADD_BLOCKS.builtin]: { builtin: { multi: o.builtin ? [BUILTIN_OPTION] : [] } },
    }) as Parameters<typeof readDomainAddForm>[0];

  it('splits names on lines, commas, semicolons and spaces', () => {
    expect(splitNames('a.example.com\nb.example.com, c.example.com;d.example.com  e.example.com\n\n')).toEqual([
      'a.example.com',
      'b.example.com',
      'c.example.com',
      'd.example.com',
      'e.example.com',
    ]);
  });

  it.each([
    ['no profile', { profile: null }, ADD_BLOCKS.profile, 'Choose a CA profile'],
    ['no names', { names: '  \n ' }, ADD_BLOCKS.names, 'at least one'],
    ['a malformed name', { names: 'ok.example.com, bad_name.example.com' }, ADD_BLOCKS.names, 'bad_name'],
    ['a wildcard without dns-01', { names: '*.example.com' }, ADD_BLOCKS.names, 'dns-01'],
    ['an IP address', { names: '10.0.0.1' }, ADD_BLOCKS.names, 'IP addresses'],
    [
      'too many names',
      { names: Array.from({ length: MAX_NAMES + 1 }, (_, i) => `n${i}.example.com`).join('\n') },
      ADD_BLOCKS.names,
      `At most ${MAX_NAMES}`,
    ],
    [
      'an endpoint without password',
      { url: 'https://web.example.com/hook', username: 'acme' },
      ADD_BLOCKS.password,
      'password',
    ],
    ['an endpoint without URL', { username: 'acme', password: 'long enough password' }, ADD_BLOCKS.url, 'URL'],
    [
      'a bad URL',
      { url: 'web.example.com', username: 'acme', password: 'long enough password' },
      ADD_BLOCKS.url,
      'Not a URL',
    ],
    [
      'an ftp URL',
      { url: 'ftp://web.example.com/', username: 'acme', password: 'long enough password' },
      ADD_BLOCKS.url,
      'https://',
    ],
    [
      'credentials in the URL',
      { url: 'https://u:p@web.example.com/', username: 'acme', password: 'long enough password' },
      ADD_BLOCKS.url,
      'not in the URL',
    ],
    [
      'a short password',
      { url: 'https://web.example.com/', username: 'acme', password: 'short' },
      ADD_BLOCKS.password,
      '12 characters',
    ],
    [
      'a user name with a colon',
      { url: 'https://web.example.com/', username: 'a:b', password: 'long enough password' },
      ADD_BLOCKS.username,
      'user name',
    ],
    ['built-in and an endpoint', { builtin: true, url: 'https://web.example.com/' }, ADD_BLOCKS.builtin, 'not both'],
  ])('refuses %s inline', (_what, input, block, message) => {
    const r = readDomainAddForm(values(input), { builtinAvailable: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[block]).toContain(message);
  });

  it('accepts a good form: names normalized and deduplicated', () => {
    const r = readDomainAddForm(
      values({ names: 'WWW.Example.com.\nwww.example.com, api.example.com', type: 'dns-01' }),
      { builtinAvailable: true },
    );
    expect(r).toEqual({
      ok: true,
      value: {
        profile: 'prod',
        names: ['www.example.com', 'api.example.com'],
        challengeType: 'dns-01',
        endpoint: { kind: 'none' },
      },
    });
  });

  it('reads an endpoint or the built-in responder', () => {
    const custom = readDomainAddForm(
      values({ url: 'https://web.example.com/hook', username: 'acme', password: ' spaced password ' }),
      { builtinAvailable: true },
    );
    expect(custom.ok && custom.value.endpoint).toEqual({
      kind: 'custom',
      input: { url: 'https://web.example.com/hook', username: 'acme', password: ' spaced password ' },
    });
    const builtin = readDomainAddForm(values({ builtin: true }), { builtinAvailable: true });
    expect(builtin.ok && builtin.value.endpoint).toEqual({ kind: 'builtin' });
    const unavailable = readDomainAddForm(values({ builtin: true }), { builtinAvailable: false });
    expect(unavailable.ok).toBe(false);
  });

  it('builds the modal with the profiles, the preselection and the typed names; no password is pre-filled', () => {
    const view = domainAddModal({
      profiles: ['prod', 'staging'],
      profile: 'staging',
      names: ['a.example.com', 'b.example.com'],
      builtinAvailable: true,
      channel: 'C1',
    });
    const json = JSON.stringify(view);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(view.private_metadata).toBe('{"c":"C1"}');
    const profile = view.blocks.find((b) => b.block_id === ADD_BLOCKS.profile) as {
      element: { options: { value: string }[]; initial_option: { value: string } };
    };
    expect(profile.element.options.map((o) => o.value)).toEqual(['prod', 'staging']);
    expect(profile.element.initial_option.value).toBe('staging');
    expect(json).toContain('a.example.com\\nb.example.com');
    const password = view.blocks.find((b) => b.block_id === ADD_BLOCKS.password) as unknown as {
      element: Record<string, unknown>;
    };
    expect(password.element['initial_value']).toBeUndefined();
    expect(
      JSON.stringify(domainAddModal({ profiles: ['prod'], names: [], builtinAvailable: false, channel: 'C1' })),
    ).not.toContain(ADD_BLOCKS.builtin);
  });
});

describe('domain endpoint form', () => {
  const domain = {
    name: 'www.example.com',
    profileName: 'prod',
    challengeType: 'http-01' as const,
    endpointUrl: 'https://old.example.com/hook',
    endpointUsername: 'olduser',
  };

  it('shows the current endpoint and user, never a password', () => {
    const view = domainEndpointModal(domain, { builtinAvailable: true });
    expect(view.callback_id).toBe(DOMAIN_ENDPOINT_VIEW);
    expect(JSON.parse(view.private_metadata!)).toEqual({ d: 'www.example.com', p: 'prod' });
    const password = view.blocks.find((b) => b.block_id === ENDPOINT_BLOCKS.password) as unknown as {
      element: Record<string, unknown>;
    };
    expect(password.element['initial_value']).toBeUndefined();
    expect(JSON.stringify(view)).toContain('olduser');
  });

  const values = (mode: string, url = '', username = '', password = '') =>
    slackValues({
      [ENDPOINT_BLOCKS.mode]: { mode: { selected: mode } },
      [ENDPOINT_BLOCKS.url]: { url },
      [ENDPOINT_BLOCKS.username]: { username },
      [ENDPOINT_BLOCKS.password]: { password },
    }) as Parameters<typeof readEndpointForm>[0];

  it.each([
    [
      'set',
      values('set', 'https://web.example.com/', 'acme', 'long enough password'),
      {
        ok: true,
        choice: {
          mode: 'set',
          endpoint: { url: 'https://web.example.com/', username: 'acme', password: 'long enough password' },
        },
      },
    ],
    ['builtin', values('builtin'), { ok: true, choice: { mode: 'builtin' } }],
    ['clear', values('clear', 'ignored'), { ok: true, choice: { mode: 'clear' } }],
    ['set without fields', values('set'), { ok: false }],
    ['an unknown mode', values('other'), { ok: false }],
  ])('reads %s', (_what, input, expected) => {
    expect(readEndpointForm(input, { builtinAvailable: true })).toMatchObject(expected);
  });

  it('keys errors by block id', () => {
    const r = readEndpointForm(values('set', 'nope', 'acme', 'short'), { builtinAvailable: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual([ENDPOINT_BLOCKS.password, ENDPOINT_BLOCKS.url].sort());
  });

  it('all-or-none unless required', () => {
    expect(validateEndpointFields({ url: '', username: '', password: '' }, { required: false })).toEqual({
      ok: true,
      value: null,
    });
    expect(validateEndpointFields({ url: '', username: '', password: '' }, { required: true }).ok).toBe(false);
  });
});
