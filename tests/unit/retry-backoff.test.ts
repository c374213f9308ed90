import { describe, expect, it } from 'vitest';
import {
  nextAttemptAt,
  nextRenewalAttempt,
  renewalRetryDeadline,
  renewalSafetyMarginMs,
  type RetryReason,
  retryDelayMs,
  type Validity,
} from '../../core/domain/retry-backoff.ts';
import { CoreError } from '../../core/errors.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const SECOND = 1_000;
const DAY = 86_400_000;
const NOW = new Date('2026-03-01T12:00:00Z');
const inMs = (ms: number) => new Date(NOW.getTime() + ms);

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err instanceof CoreError ? err.code : err;
  }
  return 'no error';
}

describe('retryDelayMs', () => {
  it.each([
    ['the first failure waits 1 h', 1, HOUR],
    ['the second waits 2 h', 2, 2 * HOUR],
    ['the third waits 4 h', 3, 4 * HOUR],
    ['the sixth reaches the 32 h cap', 6, 32 * HOUR],
    ['the seventh stays at 32 h', 7, 32 * HOUR],
    ['the fiftieth stays at 32 h (no overflow)', 50, 32 * HOUR],
    ['a huge count stays at 32 h', Number.MAX_SAFE_INTEGER, 32 * HOUR],
  ])('%s', (_scenario, failures, delay) => {
    expect(retryDelayMs(failures)).toBe(delay);
  });

  it.each([
    ['zero failures', 0],
    ['a negative count', -1],
    ['a fractional count', 1.5],
    ['NaN', Number.NaN],
    ['infinity', Number.POSITIVE_INFINITY],
  ])('rejects %s with input_invalid', (_scenario, failures) => {
    expect(codeOf(() => retryDelayMs(failures))).toBe('input_invalid');
  });
});

describe('nextAttemptAt', () => {
  it.each<[string, number, number | null | undefined, Date]>([
    ['without Retry-After: now + backoff', 1, undefined, inMs(HOUR)],
    ['a null Retry-After is no Retry-After', 3, null, inMs(4 * HOUR)],
    ['a Retry-After longer than the backoff wins (rate limit)', 1, 3 * HOUR, inMs(3 * HOUR)],
    ['a Retry-After shorter than the backoff does not shorten it', 3, 30 * MINUTE, inMs(4 * HOUR)],
    ['a Retry-After equal to the backoff changes nothing', 2, 2 * HOUR, inMs(2 * HOUR)],
    ['a Retry-After already past (negative) imposes nothing', 1, -HOUR, inMs(HOUR)],
    ['a Retry-After beyond the 32 h cap is still honoured', 50, 48 * HOUR, inMs(48 * HOUR)],
  ])('%s', (_scenario, failures, retryAfterMs, expected) => {
    expect(nextAttemptAt(NOW, failures, retryAfterMs)).toEqual(expected);
  });

  it.each<[string, Date, number, number | null]>([
    ['zero failures', NOW, 0, null],
    ['an invalid now', new Date(Number.NaN), 1, null],
    ['a NaN Retry-After', NOW, 1, Number.NaN],
    ['an infinite Retry-After', NOW, 1, Number.POSITIVE_INFINITY],
  ])('rejects %s with input_invalid', (_scenario, now, failures, retryAfterMs) => {
    expect(codeOf(() => nextAttemptAt(now, failures, retryAfterMs))).toBe('input_invalid');
  });
});

/** Certificates issued at T0; `at(x)` is T0 + x ms. */
const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms);
const cert = (lifetimeMs: number): Validity => ({ notBefore: at(0), notAfter: at(lifetimeMs) });
const NINETY_DAYS = cert(90 * DAY);
const SIX_DAYS = cert(6 * DAY);
const FOUR_MINUTES = cert(240 * SECOND);

interface Row {
  live: Validity | null;
  /** ms after notBefore (or after T0 without a live certificate). */
  now: number;
  failures: number;
  retryAfterMs?: number;
  /** Expected delay after now, in ms. */
  delay: number;
  reason: RetryReason;
}

