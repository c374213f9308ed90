import { parseJsonObject } from '../json-object.ts';
import type { types } from '@slack/bolt';
import type { CoreEvent } from '../../core/domain/core-event.ts';
import type { ApprovalView } from '../../core/approvals/approval-service.ts';
import type { BindingView } from '../../core/services/binding-service.ts';
import type { CertificateView } from '../../core/issuance/certificate-service.ts';
import type { DomainView } from '../../core/services/domain-service.ts';
import type { ProfileView } from '../../core/services/profile-service.ts';
import { APPROVE_ACTION, actorMention, DENY_ACTION } from './approval.ts';
import { clip, context, escapeMrkdwn as e, header, section } from './message.ts';

/**
 * The App Home dashboard. Every row is built from named, public fields (never a record rendered wholesale)
 * and each section shows one page, so the view stays within Slack's 100 blocks however much is stored.
 * Which page each section shows travels in the view's `private_metadata`; the Previous/Next buttons carry
 * only `<section>:<page>`, and the listener rebuilds the whole view from the core on every click.
 */

export const HOME_SECTIONS = ['profiles', 'domains', 'certs', 'approvals', 'failures'] as const;
export type HomeSection = (typeof HOME_SECTIONS)[number];
export type HomePages = Partial<Record<HomeSection, number>>;

export const HOME_PREV_ACTION = 'home_page_prev';
export const HOME_NEXT_ACTION = 'home_page_next';
export const HOME_REFRESH_ACTION = 'home_refresh';

/** Slack's cap on blocks in a Home view. */
export const MAX_HOME_BLOCKS = 100;
/**
 * Rows per page. Worst case: 3 head blocks, 3 per section (divider, title, pager) and the rows, an approval
 * with buttons taking 2, and the approvers' note: 3 + 15 + 5 + 10 + 10 + 2·5 + 10 + 1 = 64, well under 100.
 */
export const PAGE_SIZE: Readonly<Record<HomeSection, number>> = {
  profiles: 5,
  domains: 10,
  certs: 10,
  approvals: 5,
  failures: 10,
};

/** Names are clipped before escaping, so a cut never splits an `&amp;`. */
const MAX_NAME = 80;
const MAX_DETAIL = 200;
const MAX_PLACES = 5;
const DAY_MS = 86_400_000;
/** A page number a button could carry; anything beyond is clamped to the last page anyway. */
const MAX_PAGE = 100_000;

export interface HomeData {
  profiles: ProfileView[];
  domains: DomainView[];
  certificates: CertificateView[];
  /** Every binding: where each certificate is (or is to be) deployed. */
  bindings: BindingView[];
  /** Pending approvals. */
  approvals: ApprovalView[];
  /** Recent failures no state shows (a failed deploy, expired challenge content), newest first. */
  problems?: CoreEvent[];
}

export interface HomeOptions {
  /** The viewer is in SLACK_APPROVERS: pending approvals get Approve/Deny buttons (their handlers check again). */
  canDecide?: boolean;
}

const name = (s: string) => e(clip(s, MAX_NAME));
const detail = (s: string) => e(clip(s, MAX_DETAIL));
const day = (d: Date) => d.toISOString().slice(0, 10);
const when = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Whole days until `notAfter`, rounded down: 0 on the last day, negative once expired. */
export function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

/** How soon a certificate expires, as a traffic light and words: red within a week, orange within three. */
function expiry(notAfter: Date, now: Date): { mark: string; text: string } {
  const left = daysLeft(notAfter, now);
  const mark = left <= 7 ? ':red_circle:' : left <= 21 ? ':large_orange_circle:' : ':large_green_circle:';
  if (notAfter.getTime() <= now.getTime()) {
    const ago = daysLeft(now, notAfter);
    return { mark, text: `expired ${ago > 0 ? `${ago} d ago` : 'today'} (${day(notAfter)})` };
  }
  return { mark, text: `${left === 0 ? 'expires today' : `${left} d left`} (${day(notAfter)})` };
}

