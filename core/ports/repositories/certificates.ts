import type { ManagedCertificate } from '../../domain/managed-certificate.ts';
import type { Patch } from './patch.ts';

export interface CertificateRepository {
  insert(cert: ManagedCertificate): Promise<void>;
  findById(id: string): Promise<ManagedCertificate | null>;
  findByName(name: string): Promise<ManagedCertificate | null>;
  list(filter?: { profileId?: string }): Promise<ManagedCertificate[]>;
  update(id: string, patch: Patch<ManagedCertificate>): Promise<ManagedCertificate>;
  /**
   * Ids the renewal sweep should look at, soonest first: issued certificates of auto-renewing profiles whose
   * `renewAt` has come, and renewals in flight (`renewalStartedAt` set); in both cases only when
   * `nextAttemptAt` has passed. Revoked live certificates of auto-renewing profiles too (the policy chain
   * renews those still bound). A cheap indexed query: callers claim each id and re-check it.
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
  /**
   * Ids of issued certificates (with their key on the row) with a binding that does not serve their current
   * fingerprint yet; a revoked certificate is left out (its replacement is deployed once renewed).
   */
  listDeployCandidates(limit: number): Promise<string[]>;
  /**
   * Deletes the certificate with everything that is only its own: bindings, approvals, deploy history and the
   * records of its objects on devices, in one statement (all or nothing). `not_found` when it does not exist.
   */
  remove(id: string): Promise<void>;
}
