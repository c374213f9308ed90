import { CoreError } from '../errors.ts';

/**
 * When to try a failed issuance or renewal again. Pure; the caller counts consecutive failures (reset on
 * success) and persists the answer as `nextAttemptAt`.
 *
 * Without a live certificate (a first issuance) it is cert-manager's backoff (`trigger_controller.go`): 1 h
 * after the first failure, doubling to at most 32 h, so a broken request is retried about daily instead of
 * hammering the CA.
 *
 * With a live certificate (a renewal) the deadline rules, because that certificate stops working at its
 * `notAfter` whatever the backoff says. With L = notAfter − notBefore (from the certificate itself):
 *
 * 1. Scaled backoff: the 1 h → 32 h schedule was made for 90-day certificates; for shorter lifetimes it is
 *    the same fraction of the lifetime (× L / 90 days: a 6-day certificate waits 4 min → 128 min, a 240-s one
 *    fractions of a second). Lifetimes over 90 days keep 1 h → 32 h.
 * 2. Floor: never sooner than min(1 min, L/100) after now, so a failing CA is not hammered (certmagic's
 *    smallest retry interval is 1 min); only lifetimes under 100 min go below a minute.
 * 3. Safety margin M = max(L/100, min(2 min, L/50)), deadline = notAfter − M. L/100 is most of a day for a
 *    90-day certificate and 86 min for a 6-day one: room for the renewal to finish and for the deploy job
 *    (every 5 min, at once when what is served would expire first) to put it on the devices. The 2-min floor
 *    covers one order with validation for very short lifetimes; it is capped at L/50 so that at least 3/5 of
 *    the last 1/20 stays ahead of the deadline.
 * 4. Final stretch (less than L/20 left, where `renewal-time.ts` already renews at once): minutes, not
 *    hours — certmagic's 1, 2, 2, 5, 10 min by failure count (at most L/20 for very short lifetimes), and at
 *    most a quarter of the time left before the deadline, so attempts close in on it instead of jumping past.
 * 5. Cap: while now + floor is still before the deadline, the next attempt is never after the deadline.
 *    Past the deadline but before `notAfter`: the final-stretch step, at most half the time left, so attempts
 *    keep landing before expiry. Expired: the final-stretch step (the service is down; every attempt counts).
 * 6. A CA's Retry-After (rate limits) is a floor, never shortened — also when it lands past the deadline:
 *    an earlier attempt would be refused for certain and may extend the limit. The decision then says
 *    `retry_after_past_deadline` so the caller raises it to a person (see decision 0014).
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const MAX_DELAY_MS = 32 * HOUR_MS;
/** The lifetime the 1 h → 32 h schedule was made for (Let's Encrypt's 90 days). */
const REFERENCE_LIFETIME_MS = 90 * DAY_MS;
/** certmagic `async.go` retryIntervals for its first attempts, used inside the last 1/20. */
const FINAL_STRETCH_STEPS_MS = [1, 2, 2, 5, 10].map((m) => m * MINUTE_MS);
const FLOOR_MS = MINUTE_MS;
const MARGIN_FLOOR_MS = 2 * MINUTE_MS;

/** Delay before retry number `failures` (1 = after the first failure): min(1 h · 2^(failures−1), 32 h). */
export function retryDelayMs(failures: number): number {
  checkFailures(failures);
  // The exponent is capped before raising 2 to it, so a large count can neither overflow nor lose precision.
  return Math.min(HOUR_MS * 2 ** Math.min(failures - 1, 5), MAX_DELAY_MS);
}

/** When to try again without a live certificate: now + delay, but never before a CA's Retry-After. */
export function nextAttemptAt(now: Date, failures: number, retryAfterMs?: number | null): Date {
  const nowMs = checkedTime(now, 'now');
  const delay = retryDelayMs(failures);
  const retryAfter = checkedRetryAfter(retryAfterMs);
  // A Retry-After already in the past (≤ 0) imposes nothing; the backoff stands.
  return new Date(nowMs + Math.max(delay, retryAfter));
}

/** The live certificate's validity, from the certificate itself. */
export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** M = max(L/100, min(2 min, L/50)): no retry is scheduled later than notAfter − M (rule 3). */
export function renewalSafetyMarginMs(validity: Validity): number {
  const lifetime = lifetimeOf(validity);
  return Math.max(lifetime / 100, Math.min(MARGIN_FLOOR_MS, lifetime / 50));
}

/** notAfter − the safety margin: the latest a renewal retry is scheduled while that is still possible. */
export function renewalRetryDeadline(validity: Validity): Date {
  return new Date(Math.floor(validity.notAfter.getTime() - renewalSafetyMarginMs(validity)));
}