describe('nextRenewalAttempt: when a failed renewal is tried again', () => {
  const rows: [string, Row][] = [
    // A 90-day certificate renewing at day 60 keeps cert-manager's 1 h → 32 h doubling.
    ...[1, 2, 4, 8, 16, 32, 32, 32].map((hours, i): [string, Row] => [
      `90-day certificate at day 60, failure ${i + 1}: ${hours} h`,
      { live: NINETY_DAYS, now: 60 * DAY, failures: i + 1, delay: hours * HOUR, reason: 'backoff' },
    ]),
    // A 6-day certificate at half its life: the same schedule as a fraction of the lifetime (× 6/90).
    ...[4, 8, 16, 32, 64, 128].map((minutes, i): [string, Row] => [
      `6-day certificate at half life, failure ${i + 1}: ${minutes} min`,
      { live: SIX_DAYS, now: 3 * DAY, failures: i + 1, delay: minutes * MINUTE, reason: 'backoff' },
    ]),
    // The last 1/20 of the lifetime (4.5 days; 7.2 hours): minutes, not hours (certmagic 1, 2, 2, 5, 10).
    ...[1, 2, 2, 5, 10, 10, 10].map((minutes, i): [string, Row] => [
      `90-day certificate with 2 days left, failure ${i + 1}: ${minutes} min`,
      { live: NINETY_DAYS, now: 88 * DAY, failures: i + 1, delay: minutes * MINUTE, reason: 'final_stretch' },
    ]),
    ...[1, 2, 2, 5, 10].map((minutes, i): [string, Row] => [
      `6-day certificate with 5 hours left, failure ${i + 1}: ${minutes} min`,
      { live: SIX_DAYS, now: 6 * DAY - 5 * HOUR, failures: i + 1, delay: minutes * MINUTE, reason: 'final_stretch' },
    ]),
    [
      '6-day certificate 9.6 min before its deadline (96 min left): a quarter of that, not 10 min',
      { live: SIX_DAYS, now: 6 * DAY - 96 * MINUTE, failures: 5, delay: 2.4 * MINUTE, reason: 'final_stretch' },
    ],
    [
      '6-day certificate right at its deadline: the 1-min floor still fits before it',
      { live: SIX_DAYS, now: 6 * DAY - 87.4 * MINUTE, failures: 5, delay: MINUTE, reason: 'final_stretch' },
    ],
    [
      '6-day certificate past its deadline (87 min left): the final-stretch step, still before expiry',
      { live: SIX_DAYS, now: 6 * DAY - 87 * MINUTE, failures: 5, delay: 10 * MINUTE, reason: 'past_deadline' },
    ],
    [
      '6-day certificate 10 min before expiry: half of what is left',
      { live: SIX_DAYS, now: 6 * DAY - 10 * MINUTE, failures: 5, delay: 5 * MINUTE, reason: 'past_deadline' },
    ],
    [
      '90-day certificate 10 s before expiry: the 1-min floor (cannot help it)',
      { live: NINETY_DAYS, now: 90 * DAY - 10 * SECOND, failures: 9, delay: MINUTE, reason: 'past_deadline' },
    ],
    // A 240-s certificate (Pebble under test): floor L/100 = 2.4 s, margin 4.8 s, last 1/20 = 12 s.
    [
      '240-s certificate at its renewal time (80 s), failure 1: the 2.4-s floor, not 1 h',
      { live: FOUR_MINUTES, now: 80 * SECOND, failures: 1, delay: 2.4 * SECOND, reason: 'backoff' },
    ],
    [
      '240-s certificate, failure 6: 32 h × 240 s / 90 days',
      { live: FOUR_MINUTES, now: 80 * SECOND, failures: 6, delay: 3_555, reason: 'backoff' },
    ],
    [
      '240-s certificate with 10 s left: the floor, before the deadline',
      { live: FOUR_MINUTES, now: 230 * SECOND, failures: 3, delay: 2.4 * SECOND, reason: 'final_stretch' },
    ],
    [
      '240-s certificate with 6 s left (past its deadline): half of it',
      { live: FOUR_MINUTES, now: 234 * SECOND, failures: 3, delay: 3 * SECOND, reason: 'past_deadline' },
    ],
    // Already expired: keep trying at the final-stretch pace; the service is down.
    [
      '90-day certificate expired a day ago, failure 2: 2 min',
      { live: NINETY_DAYS, now: 91 * DAY, failures: 2, delay: 2 * MINUTE, reason: 'expired' },
    ],
    [
      '90-day certificate expired, failure 9: 10 min',
      { live: NINETY_DAYS, now: 91 * DAY, failures: 9, delay: 10 * MINUTE, reason: 'expired' },
    ],
    [
      '240-s certificate expired: at most L/20 (12 s)',
      { live: FOUR_MINUTES, now: 250 * SECOND, failures: 9, delay: 12 * SECOND, reason: 'expired' },
    ],
    // The CA's Retry-After is a floor.
    [
      'a Retry-After shorter than the backoff changes nothing',
      { live: NINETY_DAYS, now: 60 * DAY, failures: 3, retryAfterMs: 10 * MINUTE, delay: 4 * HOUR, reason: 'backoff' },
    ],
    [
      'a Retry-After longer than the backoff wins',
      {
        live: NINETY_DAYS,
        now: 60 * DAY,
        failures: 3,
        retryAfterMs: 10 * HOUR,
        delay: 10 * HOUR,
        reason: 'retry_after',
      },
    ],
    [
      'a Retry-After longer than a final-stretch step wins',
      {
        live: SIX_DAYS,
        now: 6 * DAY - 5 * HOUR,
        failures: 1,
        retryAfterMs: 20 * MINUTE,
        delay: 20 * MINUTE,
        reason: 'retry_after',
      },
    ],
    [
      'a Retry-After past the deadline is still honoured, and said so',
      {
        live: SIX_DAYS,
        now: 6 * DAY - 2 * HOUR,
        failures: 1,
        retryAfterMs: HOUR,
        delay: HOUR,
        reason: 'retry_after_past_deadline',
      },
    ],
    [
      'a Retry-After already past (negative) imposes nothing',
      { live: NINETY_DAYS, now: 60 * DAY, failures: 1, retryAfterMs: -HOUR, delay: HOUR, reason: 'backoff' },
    ],
    // No live certificate (a first issuance): the plain backoff.
    ['a first issuance, failure 1: 1 h', { live: null, now: 0, failures: 1, delay: HOUR, reason: 'backoff' }],
    ['a first issuance, failure 8: 32 h', { live: null, now: 0, failures: 8, delay: 32 * HOUR, reason: 'backoff' }],
    [
      'a first issuance with a longer Retry-After',
      { live: null, now: 0, failures: 1, retryAfterMs: 3 * HOUR, delay: 3 * HOUR, reason: 'retry_after' },
    ],
  ];

  it.each(rows)('%s', (_scenario, row) => {
    const decision = nextRenewalAttempt({
      now: at(row.now),
      failures: row.failures,
      live: row.live,
      retryAfterMs: row.retryAfterMs ?? null,
    });
    expect(decision.reason).toBe(row.reason);
    expect(decision.at.getTime() - T0 - row.now).toBe(Math.floor(row.delay));
    if (row.live) expect(decision.deadline).toEqual(renewalRetryDeadline(row.live));
    else expect(decision.deadline).toBeNull();
  });

  it.each([
    ['90 days: L/100 (21.6 h)', NINETY_DAYS, 21.6 * HOUR],
    ['6 days: L/100 (86.4 min)', SIX_DAYS, 86.4 * MINUTE],
    ['1 hour: the 2-min floor would be 1/30; L/50 (72 s) instead', cert(HOUR), 72 * SECOND],
    ['3 hours: the 2-min floor', cert(3 * HOUR), 2 * MINUTE],
    ['240 s: L/50 (4.8 s)', FOUR_MINUTES, 4.8 * SECOND],
  ])('safety margin, %s', (_scenario, validity, margin) => {
    expect(renewalSafetyMarginMs(validity)).toBeCloseTo(margin, 6);
  });

  it('never schedules past the deadline while one attempt still fits before it, never sooner than the floor, and never hours inside the last 1/20', () => {
    const lifetimes = [240 * SECOND, HOUR, DAY, 6 * DAY, 45 * DAY, 90 * DAY, 365 * DAY];
    const broken: string[] = [];
    let checked = 0;
    for (const lifetime of lifetimes) {
      const live = cert(lifetime);
      const deadline = renewalRetryDeadline(live).getTime();
      const floor = Math.min(MINUTE, lifetime / 100);
      for (let k = 0; k <= 1_000; k++) {
        const now = T0 + Math.floor((lifetime * 1.02 * k) / 1_000);
        for (let failures = 1; failures <= 10; failures++) {
          const next = nextRenewalAttempt({ now: new Date(now), failures, live }).at.getTime();
          const delay = next - now;
          const where = `L=${lifetime} now=+${now - T0} n=${failures} → +${delay}`;
          if (delay < Math.floor(floor) - 1) broken.push(`${where}: sooner than the floor`);
          if (now + floor <= deadline && next > deadline) broken.push(`${where}: after the deadline`);
          if (now + floor < T0 + lifetime && next >= T0 + lifetime) broken.push(`${where}: after expiry`);
          if (T0 + lifetime - now <= lifetime / 20 && delay > 10 * MINUTE)
            broken.push(`${where}: hours in the last 1/20`);
          checked++;
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBe(7 * 1_001 * 10);
  });

  it.each<[string, Partial<Parameters<typeof nextRenewalAttempt>[0]>]>([
    ['zero failures', { failures: 0 }],
    ['an invalid now', { now: new Date(Number.NaN) }],
    ['a NaN Retry-After', { retryAfterMs: Number.NaN }],
    ['a certificate with notAfter before notBefore', { live: { notBefore: at(DAY), notAfter: at(0) } }],
    ['a certificate with an invalid notAfter', { live: { notBefore: at(0), notAfter: new Date(Number.NaN) } }],
  ])('rejects %s with input_invalid', (_scenario, patch) => {
    expect(codeOf(() => nextRenewalAttempt({ now: at(DAY), failures: 1, live: NINETY_DAYS, ...patch }))).toBe(
      'input_invalid',
    );
  });
});
