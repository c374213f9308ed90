import { CoreError } from '../errors.ts';

/** The ACME challenge types this tool can answer, as RFC 8555 / RFC 8737 spell them. */
export const CHALLENGE_TYPES = ['http-01', 'dns-01', 'tls-alpn-01'] as const;
export type ChallengeType = (typeof CHALLENGE_TYPES)[number];

// People type the short forms in Slack and on the command line; the CA only knows the long ones.
const ALIASES: Readonly<Record<string, ChallengeType>> = {
  'http-01': 'http-01',
  http: 'http-01',
  'dns-01': 'dns-01',
  dns: 'dns-01',
  'tls-alpn-01': 'tls-alpn-01',
  'tls-alpn': 'tls-alpn-01',
  tls: 'tls-alpn-01',
};

export function isChallengeType(value: unknown): value is ChallengeType {
  return typeof value === 'string' && (CHALLENGE_TYPES as readonly string[]).includes(value);
}

export function parseChallengeType(input: string): ChallengeType {
  const key = input.trim().toLowerCase();
  const found = Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
  if (found === undefined) {
    throw new CoreError(
      'input_invalid',
      `unknown challenge type ${JSON.stringify(input)}; use one of ${CHALLENGE_TYPES.join(', ')} (or http, dns, tls)`,
      { detail: { input, allowed: [...CHALLENGE_TYPES] } },
    );
  }
  return found;
}