export interface RetryInput {
  now: Date;
  /** Consecutive failures including this one (≥ 1). */
  failures: number;
  /** The certificate in service, if any: null for a first issuance. */
  live: Validity | null;
  /** The CA's Retry-After in ms (rate limits); null or ≤ 0 for none. */
  retryAfterMs?: number | null;
}

/**
 * - `backoff`: the (scaled) exponential backoff.
 * - `deadline`: the backoff would have passed the deadline; capped to it.
 * - `final_stretch`: less than 1/20 of the lifetime left; minutes apart.
 * - `past_deadline`: the deadline has passed (or is closer than the floor) but the certificate is still valid.
 * - `expired`: the certificate has expired; retried at the final-stretch pace.
 * - `retry_after`: the CA's Retry-After came later than any of the above.
 * - `retry_after_past_deadline`: the same, and it lands after the deadline; needs a person.
 */
export type RetryReason =
  | 'backoff'
  | 'deadline'
  | 'final_stretch'
  | 'past_deadline'
  | 'expired'
  | 'retry_after'
  | 'retry_after_past_deadline';

export interface RetryDecision {
  at: Date;
  reason: RetryReason;
  /** notAfter − safety margin of the live certificate; null without one. */
  deadline: Date | null;
}

export function nextRenewalAttempt(input: RetryInput): RetryDecision {
  const now = checkedTime(input.now, 'now');
  checkFailures(input.failures);
  const retryAfter = checkedRetryAfter(input.retryAfterMs);
  if (!input.live) {
    const delay = retryDelayMs(input.failures);
    return {
      at: new Date(now + Math.max(delay, retryAfter)),
      reason: retryAfter > delay ? 'retry_after' : 'backoff',
      deadline: null,
    };
  }

  const lifetime = lifetimeOf(input.live);
  const notAfter = input.live.notAfter.getTime();
  const deadline = notAfter - renewalSafetyMarginMs(input.live);
  const floor = Math.min(FLOOR_MS, lifetime / 100);
  const stretchStep = Math.min(
    FINAL_STRETCH_STEPS_MS[Math.min(input.failures, FINAL_STRETCH_STEPS_MS.length) - 1]!,
    lifetime / 20,
  );

  let at: number;
  let reason: RetryReason;
  if (now >= notAfter) {
    at = now + Math.max(floor, stretchStep);
    reason = 'expired';
  } else if (now + floor > deadline) {
    at = now + Math.max(floor, Math.min(stretchStep, (notAfter - now) / 2));
    reason = 'past_deadline';
  } else if (notAfter - now <= lifetime / 20) {
    at = now + Math.max(floor, Math.min(stretchStep, (deadline - now) / 4));
    reason = 'final_stretch';
  } else {
    const scaled = retryDelayMs(input.failures) * Math.min(1, lifetime / REFERENCE_LIFETIME_MS);
    at = now + Math.max(floor, scaled);
    reason = 'backoff';
  }
  // Rule 5; rules 2 and 4 keep at ≥ now + floor, and the branch above guarantees now + floor ≤ deadline here.
  if (reason !== 'expired' && reason !== 'past_deadline' && at > deadline) {
    at = deadline;
    reason = 'deadline';
  }
  if (now + retryAfter > at) {
    at = now + retryAfter;
    reason = at > deadline ? 'retry_after_past_deadline' : 'retry_after';
  }
  // Whole milliseconds, rounded down: never later than the deadline (also rounded down) once stored.
  return { at: new Date(Math.floor(at)), reason, deadline: new Date(Math.floor(deadline)) };
}

function checkFailures(failures: number): void {
  if (!Number.isInteger(failures) || failures < 1) {
    throw new CoreError('input_invalid', `failures must be an integer ≥ 1, got ${failures}`);
  }
}

function checkedTime(date: Date, what: string): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new CoreError('input_invalid', `${what} must be a valid date`);
  return ms;
}

function checkedRetryAfter(retryAfterMs: number | null | undefined): number {
  if (retryAfterMs === null || retryAfterMs === undefined) return 0;
  if (!Number.isFinite(retryAfterMs)) {
    throw new CoreError('input_invalid', `retryAfterMs must be a finite number of milliseconds, got ${retryAfterMs}`);
  }
  return Math.max(0, retryAfterMs);
}

function lifetimeOf(validity: Validity): number {
  const lifetime = checkedTime(validity.notAfter, 'notAfter') - checkedTime(validity.notBefore, 'notBefore');
  if (lifetime <= 0) {
    throw new CoreError(
      'input_invalid',
      `certificate lifetime must be positive (notBefore ${validity.notBefore.toISOString()}, notAfter ${validity.notAfter.toISOString()})`,
    );
  }
  return lifetime;
}
