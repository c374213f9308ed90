import { describe, expect, it } from 'vitest';
import { failedItems, jobItems, jobResult, jobTiming } from '../../core/domain/job-run.ts';

describe('jobItems and jobResult', () => {
  it.each([
    [
      'a renew run where every renewal failed (the CA outage)',
      {
        candidates: 9,
        renewed: [],
        resumed: [],
        failed: Array.from({ length: 9 }, (_, i) => ({ name: `c${i}`, code: 'x', message: 'm' })),
        waiting: [],
        skipped: 0,
      },
      { succeeded: 0, failed: 9, waiting: 0 },
      'failed',
    ],
    [
      'a renew run where some failed',
      { renewed: ['a', 'b'], resumed: ['c'], failed: [{ name: 'd', code: 'x', message: 'm' }], waiting: ['e'] },
      { succeeded: 3, failed: 1, waiting: 1 },
      'partial',
    ],
    [
      'a deploy run that deployed all',
      { deployed: ['a@lb1', 'a@lb2'], failed: [], waiting: [], notYet: ['b'] },
      { succeeded: 2, failed: 0, waiting: 0 },
      'ok',
    ],
    [
      'a reconfigure run raising domains to people',
      { refreshed: ['a', 'b'], raised: ['b'], warnings: 1 },
      { succeeded: 2, failed: 0, waiting: 1 },
      'ok',
    ],
    [
      'a cleanup run (counts, no items)',
      { leases: 3, events: 0, hookChallenges: 1 },
      { succeeded: 0, failed: 0, waiting: 0 },
      'ok',
    ],
  ])('%s', (_what, detail, items, result) => {
    expect(jobItems(detail)).toEqual(items);
    expect(jobResult(jobItems(detail))).toBe(result);
  });

  it('reads failed items, keeping only well-formed ones', () => {
    expect(
      failedItems({
        failed: [
          { name: 'a', code: 'c', message: 'm' },
          { name: 'b', device: 'lb1', message: 'down' },
          'junk',
          { message: 'no name' },
          null,
        ],
      }),
    ).toEqual([
      { name: 'a', code: 'c', message: 'm' },
      { name: 'b', device: 'lb1', message: 'down' },
    ]);
    expect(failedItems(null)).toEqual([]);
    expect(failedItems({ failed: 3 })).toEqual([]);
  });
});

describe('jobTiming', () => {
  const t = (iso: string) => new Date(iso);
  const base = { pattern: '*/10 * * * *', graceMs: 15 * 60_000, stallAfterMs: 6 * 3_600_000 };
  it.each([
    ['never run', null, null, '2030-01-01T00:00:00Z', 'never_run'],
    ['running now', '2030-01-01T00:00:00Z', null, '2030-01-01T00:05:00Z', 'running'],
    [
      'running again after an earlier finish',
      '2030-01-01T00:10:00Z',
      '2030-01-01T00:01:00Z',
      '2030-01-01T00:12:00Z',
      'running',
    ],
    [
      'started 7 h ago, never finished: the process died in it',
      '2030-01-01T00:00:00Z',
      null,
      '2030-01-01T07:00:00Z',
      'stalled',
    ],
    [
      'finished, the next run is not due yet',
      '2030-01-01T00:00:00Z',
      '2030-01-01T00:01:00Z',
      '2030-01-01T00:09:00Z',
      'on_schedule',
    ],
    [
      'the next run is late but within the grace',
      '2030-01-01T00:00:00Z',
      '2030-01-01T00:01:00Z',
      '2030-01-01T00:24:00Z',
      'on_schedule',
    ],
    [
      'no run since the one that was due 16 min ago',
      '2030-01-01T00:00:00Z',
      '2030-01-01T00:01:00Z',
      '2030-01-01T00:26:00Z',
      'overdue',
    ],
  ])('%s', (_what, started, finished, now, timing) => {
    expect(
      jobTiming({
        ...base,
        lastStartedAt: started ? t(started) : null,
        lastFinishedAt: finished ? t(finished) : null,
        now: t(now),
      }),
    ).toBe(timing);
  });
});
