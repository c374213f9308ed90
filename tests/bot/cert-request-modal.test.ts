import { describe, expect, it } from 'vitest';
import type { ApprovalView } from '../../core/approvals/approval-service.ts';
import type { BindingView } from '../../core/services/binding-service.ts';
import type { CertificateView } from '../../core/issuance/certificate-service.ts';
import { approvalMessage, issuanceStatusLine, pendingApprovalsMessage } from '../../bot/blocks/approval.ts';
import {
  certificateDetailMessage,
  deployResultMessage,
  expiryText,
  renewProgressMessage,
} from '../../bot/blocks/certificate-detail.ts';
import {
  type CertRequestFields,
  certRequestSubmittedView,
  certRequestView,
  checkCertRequest,
  coreErrorBlock,
  readCertRequest,
} from '../../bot/modals/cert-request.ts';
import { makeBinding, makeCertificate } from '../fixtures/builders.ts';
import { slackValues } from './bot-harness.ts';

/** The CSR form, the certificate detail and progress messages, and the issuance approval: pure builders. */
type Json = Record<string, unknown> & { block_id?: string; type?: string };
const WEB = { name: 'web', keySpec: 'ec-p256' as const };
const DOMAINS = ['www.example.com', 'api.example.com'];

const blockIds = (blocks: Json[]) => blocks.map((b) => b.block_id).filter(Boolean);

describe('CSR form view', () => {
  it('before a profile is picked: the profile select dispatches, no name fields yet', () => {
    const view = certRequestView({ profiles: [WEB, { name: 'rsa', keySpec: 'rsa-2048' }], selected: null });
    const blocks = view.blocks as Json[];
    expect(view.callback_id).toBe('cert_request');
    expect(blockIds(blocks)).toEqual([
      'cert_req_profile',
      'cert_req_partition',
      'cert_req_passphrase',
      'cert_req_name',
    ]);
    const profile = blocks[0]!;
    expect(profile['dispatch_action']).toBe(true);
    expect((profile['element'] as Json)['initial_option']).toBeUndefined();
    expect(JSON.stringify(blocks[1])).toContain('"initial_value":"Common"');
  });

  it('with a profile: common name and SANs from its valid domains, key shown fixed, passphrase never prefilled', () => {
    const view = certRequestView({
      profiles: [WEB],
      selected: { ...WEB, domains: DOMAINS },
      values: { partition: 'Tenant', name: 'www' },
    });
    const blocks = view.blocks as Json[];
    expect(blockIds(blocks)).toEqual([
      'cert_req_profile',
      'cert_req_partition',
      'cert_req_cn.web',
      'cert_req_sans.web',
      'cert_req_passphrase',
      'cert_req_name',
    ]);
    const byId = (id: string) => blocks.find((b) => b.block_id === id)!['element'] as Json;
    expect(byId('cert_req_profile')['initial_option']).toMatchObject({ value: 'web' });
    expect((byId('cert_req_cn.web')['options'] as { value: string }[]).map((o) => o.value)).toEqual(DOMAINS);
    expect(byId('cert_req_sans.web')['type']).toBe('multi_static_select');
    expect(byId('cert_req_passphrase')).not.toHaveProperty('initial_value');
    expect(byId('cert_req_passphrase')['min_length']).toBe(4);
    expect(byId('cert_req_partition')['initial_value']).toBe('Tenant');
    expect(JSON.stringify(blocks)).toContain("ECDSA P-256 (the profile's key type; fixed)");
  });

  it('a profile without valid domains says how to add one; more than 100 domains are clipped with a note', () => {
    const none = certRequestView({ profiles: [WEB], selected: { ...WEB, domains: [] } });
    expect(blockIds(none.blocks as Json[])).not.toContain('cert_req_cn.web');
    expect(JSON.stringify(none.blocks)).toContain('no valid domain yet');
    const many = Array.from({ length: 150 }, (_, i) => `h${i}.example.com`);
    const big = certRequestView({ profiles: [WEB], selected: { ...WEB, domains: many } });
    const cn = (big.blocks as Json[]).find((b) => b.block_id === 'cert_req_cn.web')!['element'] as Json;
    expect((cn['options'] as unknown[]).length).toBe(100);
    expect(JSON.stringify(big.blocks)).toContain('first 100 of 150');
    expect(big.blocks.length).toBeLessThanOrEqual(100);
  });

  it('escapes user-controlled names in the notice and the submitted view', () => {
    const view = certRequestView({ profiles: [WEB], selected: null, notice: 'no profile named "<!channel>"' });
    expect(JSON.stringify(view)).not.toContain('<!channel>');
    const done = certRequestSubmittedView({
      name: 'x<y',
      names: ['a&b.example.com'],
      profileName: 'p>',
      partition: 'Common',
      keySpec: 'rsa-2048',
    });
    const json = JSON.stringify(done);
    expect(json).toContain('Requested — waiting for an approver');
    expect(json).toContain('x&lt;y');
    expect(json).toContain('a&amp;b.example.com');
    expect(done).not.toHaveProperty('submit');
  });
});

