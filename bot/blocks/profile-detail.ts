import type { types } from '@slack/bolt';
import { describeKeySpec } from '../../core/domain/key-spec.ts';
import type { ProfileView } from '../../core/services/profile-service.ts';
import { type BotMessage, context, escapeMrkdwn as e, header, section } from './message.ts';

const when = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const onOff = (v: boolean) => (v ? 'on' : 'off');

/**
 * A link only for http(s) URLs: a CA's terms-of-service may be a `data:` URL (Pebble), which Slack would not
 * open anyway; anything else is shown as escaped text.
 */
export function linkOrText(url: string): string {
  return /^https?:\/\/[^\s|<>]+$/.test(url) ? `<${e(url)}>` : `\`${e(url)}\``;
}

/**
 * One profile's settings, field by named field (never the record wholesale, so a field added to the view
 * later cannot reach Slack unreviewed). The account key and EAB HMAC key never leave the core.
 */
export function profileDetailBlocks(p: ProfileView): types.KnownBlock[] {
  const ca = [
    `*CA directory:* ${linkOrText(p.directoryUrl)}`,
    `*Key properties:* ${e(describeKeySpec(p.keySpec))} (\`${e(p.keySpec)}\`)`,
    `*Terms of service:* ${p.tosUrl ? `${linkOrText(p.tosUrl)} (accepted)` : p.tosAgreed ? 'accepted' : 'not accepted'}`,
    ...(p.eabKid ? [`*External account binding:* key id \`${e(p.eabKid)}\``] : []),
    `*ACME account:* ${linkOrText(p.accountUrl)}`,
    ...(p.acmeProfile ? [`*ACME profile:* \`${e(p.acmeProfile)}\``] : []),
  ];
  const schedule = [
    `*Contact:* ${p.contact.length > 0 ? p.contact.map(e).join(', ') : 'none'}`,
    `*Auto-renew:* ${p.autoRenew ? `on, ${p.renewDaysBefore} days before expiry` : 'off'}`,
    `*Auto-deploy:* ${p.autoDeploy ? `on, at ${e(p.deployTime)} ${e(p.deployTimeZone)}` : 'off'}`,
    `*Semi-automatic:* renewal approval ${onOff(p.renewApproval)} · deploy approval ${onOff(p.deployApproval)}`,
  ];
  return [
    header(`Profile ${p.name}`),
    section(ca.join('\n')),
    section(schedule.join('\n')),
    context(
      `Created ${when(p.createdAt)} · updated ${when(p.updatedAt)} · name, CA, key properties and ToS acceptance are locked`,
    ),
  ];
}

export function profileDetailMessage(p: ProfileView): BotMessage {
  return { text: `Profile ${e(p.name)}: ${e(p.directoryUrl)}`, blocks: profileDetailBlocks(p) };
}
