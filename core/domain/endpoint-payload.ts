import type { ChallengeType } from './challenge-type.ts';
import type { ChallengePayload } from './challenge-payload.ts';
import type { Authorization } from './managed-domain.ts';

/**
 * The payload the core POSTs to a domain's API endpoint for its one challenge type, in the seed's wire
 * format. `tlsKeyPem` is the opened throwaway challenge key; null when the type is not tls-alpn-01.
 */
export function endpointPayload(
  type: ChallengeType,
  authz: Authorization,
  tlsKeyPem: string | null,
): ChallengePayload | null {
  if (type === 'http-01') {
    return authz.httpToken && authz.httpKeyAuthorization
      ? { challenges: [{ type: 'http', content: authz.httpKeyAuthorization, fileName: authz.httpToken }] }
      : null;
  }
  if (type === 'dns-01') {
    return authz.dnsTxtValue ? { challenges: [{ type: 'dns', content: authz.dnsTxtValue }] } : null;
  }
  return authz.tlsCertPem && tlsKeyPem
    ? { challenges: [{ type: 'tls', content: authz.tlsCertPem, keyContent: tlsKeyPem }] }
    : null;
}