/** The page actually shown: the asked one clamped to 1…pages (an empty list has one, empty, page). */
export function pageOf(
  total: number,
  asked: number | undefined,
  size: number,
): { page: number; pages: number; start: number; end: number } {
  const pages = Math.max(1, Math.ceil(total / size));
  const page = Math.min(pages, Math.max(1, Number.isInteger(asked) ? (asked as number) : 1));
  const start = (page - 1) * size;
  return { page, pages, start, end: Math.min(total, start + size) };
}

/** `certs:2` → which section and page a pager button asks for; null for anything else. */
export function parsePageValue(value: string | undefined): { section: HomeSection; page: number } | null {
  const m = /^([a-z]+):(\d{1,6})$/.exec(value ?? '');
  if (!m || !(HOME_SECTIONS as readonly string[]).includes(m[1]!)) return null;
  const page = Number(m[2]);
  return page >= 1 && page <= MAX_PAGE ? { section: m[1] as HomeSection, page } : null;
}

export function encodePages(pages: HomePages): string {
  const kept: HomePages = {};
  for (const s of HOME_SECTIONS) if (pages[s] !== undefined && pages[s] > 1) kept[s] = pages[s];
  return JSON.stringify(kept);
}

/** The pages a published Home view was showing; unreadable metadata means every section on page 1. */
export function decodePages(raw: string | undefined): HomePages {
  const v = parseJsonObject(raw);
  if (!v) return {};
  const pages: HomePages = {};
  for (const s of HOME_SECTIONS) {
    const p = v[s];
    if (typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= MAX_PAGE) pages[s] = p;
  }
  return pages;
}

const button = (text: string, action_id: string, value: string): types.Button => ({
  type: 'button',
  action_id,
  text: { type: 'plain_text', text },
  value,
});

/** Divider, title with the count and page, the page's rows, and Previous/Next when there is more than one page. */
function paged<T>(
  s: HomeSection,
  title: string,
  rows: readonly T[],
  asked: number | undefined,
  empty: string,
  render: (row: T) => types.KnownBlock[],
): types.KnownBlock[] {
  const p = pageOf(rows.length, asked, PAGE_SIZE[s]);
  const where = p.pages > 1 ? ` · page ${p.page} of ${p.pages}` : '';
  const blocks: types.KnownBlock[] = [
    { type: 'divider' },
    { ...section(`*${title}*  ${rows.length}${where}`), block_id: `home_title:${s}` },
  ];
  if (rows.length === 0) blocks.push(context(empty));
  for (const row of rows.slice(p.start, p.end)) blocks.push(...render(row));
  if (p.pages > 1) {
    const nav: types.Button[] = [];
    if (p.page > 1) nav.push(button('◀ Previous', HOME_PREV_ACTION, `${s}:${p.page - 1}`));
    if (p.page < p.pages) nav.push(button('Next ▶', HOME_NEXT_ACTION, `${s}:${p.page + 1}`));
    blocks.push({ type: 'actions', block_id: `home_pager:${s}`, elements: nav });
  }
  return blocks;
}

function profileRow(p: ProfileView): types.KnownBlock[] {
  const renew = p.autoRenew
    ? `auto-renew ${p.renewDaysBefore} d before expiry${p.renewApproval ? ' (approval)' : ''}`
    : 'auto-renew off';
  const deploy = p.autoDeploy
    ? `auto-deploy ${e(clip(p.deployTime, 5))} ${name(p.deployTimeZone)}${p.deployApproval ? ' (approval)' : ''}`
    : 'auto-deploy off';
  return [section(`*${name(p.name)}*  \`${e(p.keySpec)}\` · CA ${name(p.directoryUrl)}\n${renew} · ${deploy}`)];
}

const DOMAIN_MARK: Record<string, string> = {
  valid: ':large_green_circle:',
  pending: ':white_circle:',
  invalid: ':red_circle:',
  expired: ':large_orange_circle:',
};

function domainRow(d: DomainView): types.KnownBlock[] {
  const checked = d.lastCheckedAt ? `checked ${when(d.lastCheckedAt)}` : 'never checked';
  return [
    section(
      `${DOMAIN_MARK[d.status] ?? ':white_circle:'} *${name(d.name)}*  ${e(d.status)} · ${e(d.challengeType)} · profile \`${name(d.profileName)}\` · ${checked}`,
    ),
  ];
}

