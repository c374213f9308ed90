import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseEventKinds, parseLimit, parseSince } from '../../cli/list-filters.ts';

const NOW = Date.parse('2030-06-15T12:00:00Z');

describe('parseSince', () => {
  it.each([
    ['30s', '2030-06-15T11:59:30.000Z'],
    ['30m', '2030-06-15T11:30:00.000Z'],
    ['1h', '2030-06-15T11:00:00.000Z'],
    ['7d', '2030-06-08T12:00:00.000Z'],
    ['2w', '2030-06-01T12:00:00.000Z'],
    ['2030-01-31', '2030-01-31T00:00:00.000Z'],
    ['2030-01-31T12:00:00Z', '2030-01-31T12:00:00.000Z'],
    ['2030-01-31T12:00', '2030-01-31T12:00:00.000Z'],
    ['2030-01-31 12:00:05', '2030-01-31T12:00:05.000Z'],
    ['2030-01-31T14:00:00+02:00', '2030-01-31T12:00:00.000Z'],
  ])('%s', (input, expected) => {
    expect(parseSince(input, NOW).toISOString()).toBe(expected);
  });

  it.each(['yesterday', '1', '1y', '-1h', '1.5h', '', '2030-13-01', '2030-01-31T25:00', '31/01/2030'])(
    'refuses %j, saying what is accepted',
    (input) => {
      expect(() => parseSince(input, NOW)).toThrow(InvalidArgumentError);
      expect(() => parseSince(input, NOW)).toThrow(/duration back from now \(30m, 1h, 7d, 2w\) or an ISO date or time/);
    },
  );
});

describe('parseLimit and parseEventKinds', () => {
  it('takes 1 to 1000', () => {
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('1000')).toBe(1000);
    for (const bad of ['0', '1001', '-1', '1e3', 'ten', '']) expect(() => parseLimit(bad)).toThrow(/from 1 to 1000/);
  });

  it('takes known event types, repeated or comma-separated, and names the unknown ones', () => {
    expect(parseEventKinds('renewal_failed, deploy_failed')).toEqual(['renewal_failed', 'deploy_failed']);
    expect(parseEventKinds('renewal_failed', ['renewal_failed', 'renewed'])).toEqual(['renewal_failed', 'renewed']);
    expect(() => parseEventKinds('renewal_failed,bogus')).toThrow(
      /unknown event type "bogus" \(types: renewal_due, renewed, renewal_failed/,
    );
    expect(() => parseEventKinds(',')).toThrow(/unknown event type/);
  });
});
