import type { Authorization, ManagedDomain } from '../../domain/managed-domain.ts';
import type { HttpChallenge } from './challenges.ts';
import type { Patch } from './patch.ts';

export interface DomainRepository {
  /** Inserts a domain together with its first authorization, atomically. */
  insertWithAuthorization(domain: ManagedDomain, authz: Authorization): Promise<void>;
  findById(id: string): Promise<ManagedDomain | null>;
  find(profileId: string, name: string): Promise<ManagedDomain | null>;
  /** Every profile's row for this name (a name may be configured under several CAs). */
  findByName(name: string): Promise<ManagedDomain[]>;
  listByProfile(profileId: string): Promise<ManagedDomain[]>;
  update(id: string, patch: Patch<ManagedDomain>): Promise<ManagedDomain>;
  /**
   * Sets the domain's connection status to valid (and clears its problem) when this authorization is its current
   * one, in one statement; returns the domain when it did, null when another authorization is current.
   */
  markValidIfCurrent(id: string, authorizationId: string): Promise<ManagedDomain | null>;
  /** The endpoint credentials' verifiers for every profile's row of this name, for challenge-hook auth. */
  endpointVerifiers(name: string): Promise<{ username: string; verifier: string }[]>;
  /** Deletes the domain with its authorizations, in one statement. `not_found` when it does not exist. */
  remove(id: string): Promise<void>;
}

export interface AuthorizationRepository {
  /** Inserts, or refreshes status/expiry/problem when the URL is already known (CAs reuse authorizations). */
  upsert(authz: Authorization): Promise<Authorization>;
  findById(id: string): Promise<Authorization | null>;
  findByUrl(url: string): Promise<Authorization | null>;
  update(id: string, patch: Patch<Authorization>): Promise<Authorization>;
  /**
   * Marks the listed authorizations valid (problem cleared) in one statement, skipping those valid already and
   * URLs it does not know; returns each it changed and whether it was still open (pending or processing) before.
   */
  markValid(urls: readonly string[]): Promise<{ authorization: Authorization; wasOpen: boolean }[]>;
  /** A pending HTTP-01 token's key authorization and the name it is for, for the responder. */
  httpChallenge(token: string): Promise<HttpChallenge | null>;
  /** Every pending HTTP-01 challenge: the responder's cache at start and on resync. */
  pendingHttpChallenges(): Promise<(HttpChallenge & { token: string })[]>;
  /**
   * The TLS-ALPN-01 certificate and sealed key of the newest pending authorization for a name, with its
   * expiry (whether it still outranks hook content is `core/domain/tls-alpn-source.ts`'s rule).
   */
  tlsAlpnMaterial(
    identifier: string,
  ): Promise<{ id: string; certPem: string; keySealed: string; expiresAt: Date | null } | null>;
  /** Every authorization recorded for the domain, oldest first. */
  listByDomain(domainId: string): Promise<Authorization[]>;
}
