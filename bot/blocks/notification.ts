import type { types } from '@slack/bolt';
import { slackText } from '../slack-words.ts';
import type { CoreEvent } from '../../core/domain/core-event.ts';
import { type BotMessage, clip, context, escapeMrkdwn, header, MAX_BLOCKS } from './message.ts';

/**
 * Notification messages for the event outbox, built from named `detail` fields only: an event's detail is
 * never rendered wholesale, so a field added to an event later cannot reach Slack unreviewed. Free text that
 * comes from elsewhere (an error message from a CA or a BIG-IP) is scrubbed of anything that looks like key
 * material or a credential before it is escaped.
 */

/** What a builder needs of an event: what the outbox stores, minus the bookkeeping. */
export type NotificationEvent = Pick<CoreEvent, 'subject' | 'detail' | 'needsPerson' | 'createdAt'> & {
  /** `CoreEventKind`, or a kind the core adds later (`expiry_warning`); unknown kinds get a neutral line. */
  kind: string;
};

/** Slack rejects messages whose blocks add up to ~13k characters even when each block is within its limit. */
const MAX_DIGEST_CHARS = 11_000;
/** A section's text may hold 3000 characters; digest rows are packed into sections below that. */
const MAX_SECTION_CHARS = 2_800;
const MAX_FIELD = 200;
const MAX_FREE_TEXT = 400;

const PEM_BLOCK = /-----BEGIN [^-]*-----[\s\S]*?(?:-----END [^-]*-----|$)/g;
const SLACK_TOKEN = /\bxox[abposr]-[A-Za-z0-9-]+/g;
/** A credential word and what follows it (`password=x`, `passphrase: x`, `token x`, `hmac_key: x`). */
const CREDENTIAL =
  /\b(password|passwd|passphrase|secret|token|hmac(?:[ _-]?key)?)(\s*[:=]\s*|\s+)(?!\[redacted)("[^"]*"|'[^']*'|\S+)/gi;
/** Any `…key: value` / `…key=value` (account key, EAB key, API key). */
const KEY_VALUE = /\b([\w-]*key)(\s*[:=]\s*)(?!\[redacted)("[^"]*"|'[^']*'|\S+)/gi;

/** Removes anything key- or credential-shaped from free text. Not a licence to send secrets: a last net. */
export function scrubSecrets(text: string): string {
  return text
    .replace(PEM_BLOCK, '[redacted key material]')
    .replace(SLACK_TOKEN, '[redacted token]')
    .replace(CREDENTIAL, (_m, name: string, sep: string) => `${name}${sep}[redacted]`)
    .replace(KEY_VALUE, (_m, name: string, sep: string) => `${name}${sep}[redacted]`);
}

/** A scalar detail field as escaped, scrubbed, clipped mrkdwn; undefined for anything else (objects never render). */
function field(detail: Record<string, unknown>, key: string, max = MAX_FIELD): string | undefined {
  const v = detail[key];
  if (typeof v === 'string') return v.length === 0 ? undefined : escapeMrkdwn(clip(scrubSecrets(v), max));
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return undefined;
}

/** A list of strings (e.g. `names`), escaped, at most `max` shown. */
function names(detail: Record<string, unknown>, key: string, max = 5): string | undefined {
  const v = detail[key];
  if (!Array.isArray(v)) return undefined;
  const items = v
    .filter((x): x is string => typeof x === 'string')
    .map((x) => escapeMrkdwn(clip(scrubSecrets(x), 100)));
  if (items.length === 0) return undefined;
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} … and ${items.length - max} more`;
}

const day = (iso: string | undefined) => (iso && /^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : iso);
const code = (s: string | undefined) => (s ? `\`${s}\`` : undefined);
const subjectOf = (event: NotificationEvent) => `*${escapeMrkdwn(clip(scrubSecrets(event.subject), MAX_FIELD))}*`;
/** The subject for the top-level `text` (Slack renders it as mrkdwn too, so it is escaped as well). */
const plainSubject = (event: NotificationEvent) => escapeMrkdwn(clip(scrubSecrets(event.subject), MAX_FIELD));

function facts(pairs: [string, string | undefined][]): string {
  return pairs
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => `*${k}:* ${v}`)
    .join('\n');
}

