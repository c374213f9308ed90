import { CoreError } from '../errors.ts';

/**
 * Backoff across failed issuance attempts (cert-manager `trigger_controller.go`): 1 h after the first failure,
 * doubling to at most 32 h, so a broken certificate is retried about daily instead of hammering the CA.
 * The caller counts consecutive failures and resets the count on success. A CA's Retry-After (rate limits)
 * is a floor, never shortened by the backoff.
 */

const HOUR_MS = 3_600_000;
const MAX_DELAY_MS = 32 * HOUR_MS;

/** Delay before retry number `failures` (1 = after the first failure): min(1 h · 2^(failures−1), 32 h). */
export function retryDelayMs(failures: number): number {
  if (!Number.isInteger(failures) || failures < 1) {
    throw new CoreError('input_invalid', `failures must be an integer ≥ 1, got ${failures}`);
  }
  // The exponent is capped before raising 2 to it, so a large count can neither overflow nor lose precision.
  return Math.min(HOUR_MS * 2 ** Math.min(failures - 1, 5), MAX_DELAY_MS);
}

/** When to try again: now + delay, but never before a CA's Retry-After when one was given (rate limits). */
export function nextAttemptAt(now: Date, failures: number, retryAfterMs?: number | null): Date {
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new CoreError('input_invalid', 'now must be a valid date');
  const delay = retryDelayMs(failures);
  if (retryAfterMs === null || retryAfterMs === undefined) return new Date(nowMs + delay);
  if (!Number.isFinite(retryAfterMs)) {
    throw new CoreError('input_invalid', `retryAfterMs must be a finite number of milliseconds, got ${retryAfterMs}`);
  }
  // A Retry-After already in the past (≤ 0) imposes nothing; the backoff stands.
  return new Date(nowMs + Math.max(delay, retryAfterMs));
}
