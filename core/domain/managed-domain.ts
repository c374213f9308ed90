import type { AcmeProblem } from '../ports/acme-gateway.ts';
import type { ChallengeType } from './challenge-type.ts';
import type { DnsPublisherSettings } from './dns-publisher.ts';

/** The seed's connection status of a domain row: what the CA last said about its authorization. */
export type ConnectionStatus = 'pending' | 'valid' | 'invalid' | 'expired';

/** A row of a profile's Domain Configuration. */
export interface ManagedDomain {
  id: string;
  profileId: string;
  name: string;
  challengeType: ChallengeType;
  status: ConnectionStatus;
  /** The authorization whose challenge content is shown for this domain. */
  currentAuthorizationId: string | null;
  problem: AcmeProblem | null;
  lastCheckedAt: Date | null;
  lastCheckDetail: string | null;
  endpointUrl: string | null;
  endpointUsername: string | null;
  endpointPasswordSealed: string | null;
  /** scrypt verifier of the same password, for the responder's challenge-hook (which has no MASTER_KEY). */
  endpointPasswordVerifier: string | null;
  /**
   * Devices that answer this domain's HTTP-01 from an internal data-group through the bigip-acme iRule (the
   * on-box method, instead of forwarding to the responder); empty when not used.
   */
  dataGroupDeviceIds: string[];
  /** Full path of that data-group, e.g. `/Common/acme_responder_dg`. */
  dataGroupPath: string | null;
  /**
   * How the core publishes this DNS-01 domain's TXT value itself (RFC 2136 + TSIG, or acme-dns); null when
   * not (a person, or the API endpoint). See domain/dns-publisher.ts.
   */
  dnsPublisher: DnsPublisherSettings | null;
  /** Sealed: the TSIG secret (base64), or the acme-dns account's credentials as JSON. */
  dnsSecretSealed: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type AuthorizationStatus =
  | 'pending'
  | 'processing'
  | 'valid'
  | 'invalid'
  | 'deactivated'
  | 'expired'
  | 'revoked';

/**
 * One ACME authorization and the content that answers each of its challenges. The CA gives every
 * challenge its own token, so each type keeps its own material.
 */
export interface Authorization {
  id: string;
  domainId: string;
  url: string;
  identifier: string;
  wildcard: boolean;
  status: AuthorizationStatus;
  expiresAt: Date | null;
  /** Each offered challenge's URL and token, by type. */
  challenges: Partial<Record<ChallengeType, { url: string; token: string }>>;
  httpToken: string | null;
  httpKeyAuthorization: string | null;
  dnsTxtValue: string | null;
  tlsCertPem: string | null;
  tlsKeySealed: string | null;
  /** Which challenge was answered (sent to the CA), so a resumed run waits instead of answering again. */
  answeredType: ChallengeType | null;
  problem: AcmeProblem | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A pending authorization past its expiry is as good as gone: the CA will not validate it. */
export function isAuthorizationUsable(authz: Pick<Authorization, 'status' | 'expiresAt'>, now: Date): boolean {
  if (authz.expiresAt && authz.expiresAt.getTime() <= now.getTime()) return false;
  return authz.status === 'pending' || authz.status === 'processing' || authz.status === 'valid';
}
