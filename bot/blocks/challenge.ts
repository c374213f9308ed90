import { parseJsonObject } from '../json-object.ts';
import { slackText } from '../slack-words.ts';
import type { types } from '@slack/bolt';
import type { ChallengeContent } from '../../core/domain/challenge-content.ts';
import type { DomainView } from '../../core/services/domain-service.ts';
import { type BotMessage, clip, context, escapeMrkdwn as e } from './message.ts';
import { slackCommand } from '../slack-words.ts';

/**
 * A domain's challenge content message (the seed's Domain Configuration row): what to publish for the
 * chosen challenge type, the connection status, and *Test Connection* / *Deploy & Test* / *Reconfigure*.
 * One message per domain, so a click updates exactly the message it came from. Secrets never appear here:
 * the TLS-ALPN-01 key travels only as an uploaded file (see `tlsFileUploads`).
 */
export const TEST_CONNECTION_ACTION = 'challenge_test';
export const DEPLOY_TEST_ACTION = 'challenge_deploy_test';
export const RECONFIGURE_ACTION = 'challenge_reconfigure';
export const CHALLENGE_ACTIONS_BLOCK = 'challenge_actions';

/** Slack's cap on a section's text; challenge content is never clipped below it (a cut value is a wrong value). */
const MAX_SECTION = 3000;

/** What a button carries: which domain, by name and profile. Reloaded from the core on every click. */
export interface DomainRefValue {
  name: string;
  profile: string;
}

export function encodeDomainRef(ref: DomainRefValue): string {
  return JSON.stringify({ d: ref.name, p: ref.profile });
}

export function decodeDomainRef(raw: string | undefined): DomainRefValue | null {
  const o = parseJsonObject(raw);
  if (!o) return null;
  const name = o['d'];
  const profile = o['p'];
  if (
    typeof name !== 'string' ||
    typeof profile !== 'string' ||
    name === '' ||
    profile === '' ||
    name.length > 253 ||
    profile.length > 64
  )
    return null;
  return { name, profile };
}

/**
 * Where the TLS-ALPN-01 `.cert` / `.key` are for this message: in its thread (uploaded with it), not
 * postable here (the upload failed), or only in the CLI (an ephemeral message has no thread).
 */
export type TlsFiles = 'thread' | 'failed' | 'cli';

export interface ChallengeCard {
  content: ChallengeContent;
  profileName: string;
  /** Where *Deploy & Test* publishes (endpoint URL or data-group); null hides the button. */
  publishesTo: string | null;
  lastCheckedAt?: Date | null;
  lastCheckDetail?: string | null;
  tlsFiles?: TlsFiles;
  /** A line above the buttons: work in progress ("Testing…") or the last click's outcome. */
  notice?: { tone: 'busy' | 'ok' | 'bad' | 'info'; text: string };
}

/** The card fields that come from a domain as the core shows it. */
export function cardFromDomain(
  domain: DomainView,
  content: ChallengeContent,
): Omit<ChallengeCard, 'tlsFiles' | 'notice'> {
  return {
    content,
    profileName: domain.profileName,
    publishesTo: publishTarget(domain),
    lastCheckedAt: domain.lastCheckedAt,
    lastCheckDetail: domain.lastCheckDetail,
  };
}

/** Where *Deploy & Test* can publish this domain's content, if anywhere. */
export function publishTarget(
  domain: Pick<DomainView, 'endpointUrl' | 'dataGroupPath' | 'dataGroupDeviceIds'>,
): string | null {
  if (domain.endpointUrl) return domain.endpointUrl;
  if (domain.dataGroupPath && domain.dataGroupDeviceIds.length > 0) return `data-group ${domain.dataGroupPath}`;
  return null;
}

const TYPE_LABEL: Record<ChallengeContent['type'], string> = {
  'http-01': 'HTTP-01',
  'dns-01': 'DNS-01',
  'tls-alpn-01': 'TLS-ALPN-01',
};
const STATUS_ICON: Record<ChallengeContent['status'], string> = {
  pending: ':hourglass_flowing_sand:',
  valid: ':white_check_mark:',
  invalid: ':x:',
  expired: ':warning:',
};
const NOTICE_ICON = {
  busy: ':hourglass_flowing_sand:',
  ok: ':white_check_mark:',
  bad: ':warning:',
  info: ':information_source:',
} as const;

const when = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** A copyable code block; mrkdwn entities still apply inside it, so the value is escaped too. */
const code = (value: string) => `\`\`\`${e(value)}\`\`\``;

function longSection(mrkdwn: string): types.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(slackText(mrkdwn), MAX_SECTION) } };
}

/**
 * Where a domain's TLS-ALPN-01 files (the key file mode 0600) come from when Slack cannot carry them: the
 * CLI on the server, said in Slack's words (bot/slack-words.ts).
 */
export function tlsCliHint(name: string, profile: string): string {
  return slackCommand(['domain', 'challenge', name, '--profile', profile, '--out', 'DIR']);
}

