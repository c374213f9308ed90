import type { AuditEntry } from '../domain/audit-entry.ts';
import type { PayloadType } from '../domain/challenge-payload.ts';
import type { Approval, ApprovalKind, ApprovalState } from '../domain/approval.ts';
import type { Binding } from '../domain/binding.ts';
import type { CoreEvent, CoreEventKind } from '../domain/core-event.ts';
import type { CaProfile } from '../domain/ca-profile.ts';
import type { Deployment, DeploymentResult, DeviceObject } from '../domain/deployment.ts';
import type { Device } from '../domain/device.ts';
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
  /** The endpoint credentials' verifiers for every profile's row of this name, for challenge-hook auth. */
  endpointVerifiers(name: string): Promise<{ username: string; verifier: string }[]>;
}

export interface AuthorizationRepository {
  /** Inserts, or refreshes status/expiry/problem when the URL is already known (CAs reuse authorizations). */
  upsert(authz: Authorization): Promise<Authorization>;
  findById(id: string): Promise<Authorization | null>;
  findByUrl(url: string): Promise<Authorization | null>;
  update(id: string, patch: Patch<Authorization>): Promise<Authorization>;
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
}

/** What the responder needs to answer an HTTP-01 request: the body, and the Host it may be answered for. */
export interface HttpChallenge {
  keyAuthorization: string;
  domain: string;
}

/** Challenge content published through the responder's challenge-hook. */
export interface HookChallenge {
  id: string;
  domainName: string;
  type: PayloadType;
  /** HTTP-01 file name (the token); null for dns and tls. */
  token: string | null;
  /** Key authorization, TXT value, or PEM certificate. */
  content: string;
  /** The sealed TLS-ALPN-01 challenge key (AAD `hook_challenges:<id>:key`). */
  keySealed: string | null;
  createdAt: Date;
}

export interface HookChallengeRepository {
  /** Replaces the domain's entries of each type present in `entries`, atomically (a POST supersedes). */
  replace(domainName: string, entries: HookChallenge[]): Promise<void>;
  list(domainName: string): Promise<HookChallenge[]>;
  /** Removes every entry of the domain; returns how many. */
  clear(domainName: string): Promise<number>;
  httpChallenge(token: string): Promise<HttpChallenge | null>;
  allHttp(): Promise<(HttpChallenge & { token: string })[]>;
  tlsMaterial(domainName: string): Promise<{ id: string; certPem: string; keySealed: string } | null>;
  /** Removes entries published before `before` (nobody cleared them); returns how many. */
  purgeOlderThan(before: Date): Promise<number>;
}

export interface CertificateRepository {
  insert(cert: ManagedCertificate): Promise<void>;
  findById(id: string): Promise<ManagedCertificate | null>;
  findByName(name: string): Promise<ManagedCertificate | null>;
  list(filter?: { profileId?: string }): Promise<ManagedCertificate[]>;
  update(id: string, patch: Patch<ManagedCertificate>): Promise<ManagedCertificate>;
  /**
   * Ids the renewal sweep should look at, soonest first: issued certificates of auto-renewing profiles whose
   * `renewAt` has come, and renewals in flight (`renewalStartedAt` set); in both cases only when
   * `nextAttemptAt` has passed. A cheap indexed query: callers claim each id and re-check it.
   */
  listRenewalCandidates(now: Date, limit: number): Promise<string[]>;
  /**
   * First issuances (never issued) stopped half-way — `requested`, `ordering` or `finalizing` — and not
   * touched since `before`: a process died under them, or a drive handed back after its time budget. Not
   * those waiting for an issuance approval. Oldest first.
   */
  listStalledIssuances(before: Date, limit: number): Promise<string[]>;
  /**
   * The earliest `nextAttemptAt` after `after` of a certificate whose renewal failed (`failedAttempts` > 0),
   * or null: when the scheduler must wake the renew job for a retry its cron would reach too late.
   */
  nextRetryAt(after: Date): Promise<Date | null>;
  /** Ids of issued certificates whose ARI window should be fetched again (never fetched, or Retry-After passed). */
  listAriPollCandidates(now: Date, limit: number): Promise<string[]>;
  /** Certificates with a certificate on the row expiring before `at` (for expiry warnings). */
  listExpiringBefore(at: Date): Promise<ManagedCertificate[]>;
  /** Ids of issued certificates (with their key on the row) with a binding that does not serve their current fingerprint yet. */
  listDeployCandidates(limit: number): Promise<string[]>;
}

export interface DeviceRepository {
  insert(device: Device): Promise<void>;
  findById(id: string): Promise<Device | null>;
  findByName(name: string): Promise<Device | null>;
  list(): Promise<Device[]>;
  update(id: string, patch: Patch<Device>): Promise<Device>;
  /** Removes the device; a device that still has bindings is a conflict. */
  remove(id: string): Promise<void>;
}

export interface BindingRepository {
  /** A second binding of the same device and profile is a conflict. */
  insert(binding: Binding): Promise<void>;
  findById(id: string): Promise<Binding | null>;
  list(filter?: { certificateId?: string; deviceId?: string }): Promise<Binding[]>;
  update(id: string, patch: Patch<Binding>): Promise<Binding>;
  remove(id: string): Promise<void>;
}

