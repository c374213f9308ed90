import type { Store } from '../ports/store.ts';
import type { ManagedCertificate } from './managed-certificate.ts';

/**
 * Expiry warnings at 21, 7 and 3 days before `notAfter`, for certificates that will not renew in time.
 * Pure: the caller emits each warning into the outbox with its `dedupeKey`, which names the certificate,
 * the threshold and the serial, so each threshold warns once per certificate serial and a restart (or a
 * second replica) never repeats one. A renewed certificate has a new serial and starts afresh.
 */
export const EXPIRY_THRESHOLDS_DAYS = [21, 7, 3] as const;
const DAY_MS = 86_400_000;
export type ExpiryThreshold = (typeof EXPIRY_THRESHOLDS_DAYS)[number];

export type ExpiryReason =
  | 'auto_renew_off'
  | 'no_renewal_scheduled'
  | 'renewal_overdue'
  | 'renewal_after_expiry'
  | 'renewal_failing'
  | 'renewal_stuck';

export interface ExpiryCandidate {
  cert: Pick<
    ManagedCertificate,
    'id' | 'name' | 'serial' | 'notBefore' | 'notAfter' | 'renewAt' | 'failedAttempts' | 'state'
  > &
    Partial<Pick<ManagedCertificate, 'renewalState'>>;
  /** The certificate's CA profile renews automatically. */
  autoRenew: boolean;
}

export interface ExpiryWarning {
  certificateId: string;
  name: string;
  serial: string;
  notAfter: Date;
  renewAt: Date | null;
  threshold: ExpiryThreshold;
  /** Whole days left, rounded down (0 or less when already expired). */
  daysLeft: number;
  reason: ExpiryReason;
  /** `<certId>:expiry_warning_<21|7|3>:<serial>`. */
  dedupeKey: string;
}

/** A renewal this late past its time means the sweep is not getting to it. */
const OVERDUE_GRACE_MS = 3_600_000;

/** Why this certificate is not on its way to being renewed before it expires, or null when it is. */
function notRenewingReason(c: ExpiryCandidate, notAfter: Date, now: Date): ExpiryReason | null {
  if (!c.autoRenew) return 'auto_renew_off';
  // A renewal runs beside the live certificate (`renewalState`); rows from before that ran in `state`.
  const renewal = c.cert.renewalState ?? (c.cert.state === 'issued' ? null : c.cert.state);
  if (c.cert.failedAttempts > 0 || renewal === 'failed') return 'renewal_failing';
  // A renewal waiting on a person (manual challenge content) is not going to finish by itself.
  if (renewal === 'awaiting_challenge') return 'renewal_stuck';
  if (c.cert.renewAt === null) return 'no_renewal_scheduled';
  if (c.cert.renewAt.getTime() >= notAfter.getTime()) return 'renewal_after_expiry';
  if (renewal === null && c.cert.renewAt.getTime() < now.getTime() - OVERDUE_GRACE_MS) return 'renewal_overdue';
  return null;
}

/**
 * Which certificates need a warning now. Only the tightest threshold already reached is returned (a
 * certificate first seen at 5 days left gets the 7-day warning, not the 21-day one too); earlier thresholds
 * already warned are deduplicated by the outbox.
 */
export function expiryWarnings(certs: readonly ExpiryCandidate[], now: Date): ExpiryWarning[] {
  const out: ExpiryWarning[] = [];
  for (const c of certs) {
    const { notBefore, notAfter, serial } = c.cert;
    if (!notAfter || !serial) continue;
    const leftMs = notAfter.getTime() - now.getTime();
    const lifetimeMs = notBefore ? notAfter.getTime() - notBefore.getTime() : Number.POSITIVE_INFINITY;
    // A threshold as long as half the lifetime says nothing about a short-lived certificate (6 days).
    const reached = EXPIRY_THRESHOLDS_DAYS.filter((t) => leftMs <= t * DAY_MS && t * DAY_MS * 2 <= lifetimeMs);
    const threshold = reached[reached.length - 1];
    if (threshold === undefined) continue;
    const reason = notRenewingReason(c, notAfter, now);
    if (!reason) continue;
    out.push({
      certificateId: c.cert.id,
      name: c.cert.name,
      serial,
      notAfter,
      renewAt: c.cert.renewAt,
      threshold,
      daysLeft: Math.floor(leftMs / DAY_MS),
      reason,
      dedupeKey: `${c.cert.id}:expiry_warning_${threshold}:${serial}`,
    });
  }
  return out;
}

export const EXPIRY_REASON_TEXT: Record<ExpiryReason, string> = {
  auto_renew_off: 'automatic renewal is off for its CA profile',
  no_renewal_scheduled: 'no renewal is scheduled',
  renewal_overdue: 'its renewal time has passed and it has not been renewed',
  renewal_after_expiry: 'its renewal is scheduled after it expires',
  renewal_failing: 'automatic renewal is failing',
  renewal_stuck: 'the renewal is waiting for challenge content',
};

/** The outbox event for a warning. */
export function expiryWarningEvent(w: ExpiryWarning) {
  return {
    kind: 'expiry_warning' as const,
    certificateId: w.certificateId,
    subject: w.name,
    dedupeKey: w.dedupeKey,
    detail: {
      serial: w.serial,
      notAfter: w.notAfter.toISOString(),
      renewAt: w.renewAt?.toISOString() ?? null,
      threshold: w.threshold,
      daysLeft: w.daysLeft,
      reason: EXPIRY_REASON_TEXT[w.reason],
    },
    needsPerson: true,
  };
}

/** Reads the certificates within the widest threshold and their profiles' auto-renew setting; the warnings due now. */
export async function collectExpiryWarnings(
  store: Pick<Store, 'certificates' | 'profiles'>,
  now: Date,
): Promise<ExpiryWarning[]> {
  const horizon = new Date(now.getTime() + Math.max(...EXPIRY_THRESHOLDS_DAYS) * DAY_MS);
  const [certs, profiles] = await Promise.all([store.certificates.listExpiringBefore(horizon), store.profiles.list()]);
  const autoRenew = new Map(profiles.map((p) => [p.id, p.autoRenew]));
  return expiryWarnings(
    certs.map((cert) => ({ cert, autoRenew: autoRenew.get(cert.profileId) ?? false })),
    now,
  );
}