function sectionBlock(mrkdwn: string): types.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(slackText(mrkdwn), MAX_SECTION_CHARS) } };
}

function single(text: string, headline: string, body: string, note?: string): BotMessage {
  const blocks: types.KnownBlock[] = [sectionBlock(headline)];
  if (body) blocks.push(sectionBlock(body));
  if (note) blocks.push(context(note));
  return { text, blocks };
}

const PERSON_NOTE = 'A person has to act on this.';

/** The message for one event that is posted on its own (failures, anything that needs a person, warnings). */
export function eventMessage(event: NotificationEvent): BotMessage {
  const d = event.detail;
  const who = subjectOf(event);
  const plain = plainSubject(event);
  switch (event.kind) {
    case 'renewal_failed':
      return single(
        `Renewal of ${plain} failed`,
        `:red_circle: Renewal of ${who} failed`,
        facts([
          ['Error', code(field(d, 'code'))],
          ['Message', field(d, 'message', MAX_FREE_TEXT)],
          ['Attempt', field(d, 'attempt')],
          ['Next attempt', field(d, 'nextAttemptAt')],
        ]),
        event.needsPerson
          ? `${PERSON_NOTE} Retry with \`/acme renew ${plain}\` after fixing the cause.`
          : 'It will be retried automatically, before the certificate expires.',
      );
    case 'deploy_failed':
      return single(
        `Deploying ${plain} failed`,
        `:red_circle: Deploying ${who} failed`,
        facts([
          ['Device', field(d, 'device')],
          ['Serial', code(field(d, 'serial'))],
          ['Step', field(d, 'step')],
          ['Result', field(d, 'result')],
          ['Error', code(field(d, 'error') ?? field(d, 'code'))],
          ['Message', field(d, 'message', MAX_FREE_TEXT)],
        ]),
        event.needsPerson ? PERSON_NOTE : undefined,
      );
    case 'challenge_expired':
      return single(
        `Challenge content for ${plain} expired`,
        `:hourglass: Challenge content for ${who} expired`,
        facts([
          ['Profile', code(field(d, 'profile'))],
          ['Challenge', field(d, 'type')],
        ]),
        `${PERSON_NOTE} Publish the challenge content again, or the order will not validate.`,
      );
    case 'approval_requested':
      return single(
        `${field(d, 'kind') ?? 'An action'} of ${plain} needs approval`,
        `:raised_hand: *${field(d, 'kind') ?? 'action'}* of ${who} needs approval`,
        facts([
          ['Names', names(d, 'names')],
          ['Serial', code(field(d, 'serial'))],
          ['Expires', day(field(d, 'notAfter'))],
          ['Profile', code(field(d, 'profile'))],
          ['Devices', field(d, 'devices')],
          ['Approval', code(field(d, 'approvalId'))],
        ]),
        'Decide with `/acme approvals`.',
      );
    case 'revoked': {
      const replacement = field(d, 'replacementSerial');
      const served = d['stillServed'] === true;
      return single(
        `${plain} was revoked`,
        `:no_entry: ${who} was revoked at the CA`,
        facts([
          ['Serial', code(field(d, 'serial'))],
          ['Reason', field(d, 'reason')],
          ['By', field(d, 'by')],
          ['Replacement', code(replacement)],
        ]),
        replacement
          ? 'The replacement was deployed before the revocation.'
          : served
            ? event.needsPerson
              ? `${PERSON_NOTE} BIG-IPs still serve it and the profile does not renew by itself: \`/acme cert renew ${plain}\`, then deploy.`
              : 'BIG-IPs still serve it; the next renew run replaces it and the deploy job deploys the replacement at once.'
            : 'Nothing is bound to it.',
      );
    }
    case 'expiry_warning': {
      const days = field(d, 'daysLeft');
      return single(
        `${plain} expires ${days !== undefined ? `in ${days} days` : 'soon'} and is not renewing in time`,
        `:warning: ${who} expires ${days !== undefined ? `in *${days} days*` : 'soon'} (${day(field(d, 'notAfter')) ?? '?'}) and is not renewing in time`,
        facts([
          ['Why', field(d, 'reason')],
          ['Serial', code(field(d, 'serial'))],
          ['Renewal planned', day(field(d, 'renewAt')) ?? 'none'],
        ]),
        `${PERSON_NOTE} Renew it with \`/acme renew ${plain}\` or fix the renewal.`,
      );
    }
    default:
      return single(
        `${escapeMrkdwn(event.kind)}: ${plain}`,
        `${event.needsPerson ? ':warning:' : ':information_source:'} *${escapeMrkdwn(event.kind)}*: ${who}`,
        '',
        event.needsPerson ? PERSON_NOTE : undefined,
      );
  }
}

