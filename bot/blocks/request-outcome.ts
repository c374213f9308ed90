import type { types } from '@slack/bolt';
import { deployActions } from './certificate-detail.ts';
import { type BotMessage, clip, context, escapeMrkdwn as e, section } from './message.ts';
import { scrubSecrets } from './notification.ts';

/**
 * The DM to the person who requested a certificate, from a `request_outcome` event: issued (serial, expiry
 * and, when it is bound, a Deploy button), failed (the CA's reason), or denied (who, and their reason).
 * Built from named detail fields only; free text is scrubbed and escaped.
 */
export interface RequestOutcomeEvent {
  subject: string;
  detail: Record<string, unknown>;
}

const text = (v: unknown, max = 400): string | undefined =>
  typeof v === 'string' && v !== '' ? e(clip(scrubSecrets(v), max)) : undefined;
const day = (v: unknown) =>
  typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)
    ? `${v.slice(0, 16).replace('T', ' ')} UTC`
    : undefined;
const mention = (actor: unknown) =>
  typeof actor === 'string' && /^slack:[UW][A-Z0-9]+$/.test(actor)
    ? `<@${actor.slice(6)}>`
    : (text(actor, 100) ?? 'an approver');

/** The Slack user a `request_outcome` event is for, or null when the requester is no Slack user (CLI, scheduler). */
export function slackRequester(detail: Record<string, unknown>): string | null {
  const r = detail['requester'];
  return typeof r === 'string' && /^slack:[UW][A-Z0-9]+$/.test(r) ? r.slice('slack:'.length) : null;
}

export function requestOutcomeMessage(event: RequestOutcomeEvent, opts: { bindings: number }): BotMessage {
  const d = event.detail;
  const name = e(clip(scrubSecrets(event.subject), 200));
  const blocks: types.KnownBlock[] = [];
  let summary: string;
  switch (d['outcome']) {
    case 'issued': {
      summary = `Your certificate ${name} is issued`;
      const serial = text(d['serial'], 100);
      blocks.push(
        section(
          `:white_check_mark: Your certificate request *${name}* is issued${serial ? `: serial \`${serial}\`` : ''}${day(d['notAfter']) ? `, expires ${day(d['notAfter'])}` : ''}.`,
        ),
      );
      if (opts.bindings > 0) {
        blocks.push(
          context(
            `Bound to ${opts.bindings} BIG-IP profile${opts.bindings === 1 ? '' : 's'}; admins can deploy it now.`,
          ),
        );
        blocks.push(deployActions(event.subject, opts.bindings));
      } else
        blocks.push(
          context(`Not bound to a BIG-IP profile yet: an admin binds it with \`/acme binding add ${name}\`.`),
        );
      break;
    }
    case 'denied':
      summary = `Your certificate request ${name} was denied`;
      blocks.push(
        section(
          `:no_entry_sign: Your certificate request *${name}* was denied by ${mention(d['by'])}: ${text(d['reason']) ?? 'no reason given'}`,
        ),
      );
      blocks.push(context('Nothing was ordered. Ask again with `/acme cert request` once the reason is addressed.'));
      break;
    default:
      summary = `Your certificate request ${name} failed`;
      blocks.push(
        section(`:x: Your certificate request *${name}* failed: ${text(d['reason']) ?? 'no reason recorded'}`),
      );
      blocks.push(context(`See \`/acme cert show ${name}\`; an admin can retry once the cause is fixed.`));
  }
  return { text: summary, blocks };
}
