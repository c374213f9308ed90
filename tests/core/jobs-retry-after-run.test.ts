import { describe, expect, it } from 'vitest';
import { Jobs } from '../../core/services/jobs.ts';

/**
 * A retry that falls due while a renew run is busy was not among that run's candidates (they are read at its
 * start). The next wake-up must count from the run's start, so such a retry is overdue and runs at once; counted
 * from the run's end it was "in the past" and waited for the cron (found as a flaky CA-outage test).
 */
describe('the renew wake-up counts retries from the start of the last renew run', () => {
  it('asks the store for retries after the last run started, not after it ended', async () => {
    let now = new Date('2026-12-04T12:00:00Z');
    const asked: Date[] = [];
    const store = {
      jobRuns: { started: async () => undefined, finished: async () => undefined },
      certificates: {
        nextRetryAt: async (after: Date) => {
          asked.push(after);
          return null;
        },
      },
    };
    const renewals = {
      // The run takes three seconds: a retry due at +1 s falls due while it is busy.
      sweep: async () => {
        now = new Date(now.getTime() + 3_000);
        return {};
      },
    };
    const jobs = new Jobs(
      { store, clock: { now: () => now } } as unknown as ConstructorParameters<typeof Jobs>[0],
      { renewals } as unknown as ConstructorParameters<typeof Jobs>[1],
      'test',
    );

    await jobs.nextRetryAt();
    expect(asked.at(-1)).toEqual(new Date('2026-12-04T12:00:00Z'));

    await jobs.run('renew');
    await jobs.nextRetryAt();
    expect(now).toEqual(new Date('2026-12-04T12:00:03Z'));
    expect(asked.at(-1)).toEqual(new Date('2026-12-04T12:00:00Z'));
  });
});