export interface DeploymentRepository {
  insert(deployment: Deployment): Promise<void>;
  update(id: string, patch: Partial<Omit<Deployment, 'id'>>): Promise<Deployment>;
  /** Newest first. */
  list(filter?: {
    certificateId?: string;
    deviceId?: string;
    result?: DeploymentResult;
    limit?: number;
  }): Promise<Deployment[]>;
  /**
   * The newest attempt of each certificate on each device, among attempts started at or after `since`:
   * what a device was last left with (a later success supersedes an earlier failure).
   */
  latestPerTarget(since: Date): Promise<Deployment[]>;
}

export interface DeviceObjectRepository {
  /** Records an installed object; installing the same path again revives and re-stamps the row. */
  record(object: DeviceObject): Promise<void>;
  /** Objects of this certificate on this device that have not been removed. */
  listLive(deviceId: string, certificateId: string): Promise<DeviceObject[]>;
  markRemoved(id: string, at: Date): Promise<void>;
}

/**
 * Claims on work shared by every replica. A claim lasts `ttlMs` from the database's clock (so replicas'
 * clocks need not agree) and frees itself when its holder dies; the holder renews it while it works and must
 * re-check that the work is still due after claiming.
 */
export interface LeaseRepository {
  /** True when `holder` now holds `key` (it was free, expired, or already held by `holder`). */
  tryAcquire(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends a claim; false when `holder` no longer holds it. */
  renew(key: string, holder: string, ttlMs: number): Promise<boolean>;
  release(key: string, holder: string): Promise<void>;
  /** Removes claims that expired more than `olderThanMs` ago; returns how many. */
  purgeExpired(olderThanMs: number): Promise<number>;
}

export interface EventFilter {
  certificateId?: string;
  /** Any of these kinds. */
  kinds?: CoreEventKind[];
  /** Created at or after. */
  since?: Date;
  /** Only events the notifier has not delivered yet. */
  undelivered?: boolean;
  /** Default 100. */
  limit?: number;
}

export interface EventOutbox {
  /** Stores the event unless one with the same `dedupeKey` exists; true when stored. */
  emit(event: Omit<CoreEvent, 'id' | 'createdAt' | 'deliveredAt'>): Promise<boolean>;
  /** Oldest first. */
  listUndelivered(limit: number): Promise<CoreEvent[]>;
  markDelivered(ids: number[], at: Date): Promise<void>;
  /** Newest first; every filter given must hold. */
  list(filter?: EventFilter): Promise<CoreEvent[]>;
  /** Deletes delivered events older than `before`; returns how many. */
  purgeDelivered(before: Date): Promise<number>;
}

export interface ApprovalRepository {
  /** Stores a pending approval, or returns the open one (pending or approved) of that certificate and kind. */
  open(approval: Approval): Promise<{ approval: Approval; created: boolean }>;
  findOpen(certificateId: string, kind: ApprovalKind): Promise<Approval | null>;
  /** The most recently requested approval of that certificate and kind, whatever its state; null if none ever. */
  findLatest(certificateId: string, kind: ApprovalKind): Promise<Approval | null>;
  findById(id: string): Promise<Approval | null>;
  list(filter?: { state?: ApprovalState; limit?: number }): Promise<Approval[]>;
  /** Compare-and-set: moves `id` from `from` to the patch's state; null when it was not in `from` (a replay). */
  transition(
    id: string,
    from: ApprovalState,
    patch: Pick<Approval, 'state'> & Partial<Pick<Approval, 'decidedBy' | 'decidedAt' | 'reason'>>,
  ): Promise<Approval | null>;
}

export interface JobRun {
  job: string;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastResult: string | null;
  lastDetail: Record<string, unknown> | null;
  holder: string | null;
}

export interface JobRunRepository {
  started(job: string, holder: string, at: Date): Promise<void>;
  finished(job: string, result: string, detail: Record<string, unknown>, at: Date): Promise<void>;
  list(): Promise<JobRun[]>;
}

export interface AuditFilter {
  objectId?: string;
  /** The object's name as recorded (a certificate, domain, profile or device name). */
  objectName?: string;
  actor?: string;
  /** An action or its family: `certificate.renew` also matches `certificate.renew.abandon_order`. */
  action?: string;
  /** Recorded at or after. */
  since?: Date;
  /** Default 100. */
  limit?: number;
}

export interface AuditLog {
  append(entry: Omit<AuditEntry, 'id' | 'at'> & { at?: Date }): Promise<void>;
  /** Newest (last appended) first; every filter given must hold. */
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
}

/** Everything persistent, behind one handle so services take a single dependency. */
export interface Store {
  profiles: ProfileRepository;
  domains: DomainRepository;
  authorizations: AuthorizationRepository;
  certificates: CertificateRepository;
  hookChallenges: HookChallengeRepository;
  devices: DeviceRepository;
  bindings: BindingRepository;
  deployments: DeploymentRepository;
  deviceObjects: DeviceObjectRepository;
  leases: LeaseRepository;
  events: EventOutbox;
  approvals: ApprovalRepository;
  jobRuns: JobRunRepository;
  audit: AuditLog;
  close(): Promise<void>;
}
