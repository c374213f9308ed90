import type { ChallengeType } from './challenge-type.ts';
import type { ConnectionStatus } from './managed-domain.ts';

/**
 * "Request a certificate where it will serve": for each name asked, what must happen before the CA can be
 * asked to issue it without a person in the loop. A name is ready when the CA already holds a valid
 * authorization; otherwise the core publishes and tests the challenge itself when something it controls
 * answers it — the domain's API endpoint, its on-box data-groups, or the built-in responder (HTTP-01 and
 * TLS-ALPN-01 content is served from the core's own authorizations). A DNS-01 name without an endpoint
 * needs a person to put the TXT record in place, so the request is refused before anything is written.
 */
export type NameStep =
  | { name: string; step: 'ready' }
  /** Not a domain of the profile yet: added with `challengeType`, then published and tested. */
  | { name: string; step: 'add'; challengeType: ChallengeType }
  /** A domain of the profile, not valid now: published (endpoint, data-group) or served (built-in), then tested. */
  | { name: string; step: 'test'; via: 'endpoint' | 'data-group' | 'built-in' }
  | { name: string; step: 'needs_person'; reason: string };

export interface KnownDomain {
  name: string;
  challengeType: ChallengeType;
  status: ConnectionStatus;
  hasEndpoint: boolean;
  usesDataGroups: boolean;
}

export interface ServePlanInput {
  /** Normalized, de-duplicated, in the order asked (the first is the common name). */
  names: readonly string[];
  /** The profile's domains. */
  known: readonly KnownDomain[];
  /** How names that are not domains yet are validated. */
  newNameType: ChallengeType;
  /** Whether the built-in responder answers challenges for this service (RESPONDER_URL known). */
  builtinResponder: boolean;
}

const SELF_ANSWERED: readonly ChallengeType[] = ['http-01', 'tls-alpn-01'];

export function planServeNames(input: ServePlanInput): NameStep[] {
  const byName = new Map(input.known.map((d) => [d.name, d]));
  return input.names.map((name): NameStep => {
    const known = byName.get(name);
    if (known) {
      if (known.status === 'valid') return { name, step: 'ready' };
      if (known.hasEndpoint) return { name, step: 'test', via: 'endpoint' };
      if (known.usesDataGroups) return { name, step: 'test', via: 'data-group' };
      if (input.builtinResponder && SELF_ANSWERED.includes(known.challengeType))
        return { name, step: 'test', via: 'built-in' };
      return {
        name,
        step: 'needs_person',
        reason: `${name} uses ${known.challengeType} with no endpoint or data-group: its challenge must be published by a person first`,
      };
    }
    if (name.startsWith('*.'))
      return { name, step: 'needs_person', reason: `${name} is a wildcard: it needs dns-01 and a DNS endpoint` };
    if (!SELF_ANSWERED.includes(input.newNameType))
      return {
        name,
        step: 'needs_person',
        reason: `${name} would use ${input.newNameType}, which the built-in responder cannot answer`,
      };
    if (!input.builtinResponder)
      return { name, step: 'needs_person', reason: `${name} is new and no built-in responder is configured` };
    return { name, step: 'add', challengeType: input.newNameType };
  });
}
