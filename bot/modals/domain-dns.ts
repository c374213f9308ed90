import type { types } from '@slack/bolt';
import type { Rfc2136Input } from '../../core/challenges/domain-dns-service.ts';
import { describeDnsPublisher, TSIG_ALGORITHMS } from '../../core/domain/dns-publisher.ts';
import type { DomainView } from '../../core/services/domain-service.ts';
import { encodeDomainRef } from '../blocks/challenge.ts';
import { clip, escapeMrkdwn as e } from '../blocks/message.ts';
import type { ViewValues } from './domain-endpoint.ts';

/**
 * `/acme domain dns NAME`: how a DNS-01 domain publishes its TXT value itself — RFC 2136 with a TSIG key, or
 * an acme-dns server — or not at all. The TSIG secret input is never pre-filled and never echoed back; the
 * core checks and seals it (the same rules as `bigip-acme domain dns set`).
 */
export const DOMAIN_DNS_VIEW = 'domain_dns';
export const DNS_BLOCKS = {
  mode: 'dns_mode',
  server: 'dns_server',
  zone: 'dns_zone',
  keyName: 'dns_tsig_key',
  algorithm: 'dns_tsig_algorithm',
  secret: 'dns_tsig_secret',
  acmeDnsUrl: 'dns_acme_dns_url',
} as const;
export const DNS_ACTIONS = {
  mode: 'mode',
  server: 'server',
  zone: 'zone',
  keyName: 'key',
  algorithm: 'algorithm',
  secret: 'secret',
  acmeDnsUrl: 'url',
} as const;

export type DnsMode = 'rfc2136' | 'acme-dns' | 'clear';
export type DnsChoice =
  | { mode: 'rfc2136'; input: Rfc2136Input }
  | { mode: 'acme-dns'; url: string }
  | { mode: 'clear' };

const text = (values: ViewValues, block: string, action: string) => (values[block]?.[action]?.value ?? '').trim();

function input(
  blockId: string,
  actionId: string,
  label: string,
  opts: { initial?: string | null; placeholder?: string; hint?: string; max?: number },
): types.InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    optional: true,
    label: { type: 'plain_text', text: label },
    ...(opts.hint ? { hint: { type: 'plain_text', text: opts.hint } } : {}),
    element: {
      type: 'plain_text_input',
      action_id: actionId,
      ...(opts.initial ? { initial_value: opts.initial } : {}),
      ...(opts.placeholder ? { placeholder: { type: 'plain_text', text: opts.placeholder } } : {}),
      ...(opts.max ? { max_length: opts.max } : {}),
    },
  };
}

const option = (value: string, label: string, description?: string): types.PlainTextOption => ({
  value,
  text: { type: 'plain_text', text: label },
  ...(description ? { description: { type: 'plain_text', text: clip(description, 75) } } : {}),
});

export function domainDnsModal(
  domain: Pick<DomainView, 'name' | 'profileName' | 'challengeType' | 'dnsPublisher'>,
): types.ModalView {
  const now = domain.dnsPublisher
    ? `Now: ${e(describeDnsPublisher(domain.dnsPublisher))}`
    : 'Now: no DNS method (the TXT record is published by hand or by an API endpoint).';
  const rfc = domain.dnsPublisher?.kind === 'rfc2136' ? domain.dnsPublisher : null;
  const acmeDns = domain.dnsPublisher?.kind === 'acme-dns' ? domain.dnsPublisher : null;
  const modes = [
    option('rfc2136', 'RFC 2136 update (BIND, Infoblox, …)', 'Signed with a TSIG key; fill in the server and key'),
    option('acme-dns', 'acme-dns', 'Registers an account; you create one CNAME'),
    option('clear', 'No DNS method', 'Publish the TXT record by hand'),
  ];
  const algorithms = TSIG_ALGORITHMS.map((a) => option(a, a));
  return {
    type: 'modal',
    callback_id: DOMAIN_DNS_VIEW,
    private_metadata: encodeDomainRef({ name: domain.name, profile: domain.profileName }),
    title: { type: 'plain_text', text: 'Domain DNS' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(
            `*${e(domain.name)}*  ·  ${e(domain.challengeType)}  ·  profile \`${e(domain.profileName)}\`\n${now}`,
            3000,
          ),
        },
      },
      {
        type: 'input',
        block_id: DNS_BLOCKS.mode,
        label: { type: 'plain_text', text: 'Publish the TXT record' },
        element: {
          type: 'radio_buttons',
          action_id: DNS_ACTIONS.mode,
          options: modes,
          initial_option: acmeDns ? modes[1]! : modes[0]!,
        },
      },
      input(DNS_BLOCKS.server, DNS_ACTIONS.server, 'Primary server', {
        initial: rfc?.server ?? null,
        placeholder: 'ns1.example.com:53',
        max: 300,
      }),
      input(DNS_BLOCKS.zone, DNS_ACTIONS.zone, 'Zone', {
        initial: rfc?.zone ?? null,
        hint: 'Leave empty to find it from the SOA.',
        max: 300,
      }),
      input(DNS_BLOCKS.keyName, DNS_ACTIONS.keyName, 'TSIG key name', { initial: rfc?.keyName ?? null, max: 253 }),
      {
        type: 'input',
        block_id: DNS_BLOCKS.algorithm,
        optional: true,
        label: { type: 'plain_text', text: 'TSIG algorithm' },
        element: {
          type: 'static_select',
          action_id: DNS_ACTIONS.algorithm,
          options: algorithms,
          initial_option: algorithms.find((a) => a.value === (rfc?.algorithm ?? 'hmac-sha256'))!,
        },
      },
      input(DNS_BLOCKS.secret, DNS_ACTIONS.secret, 'TSIG secret (base64)', {
        hint: 'As tsig-keygen prints it. Stored encrypted; never shown again. Required each time you save.',
        max: 200,
      }),
      input(DNS_BLOCKS.acmeDnsUrl, DNS_ACTIONS.acmeDnsUrl, 'acme-dns server URL', {
        initial: acmeDns?.url ?? null,
        placeholder: 'https://acme-dns.example.com',
        max: 2000,
      }),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: '*Test Connection* first adds and deletes a test TXT record (RFC 2136), or checks the CNAME and updates acme-dns, and names the cause when the server refuses.',
          },
        ],
      },
    ],
  };
}