/** Where a certificate is bound: `device /Partition/profile`, marked with whether it serves the current certificate. */
function placesText(c: CertificateView, bindings: readonly BindingView[]): string {
  if (bindings.length === 0) return 'not bound to any BIG-IP';
  const shown = bindings.slice(0, MAX_PLACES).map((b) => {
    const state =
      b.deployedFingerprint === null
        ? 'not deployed yet'
        : c.fingerprintSha256 !== null && b.deployedFingerprint === c.fingerprintSha256
          ? 'current'
          : 'older certificate';
    return `${name(b.deviceName)} \`${name(b.profilePath)}\` (${state})`;
  });
  const more = bindings.length > MAX_PLACES ? ` … and ${bindings.length - MAX_PLACES} more` : '';
  return `on ${shown.join(', ')}${more}`;
}

const CERT_MARK: Record<string, string> = { issued: ':large_green_circle:', failed: ':red_circle:' };

function certRow(c: CertificateView, bindings: readonly BindingView[], now: Date): types.KnownBlock[] {
  const left = c.notAfter ? expiry(c.notAfter, now) : null;
  const mark = left?.mark ?? CERT_MARK[c.state] ?? ':white_circle:';
  return [
    section(
      `${mark} *${name(c.name)}*  ${e(c.state)}${left ? ` · ${left.text}` : ''} · profile \`${name(c.profileName)}\`\n${placesText(c, bindings)}`,
    ),
  ];
}

function approvalRow(a: ApprovalView, canDecide: boolean): types.KnownBlock[] {
  const main = section(
    `*${e(a.kind)}* of *${name(a.certificateName)}*  requested by ${actorMention(a.requestedBy)} at ${when(a.requestedAt)}`,
  );
  if (!canDecide) return [main];
  // The approval buttons' own ids, so the existing listeners (which re-check the approver) decide.
  return [
    main,
    {
      type: 'actions',
      block_id: clip(`approval_home:${a.id}`, 255),
      elements: [
        { ...button('Approve', APPROVE_ACTION, a.id), style: 'primary' },
        { ...button('Deny…', DENY_ACTION, a.id), style: 'danger' },
      ],
    },
  ];
}

/** Something that went wrong and waits for a person: a failed issuance, a renewal that keeps failing, a domain the CA refused. */
interface Failure {
  at: Date;
  text: string;
}

function failures(data: HomeData, now: Date): Failure[] {
  const out: Failure[] = [];
  for (const c of data.certificates) {
    const problem = c.problem ? `: ${detail(c.problem.detail)}` : '';
    if (c.state === 'failed') {
      out.push({ at: c.updatedAt, text: `:red_circle: *${name(c.name)}*  request failed${problem}` });
    } else if (c.failedAttempts > 0) {
      const next =
        c.nextAttemptAt && c.nextAttemptAt.getTime() > now.getTime() ? `, next try ${when(c.nextAttemptAt)}` : '';
      const why = c.lastRenewalError ? `: ${detail(c.lastRenewalError.message)}` : problem;
      out.push({
        at: c.updatedAt,
        text: `:warning: *${name(c.name)}*  renewal failed ${c.failedAttempts}×${next}${why}`,
      });
    }
  }
  for (const d of data.domains) {
    if (d.status !== 'invalid' && d.status !== 'expired') continue;
    const why = d.problem ? `: ${detail(d.problem.detail)}` : d.lastCheckDetail ? `: ${detail(d.lastCheckDetail)}` : '';
    out.push({
      at: d.lastCheckedAt ?? d.updatedAt,
      text: `:large_orange_circle: domain *${name(d.name)}* (\`${name(d.profileName)}\`)  ${e(d.status)}${why}`,
    });
  }
  for (const p of data.problems ?? []) {
    const d = p.detail;
    const text = (k: string) => (typeof d[k] === 'string' || typeof d[k] === 'number' ? detail(String(d[k])) : null);
    if (p.kind === 'deploy_failed') {
      const why = text('message') ?? text('error') ?? text('code');
      out.push({
        at: p.createdAt,
        text: `:red_circle: deploy of *${name(p.subject)}*${text('device') ? ` to *${text('device')}*` : ''} failed${why ? `: ${why}` : ''}`,
      });
    } else if (p.kind === 'challenge_expired') {
      out.push({ at: p.createdAt, text: `:hourglass: challenge content for *${name(p.subject)}* expired` });
    }
  }
  return out.sort((a, b) => b.at.getTime() - a.at.getTime());
}

