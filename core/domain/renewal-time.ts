import { CoreError } from '../errors.ts';

/**
 * When to renew a certificate: a pure function of the certificate's own validity, the profile's deadline and
 * the CA's ARI window (RFC 9773), modelled on cert-manager `pkg/util/pki/renewaltime.go`. The rules, in order:
 *
 * 1. L = notAfter − notBefore, from the certificate itself, never the local issue time (Boulder backdates
 *    `notBefore`). L ≤ 0, a date that is not a finite time, or `renewDaysBefore` that is not an integer ≥ 0
 *    is a caller bug: `input_invalid`.
 * 2. Base: with a valid ARI window (end > start), a uniformly random point in [start, end) (`ari_window`);
 *    a malformed window (end ≤ start, or an invalid date) is ignored. Without one, notBefore + 2/3·L, or
 *    notBefore + 1/2·L when L < 10 days (`lifetime_fraction`; certbot, lego, cert-manager).
 * 3. Deadline: notAfter − `renewDaysBefore` days, but never earlier than notBefore + L/3. Without that floor
 *    a deadline longer than the lifetime (7 days before expiry on a 6-day certificate) would make every fresh
 *    certificate due the moment it is issued, and renewal would loop. If the deadline is earlier than the
 *    base, it wins (`deadline`).
 * 4. Emergency: once now ≥ notAfter − L/20, renew now (`emergency`), whatever the ARI window says; and no
 *    decision is ever later than notAfter − L/20.
 * 5. A window already over (end ≤ now) gives a point in the past, so the certificate is due at once; the
 *    reason stays `ari_window` (the CA asked for it, e.g. before a revocation).
 * 6. `at` is truncated to whole seconds.
 * 7. `random` is called at most once, and only when a valid window is considered (not in an emergency), so
 *    a caller can persist the decision and recompute it only when the window changes.
 *
 * The L/3 floor bounds the deadline only; a CA's window may ask for an earlier renewal and is followed.
 */

export interface RenewalInput {
  /** The certificate's own validity (never the local issue time). */
  notBefore: Date;
  notAfter: Date;
  /** The profile's "renew N days before expiry": a deadline never passed, clamped to notBefore + L/3. */
  renewDaysBefore: number;
  /** The CA's suggested window (ARI), if any; a malformed one is ignored. */
  ariWindow?: { start: Date; end: Date } | null;
  now: Date;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  random: () => number;
}

/**
 * - `ari_window`: a point inside the CA's suggested window.
 * - `lifetime_fraction`: 2/3 of the lifetime (1/2 below 10 days), no usable window.
 * - `deadline`: the profile's "renew N days before expiry" came first.
 * - `emergency`: less than 1/20 of the lifetime remains; renew now.
 */
export type RenewalReason = 'ari_window' | 'lifetime_fraction' | 'deadline' | 'emergency';

export interface RenewalDecision {
  at: Date;
  reason: RenewalReason;
}

const SECOND_MS = 1_000;
const DAY_MS = 86_400_000;
/** Below this lifetime renew at half of it rather than two thirds (Let's Encrypt's 6-day certificates). */
const SHORT_LIFETIME_MS = 10 * DAY_MS;

export function renewalTime(input: RenewalInput): RenewalDecision {
  const { notBefore, notAfter, renewDaysBefore, now } = input;
  const nb = notBefore.getTime();
  const na = notAfter.getTime();
  const nowMs = now.getTime();
  if (!Number.isFinite(nb) || !Number.isFinite(na) || !Number.isFinite(nowMs)) {
    throw new CoreError('input_invalid', 'renewal time needs valid notBefore, notAfter and now');
  }
  const lifetime = na - nb;
  if (lifetime <= 0) {
    throw new CoreError(
      'input_invalid',
      `certificate lifetime must be positive (notBefore ${notBefore.toISOString()}, notAfter ${notAfter.toISOString()})`,
    );
  }
  if (!Number.isInteger(renewDaysBefore) || renewDaysBefore < 0) {
    throw new CoreError('input_invalid', `renewDaysBefore must be an integer ≥ 0, got ${renewDaysBefore}`);
  }

  if (nowMs >= na - lifetime / 20) return { at: new Date(floorToSecond(nowMs)), reason: 'emergency' };

  const window = validWindow(input.ariWindow);
  let base: number;
  let reason: RenewalReason;
  if (window) {
    const r = input.random();
    if (!(r >= 0 && r < 1)) throw new CoreError('input_invalid', `random() must return a number in [0, 1), got ${r}`);
    base = floorToSecond(window.start + r * (window.end - window.start));
    reason = 'ari_window';
  } else {
    base = floorToSecond(nb + (lifetime < SHORT_LIFETIME_MS ? lifetime / 2 : (lifetime * 2) / 3));
    reason = 'lifetime_fraction';
  }

  // The floor is rounded up, not down, so that truncating to seconds can never take a deadline below L/3.
  const floor = Math.ceil((nb + lifetime / 3) / SECOND_MS) * SECOND_MS;
  const deadline = Math.max(floorToSecond(na - renewDaysBefore * DAY_MS), floor);
  if (deadline < base) return { at: new Date(deadline), reason: 'deadline' };
  // A persisted decision is only recomputed when its inputs change, so it must not wait past the point where
  // rule 4 would have fired (a late ARI window with renewDaysBefore 0).
  const lastCall = floorToSecond(na - lifetime / 20);
  if (base > lastCall) return { at: new Date(lastCall), reason: 'emergency' };
  return { at: new Date(base), reason };
}

/** Whether `now` has reached the decision. */
export function isDue(decision: RenewalDecision, now: Date): boolean {
  return now.getTime() >= decision.at.getTime();
}

function validWindow(window: RenewalInput['ariWindow']): { start: number; end: number } | null {
  if (!window) return null;
  const start = window.start.getTime();
  const end = window.end.getTime();
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return null;
  return { start, end };
}

// Whole seconds, as cert-manager does (PR #4399): the decision is persisted and compared with values that went
// through storage and JSON at second precision; sub-second noise would make an unchanged decision look changed.
function floorToSecond(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}
