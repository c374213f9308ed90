import type { AcmeProblem } from '../ports/acme-gateway.ts';
import type { KeySpec } from './key-spec.ts';
import type { RevocationReason } from './revocation-reason.ts';

/**
 * requested → ordering → (awaiting_challenge ⇄ ordering) → finalizing → issued. `failed` is final until a
 * person retries; `awaiting_challenge` waits for challenge content a person (or a later automation) must
 * publish.
 */
export type CertificateState = 'requested' | 'ordering' | 'awaiting_challenge' | 'finalizing' | 'issued' | 'failed';

export function isFinalState(state: CertificateState): boolean {
  return state === 'issued' || state === 'failed';
}

/**
 * Where a renewal in flight is. It runs beside the live certificate, which stays `issued` (still valid,
 * still deployed, still exportable) until the new chain downloads and replaces it in one write.
 */
export type RenewalState = Exclude<CertificateState, 'issued'>;

/** The last failed automatic renewal attempt: an error code, what happened, and when (ISO 8601). */
export interface RenewalError {
  code: string;
  message: string;
  at: string;
}

export interface ManagedCertificate {
  id: string;
  /** The BIG-IP object name; unique. */
  name: string;
  profileId: string;
  partition: string;
  commonName: string;
  /** Names besides the common name. */
  sans: string[];
  keySpec: KeySpec;
  keySealed: string | null;
  passphraseSealed: string | null;
  csrPem: string | null;
  state: CertificateState;
  orderUrl: string | null;
  finalizeUrl: string | null;
  authorizationUrls: string[];
  orderStatus: string | null;
  /** Orders created for this request so far; bounds how often an invalid order is replaced. */
  orderAttempts: number;
  problem: AcmeProblem | null;
  chainPem: string | null;
  serial: string | null;
  notBefore: Date | null;
  notAfter: Date | null;
  fingerprintSha256: string | null;
  subject: string | null;
  issuer: string | null;
  issuedAt: Date | null;
  requestedBy: string;
  /**
   * When the renewal sweep renews this certificate (see `renewal-time.ts`); persisted so a random point in an
   * ARI window stays put between sweeps. Null until issued.
   */
  renewAt: Date | null;
  renewReason: string | null;
  /** The CA's ARI window as last fetched, and when to ask again. */
  ariWindowStart: Date | null;
  ariWindowEnd: Date | null;
  ariNextPollAt: Date | null;
  /** Consecutive failed automatic attempts; reset on success. */
  failedAttempts: number;
  /** No automatic attempt before this (backoff after failure, or the CA's Retry-After). */
  nextAttemptAt: Date | null;
  /** When the renewal in flight began; an order still unfinished 4 h later is abandoned. */
  renewalStartedAt: Date | null;
  /**
   * The renewal in flight, beside the live certificate: its step (null when none), and the next key and CSR.
   * The order columns (`orderUrl` …) belong to it while it runs. The key is sealed like `keySealed` (same
   * AAD), so the finished renewal moves it over without opening it.
   */
  renewalState: RenewalState | null;
  renewalKeySealed: string | null;
  renewalCsrPem: string | null;
  /** Why the last automatic renewal attempt failed; null once a renewal succeeds (with `failedAttempts` 0). */
  lastRenewalError: RenewalError | null;
  /** When the renew job last started an attempt on this certificate (success or not). */
  lastRenewalAttemptAt: Date | null;
  /**
   * The last revocation at the CA: the serial revoked, when, why, and by whom. The live certificate is revoked
   * while `revokedSerial` equals `serial`; after a reissue it names the certificate that was replaced.
   */
  revokedSerial: string | null;
  revokedAt: Date | null;
  revocationReason: RevocationReason | null;
  revokedBy: string | null;
  /**
   * A `--reissue` revocation under way: the certificate to revoke once its replacement is deployed (kept
   * here because the renewal replaces it on the row), and for `keyCompromise` its key, sealed like `keySealed`
   * (same AAD). Cleared when the revocation is done; a `cert revoke --reissue` run again finishes it.
   */
  pendingRevocation: PendingRevocation | null;
  pendingRevocationKeySealed: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PendingRevocation {
  serial: string;
  /** The certificate (leaf first), public. */
  chainPem: string;
  reason: RevocationReason;
  requestedBy: string;
  /** ISO 8601. */
  at: string;
}

/** Whether the certificate on the row (the one bindings serve) has been revoked. */
export function isRevoked(cert: Pick<ManagedCertificate, 'serial' | 'revokedSerial'>): boolean {
  return cert.serial !== null && cert.revokedSerial === cert.serial;
}

export function certificateNames(cert: Pick<ManagedCertificate, 'commonName' | 'sans'>): string[] {
  return [...new Set([cert.commonName, ...cert.sans])];
}

/** BIG-IP object names: letters, digits, `.`, `_`, `-`; the CN with `*` spelled out is the default. */
export function defaultObjectName(commonName: string): string {
  return commonName.replace(/^\*\./, 'wildcard.').replace(/[^A-Za-z0-9._-]/g, '_');
}

export const OBJECT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;
