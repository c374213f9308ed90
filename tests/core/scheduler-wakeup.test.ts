import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/ports/logger.ts';
import { type JobName, type Jobs, type Scheduler, startScheduler } from '../../core/services/jobs.ts';

const NEVER = '0 0 1 1 *';

/** A Jobs double: records runs, answers nextRetryAt from a queue, notifies listeners like the real one. */
function fakeJobs(retries: (Date | null)[]) {
  const runs: JobName[] = [];
  const listeners = new Set<(job: JobName) => void>();
  let waiting: (() => void) | null = null;
  const jobs = {
    async run(job: JobName) {
      runs.push(job);
      for (const l of listeners) l(job);
      waiting?.();
      return {};
    },
    onFinished(listener: (job: JobName) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async nextRetryAt() {
      return retries.length > 1 ? retries.shift()! : (retries[0] ?? null);
    },
  };
  return {
    jobs: jobs as unknown as Jobs,
    runs,
    /** Resolves at the next run, or rejects after `ms` (a missed wake-up fails instead of hanging). */
    nextRun: (ms: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no run')), ms);
        waiting = () => {
          clearTimeout(timer);
          waiting = null;
          resolve();
        };
      }),
  };
}

describe('the renew job wakes for the earliest failing renewal retry', () => {
  let scheduler: Scheduler | undefined;
  afterEach(() => scheduler?.stop());

  it('runs at a retry its cron would reach too late, without the random start delay, then asks again', async () => {
    const retryAt = new Date(Date.now() + 300);
    const fake = fakeJobs([retryAt, null]);
    // An 8-minute start delay on a yearly cron: only the wake-up can run it now.
    scheduler = startScheduler(fake.jobs, {
      patterns: { renew: NEVER, deploy: NEVER, reconfigure: NEVER, cleanup: NEVER },
      startDelayMaxMs: 480_000,
      log: silentLogger,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(scheduler.nextRuns().renew).toEqual(retryAt);
    await fake.nextRun(10_000);
    expect(fake.runs).toEqual(['renew']);
    expect(Date.now()).toBeGreaterThanOrEqual(retryAt.getTime());
    // Asked again after the run: nothing left to wake for, so the cron's next run stands.
    await new Promise((r) => setTimeout(r, 50));
    expect(scheduler.nextRuns().renew!.getTime()).toBeGreaterThan(Date.now() + 86_400_000);
  });

  it('re-arms after a renew run started elsewhere (jobs run renew forwarded into this process)', async () => {
    const retryAt = () => new Date(Date.now() + 200);
    const retries: (Date | null)[] = [null];
    const fake = fakeJobs(retries);
    scheduler = startScheduler(fake.jobs, {
      patterns: { renew: NEVER, deploy: NEVER, reconfigure: NEVER, cleanup: NEVER },
      startDelayMaxMs: 0,
      log: silentLogger,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(scheduler.nextRuns().renew!.getTime()).toBeGreaterThan(Date.now() + 86_400_000);
    retries.unshift(retryAt());
    await fake.jobs.run('renew');
    await fake.nextRun(10_000);
    expect(fake.runs).toEqual(['renew', 'renew']);
  });
});
