import { describe, expect, it } from 'vitest';
import { isDeployDue, nextDeployTime } from '../../core/domain/deploy-time.ts';

describe('nextDeployTime', () => {
  it.each([
    ['later the same day in UTC', '2026-03-10T08:00:00Z', '22:30', 'UTC', '2026-03-10T22:30:00.000Z'],
    ['the next day once the time has passed', '2026-03-10T23:00:00Z', '22:30', 'UTC', '2026-03-11T22:30:00.000Z'],
    ['midnight in Berlin (UTC+1 in winter)', '2026-01-15T12:00:00Z', '00:00', 'Europe/Berlin', '2026-01-15T23:00:00.000Z'],
    ['midnight in Berlin in summer (UTC+2)', '2026-07-15T12:00:00Z', '00:00', 'Europe/Berlin', '2026-07-15T22:00:00.000Z'],
    ['03:30 in New York across the spring change', '2026-03-07T12:00:00Z', '03:30', 'America/New_York', '2026-03-08T07:30:00.000Z'],
    ['exactly at the time is the next day', '2026-03-10T22:30:00Z', '22:30', 'UTC', '2026-03-11T22:30:00.000Z'],
  ])('%s', (_what, after, time, tz, expected) => {
    expect(nextDeployTime(new Date(after), time, tz).toISOString()).toBe(expected);
  });

  it('refuses a malformed time', () => {
    expect(() => nextDeployTime(new Date(), '24:00', 'UTC')).toThrow(/HH:MM/);
  });
});

describe('isDeployDue', () => {
  const issuedAt = new Date('2026-03-10T08:00:00Z');
  it.each([
    ['not before the deploy time', '2026-03-10T21:00:00Z', null, false, 'deploy_time'],
    ['at the deploy time', '2026-03-11T00:00:00Z', null, true, 'deploy_time'],
    ['at once when what is served expires before the deploy time', '2026-03-10T09:00:00Z', '2026-03-10T20:00:00Z', true, 'expires_first'],
    ['waits when what is served lasts past the deploy time', '2026-03-10T09:00:00Z', '2026-06-01T00:00:00Z', false, 'deploy_time'],
  ])('%s', (_what, now, served, due, reason) => {
    const r = isDeployDue({ issuedAt, now: new Date(now), timeOfDay: '00:00', timeZone: 'UTC', servedNotAfter: served ? new Date(served) : null });
    expect(r.due).toBe(due);
    expect(r.reason).toBe(reason);
  });
});
