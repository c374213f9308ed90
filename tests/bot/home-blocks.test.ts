import { describe, expect, it } from 'vitest';
import { APPROVE_ACTION, DENY_ACTION } from '../../bot/blocks/approval.ts';
import {
  daysLeft,
  decodePages,
  encodePages,
  HOME_NEXT_ACTION,
  HOME_PREV_ACTION,
  HOME_REFRESH_ACTION,
  type HomeData,
  homeErrorView,
  homeView,
  MAX_HOME_BLOCKS,
  pageOf,
  parsePageValue,
} from '../../bot/blocks/home.ts';
import type { Approval } from '../../core/domain/approval.ts';
import { publicView } from '../../core/domain/public-view.ts';
import type { ApprovalView } from '../../core/approvals/approval-service.ts';
import type { BindingView } from '../../core/services/binding-service.ts';
import type { CertificateView } from '../../core/issuance/certificate-service.ts';
import type { DomainView } from '../../core/services/domain-service.ts';
import type { ProfileView } from '../../core/services/profile-service.ts';
import { makeBinding, makeCertificate, makeDomain, makeProfile } from '../fixtures/builders.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY);

const empty: HomeData = { profiles: [], domains: [], certificates: [], bindings: [], approvals: [] };

function profile(overrides: Parameters<typeof makeProfile>[0] = {}): ProfileView {
  return publicView(makeProfile({ name: 'prod-le', ...overrides }));
}
function domain(overrides: Parameters<typeof makeDomain>[1] = {}): DomainView {
  return { ...publicView(makeDomain('p1', overrides)), profileName: 'prod-le' };
}
function cert(overrides: Parameters<typeof makeCertificate>[1] = {}): CertificateView {
  return { ...publicView(makeCertificate('p1', overrides)), profileName: 'prod-le', pendingDeploy: null };
}
function binding(c: CertificateView, overrides: Partial<BindingView> = {}): BindingView {
  return { ...makeBinding(c.id, 'd1'), certificateName: c.name, deviceName: 'bigip-1', ...overrides };
}
function approval(overrides: Partial<Approval> = {}): ApprovalView {
  return {
    id: '0d9c7d0e-3f41-4f5c-9c5e-2a4c1d7e8f90',
    kind: 'renewal',
    certificateId: 'c1',
    state: 'pending',
    summary: { names: ['www.example.com'], secret: 'summary-secret-xyz' },
    requestedBy: 'scheduler',
    requestedAt: at(-1),
    decidedBy: null,
    decidedAt: null,
    reason: null,
    certificateName: 'www.example.com',
    ...overrides,
  };
}

const shown = (v: { blocks: unknown[] }) => JSON.stringify(v.blocks);
type Block = {
  type: string;
  block_id?: string;
  text?: { text: string };
  elements?: { action_id?: string; value?: string; text?: unknown }[];
};
const blocksOf = (v: { blocks: unknown[] }) => v.blocks as Block[];
const title = (v: { blocks: unknown[] }, s: string) =>
  blocksOf(v).find((b) => b.block_id === `home_title:${s}`)?.text?.text;
const pager = (v: { blocks: unknown[] }, s: string) =>
  blocksOf(v).find((b) => b.block_id === `home_pager:${s}`)?.elements ?? null;

describe('daysLeft', () => {
  it.each([
    [at(30), 30],
    [at(29.9), 29],
    [at(0.5), 0],
    [NOW, 0],
    [at(-0.5), -1],
    [at(-3), -3],
  ])('%s → %i', (notAfter, days) => {
    expect(daysLeft(notAfter, NOW)).toBe(days);
  });
});

describe('paging helpers', () => {
  it.each([
    [0, 1, { page: 1, pages: 1, start: 0, end: 0 }],
    [500, 2, { page: 2, pages: 50, start: 10, end: 20 }],
    [500, 999, { page: 50, pages: 50, start: 490, end: 500 }],
    [25, 0, { page: 1, pages: 3, start: 0, end: 10 }],
    [25, 3, { page: 3, pages: 3, start: 20, end: 25 }],
  ])('%i rows, page %i asked', (total, asked, expected) => {
    expect(pageOf(total, asked, 10)).toEqual(expected);
  });

  it.each([
    ['certs:2', { section: 'certs', page: 2 }],
    ['failures:1', { section: 'failures', page: 1 }],
    ['certs:0', null],
    ['certs:-1', null],
    ['secrets:2', null],
    ['certs:2:x', null],
    ['refresh', null],
    [undefined, null],
  ])('button value %s', (value, expected) => {
    expect(parsePageValue(value)).toEqual(expected);
  });

  it('keeps only sane pages from metadata, and writes only pages past the first', () => {
    expect(decodePages('{"certs":3,"domains":"2","profiles":1.5,"x":4,"approvals":0}')).toEqual({ certs: 3 });
    expect(decodePages('not json')).toEqual({});
    expect(decodePages(undefined)).toEqual({});
    expect(encodePages({ certs: 2, domains: 1 })).toBe('{"certs":2}');
  });
});