function contentBlocks(card: ChallengeCard): types.KnownBlock[] {
  const c = card.content;
  if (c.http) {
    return [
      longSection(
        `*Serve this file* at \`http://${e(c.domain)}${e(c.http.urlPath)}\` (plain HTTP, port 80)\n*File name*\n${code(c.http.fileName)}\n*Content*\n${code(c.http.content)}`,
      ),
    ];
  }
  if (c.dns) {
    return [
      longSection(`*TXT record name*\n${code(c.dns.recordName)}\n*Value*\n${code(c.dns.value)}`),
      context(`Zone file line: \`${e(c.dns.zoneLine)}\``),
    ];
  }
  if (c.tls) {
    const hint = tlsCliHint(e(c.domain), e(card.profileName));
    const where: Record<TlsFiles, string> = {
      thread: `The \`${e(c.domain)}.cert\` and \`${e(c.domain)}.key\` files are in this message's thread; also from ${hint}`,
      failed: `The \`.cert\` and \`.key\` files could not be posted here; get them with ${hint}`,
      cli: `Get the \`.cert\` and \`.key\` files with ${hint}`,
    };
    return [
      longSection(
        `*Serve this certificate* on port 443 for \`${e(c.domain)}\` when the client offers ALPN \`acme-tls/1\`.\n${where[card.tlsFiles ?? 'cli']}\nThe key is the throwaway challenge key, not a certificate key.`,
      ),
    ];
  }
  return [
    longSection(
      'No challenge content right now (the authorization is gone, or the CA no longer needs one). *Reconfigure* fetches fresh content.',
    ),
  ];
}

function statusLine(card: ChallengeCard): string {
  const c = card.content;
  const parts = [`${STATUS_ICON[c.status]} *${e(c.status)}*`];
  if (c.expiresAt) parts.push(`challenge expires ${when(c.expiresAt)}`);
  parts.push(card.publishesTo ? `publishes to \`${e(clip(card.publishesTo, 200))}\`` : 'no endpoint');
  if (card.lastCheckedAt)
    parts.push(
      `last test ${when(card.lastCheckedAt)}${card.lastCheckDetail ? `: ${e(clip(card.lastCheckDetail, 200))}` : ''}`,
    );
  return parts.join('  ·  ');
}

function button(actionId: string, text: string, value: string, extra: Partial<types.Button> = {}): types.Button {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text }, value, ...extra };
}

/** The message for one domain. */
export function challengeMessage(card: ChallengeCard): BotMessage {
  const c = card.content;
  const value = encodeDomainRef({ name: c.domain, profile: card.profileName });
  const blocks: types.KnownBlock[] = [
    longSection(`*${e(c.domain)}*  ·  ${TYPE_LABEL[c.type]}  ·  profile \`${e(card.profileName)}\``),
    ...contentBlocks(card),
    context(statusLine(card)),
  ];
  if (card.notice) blocks.push(longSection(`${NOTICE_ICON[card.notice.tone]} ${e(clip(card.notice.text, 1000))}`));
  const elements: types.Button[] = [button(TEST_CONNECTION_ACTION, 'Test Connection', value, { style: 'primary' })];
  if (card.publishesTo) elements.push(button(DEPLOY_TEST_ACTION, 'Deploy & Test', value));
  elements.push(
    button(RECONFIGURE_ACTION, 'Reconfigure', value, {
      confirm: {
        title: { type: 'plain_text', text: 'Reconfigure?' },
        text: {
          type: 'mrkdwn',
          text: clip(
            `Fresh challenge content for every domain of profile \`${e(card.profileName)}\` whose challenge expired, failed or is gone. Pending and valid ones keep theirs.`,
            300,
          ),
        },
        confirm: { type: 'plain_text', text: 'Reconfigure' },
        deny: { type: 'plain_text', text: 'Cancel' },
      },
    }),
  );
  blocks.push({ type: 'actions', block_id: CHALLENGE_ACTIONS_BLOCK, elements });
  const busy = card.notice?.tone === 'busy' ? ` — ${card.notice.text}` : '';
  return { text: clip(e(`Challenge for ${c.domain} (${c.type}, ${c.status})${busy}`), 300), blocks };
}

/**
 * The TLS-ALPN-01 files for `files.uploadV2`: the certificate and the throwaway challenge key. Files, not
 * text, so the key never sits in a message body (or in the notification preview).
 */
export function tlsFileUploads(content: ChallengeContent): { filename: string; content: string }[] {
  if (!content.tls) return [];
  return [
    { filename: `${content.domain}.cert`, content: content.tls.certPem },
    { filename: `${content.domain}.key`, content: content.tls.keyPem },
  ];
}

export function tlsUploadComment(name: string): string {
  return `TLS-ALPN-01 files for ${e(name)}: the .key is the throwaway challenge key, not a certificate key.`;
}
