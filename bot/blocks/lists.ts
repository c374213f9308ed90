import type { CertificateView } from '../../core/issuance/certificate-service.ts';
import type { DeviceView } from '../../core/services/device-service.ts';
import type { DomainView } from '../../core/services/domain-service.ts';
import type { ProfileView } from '../../core/services/profile-service.ts';
import { type BotMessage, escapeMrkdwn as e, listMessage } from './message.ts';
import { slackCommand } from '../slack-words.ts';

/**
 * One row per record, built from named public fields only: never a record rendered wholesale, so nothing
 * added to a view later (or a summary object) can reach Slack unreviewed.
 */
const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : '-');
const when = (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '-');
const forProfile = (profile?: string) => (profile ? `profile \`${e(profile)}\`` : undefined);

const DOMAIN_STATUS_EMOJI: Record<string, string> = {
  valid: ':large_green_circle:',
  pending: ':white_circle:',
  invalid: ':red_circle:',
  expired: ':large_orange_circle:',
};
const CERT_STATE_EMOJI: Record<string, string> = { issued: ':large_green_circle:', failed: ':red_circle:' };

export function profileListMessage(rows: ProfileView[]): BotMessage {
  return listMessage({
    title: 'CA management profiles',
    empty: `No CA profiles yet. Create one with ${slackCommand(['profile', 'create'])}.`,
    rows: rows.map((p) => {
      const deploy = p.autoDeploy ? `auto deploy ${e(p.deployTime)} ${e(p.deployTimeZone)}` : 'auto deploy off';
      const renew = p.autoRenew ? `renew ${p.renewDaysBefore} d before expiry` : 'auto renew off';
      return `*${e(p.name)}*  ${e(p.keySpec)}\n${e(p.directoryUrl)}\n${renew} · ${deploy}`;
    }),
  });
}

export function domainListMessage(rows: DomainView[], profile?: string): BotMessage {
  const subtitle = forProfile(profile);
  return listMessage({
    title: 'Domains',
    ...(subtitle ? { subtitle } : {}),
    empty: 'No domains.',
    rows: rows.map(
      (d) =>
        `${DOMAIN_STATUS_EMOJI[d.status] ?? ':white_circle:'} *${e(d.name)}*  ${e(d.status)} · ${e(d.challengeType)} · profile \`${e(d.profileName)}\` · checked ${when(d.lastCheckedAt)}`,
    ),
  });
}

export function certificateListMessage(rows: CertificateView[], profile?: string): BotMessage {
  const subtitle = forProfile(profile);
  return listMessage({
    title: 'Certificates',
    ...(subtitle ? { subtitle } : {}),
    empty: 'No certificates.',
    rows: rows.map(
      (c) =>
        `${CERT_STATE_EMOJI[c.state] ?? ':white_circle:'} *${e(c.name)}*  ${e(c.state)} · CN ${e(c.commonName)}${c.sans.length > 0 ? ` (+${c.sans.length} SAN)` : ''} · profile \`${e(c.profileName)}\` · expires ${day(c.notAfter)}`,
    ),
  });
}

export function deviceListMessage(rows: DeviceView[]): BotMessage {
  return listMessage({
    title: 'BIG-IP devices',
    empty: `No devices yet. Add one with ${slackCommand(['device', 'add'])}.`,
    rows: rows.map((d) => {
      const tls = d.insecure ? ':warning: TLS verification off' : d.caPem ? 'TLS: own CA' : 'TLS: system CAs';
      const test = d.lastTest
        ? d.lastTest.ok
          ? 'last test ok'
          : `last test failed at ${e(d.lastTest.stage)}`
        : 'never tested';
      const box = [d.hostname, d.version]
        .filter((x): x is string => Boolean(x))
        .map(e)
        .join(' ');
      return `*${e(d.name)}*  ${e(d.url)} · partition ${e(d.partition)}${box ? ` · ${box}` : ''}\n${tls} · ${test}`;
    }),
  });
}