describe('homeView', () => {
  it('empty state: every section says so, no pager, one Refresh button', () => {
    const v = homeView(empty, {}, NOW);
    expect(v.type).toBe('home');
    expect(v.private_metadata).toBe('{}');
    const text = shown(v);
    for (const s of [
      'Nothing has failed.',
      'Nothing is waiting for a decision.',
      'No certificates yet',
      'No domains yet',
      'No CA profiles yet',
    ])
      expect(text).toContain(s);
    expect(text).not.toContain(HOME_NEXT_ACTION);
    expect(text).not.toContain(HOME_PREV_ACTION);
    expect(text).not.toContain(APPROVE_ACTION);
    expect(text.split(HOME_REFRESH_ACTION)).toHaveLength(2);
    expect(v.blocks.length).toBeLessThanOrEqual(MAX_HOME_BLOCKS);
  });

  it('one of each: profile settings, domain status, days left and where deployed, the approval, the failure', () => {
    const issued = cert({ name: 'www.example.com', state: 'issued', notAfter: at(30.25), fingerprintSha256: 'AA:BB' });
    const failed = cert({
      name: 'api.example.com',
      state: 'failed',
      problem: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'no TXT record found' },
    });
    const data: HomeData = {
      profiles: [
        profile({
          keySpec: 'rsa-2048',
          directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
          autoRenew: true,
          renewDaysBefore: 30,
          autoDeploy: true,
          deployTime: '03:30',
          deployTimeZone: 'Europe/Berlin',
          deployApproval: true,
        }),
      ],
      domains: [domain({ name: 'www.example.com', status: 'valid', challengeType: 'http-01' })],
      certificates: [issued, failed],
      bindings: [
        binding(issued, { deployedFingerprint: 'AA:BB' }),
        binding(issued, { deviceName: 'bigip-2', profilePath: '/Common/acme_api', deployedFingerprint: 'OLD' }),
      ],
      approvals: [approval()],
    };
    const v = homeView(data, {}, NOW);
    const text = shown(v);
    expect(text).toContain('*prod-le*  `rsa-2048` · CA https://acme-v02.api.letsencrypt.org/directory');
    expect(text).toContain('auto-renew 30 d before expiry · auto-deploy 03:30 Europe/Berlin (approval)');
    expect(text).toContain(
      ':large_green_circle: *www.example.com*  valid · http-01 · profile `prod-le` · never checked',
    );
    expect(text).toContain(':large_green_circle: *www.example.com*  issued · 30 d left (2026-03-31)');
    expect(text).toContain('on bigip-1 `/Common/acme_www` (current), bigip-2 `/Common/acme_api` (older certificate)');
    expect(text).toContain('*renewal* of *www.example.com*  requested by scheduler at 2026-02-28 12:00 UTC');
    expect(text).toContain(':red_circle: *api.example.com*  request failed: no TXT record found');
    expect(title(v, 'certs')).toBe('*Certificates*  2');
    expect(title(v, 'failures')).toBe('*Recent failures*  1');
    // Not an approver: the approval is shown without buttons.
    expect(text).not.toContain(APPROVE_ACTION);
    expect(v.blocks.length).toBeLessThanOrEqual(MAX_HOME_BLOCKS);
  });

  it('gives approvers the approval buttons, with the approval id as the only value', () => {
    const v = homeView({ ...empty, approvals: [approval()] }, {}, NOW, { canDecide: true });
    const row = blocksOf(v).find((b) => b.block_id === 'approval_home:0d9c7d0e-3f41-4f5c-9c5e-2a4c1d7e8f90');
    expect(row?.elements?.map((e) => [e.action_id, e.value])).toEqual([
      [APPROVE_ACTION, '0d9c7d0e-3f41-4f5c-9c5e-2a4c1d7e8f90'],
      [DENY_ACTION, '0d9c7d0e-3f41-4f5c-9c5e-2a4c1d7e8f90'],
    ]);
  });

  it.each([
    [at(45), ':large_green_circle: *c*  issued · 45 d left'],
    [at(21.2), ':large_orange_circle: *c*  issued · 21 d left'],
    [at(7.9), ':red_circle: *c*  issued · 7 d left'],
    [at(0.2), ':red_circle: *c*  issued · expires today'],
    [at(-0.2), ':red_circle: *c*  issued · expired today'],
    [at(-3.5), ':red_circle: *c*  issued · expired 3 d ago'],
  ])('expiry %s reads %s', (notAfter, expected) => {
    expect(
      shown(homeView({ ...empty, certificates: [cert({ name: 'c', state: 'issued', notAfter })] }, {}, NOW)),
    ).toContain(expected);
  });

  it('lists a failing renewal and an invalid domain among the failures, newest first', () => {
    const renewing = cert({
      name: 'old.example.com',
      state: 'issued',
      notAfter: at(3),
      failedAttempts: 2,
      nextAttemptAt: at(0.25),
      updatedAt: at(-2),
    });
    const bad = domain({
      name: 'bad.example.com',
      status: 'invalid',
      lastCheckedAt: at(-1),
      lastCheckDetail: 'connection refused',
    });
    const text = shown(homeView({ ...empty, certificates: [renewing], domains: [bad] }, {}, NOW));
    expect(text).toContain(':warning: *old.example.com*  renewal failed 2×, next try 2026-03-01 18:00 UTC');
    expect(text).toContain('domain *bad.example.com* (`prod-le`)  invalid: connection refused');
    expect(text.indexOf('bad.example.com')).toBeLessThan(text.indexOf('old.example.com'));
  });

  it('lists failed deploys and expired challenge content from recent events, escaped', () => {
    const event = (
      kind: 'deploy_failed' | 'challenge_expired',
      subject: string,
      detail: Record<string, unknown>,
      createdAt: Date,
    ) => ({
      id: 1,
      kind,
      certificateId: null,
      subject,
      dedupeKey: `${subject}:${kind}`,
      detail,
      needsPerson: true,
      createdAt,
      deliveredAt: null,
    });
    const text = shown(
      homeView(
        {
          ...empty,
          problems: [
            event(
              'deploy_failed',
              'www.example.com',
              { device: 'lb<1>', message: 'key mismatch', password: 'never-shown' },
              at(-1),
            ),
            event('challenge_expired', 'api.example.com', {}, at(-2)),
          ],
        },
        {},
        NOW,
      ),
    );
    expect(text).toContain(':red_circle: deploy of *www.example.com* to *lb&lt;1&gt;* failed: key mismatch');
    expect(text).toContain(':hourglass: challenge content for *api.example.com* expired');
    expect(text).not.toContain('never-shown');
    expect(text.indexOf('www.example.com')).toBeLessThan(text.indexOf('api.example.com'));
  });

  it('500 certificates: within 100 blocks, page 2 of 50 shows the 11th to 20th soonest to expire', () => {
    const certs = Array.from({ length: 500 }, (_, i) =>
      cert({ name: `c${String(i).padStart(3, '0')}.example.com`, state: 'issued', notAfter: at(10 + i) }),
    );
    const data = { ...empty, certificates: [...certs].reverse() };
    const v = homeView(data, { certs: 2 }, NOW);
    expect(v.blocks.length).toBeLessThanOrEqual(MAX_HOME_BLOCKS);
    expect(title(v, 'certs')).toBe('*Certificates*  500 · page 2 of 50');
    const text = shown(v);
    for (let i = 10; i < 20; i++) expect(text).toContain(`*c${String(i).padStart(3, '0')}.example.com*`);
    expect(text).not.toContain('*c009.example.com*');
    expect(text).not.toContain('*c020.example.com*');
    expect(pager(v, 'certs')?.map((e) => [e.action_id, e.value])).toEqual([
      [HOME_PREV_ACTION, 'certs:1'],
      [HOME_NEXT_ACTION, 'certs:3'],
    ]);
    expect(v.private_metadata).toBe('{"certs":2}');

    const first = homeView(data, {}, NOW);
    expect(pager(first, 'certs')?.map((e) => e.value)).toEqual(['certs:2']);
    const last = homeView(data, { certs: 999 }, NOW);
    expect(title(last, 'certs')).toBe('*Certificates*  500 · page 50 of 50');
    expect(pager(last, 'certs')?.map((e) => e.value)).toEqual(['certs:49']);
    expect(last.private_metadata).toBe('{"certs":50}');
  });

  it('500 of everything, approver buttons included, still fits in 100 blocks', () => {
    const n = 500;
    const certs = Array.from({ length: n }, (_, i) =>
      cert({ name: `c${i}`, state: i % 2 ? 'failed' : 'issued', notAfter: at(i) }),
    );
    const data: HomeData = {
      profiles: Array.from({ length: n }, (_, i) => profile({ name: `p${i}` })),
      domains: Array.from({ length: n }, (_, i) =>
        domain({ name: `d${i}.example.com`, status: i % 2 ? 'invalid' : 'valid' }),
      ),
      certificates: certs,
      bindings: certs.flatMap((c) =>
        Array.from({ length: 20 }, (_, j) => binding(c, { profilePath: `/Common/p${j}` })),
      ),
      approvals: Array.from({ length: n }, (_, i) =>
        approval({ id: `0d9c7d0e-3f41-4f5c-9c5e-${String(i).padStart(12, '0')}` }),
      ),
    };
    const v = homeView(data, { profiles: 3, domains: 4, certs: 5, approvals: 6, failures: 7 }, NOW, {
      canDecide: true,
    });
    expect(v.blocks.length).toBeLessThanOrEqual(MAX_HOME_BLOCKS);
    expect(JSON.parse(v.private_metadata ?? '')).toEqual({
      profiles: 3,
      domains: 4,
      certs: 5,
      approvals: 6,
      failures: 7,
    });
    expect(shown(v)).toContain('… and 15 more');
    expect(v.private_metadata!.length).toBeLessThan(3000);
    for (const b of blocksOf(v)) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
  });

  it('clips long names and escapes what users typed', () => {
    const long = `${'x'.repeat(300)}.example.com`;
    const c = cert({ name: long, state: 'issued', notAfter: at(40) });
    const v = homeView(
      {
        ...empty,
        profiles: [profile({ name: '<!channel> & co' })],
        certificates: [c],
        bindings: [binding(c, { deviceName: '<@U0EVIL>' })],
        domains: [domain({ name: '<https://evil|click>' })],
      },
      {},
      NOW,
    );
    const text = shown(v);
    expect(text).not.toContain('x'.repeat(81));
    expect(text).toContain(`${'x'.repeat(79)}…`);
    expect(text).toContain('&lt;!channel&gt; &amp; co');
    expect(text).toContain('&lt;@U0EVIL&gt;');
    expect(text).toContain('&lt;https://evil|click&gt;');
    expect(text).not.toMatch(/<[!@h]/);
  });

  it('never shows a secret field, even when a view carried one by mistake', () => {
    const leaky = <T>(v: T, extra: Record<string, unknown>) => ({ ...v, ...extra }) as T;
    const c = leaky(cert({ state: 'issued', notAfter: at(40), chainPem: 'CHAIN-PEM-TEXT', csrPem: 'CSR-PEM-TEXT' }), {
      keySealed: 'SEALED-CERT-KEY',
      passphraseSealed: 'SEALED-PASSPHRASE',
    });
    const data: HomeData = {
      profiles: [
        leaky(profile({ eabKid: 'kid-1' }), { eabHmacKeySealed: 'SEALED-EAB', accountKeySealed: 'SEALED-ACCOUNT-KEY' }),
      ],
      domains: [
        leaky(domain({ endpointUsername: 'hook-user' }), {
          endpointPasswordSealed: 'SEALED-ENDPOINT',
          endpointPasswordVerifier: 'VERIFIER',
        }),
      ],
      certificates: [c],
      bindings: [leaky(binding(c), { passwordSealed: 'SEALED-DEVICE-PASSWORD' })],
      approvals: [approval()],
    };
    const text = JSON.stringify(homeView(data, {}, NOW, { canDecide: true }));
    for (const secret of ['SEALED', 'VERIFIER', 'CHAIN-PEM', 'CSR-PEM', 'summary-secret', 'hook-user', 'kid-1'])
      expect(text).not.toContain(secret);
  });

  it('the error view offers Refresh', () => {
    const v = homeErrorView();
    expect(shown(v)).toContain(HOME_REFRESH_ACTION);
    expect(shown(v)).toContain('could not be loaded');
  });
});