/** One line of the digest for a success event. */
export function digestLine(event: NotificationEvent): string {
  const d = event.detail;
  const who = subjectOf(event);
  switch (event.kind) {
    case 'renewal_due': {
      const reason = field(d, 'reason');
      return `:arrows_counterclockwise: ${who} renewal started${reason ? ` (${reason})` : ''}`;
    }
    case 'renewed': {
      const serial = field(d, 'serial');
      const until = day(field(d, 'notAfter'));
      return `:white_check_mark: ${who} renewed${serial ? `, serial \`${serial}\`` : ''}${until ? `, expires ${until}` : ''}`;
    }
    case 'deployed': {
      const device = field(d, 'device');
      const serial = field(d, 'serial');
      return `:rocket: ${who} deployed${device ? ` to ${device}` : ''}${serial ? ` (serial \`${serial}\`)` : ''}`;
    }
    case 'approval_decided': {
      const decision = field(d, 'decision') ?? 'decided';
      const by = field(d, 'by');
      const reason = field(d, 'reason');
      return `${decision === 'approved' ? ':heavy_check_mark:' : ':x:'} *${field(d, 'kind') ?? 'action'}* of ${who} ${decision}${by ? ` by ${by}` : ''}${reason ? `: ${reason}` : ''}`;
    }
    default:
      return `:information_source: *${escapeMrkdwn(event.kind)}*: ${who}`;
  }
}

/**
 * One message for many success events, within Slack's block and total-size limits: rows are packed into
 * sections, and what does not fit is counted in a closing "… and N more".
 */
export function digestMessage(events: NotificationEvent[], opts: { since?: Date; until?: Date } = {}): BotMessage {
  const title = `bigip-acme: ${events.length} update${events.length === 1 ? '' : 's'}`;
  const blocks: types.KnownBlock[] = [header(title)];
  if (opts.since && opts.until) blocks.push(context(`${fmt(opts.since)} – ${fmt(opts.until)}`));
  // Room for the closing "… and N more" context block.
  const maxSections = MAX_BLOCKS - blocks.length - 1;
  let total = 0;
  let shown = 0;
  let current: string[] = [];
  let currentLen = 0;
  let sections = 0;
  const flush = () => {
    if (current.length === 0) return;
    blocks.push(sectionBlock(current.join('\n')));
    sections++;
    current = [];
    currentLen = 0;
  };
  for (const event of events) {
    const line = clip(digestLine(event), 500);
    if (total + line.length + 1 > MAX_DIGEST_CHARS) break;
    if (currentLen + line.length + 1 > MAX_SECTION_CHARS) {
      if (sections + 2 > maxSections) break;
      flush();
    }
    current.push(line);
    currentLen += line.length + 1;
    total += line.length + 1;
    shown++;
  }
  flush();
  if (shown < events.length) blocks.push(context(`… and ${events.length - shown} more`));
  return { text: title, blocks };
}

const fmt = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
