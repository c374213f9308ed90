import { describe, expect, it } from 'vitest';
import { nextAttemptAt, retryDelayMs } from '../../core/domain/retry-backoff.ts';
import { CoreError } from '../../core/errors.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
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
