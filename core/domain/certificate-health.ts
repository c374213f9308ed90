import { mentionCommand } from '../errors.ts';
import { EXPIRY_REASON_TEXT, expiryWarnings } from './expiry-warning.ts';
import { isRevoked, type ManagedCertificate } from './managed-certificate.ts';

/**
 * What, if anything, is wrong with one certificate: the one rule behind `bigip-acme status`, Slack's
 * `/acme status` and anything else that shows health. Pure, built only from what every certificate row has
 * today (state, problem, failedAttempts, nextAttemptAt, renewAt, notBefore/notAfter) plus the newest
 * recorded failure, so a richer source for that failure (a last-error column) can replace `lastFailure`
 * without any caller changing.
 *
 * - `failing`: production is at risk or a request did not get what it asked for (an expired certificate, a
 *   renewal that keeps failing, a first issuance that failed).
 * - `degraded`: not broken yet, but not on its way to fixing itself (expiring without a renewal on its way,
 *   waiting for challenge content only a person can publish, an issuance an approver denied).
 */
export type HealthLevel = 'failing' | 'degraded';

export type CertificateConcern =
  | 'expired'
  | 'issuance_failed'
  | 'renewal_failing'
  | 'expiring'
  | 'revoked'
  | 'awaiting_challenge'
  | 'issuance_denied';

/** Worst first: the order status sections and Slack list them in. */
export const CONCERN_ORDER: readonly CertificateConcern[] = [
  'expired',
  'renewal_failing',
  'issuance_failed',
  'expiring',
  'revoked',
  'awaiting_challenge',
  'issuance_denied',
];

/** A failure as recorded: today the outbox's `renewal_failed` event (one per certificate and day, so `attempt` may be older than the count). */
export interface RecordedFailure {
  code: string;
  message: string;
  at: Date | null;
  /** Which consecutive attempt it was, when known. */
  attempt: number | null;
}

export type HealthFacts = Pick<
  ManagedCertificate,
  | 'id'
  | 'name'
  | 'state'
  | 'serial'
  | 'problem'
  | 'failedAttempts'
  | 'nextAttemptAt'
  | 'renewAt'
  | 'notBefore'
  | 'notAfter'
> &
  // Where a renewal beside the live certificate stands, and its last error (migration 0007).
  Partial<Pick<ManagedCertificate, 'renewalState' | 'lastRenewalError'>> &
  // The last revocation (migration 0008).
  Partial<Pick<ManagedCertificate, 'revokedSerial' | 'revokedAt' | 'revocationReason' | 'revokedBy'>>;

export interface CertificateHealthInput {
  cert: HealthFacts;
  /** The certificate's CA profile renews automatically. */
  autoRenew: boolean;
  /** The newest recorded automatic-attempt failure of this certificate, if any. */
  lastFailure: RecordedFailure | null;
  now: Date;
}

export interface CertificateHealth {
  concern: CertificateConcern;
  level: HealthLevel;
  /** One line for a person: what is wrong, and what happens next or what to do. */
  summary: string;
  lastError: RecordedFailure | null;
}

const DAY_MS = 86_400_000;

/** Seconds precision is enough for a person, and keeps lines short. */
export function shortTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function lastErrorOf(cert: HealthFacts, lastFailure: RecordedFailure | null): RecordedFailure | null {
  // The row's own record of the last failed renewal attempt first; it is cleared when a renewal succeeds.
  const own = cert.lastRenewalError;
  if (own && (cert.failedAttempts > 0 || cert.renewalState)) {
    const at = new Date(own.at);
    return {
      code: own.code,
      message: own.message || own.code,
      at: Number.isNaN(at.getTime()) ? null : at,
      attempt: cert.failedAttempts > 0 ? cert.failedAttempts : null,
    };
  }
  // A recorded failure counts only while the failure streak it belongs to lasts (success resets the count).
  if (cert.failedAttempts > 0 && lastFailure) return lastFailure;
  if (cert.problem)
    return { code: cert.problem.type, message: cert.problem.detail || cert.problem.type, at: null, attempt: null };
  return null;
}

function describeError(e: RecordedFailure | null): string {
  if (!e) return 'no error recorded';
  const when = [e.attempt !== null ? `attempt ${e.attempt}` : null, e.at ? shortTime(e.at) : null]
    .filter(Boolean)
    .join(', ');
  return `${e.message}${when ? ` (${when})` : ''}`;
}

