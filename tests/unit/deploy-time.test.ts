import { describe, expect, it } from 'vitest';
import { isDeployDue, nextDeployTime, pendingDeploy } from '../../core/domain/deploy-time.ts';

describe('nextDeployTime', () => {
  it.each([
    ['later the same day in UTC', '2026-03-10T08:00:00Z', '22:30', 'UTC', '2026-03-10T22:30:00.000Z'],
    ['the next day once the time has passed', '2026-03-10T23:00:00Z', '22:30', 'UTC', '2026-03-11T22:30:00.000Z'],
    [
      'midnight in Berlin (UTC+1 in winter)',
      '2026-01-15T12:00:00Z',
      '00:00',
      'Europe/Berlin',
      '2026-01-15T23:00:00.000Z',
    ],
    [
      'midnight in Berlin in summer (UTC+2)',
      '2026-07-15T12:00:00Z',
      '00:00',
      'Europe/Berlin',
      '2026-07-15T22:00:00.000Z',
    ],
    [
      '03:30 in New York across the spring change',
      '2026-03-07T12:00:00Z',
      '03:30',
      'America/New_York',
      '2026-03-08T07:30:00.000Z',
    ],
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
    [
      'at once when what is served expires before the deploy time',
      '2026-03-10T09:00:00Z',
      '2026-03-10T20:00:00Z',
      true,
      'expires_first',
    ],
    [
      'waits when what is served lasts past the deploy time',
      '2026-03-10T09:00:00Z',
      '2026-06-01T00:00:00Z',
      false,
      'deploy_time',
    ],
  ])('%s', (_what, now, served, due, reason) => {
    const r = isDeployDue({
      issuedAt,
      now: new Date(now),
      timeOfDay: '00:00',
      timeZone: 'UTC',
      servedNotAfter: served ? new Date(served) : null,
    });
    expect(r.due).toBe(due);
    expect(r.reason).toBe(reason);
  });
});

describe('pendingDeploy: when the renewed certificate waiting for its bindings will be deployed', () => {
  const cert = { state: 'issued', issuedAt: new Date('2026-03-10T08:00:00Z'), fingerprintSha256: 'NEW' };
  const profile = { autoDeploy: true, deployTime: '00:00', deployTimeZone: 'UTC' };
  const behind = { deployedFingerprint: 'OLD', deployedNotAfter: new Date('2026-06-01T00:00:00Z') };
  const current = { deployedFingerprint: 'NEW', deployedNotAfter: new Date('2026-06-08T00:00:00Z') };
  const now = new Date('2026-03-10T09:00:00Z');

  it.each<[string, Partial<Parameters<typeof pendingDeploy>[0]>, ReturnType<typeof pendingDeploy>]>([
    [
      'waits for the deploy time, counting only bindings behind',
      { bindings: [behind, current, behind] },
      { at: new Date('2026-03-11T00:00:00Z'), due: false, reason: 'deploy_time', bindings: 2 },
    ],
    [
      'a binding never deployed waits for the deploy time too',
      { bindings: [{ deployedFingerprint: null, deployedNotAfter: null }] },
      { at: new Date('2026-03-11T00:00:00Z'), due: false, reason: 'deploy_time', bindings: 1 },
    ],
    [
      'due since the deploy time once it passed',
      { bindings: [behind], now: new Date('2026-03-11T06:00:00Z') },
      { at: new Date('2026-03-11T00:00:00Z'), due: true, reason: 'deploy_time', bindings: 1 },
    ],
    [
      'now when what is served expires first',
      { bindings: [{ deployedFingerprint: 'OLD', deployedNotAfter: new Date('2026-03-10T20:00:00Z') }] },
      { at: now, due: true, reason: 'expires_first', bindings: 1 },
    ],
    [
      'now when a binding serves the revoked certificate this one replaces',
      {
        cert: { ...cert, revokedSerial: 'OLD1' },
        bindings: [current, { deployedFingerprint: 'OLD', deployedNotAfter: null, deployedSerial: 'OLD1' }],
      },
      { at: now, due: true, reason: 'served_revoked', bindings: 1 },
    ],
    [
      'the deploy time when the revoked serial is served nowhere',
      {
        cert: { ...cert, revokedSerial: 'OLD1' },
        bindings: [{ deployedFingerprint: 'OLD', deployedNotAfter: null, deployedSerial: 'OLD2' }],
      },
      { at: new Date('2026-03-11T00:00:00Z'), due: false, reason: 'deploy_time', bindings: 1 },
    ],
    ['nothing when every binding serves the current issue', { bindings: [current] }, null],
    ['nothing without bindings', { bindings: [] }, null],
    [
      'nothing when the profile does not deploy by itself',
      { bindings: [behind], profile: { ...profile, autoDeploy: false } },
      null,
    ],
    ['nothing for a certificate not issued', { bindings: [behind], cert: { ...cert, state: 'ordering' } }, null],
  ])('%s', (_what, over, expected) => {
    expect(pendingDeploy({ cert, bindings: [], profile, now, ...over })).toEqual(expected);
  });
});
