import type { ChallengeType } from './challenge-type.ts';
import { dnsRecordName } from './domain-name.ts';
import type { Authorization, ManagedDomain } from './managed-domain.ts';

/** The content that answers a domain's challenge, in the form a person or web server publishes it. */
export interface ChallengeContent {
  domain: string;
  type: ChallengeType;
  status: ManagedDomain['status'];
  expiresAt: Date | null;
  http?: { fileName: string; content: string; urlPath: string };
  dns?: { recordName: string; value: string; zoneLine: string };
  /** The key is the throwaway challenge key, not a certificate key. */
  tls?: { certPem: string; keyPem: string };
}

/**
 * Challenge content as any result may show it: the TLS-ALPN-01 certificate without its key. The key leaves
 * only when asked for, as a file (`domain challenge --out`, mode 0600; the bot's file upload).
 */
export type PublicChallengeContent = Omit<ChallengeContent, 'tls'> & { tls?: { certPem: string } };

export function withoutChallengeKey(content: ChallengeContent): PublicChallengeContent {
  const { tls, ...rest } = content;
  return tls ? { ...rest, tls: { certPem: tls.certPem } } : rest;
}

/**
 * The content of the domain's chosen challenge type from its current authorization (none: status only).
 * `openTlsKey` opens the sealed TLS-ALPN-01 challenge key; it is called only for a tls-alpn-01 domain.
 */
export function challengeContentOf(
  domain: ManagedDomain,
  authz: Authorization | null,
  openTlsKey: (authz: Authorization, sealed: string) => string,
): ChallengeContent {
  const base: ChallengeContent = {
    domain: domain.name,
    type: domain.challengeType,
    status: domain.status,
    expiresAt: authz?.expiresAt ?? null,
  };
  if (!authz) return base;
  if (domain.challengeType === 'http-01' && authz.httpToken && authz.httpKeyAuthorization) {
    const { httpToken: fileName, httpKeyAuthorization: content } = authz;
    return { ...base, http: { fileName, content, urlPath: `/.well-known/acme-challenge/${fileName}` } };
  }
  if (domain.challengeType === 'dns-01' && authz.dnsTxtValue) {
    const recordName = dnsRecordName(domain.name);
    const value = authz.dnsTxtValue;
    return { ...base, dns: { recordName, value, zoneLine: `${recordName}. 60 IN TXT "${value}"` } };
  }
  if (domain.challengeType === 'tls-alpn-01' && authz.tlsCertPem && authz.tlsKeySealed) {
    return { ...base, tls: { certPem: authz.tlsCertPem, keyPem: openTlsKey(authz, authz.tlsKeySealed) } };
  }
  return base;
}