function attempts(n: number): string {
  return `${n} failed attempt${n === 1 ? '' : 's'}`;
}

export function certificateHealth(input: CertificateHealthInput): CertificateHealth | null {
  const { cert, now } = input;
  const everIssued = cert.serial !== null;
  const lastError = lastErrorOf(cert, input.lastFailure);
  // A renewal runs beside the live certificate, which stays `issued`: its step is `renewalState`, its error
  // `lastRenewalError`. Older rows show it as a failed-attempt count on a renewal still in flight (`ordering`).
  const renewalFailed = cert.renewalState === 'failed';
  const failing =
    cert.failedAttempts > 0 ||
    cert.state === 'failed' ||
    renewalFailed ||
    (cert.state === 'issued' && cert.problem !== null);
  const next =
    cert.nextAttemptAt && cert.nextAttemptAt > now
      ? `next attempt ${shortTime(cert.nextAttemptAt)}`
      : 'next attempt at the next renew run';

  if (everIssued && cert.notAfter && cert.notAfter <= now) {
    const step = cert.renewalState ?? (cert.state !== 'issued' ? cert.state : null);
    const renewal = failing
      ? `; renewal failing (${attempts(cert.failedAttempts)}): ${describeError(lastError)}; ${next}`
      : step
        ? `; renewal ${step}`
        : '';
    return {
      concern: 'expired',
      level: 'failing',
      summary: `expired ${shortTime(cert.notAfter)}${renewal}`,
      lastError,
    };
  }
  if (!everIssued && cert.problem?.type === 'issuance_denied') {
    return { concern: 'issuance_denied', level: 'degraded', summary: cert.problem.detail, lastError };
  }
  if (!everIssued && failing) {
    return {
      concern: 'issuance_failed',
      level: 'failing',
      summary: `first issuance failed: ${describeError(lastError)}; fix the cause, then: ${mentionCommand(['cert', 'resume', cert.name])}`,
      lastError,
    };
  }
  if (everIssued && failing) {
    const expires = cert.notAfter ? `; the current certificate expires ${shortTime(cert.notAfter)}` : '';
    return {
      concern: 'renewal_failing',
      level: 'failing',
      summary: `renewal failing (${attempts(Math.max(cert.failedAttempts, 1))}): ${describeError(lastError)}; ${cert.state === 'failed' || (renewalFailed && cert.failedAttempts === 0) ? `fix the cause, then: ${mentionCommand(['cert', 'resume', cert.name])}` : next}${expires}`,
      lastError,
    };
  }
  if (cert.revokedSerial !== undefined && isRevoked({ serial: cert.serial, revokedSerial: cert.revokedSerial })) {
    const what = `revoked ${cert.revokedAt ? shortTime(cert.revokedAt) : '?'} (${cert.revocationReason ?? '?'}, by ${cert.revokedBy ?? '?'})`;
    return {
      concern: 'revoked',
      level: 'degraded',
      summary: input.autoRenew
        ? `${what}; BIG-IPs bound to it keep serving it until the next renew run replaces it and the deploy job deploys the replacement`
        : `${what}; BIG-IPs bound to it keep serving it until a replacement is deployed: ${mentionCommand(['cert', 'renew', cert.name])}, then ${mentionCommand(['cert', 'deploy', cert.name])}`,
      lastError,
    };
  }
  const warning = expiryWarnings([{ cert, autoRenew: input.autoRenew }], now)[0];
  if (warning) {
    const days = Math.max(0, Math.floor((warning.notAfter.getTime() - now.getTime()) / DAY_MS));
    return {
      concern: 'expiring',
      level: 'degraded',
      summary: `expires ${shortTime(warning.notAfter)} (${days} day${days === 1 ? '' : 's'} left) and ${EXPIRY_REASON_TEXT[warning.reason]}`,
      lastError,
    };
  }
  if (cert.state === 'awaiting_challenge' || cert.renewalState === 'awaiting_challenge') {
    return {
      concern: 'awaiting_challenge',
      level: 'degraded',
      summary: `waiting for challenge content: publish it (${mentionCommand(['domain', 'challenge', '<domain>'])}), then: ${mentionCommand(['cert', 'resume', cert.name])}`,
      lastError,
    };
  }
  return null;
}
