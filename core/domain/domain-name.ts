import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { CoreError } from '../errors.ts';
import type { ChallengeType } from './challenge-type.ts';

const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const WILDCARD_PREFIX = '*.';
const LABEL = /^[a-z0-9-]+$/;
// ASCII that can never be part of a host name. Checked before IDNA because `domainToASCII` parses like a URL
// host and would silently turn "a/b.com" into "a" or "1.2.3" into "1.2.0.3".
const FORBIDDEN_ASCII = /[\x00-\x2c\x2f\x3a-\x60\x7b-\x7f]/;

/**
 * The canonical form every other part of the tool stores and compares: lower-case ASCII (punycode for IDNs),
 * no trailing dot, with a leading `*.` kept for wildcards. Rejects with a message that says exactly what is
 * wrong, because it is shown to the person who typed the name.
 */
export function normalizeDomainName(input: string, challengeType: ChallengeType): string {
  const shown = input.trim();
  const fail = (why: string): never => {
    throw new CoreError('domain_invalid', `${JSON.stringify(shown)}: ${why}`, { detail: { domain: shown } });
  };

  let name = shown.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return fail('a domain name is required');

  const wildcard = name.startsWith(WILDCARD_PREFIX);
  if (wildcard) name = name.slice(WILDCARD_PREFIX.length);
  if (name.includes('*')) return fail('a wildcard is allowed only as the whole first label, as in "*.example.com"');
  // RFC 8555 §7.1.3: CAs validate wildcard names only through DNS-01.
  if (wildcard && challengeType !== 'dns-01') return fail('a wildcard needs the dns-01 challenge');

  if (isIP(name) !== 0 || isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0) {
    return fail('IP addresses are not supported; use a DNS name');
  }
  const forbidden = FORBIDDEN_ASCII.exec(name);
  if (forbidden) return fail(`${JSON.stringify(forbidden[0])} is not allowed in a domain name`);
  const rawTld = name.slice(name.lastIndexOf('.') + 1);
  if (/^[0-9]+$/.test(rawTld)) return fail(`the top-level label "${rawTld}" must not be all digits`);

  const ascii = domainToASCII(name);
  if (ascii === '') return fail('not a valid (internationalized) domain name');
  if (isIP(ascii) !== 0) return fail('IP addresses are not supported; use a DNS name');

  const labels = ascii.split('.');
  if (labels.length < 2) return fail('needs at least two labels, as in "example.com"');
  for (const label of labels) {
    if (label === '') return fail('has an empty label (two dots in a row?)');
    if (label.length > MAX_LABEL_LENGTH) {
      return fail(`the label "${label}" is ${label.length} characters long; the limit is ${MAX_LABEL_LENGTH}`);
    }
    if (!LABEL.test(label)) return fail(`the label "${label}" may contain only a-z, 0-9 and "-"`);
    if (label.startsWith('-') || label.endsWith('-')) {
      return fail(`the label "${label}" must not start or end with "-"`);
    }
    // Labels like "ab--cd" are reserved for IDNA encodings (RFC 5891 §4.2.3.1); CAs refuse them.
    if (label.slice(2, 4) === '--' && !label.startsWith('xn--')) {
      return fail(`the label "${label}" has "--" in positions 3-4, which only "xn--" labels may have`);
    }
    // A valid "xn--" label decodes to a name with non-ASCII letters. Node 20 refuses a bad one in
    // domainToASCII; Node 24 passes it through and domainToUnicode hands it back unchanged, so ask that.
    if (label.startsWith('xn--') && domainToUnicode(label) === label) {
      return fail('not a valid (internationalized) domain name');
    }
  }
  const tld = labels[labels.length - 1]!;
  if (/^[0-9]+$/.test(tld)) return fail(`the top-level label "${tld}" must not be all digits`);

  const result = wildcard ? WILDCARD_PREFIX + ascii : ascii;
  if (result.length > MAX_NAME_LENGTH) {
    return fail(`is ${result.length} characters long; the limit is ${MAX_NAME_LENGTH}`);
  }
  return result;
}

export function isWildcard(domain: string): boolean {
  return domain.startsWith(WILDCARD_PREFIX);
}

/** The name the CA authorizes: a wildcard's authorization is for its base name (RFC 8555 §7.1.3). */
export function authorizationName(domain: string): string {
  return isWildcard(domain) ? domain.slice(WILDCARD_PREFIX.length) : domain;
}

/** Where the DNS-01 TXT record goes (RFC 8555 §8.4); a wildcard and its base name share it. */
export function dnsRecordName(domain: string): string {
  return `_acme-challenge.${authorizationName(domain)}`;
}
