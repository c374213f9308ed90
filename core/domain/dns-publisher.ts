import { CoreError } from '../errors.ts';

/**
 * How a DNS-01 domain's TXT content gets published without a person: an RFC 2136 dynamic update signed with a
 * TSIG key, or an acme-dns server the `_acme-challenge` name is delegated to by CNAME. What is stored beside it,
 * sealed, is the secret: the TSIG key's secret, or the acme-dns account's user name and password.
 */
export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

export function isTsigAlgorithm(value: string): value is TsigAlgorithm {
  return (TSIG_ALGORITHMS as readonly string[]).includes(value);
}

export type DnsPublisherSettings = Rfc2136Settings | AcmeDnsSettings;

export interface Rfc2136Settings {
  kind: 'rfc2136';
  /** The primary server that takes updates, `host:port` (port 53 by default). */
  server: string;
  /** The zone the record is in; null: discovered from the SOA the server answers for the record's name. */
  zone: string | null;
  keyName: string;
  algorithm: TsigAlgorithm;
}

export interface AcmeDnsSettings {
  kind: 'acme-dns';
  /** The acme-dns server's API base URL. */
  url: string;
  /** The account's subdomain (a UUID), which `/update` names. */
  subdomain: string;
  /** `<subdomain>.<acme-dns zone>`: the CNAME target of `_acme-challenge.<name>`. */
  fulldomain: string;
}

/** The acme-dns account's credentials, sealed together as JSON. */
export interface AcmeDnsCredentials {
  username: string;
  password: string;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const KEY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$/;

/** `host`, `host:port`, `ip:port` or `[v6]:port` → `{host, port}`; port 53 when absent. */
export function parseDnsServer(input: string): { host: string; port: number } {
  const text = input.trim();
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:\s]+)(?::(\d+))?$/.exec(text);
  const m = bracketed ?? plain;
  const host = m?.[1];
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!m || !host || (!bracketed && !HOST.test(host) && !IPV4.test(host)) || !(port >= 1 && port <= 65535)) {
    throw new CoreError('input_invalid', `DNS server "${input}" must be host, host:port or [v6]:port`);
  }
  return { host, port };
}

/** A DNS name without the trailing dot, lower case; input_invalid naming `what` otherwise. */
export function normalizeZone(input: string, what = 'zone'): string {
  const zone = input.trim().replace(/\.$/, '').toLowerCase();
  if (!HOST.test(zone)) throw new CoreError('input_invalid', `${what} "${input}" is not a DNS name`);
  return zone;
}

export function parseRfc2136Settings(input: {
  server: string;
  zone?: string | null | undefined;
  keyName: string;
  algorithm: string;
}): Rfc2136Settings {
  const { host, port } = parseDnsServer(input.server);
  const keyName = input.keyName.trim().replace(/\.$/, '');
  if (!KEY_NAME.test(keyName))
    throw new CoreError('input_invalid', `TSIG key name "${input.keyName}" must be a DNS name like acme-example-com`);
  const algorithm = input.algorithm.trim().toLowerCase();
  if (!isTsigAlgorithm(algorithm))
    throw new CoreError(
      'input_invalid',
      `TSIG algorithm "${input.algorithm}" is not supported; use one of ${TSIG_ALGORITHMS.join(', ')}`,
    );
  return {
    kind: 'rfc2136',
    server: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    zone: input.zone?.trim() ? normalizeZone(input.zone) : null,
    keyName,
    algorithm,
  };
}

/**
 * A TSIG secret as BIND's `tsig-keygen` prints it: base64 of at least 16 bytes. Surrounding whitespace (a
 * trailing newline of a file) is ignored; anything else that is not base64 is refused.
 */
export function parseTsigSecret(input: string): Buffer {
  const text = input.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new CoreError('input_invalid', 'the TSIG secret must be base64 (as tsig-keygen prints it)');
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < 16) throw new CoreError('input_invalid', 'the TSIG secret must be at least 16 bytes');
  return bytes;
}

export function parseAcmeDnsUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new CoreError('input_invalid', `acme-dns server "${input}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CoreError('input_invalid', `acme-dns server "${input}" must be http:// or https://`);
  if (url.username || url.password || url.search || url.hash)
    throw new CoreError('input_invalid', `acme-dns server "${input}" must be a plain base URL`);
  return url.toString().replace(/\/+$/, '');
}

/** The record the operator must create so the CA's lookup of the challenge name lands on acme-dns. */
export function acmeDnsCname(recordName: string, fulldomain: string): string {
  return `${recordName}. CNAME ${fulldomain.replace(/\.$/, '')}.`;
}

/** What `domain dns show` prints about the method: no secret, by construction. */
export function describeDnsPublisher(settings: DnsPublisherSettings): string {
  if (settings.kind === 'rfc2136') {
    return `RFC 2136 update to ${settings.server}, zone ${settings.zone ?? '(from SOA)'}, TSIG key ${settings.keyName} (${settings.algorithm})`;
  }
  return `acme-dns ${settings.url}, subdomain ${settings.subdomain} (CNAME target ${settings.fulldomain})`;
}
