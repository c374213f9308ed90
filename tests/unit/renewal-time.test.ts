import { describe, expect, it, vi } from 'vitest';
import { isDue, type RenewalInput, type RenewalReason, renewalTime } from '../../core/domain/renewal-time.ts';
import { CoreError } from '../../core/errors.ts';

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The fake clock's origin: every certificate below is issued at day 0. */
const T0 = Date.parse('2026-03-01T00:00:00Z');
const day = (n: number) => new Date(T0 + n * DAY);

/** A `random` that fails the test if it is consulted. */
const noRandom = () => {
  throw new Error('random() must not be called');
};

interface Scenario {
  lifetimeDays: number;
  renewDaysBefore?: number;
  now?: Date;
  ari?: { start: Date; end: Date } | null;
  /** The value `random()` returns; without it `random` must not be called. */
  r?: number;
}

function decide({ lifetimeDays, renewDaysBefore = 0, now = day(0), ari, r }: Scenario) {
  return renewalTime({
    notBefore: day(0),
    notAfter: day(lifetimeDays),
    renewDaysBefore,
    ariWindow: ari,
    now,
    random: r === undefined ? noRandom : () => r,
  });
}

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err instanceof CoreError ? err.code : err;
  }
  return 'no error';
}

describe('renewalTime', () => {
  it.each<[string, Scenario, Date, RenewalReason]>([
    [
      'a 90-day certificate without ARI renews at day 60 (2/3 of its life)',
      { lifetimeDays: 90 },
      day(60),
      'lifetime_fraction',
    ],
    ['a 45-day certificate without ARI renews at day 30', { lifetimeDays: 45 }, day(30), 'lifetime_fraction'],
    [
      'a 6-day certificate renews at half its life (lifetimes under 10 days)',
      { lifetimeDays: 6 },
      day(3),
      'lifetime_fraction',
    ],
    [
      'a 10-day certificate is no longer short: 2/3, day 6 16:00',
      { lifetimeDays: 10 },
      new Date(T0 + 6 * DAY + 16 * HOUR),
      'lifetime_fraction',
    ],
    [
      'a 90-day certificate with a 7-day deadline still renews at day 60 (the deadline, day 83, is later)',
      { lifetimeDays: 90, renewDaysBefore: 7 },
      day(60),
      'lifetime_fraction',
    ],
    [
      'a 90-day certificate with a 45-day deadline renews at day 45',
      { lifetimeDays: 90, renewDaysBefore: 45 },
      day(45),
      'deadline',
    ],
    [
      'a 45-day certificate with a 30-day deadline renews at day 15',
      { lifetimeDays: 45, renewDaysBefore: 30 },
      day(15),
      'deadline',
    ],
    [
      'a 6-day certificate with a 7-day deadline (longer than its life) renews at day 2 (L/3), not day 0',
      { lifetimeDays: 6, renewDaysBefore: 7 },
      day(2),
      'deadline',
    ],
    [
      'a 90-day certificate with a 365-day deadline renews at day 30 (L/3)',
      { lifetimeDays: 90, renewDaysBefore: 365 },
      day(30),
      'deadline',
    ],
    [
      'the ARI window days 59–61 with random 0 gives its start',
      { lifetimeDays: 90, ari: { start: day(59), end: day(61) }, r: 0 },
      day(59),
      'ari_window',
    ],
    [
      'the ARI window days 59–61 with random 0.5 gives its middle',
      { lifetimeDays: 90, ari: { start: day(59), end: day(61) }, r: 0.5 },
      day(60),
      'ari_window',
    ],
    // 0.999 · 2 days = 172 627.2 s, truncated to whole seconds.
    [
      'the ARI window days 59–61 with random 0.999 stays inside it, truncated to the second',
      { lifetimeDays: 90, ari: { start: day(59), end: day(61) }, r: 0.999 },
      new Date(T0 + 59 * DAY + 172_627 * SECOND),
      'ari_window',
    ],
    [
      'an ARI window earlier than 2/3 is followed (the CA asks for an early renewal)',
      { lifetimeDays: 90, ari: { start: day(10), end: day(12) }, r: 0.5 },
      day(11),
      'ari_window',
    ],
    [
      'an ARI window that ends where it starts is ignored: day 60',
      { lifetimeDays: 90, ari: { start: day(59), end: day(59) } },
      day(60),
      'lifetime_fraction',
    ],
    [
      'an ARI window that ends before it starts is ignored: day 60',
      { lifetimeDays: 90, ari: { start: day(61), end: day(59) } },
      day(60),
      'lifetime_fraction',
    ],
    [
      'an ARI window with an invalid date is ignored: day 60',
      { lifetimeDays: 90, ari: { start: new Date(Number.NaN), end: day(61) } },
      day(60),
      'lifetime_fraction',
    ],
    ['no ARI window (null) gives day 60', { lifetimeDays: 90, ari: null }, day(60), 'lifetime_fraction'],
    [
      'an ARI window entirely in the past gives a time in the past: due now',
      { lifetimeDays: 90, now: day(10), ari: { start: day(1), end: day(2) }, r: 0.5 },
      new Date(T0 + 1.5 * DAY),
      'ari_window',
    ],
    [
      'an ARI window later than the deadline loses to the deadline',
      { lifetimeDays: 90, renewDaysBefore: 45, ari: { start: day(59), end: day(61) }, r: 0.5 },
      day(45),
      'deadline',
    ],
    [
      'a deadline inside the ARI window cuts off its later part',
      { lifetimeDays: 90, renewDaysBefore: 30, ari: { start: day(59), end: day(61) }, r: 0.9 },
      day(60),
      'deadline',
    ],
    [
      'a deadline inside the ARI window leaves its earlier part',
      { lifetimeDays: 90, renewDaysBefore: 30, ari: { start: day(59), end: day(61) }, r: 0.25 },
      new Date(T0 + 59.5 * DAY),
      'ari_window',
    ],
    [
      'within the last 1/20 of life, a future ARI window is ignored: renew now',
      { lifetimeDays: 90, now: day(86), ari: { start: day(88), end: day(89) } },
      day(86),
      'emergency',
    ],
    [
      'exactly 1/20 of life left (day 85.5) is an emergency',
      { lifetimeDays: 90, now: new Date(T0 + 85.5 * DAY) },
      new Date(T0 + 85.5 * DAY),
      'emergency',
    ],
    [
      'one second before 1/20 of life is left is not',
      { lifetimeDays: 90, now: new Date(T0 + 85.5 * DAY - SECOND) },
      day(60),
      'lifetime_fraction',
    ],
    ['an expired certificate renews now', { lifetimeDays: 90, now: day(91) }, day(91), 'emergency'],
    [
      'an emergency time is truncated to the second',
      { lifetimeDays: 90, now: new Date(T0 + 86 * DAY + 999) },
      day(86),
      'emergency',
    ],
    [
      'past day 60 but before the emergency, the decision is in the past: due now',
      { lifetimeDays: 90, now: day(70) },
      day(60),
      'lifetime_fraction',
    ],
  ])('%s', (_scenario, scenario, at, reason) => {
    expect(decide(scenario)).toEqual({ at, reason });
  });

  it('uses the certificate’s own notBefore, truncating sub-second times', () => {
    const notBefore = new Date(T0 - HOUR + 250); // Boulder backdates notBefore; any milliseconds are dropped
    const d = renewalTime({
      notBefore,
      notAfter: new Date(notBefore.getTime() + 90 * DAY),
      renewDaysBefore: 0,
      now: day(0),
      random: noRandom,
    });
    expect(d).toEqual({ at: new Date(T0 + 60 * DAY - HOUR), reason: 'lifetime_fraction' });
  });

  it('a 6-day certificate with a 7-day deadline is not due when issued, and each replacement waits 2 days (no loop)', () => {
    let issuedAt = day(0);
    for (let generation = 0; generation < 5; generation++) {
      const decision = renewalTime({
        notBefore: issuedAt,
        notAfter: new Date(issuedAt.getTime() + 6 * DAY),
        renewDaysBefore: 7,
        now: issuedAt,
        random: noRandom,
      });
      expect(isDue(decision, issuedAt)).toBe(false);
      expect(decision.at.getTime() - issuedAt.getTime()).toBe(2 * DAY);
      issuedAt = decision.at; // renewed on time: the replacement is issued at the decision
    }
    expect(issuedAt).toEqual(day(10));
  });

  describe('random', () => {
    it.each<[string, Scenario, number]>([
      ['is called once with a valid window', { lifetimeDays: 90, ari: { start: day(59), end: day(61) } }, 1],
      [
        'is called once even when the deadline wins over the window',
        { lifetimeDays: 90, renewDaysBefore: 45, ari: { start: day(59), end: day(61) } },
        1,
      ],
      ['is not called without a window', { lifetimeDays: 90 }, 0],
      ['is not called for a malformed window', { lifetimeDays: 90, ari: { start: day(61), end: day(59) } }, 0],
      ['is not called in an emergency', { lifetimeDays: 90, now: day(88), ari: { start: day(59), end: day(61) } }, 0],
    ])('%s', (_scenario, { lifetimeDays, renewDaysBefore = 0, now = day(0), ari }, calls) => {
      const random = vi.fn(() => 0.5);
      renewalTime({ notBefore: day(0), notAfter: day(lifetimeDays), renewDaysBefore, ariWindow: ari, now, random });
      expect(random).toHaveBeenCalledTimes(calls);
    });

    it('gives the same decision for the same random value, so a persisted one can be trusted', () => {
      const input: RenewalInput = {
        notBefore: day(0),
        notAfter: day(90),
        renewDaysBefore: 0,
        ariWindow: { start: day(59), end: day(61) },
        now: day(0),
        random: () => 0.3,
      };
      expect(renewalTime(input)).toEqual(renewalTime({ ...input, now: day(20) }));
    });
  });

  describe('isDue', () => {
    it.each([
      ['one second before the decision', new Date(T0 + 60 * DAY - SECOND), false],
      ['at the decision', day(60), true],
      ['after the decision', day(61), true],
    ])('%s → %s', (_scenario, now, due) => {
      expect(isDue({ at: day(60), reason: 'lifetime_fraction' }, now)).toBe(due);
    });
  });

  it.each<[string, Partial<RenewalInput>]>([
    ['a zero lifetime', { notAfter: day(0) }],
    ['notAfter before notBefore', { notAfter: day(-1) }],
    ['an invalid notBefore', { notBefore: new Date(Number.NaN) }],
    ['an invalid notAfter', { notAfter: new Date('not a date') }],
    ['an invalid now', { now: new Date(Number.NaN) }],
    ['a negative renewDaysBefore', { renewDaysBefore: -1 }],
    ['a fractional renewDaysBefore', { renewDaysBefore: 1.5 }],
    ['a NaN renewDaysBefore', { renewDaysBefore: Number.NaN }],
    ['an infinite renewDaysBefore', { renewDaysBefore: Number.POSITIVE_INFINITY }],
    ['random() returning 1 with a valid window', { ariWindow: { start: day(59), end: day(61) }, random: () => 1 }],
    [
      'random() returning a negative number with a valid window',
      { ariWindow: { start: day(59), end: day(61) }, random: () => -0.1 },
    ],
  ])('rejects %s with input_invalid', (_scenario, override) => {
    const input: RenewalInput = {
      notBefore: day(0),
      notAfter: day(90),
      renewDaysBefore: 0,
      now: day(0),
      random: noRandom,
      ...override,
    };
    expect(codeOf(() => renewalTime(input))).toBe('input_invalid');
  });

  it('for lifetimes of 1 hour to 400 days and deadlines of 0–365 days, stays within [notBefore + L/3, notAfter] unless an emergency', () => {
    const rand = mulberry32(20260301);
    for (let i = 0; i < 5_000; i++) {
      const lifetime = Math.floor(HOUR * (400 * 24) ** rand()); // log-uniform, millisecond resolution
      const notBefore = T0 + Math.floor(rand() * DAY);
      const notAfter = notBefore + lifetime;
      const renewDaysBefore = Math.floor(rand() * 366);
      const now = notBefore + Math.floor(rand() * lifetime);
      const input = { notBefore: new Date(notBefore), notAfter: new Date(notAfter), renewDaysBefore, random: noRandom };
      const context = JSON.stringify({ lifetime, notBefore, renewDaysBefore, now });

      const later = renewalTime({ ...input, now: new Date(now) });
      expect(later.at.getTime(), context).toBeLessThanOrEqual(notAfter);
      if (later.reason === 'emergency') {
        expect(now, context).toBeGreaterThanOrEqual(notAfter - lifetime / 20);
        expect(later.at.getTime(), context).toBeLessThanOrEqual(now);
      } else {
        expect(later.at.getTime(), context).toBeGreaterThanOrEqual(notBefore + lifetime / 3);
      }

      const fresh = renewalTime({ ...input, now: new Date(notBefore) });
      expect(isDue(fresh, new Date(notBefore)), context).toBe(false);
    }
  });
});

describe('a persisted decision never waits past the emergency point', () => {
  it('a 90-day certificate whose ARI window lies in its last days (deadline 0) is scheduled at notAfter − L/20', () => {
    const d = decide({ lifetimeDays: 90, ari: { start: day(88), end: day(89) }, r: 0.5 });
    expect(d).toEqual({ at: new Date(day(90).getTime() - (90 * DAY) / 20), reason: 'emergency' });
  });
});

/** A small seeded PRNG so the property test is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