describe('CSR form submission', () => {
  const values = (over: Record<string, Record<string, unknown>> = {}) =>
    readCertRequest(
      slackValues({
        cert_req_profile: { cert_req_profile_pick: { selected: 'web' } },
        cert_req_partition: { value: 'Common' },
        'cert_req_cn.web': { value: { selected: 'www.example.com' } },
        'cert_req_sans.web': { value: { multi: ['api.example.com', 'www.example.com'] } },
        cert_req_passphrase: { value: '' },
        cert_req_name: { value: '' },
        ...over,
      }) as Parameters<typeof readCertRequest>[0],
    );
  const selected = { ...WEB, domains: DOMAINS };

  it('reads the fields and builds the core request (SANs without the common name, the profile key)', () => {
    const f = values({ cert_req_passphrase: { value: ' with spaces ' }, cert_req_name: { value: ' www_obj ' } });
    expect(f).toMatchObject({
      profile: 'web',
      namesProfile: 'web',
      commonName: 'www.example.com',
      passphrase: ' with spaces ',
      name: 'www_obj',
    });
    expect(checkCertRequest(f, selected)).toEqual({
      ok: true,
      input: {
        profile: 'web',
        partition: 'Common',
        commonName: 'www.example.com',
        sans: ['api.example.com'],
        keySpec: 'ec-p256',
        passphrase: ' with spaces ',
        name: 'www_obj',
      },
    });
    const plain = checkCertRequest(values(), selected);
    expect(plain.ok && plain.input).not.toHaveProperty('passphrase');
    expect(plain.ok && plain.input).not.toHaveProperty('name');
  });

  const bad: {
    what: string;
    over: Record<string, Record<string, unknown>>;
    profile?: null;
    errors: Record<string, RegExp>;
  }[] = [
    {
      what: 'no profile picked',
      over: { cert_req_profile: { cert_req_profile_pick: { selected: null } } },
      errors: { cert_req_profile: /Pick a CA profile/ },
    },
    {
      what: 'a profile gone since',
      over: {},
      profile: null,
      errors: { cert_req_profile: /no CA profile named "web"/ },
    },
    {
      what: 'no common name',
      over: { 'cert_req_cn.web': { value: { selected: null } } },
      errors: { 'cert_req_cn.web': /Pick the common name/ },
    },
    {
      what: 'a CN not valid for the profile',
      over: { 'cert_req_cn.web': { value: { selected: 'evil.example.net' } } },
      errors: { 'cert_req_cn.web': /not a valid domain/ },
    },
    {
      what: 'a SAN not valid',
      over: { 'cert_req_sans.web': { value: { multi: ['evil.example.net'] } } },
      errors: { 'cert_req_sans.web': /evil\.example\.net/ },
    },
    {
      what: 'a short passphrase',
      over: { cert_req_passphrase: { value: 'abc' } },
      errors: { cert_req_passphrase: /at least 4/ },
    },
    {
      what: 'a bad partition',
      over: { cert_req_partition: { value: '/Common' } },
      errors: { cert_req_partition: /partition/ },
    },
    {
      what: 'a bad object name',
      over: { cert_req_name: { value: 'has space' } },
      errors: { cert_req_name: /object name/ },
    },
    {
      what: 'several at once',
      over: { cert_req_partition: { value: '1x' }, cert_req_passphrase: { value: 'ab' } },
      errors: { cert_req_partition: /partition/, cert_req_passphrase: /at least 4/ },
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.what}, keyed by its input block`, () => {
      const result = checkCertRequest(values(c.over), c.profile === null ? null : selected);
      expect(result.ok).toBe(false);
      const errors = (result as { errors: Record<string, string> }).errors;
      expect(Object.keys(errors).sort()).toEqual(Object.keys(c.errors).sort());
      for (const [block, re] of Object.entries(c.errors)) expect(errors[block]).toMatch(re);
    });
  }

  it('names offered for another profile (a stale form) are refused on the common name only', () => {
    const f = values({ cert_req_profile: { cert_req_profile_pick: { selected: 'rsa' } } });
    const result = checkCertRequest(f, { name: 'rsa', keySpec: 'rsa-2048', domains: ['rsa.example.com'] });
    expect(result).toEqual({
      ok: false,
      errors: { 'cert_req_cn.web': expect.stringMatching(/offered for profile "web"/) },
    });
  });

  it('puts core refusals on the field they are about', () => {
    const f: CertRequestFields = values();
    const table: [string, string, string][] = [
      ['input_invalid', 'partition "x y" is not a valid BIG-IP partition name', 'cert_req_partition'],
      ['input_invalid', 'the key passphrase must be at least 4 characters', 'cert_req_passphrase'],
      ['input_invalid', 'object name "9" must start with a letter', 'cert_req_name'],
      ['conflict', 'certificate "www" already exists; resume it with: bigip-acme cert resume www', 'cert_req_name'],
      ['domain_foreign', '"www.example.com" is not a domain of profile "web"', 'cert_req_cn.web'],
      ['domain_foreign', '"api.example.com" belongs to another profile', 'cert_req_sans.web'],
      ['key_mismatch', 'key RSA 2048 does not match profile "web"', 'cert_req_profile'],
      ['not_found', 'no profile named "web"', 'cert_req_profile'],
    ];
    for (const [code, message, block] of table) expect(coreErrorBlock({ code, message }, f), message).toBe(block);
  });
});

const now = new Date('2026-03-01T00:00:00Z');
function certView(over: Partial<CertificateView> = {}): CertificateView {
  const {
    keySealed: _k,
    passphraseSealed: _p,
    ...rest
  } = makeCertificate('p', {
    name: 'www<x>',
    commonName: 'www.example.com',
    sans: ['api.example.com'],
    state: 'issued',
    serial: '0abc',
    notAfter: new Date('2026-03-31T12:00:00Z'),
    issuer: 'Pebble Intermediate',
  });
  return { ...rest, profileName: 'web', pendingDeploy: null, ...over } as CertificateView;
}

describe('certificate detail and progress messages', () => {
  it('expiry: days left, or days since expiry', () => {
    expect(expiryText(new Date('2026-03-31T12:00:00Z'), now)).toBe('2026-03-31 12:00 UTC (30 days left)');
    expect(expiryText(new Date('2026-02-28T00:00:00Z'), now)).toMatch(/expired 1 day ago/);
    expect(expiryText(null, now)).toBe('not issued yet');
  });

  it('cert show: names, state, serial, expiry and each binding with what it serves, escaped', () => {
    const bindings: BindingView[] = [
      {
        ...makeBinding('c', 'd', { profilePath: '/Common/acme_www', deployedSerial: '0abc', deployedAt: now }),
        certificateName: 'www<x>',
        deviceName: 'lb-1',
      },
      {
        ...makeBinding('c', 'd2', { profilePath: '/Common/other', deployedSerial: null }),
        certificateName: 'www<x>',
        deviceName: 'lb-<2>',
      },
    ];
    const m = certificateDetailMessage({ cert: certView(), bindings, deployments: [], pending: [], now });
    const json = JSON.stringify(m);
    expect(json).toContain('www.example.com, api.example.com');
    expect(json).toContain('`0abc`');
    expect(json).toContain('30 days left');
    expect(json).toContain('*lb-1* `/Common/acme_www`: serial `0abc`');
    expect(json).toContain('lb-&lt;2&gt;');
    expect(json).toContain('not deployed yet');
    expect(json).not.toContain('lb-<2>');
    expect(json).not.toMatch(/Sealed|BEGIN/);
  });

  it('cert show of a certificate whose renewal keeps failing: still issued, with the error, the attempts, the next try and the pending deploy', () => {
    const m = certificateDetailMessage({
      cert: certView({
        renewalState: 'ordering',
        renewalStartedAt: new Date('2026-02-28T00:00:00Z'),
        failedAttempts: 3,
        nextAttemptAt: new Date('2026-03-01T00:05:00Z'),
        lastRenewalError: {
          code: 'acme_unreachable',
          message: 'cannot reach the CA <x>',
          at: '2026-02-28T23:59:00.000Z',
        },
        pendingDeploy: { at: new Date('2026-03-02T00:00:00Z'), due: false, reason: 'deploy_time', bindings: 2 },
      }),
      bindings: [],
      deployments: [],
      pending: [],
      now,
    });
    const json = JSON.stringify(m);
    expect(json).toContain(':large_green_circle: issued');
    expect(json).toContain('*Renewal in flight:*\\nordering since 2026-02-28 00:00 UTC');
    expect(json).toContain('*Failed attempts:*\\n3');
    expect(json).toContain('*Next attempt:*\\n2026-03-01 00:05 UTC');
    expect(json).toContain(
      '*Last renewal error* (acme_unreachable, 2026-02-28 23:59 UTC): cannot reach the CA &lt;x&gt;',
    );
    expect(json).toContain('*Deploy pending:*\\n2026-03-02 00:00 UTC (profile deploy time, 2 bindings)');
  });

  it('cert show of a request waiting for approval says so', () => {
    const pending = {
      id: 'a',
      kind: 'issuance',
      state: 'pending',
      requestedBy: 'slack:U0ALICE',
      requestedAt: now,
    } as ApprovalView;
    const m = certificateDetailMessage({
      cert: certView({ state: 'requested', serial: null, notAfter: null }),
      bindings: [],
      deployments: [],
      pending: [pending],
      now,
    });
    const json = JSON.stringify(m);
    expect(json).toContain('Waiting for approval (issuance) requested by <@U0ALICE>');
    expect(json).toContain('not issued yet');
  });

  it('a renewal of many stays within 50 blocks, running and as a summary', () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({
      name: `host-${i}.example.com`,
      status: i % 3 === 0 ? ('renewed' as const) : ('queued' as const),
      detail: 'x'.repeat(150),
    }));
    const running = renewProgressMessage(rows, false);
    expect(running.blocks.length).toBeLessThanOrEqual(50);
    expect(running.text).toContain('100 of 300 done');
    const done = renewProgressMessage(rows, true);
    expect(done.text).toContain('100 renewed · 0 waiting · 0 failed');
    expect(JSON.stringify(done.blocks.at(-1))).toContain('more rows left out');
  });

  it('deploy result: one line per device with its result, and where and why on failure', () => {
    const m = deployResultMessage({
      certificate: 'www',
      serial: '0abc',
      ok: false,
      devices: [
        { device: 'lb-1', deploymentId: '1', result: 'succeeded', step: 'done', outcome: 'serving 0abc', error: null },
        {
          device: 'lb-2',
          deploymentId: '2',
          result: 'rolled_back',
          step: 'switch',
          outcome: 'kept the old one',
          error: { code: 'deploy_failed', message: 'profile <busy>' },
        },
      ],
    });
    const json = JSON.stringify(m);
    expect(json).toContain('had failures');
    expect(json).toContain('*lb-1* succeeded');
    expect(json).toContain('*lb-2* rolled_back at switch: profile &lt;busy&gt;');
    expect(json).toContain('1 of 2 device(s) ok');
  });
});

describe('issuance approvals', () => {
  const approval = (over: Partial<ApprovalView> = {}): ApprovalView => ({
    id: '11111111-2222-4333-8444-555555555555',
    kind: 'issuance',
    certificateId: 'c',
    certificateName: 'www.example.com',
    state: 'pending',
    summary: {
      names: ['www.example.com', 'api.example.com'],
      profile: 'web',
      partition: 'Common',
      keySpec: 'rsa-3072',
      objectName: 'www<obj>',
      passphrase: 'leak-me',
    },
    requestedBy: 'slack:U0ALICE',
    requestedAt: new Date('2026-03-01T10:00:00Z'),
    decidedBy: null,
    decidedAt: null,
    reason: null,
    ...over,
  });

  it('renders the request from named summary fields: names, profile, partition, object, key; never unknown fields', () => {
    const json = JSON.stringify(approvalMessage(approval()));
    expect(json).toContain('*issuance* of *www.example.com*');
    expect(json).toContain('*Partition:*\\n`Common`');
    expect(json).toContain('*BIG-IP object:*\\n`www&lt;obj&gt;`');
    expect(json).toContain('*Key:*\\nRSA 3072');
    expect(json).not.toContain('leak-me');
    expect(json).toContain('approval_approve');
  });

  it('shows how the issuance goes under the decided approval, in its message and in the list', () => {
    const decided = approval({ state: 'approved', decidedBy: 'slack:U0BOB', decidedAt: now });
    const working = JSON.stringify(
      approvalMessage(decided, { issuance: { phase: 'working', line: 'creating an order for <x>' } }),
    );
    expect(working).toContain('Issuing *www.example.com* … creating an order for &lt;x&gt;');
    expect(working).not.toContain('approval_approve');
    const issued = approvalMessage(decided, {
      issuance: { phase: 'issued', serial: '0abc', notAfter: new Date('2026-05-30T00:00:00Z') },
    });
    expect(JSON.stringify(issued)).toContain('Issued *www.example.com*: serial `0abc`, expires 2026-05-30 00:00 UTC');
    expect(issued.text).toContain('0abc');
    const list = pendingApprovalsMessage([approval({ id: '11111111-2222-4333-8444-000000000001' })], {
      decided,
      issuance: { phase: 'failed', message: 'the CA said no' },
    });
    const listJson = JSON.stringify(list);
    expect(listJson).toContain(':x: Issuing *www.example.com* failed: the CA said no');
    expect(list.blocks.length).toBeLessThanOrEqual(50);
    expect(issuanceStatusLine({ phase: 'stopped', state: 'awaiting_challenge', detail: 'dns' }, 'w')).toContain(
      '`cert resume w` (an operator runs it on the server',
    );
  });
});
