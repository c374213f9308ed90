import type { AuditEntry } from '../domain/audit-entry.ts';
import type { CaProfile } from '../domain/ca-profile.ts';
import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import type { Authorization, ManagedDomain } from '../domain/managed-domain.ts';

type Patch<T> = Partial<Omit<T, 'id' | 'createdAt' | 'updatedAt'>>;

export interface ProfileRepository {
  insert(profile: CaProfile): Promise<void>;
  findById(id: string): Promise<CaProfile | null>;
  findByName(name: string): Promise<CaProfile | null>;
  list(): Promise<CaProfile[]>;
  update(id: string, patch: Patch<CaProfile>): Promise<CaProfile>;
}

export interface DomainRepository {
  /** Inserts a domain together with its first authorization, atomically. */
  insertWithAuthorization(domain: ManagedDomain, authz: Authorization): Promise<void>;
  findById(id: string): Promise<ManagedDomain | null>;
  find(profileId: string, name: string): Promise<ManagedDomain | null>;
  /** Every profile's row for this name (a name may be configured under several CAs). */
  findByName(name: string): Promise<ManagedDomain[]>;
  listByProfile(profileId: string): Promise<ManagedDomain[]>;
  update(id: string, patch: Patch<ManagedDomain>): Promise<ManagedDomain>;
}

export interface AuthorizationRepository {
  /** Inserts, or refreshes status/expiry/problem when the URL is already known (CAs reuse authorizations). */
  upsert(authz: Authorization): Promise<Authorization>;
  findById(id: string): Promise<Authorization | null>;
  findByUrl(url: string): Promise<Authorization | null>;
  update(id: string, patch: Patch<Authorization>): Promise<Authorization>;
  /** The key authorization for a pending HTTP-01 token, for the responder. */
  httpKeyAuthorization(token: string): Promise<string | null>;
  /** Every pending HTTP-01 token with its key authorization: the responder's cache at start and on resync. */
  pendingHttpChallenges(): Promise<{ token: string; keyAuthorization: string }[]>;
  /** The TLS-ALPN-01 certificate and sealed key for a name whose authorization is pending. */
  tlsAlpnMaterial(identifier: string): Promise<{ id: string; certPem: string; keySealed: string } | null>;
}

export interface CertificateRepository {
  insert(cert: ManagedCertificate): Promise<void>;
  findById(id: string): Promise<ManagedCertificate | null>;
  findByName(name: string): Promise<ManagedCertificate | null>;
  list(filter?: { profileId?: string }): Promise<ManagedCertificate[]>;
  update(id: string, patch: Patch<ManagedCertificate>): Promise<ManagedCertificate>;
}

export interface AuditLog {
  append(entry: Omit<AuditEntry, 'id' | 'at'> & { at?: Date }): Promise<void>;
  list(filter?: { objectId?: string; limit?: number }): Promise<AuditEntry[]>;
}

/** Everything persistent, behind one handle so services take a single dependency. */
export interface Store {
  profiles: ProfileRepository;
  domains: DomainRepository;
  authorizations: AuthorizationRepository;
  certificates: CertificateRepository;
  audit: AuditLog;
  close(): Promise<void>;
}