/** The submitted form, checked for presence; the core checks the values. Errors keyed by block id. */
export function readDnsForm(
  values: ViewValues,
): { ok: true; choice: DnsChoice } | { ok: false; errors: Record<string, string> } {
  const mode = values[DNS_BLOCKS.mode]?.[DNS_ACTIONS.mode]?.selected_option?.value ?? 'rfc2136';
  if (mode === 'clear') return { ok: true, choice: { mode: 'clear' } };
  if (mode === 'acme-dns') {
    const url = text(values, DNS_BLOCKS.acmeDnsUrl, DNS_ACTIONS.acmeDnsUrl);
    if (!url) return { ok: false, errors: { [DNS_BLOCKS.acmeDnsUrl]: 'Give the acme-dns server URL.' } };
    return { ok: true, choice: { mode: 'acme-dns', url } };
  }
  if (mode !== 'rfc2136')
    return { ok: false, errors: { [DNS_BLOCKS.mode]: 'Choose how the TXT record is published.' } };
  const raw = {
    server: text(values, DNS_BLOCKS.server, DNS_ACTIONS.server),
    zone: text(values, DNS_BLOCKS.zone, DNS_ACTIONS.zone),
    keyName: text(values, DNS_BLOCKS.keyName, DNS_ACTIONS.keyName),
    algorithm: values[DNS_BLOCKS.algorithm]?.[DNS_ACTIONS.algorithm]?.selected_option?.value ?? 'hmac-sha256',
    secret: text(values, DNS_BLOCKS.secret, DNS_ACTIONS.secret),
  };
  const errors: Record<string, string> = {};
  if (!raw.server) errors[DNS_BLOCKS.server] = 'Give the primary server, host or host:port.';
  if (!raw.keyName) errors[DNS_BLOCKS.keyName] = 'Give the TSIG key name the server knows.';
  if (!raw.secret) errors[DNS_BLOCKS.secret] = 'Give the TSIG secret (it is never shown, so it is asked each time).';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, choice: { mode: 'rfc2136', input: { ...raw, zone: raw.zone || undefined } } };
}

/** Which input a core refusal belongs to (its messages name the field). */
export function dnsErrorBlock(message: string): string {
  if (/secret/i.test(message)) return DNS_BLOCKS.secret;
  if (/TSIG key name/i.test(message)) return DNS_BLOCKS.keyName;
  if (/TSIG algorithm/i.test(message)) return DNS_BLOCKS.algorithm;
  if (/DNS server/i.test(message)) return DNS_BLOCKS.server;
  if (/zone/i.test(message)) return DNS_BLOCKS.zone;
  if (/acme-dns/i.test(message)) return DNS_BLOCKS.acmeDnsUrl;
  return DNS_BLOCKS.mode;
}

export function dnsSavedView(summary: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: `${DOMAIN_DNS_VIEW}_done`,
    title: { type: 'plain_text', text: 'Domain DNS' },
    close: { type: 'plain_text', text: 'Done' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(summary, 3000) } }],
  };
}