/** Certificates soonest to expire first; those without a certificate yet after them, by name. */
function byExpiry(a: CertificateView, b: CertificateView): number {
  if (a.notAfter && b.notAfter) return a.notAfter.getTime() - b.notAfter.getTime() || a.name.localeCompare(b.name);
  if (a.notAfter) return -1;
  if (b.notAfter) return 1;
  return a.name.localeCompare(b.name);
}

/** The whole Home view for one viewer: pure, so paging and limits are tested without Slack. */
export function homeView(data: HomeData, pages: HomePages, now: Date, opts: HomeOptions = {}): types.HomeView {
  const bindingsOf = new Map<string, BindingView[]>();
  for (const b of data.bindings) bindingsOf.set(b.certificateId, [...(bindingsOf.get(b.certificateId) ?? []), b]);
  const certs = [...data.certificates].sort(byExpiry);
  const shown: HomePages = {};
  const pageFor = (s: HomeSection, total: number) => {
    shown[s] = pageOf(total, pages[s], PAGE_SIZE[s]).page;
    return shown[s];
  };
  const failed = failures(data, now);
  const approvalNote =
    data.approvals.length > 0 && opts.canDecide
      ? [context('A decision taken here shows on the dashboard after *Refresh*.')]
      : [];
  const blocks: types.KnownBlock[] = [
    header('bigip-acme'),
    context(
      `Updated ${when(now)} · ${data.certificates.length} certificates · ${data.approvals.length} pending approvals · ${failed.length} failures`,
    ),
    { type: 'actions', block_id: 'home_top', elements: [button('Refresh', HOME_REFRESH_ACTION, 'refresh')] },
    ...paged('failures', 'Recent failures', failed, pageFor('failures', failed.length), 'Nothing has failed.', (f) => [
      section(f.text),
    ]),
    ...paged(
      'approvals',
      'Pending approvals',
      data.approvals,
      pageFor('approvals', data.approvals.length),
      'Nothing is waiting for a decision.',
      (a) => approvalRow(a, opts.canDecide === true),
    ),
    ...approvalNote,
    ...paged(
      'certs',
      'Certificates',
      certs,
      pageFor('certs', certs.length),
      'No certificates yet: `/acme cert request`.',
      (c) => certRow(c, bindingsOf.get(c.id) ?? [], now),
    ),
    ...paged(
      'domains',
      'Domains',
      data.domains,
      pageFor('domains', data.domains.length),
      'No domains yet: `/acme domain add`.',
      domainRow,
    ),
    ...paged(
      'profiles',
      'CA profiles',
      data.profiles,
      pageFor('profiles', data.profiles.length),
      'No CA profiles yet: `/acme profile create`.',
      profileRow,
    ),
  ];
  return { type: 'home', private_metadata: encodePages(shown), blocks };
}

/** Shown when the dashboard's data could not be read; Refresh tries again. */
/** The dashboard when it cannot be built: `reason` when it is one a person can act on (the database is away). */
export function homeErrorView(reason?: string): types.HomeView {
  return {
    type: 'home',
    private_metadata: '{}',
    blocks: [
      header('bigip-acme'),
      section(
        reason
          ? `:warning: ${reason}`
          : ':warning: The dashboard could not be loaded; the reason is in the service log. Try *Refresh*, or `/acme status`.',
      ),
      { type: 'actions', block_id: 'home_top', elements: [button('Refresh', HOME_REFRESH_ACTION, 'refresh')] },
    ],
  };
}
