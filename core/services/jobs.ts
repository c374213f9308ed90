import { Cron } from 'croner';
import type { Config } from '../config.ts';
import { dayKey } from '../domain/core-event.ts';
import { collectExpiryWarnings, expiryWarningEvent } from '../domain/expiry-warning.ts';
import { jobItems, jobResult } from '../domain/job-run.ts';
import { CoreError, asCoreError, isDatabaseUnavailable } from '../errors.ts';
import type { Logger } from '../ports/logger.ts';
import type { AutoDeployService } from '../deploy/auto-deploy-service.ts';
import type { DeployService } from '../deploy/deploy-service.ts';
import { type CoreDepsWith, noProgress, type Progress } from './core-deps.ts';
import type { DomainService } from './domain-service.ts';
import type { RenewalService } from '../issuance/renewal-service.ts';

export const JOB_NAMES = ['renew', 'deploy', 'reconfigure', 'cleanup'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export const JOB_DESCRIPTIONS: Record<JobName, string> = {
  renew:
    'renew due certificates (ARI windows, 2/3 of lifetime, the profile deadline), resume renewals in flight and first issuances that stopped half-way',
  deploy: "deploy renewed certificates at each profile's deploy time (at once if what is served expires first)",
  reconfigure:
    'fetch fresh challenges for expired authorizations (raising the ones that need a person), and raise expiry warnings at 21/7/3 days for certificates not renewing',
  cleanup:
    'drop expired leases, delivered events older than 30 days, and challenge-hook content older than 8 days; settle deploys whose process stopped',
};

/** The jobs' schedules from the configuration (JOBS_*_CRON, UTC). */
export function jobSchedules(
  config: Pick<Config, 'JOBS_RENEW_CRON' | 'JOBS_DEPLOY_CRON' | 'JOBS_RECONFIGURE_CRON' | 'JOBS_CLEANUP_CRON'>,
): Record<JobName, string> {
  return {
    renew: config.JOBS_RENEW_CRON,
    deploy: config.JOBS_DEPLOY_CRON,
    reconfigure: config.JOBS_RECONFIGURE_CRON,
    cleanup: config.JOBS_CLEANUP_CRON,
  };
}

export function parseJobName(input: string): JobName {
  if ((JOB_NAMES as readonly string[]).includes(input)) return input as JobName;
  throw new CoreError('input_invalid', `unknown job "${input}" (jobs: ${JOB_NAMES.join(', ')})`);
}

const EVENT_RETENTION_MS = 30 * 86_400_000;
/** Challenge content pushed to the hook outlives any authorization (≤ 7 days at Let's Encrypt) by then. */
const HOOK_CHALLENGE_RETENTION_MS = 8 * 86_400_000;

/** Runs one job once and records it (`jobs status`); the scheduler and `jobs run` share this. */
export class Jobs {
  private readonly finishedListeners = new Set<(job: JobName) => void>();
  /** When the last renew run in this process started (see nextRetryAt). */
  private lastRenewStartedAt: Date | null = null;

  constructor(
    private readonly deps: CoreDepsWith<
      'certificates' | 'domains' | 'events' | 'hookChallenges' | 'jobRuns' | 'leases' | 'profiles'
    >,
    private readonly parts: {
      renewals: RenewalService;
      autoDeploy: AutoDeployService;
      domains: DomainService;
      deploys: DeployService;
    },
    private readonly holder: string,
  ) {}

  async run(job: JobName, progress: Progress = noProgress): Promise<Record<string, unknown>> {
    const startedAt = this.deps.clock.now();
    if (job === 'renew') this.lastRenewStartedAt = startedAt;
    await this.deps.store.jobRuns.started(job, this.holder, startedAt);
    try {
      const detail = await this.body(job, progress);
      // A run where items failed is recorded as such (`failed`/`partial`), never as `ok`; the report itself,
      // with its failed items and their reasons, is the run's detail, so `jobs status` can count them.
      await this.deps.store.jobRuns.finished(job, jobResult(jobItems(detail)), detail, this.deps.clock.now());
      return detail;
    } catch (err) {
      const e = asCoreError(err);
      await this.deps.store.jobRuns.finished(job, 'error', { code: e.code, message: e.message }, this.deps.clock.now());
      throw e;
    } finally {
      for (const listener of this.finishedListeners) listener(job);
    }
  }

  /** Called after every run of any job, also runs started by `jobs run`; returns an unsubscribe. */
  onFinished(listener: (job: JobName) => void): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /**
   * The earliest retry of a failing renewal that no renew run has looked at yet: when the renew job must run at
   * the latest. Counted from the start of the last renew run, not from now: a retry that fell due while that run
   * was busy (its candidates were read at its start) is overdue, and the scheduler runs at once for it instead of
   * leaving it to the cron. One it did see and skipped is not counted again, so an overdue row cannot loop.
   */
  nextRetryAt(): Promise<Date | null> {
    return this.deps.store.certificates.nextRetryAt(this.lastRenewStartedAt ?? this.deps.clock.now());
  }

  private async body(job: JobName, progress: Progress): Promise<Record<string, unknown>> {
    switch (job) {
      case 'renew':
        return { ...(await this.parts.renewals.sweep(progress)) };
      case 'deploy':
        return { ...(await this.parts.autoDeploy.run(progress)) };
      case 'reconfigure':
        return this.reconfigure(progress);
      case 'cleanup': {
        const leases = await this.deps.store.leases.purgeExpired(3_600_000);
        const now = this.deps.clock.now().getTime();
        const events = await this.deps.store.events.purgeDelivered(new Date(now - EVENT_RETENTION_MS));
        const hookChallenges = await this.deps.store.hookChallenges.purgeOlderThan(
          new Date(now - HOOK_CHALLENGE_RETENTION_MS),
        );
        const abandonedDeploys = await this.parts.deploys.settleAbandoned(progress);
        return { leases, events, hookChallenges, abandonedDeploys };
      }
    }
  }

  /** *Reconfigure* for every profile; domains that publish by themselves need nobody, the rest are raised. */
  private async reconfigure(progress: Progress): Promise<Record<string, unknown>> {
    const refreshed: string[] = [];
    const raised: string[] = [];
    for (const profile of await this.deps.store.profiles.list()) {
      for (const content of await this.parts.domains.reconfigure(profile.name, 'scheduler', progress)) {
        refreshed.push(content.domain);
        const domain = await this.deps.store.domains.find(profile.id, content.domain);
        const automated = !!domain && (domain.endpointUrl !== null || domain.dataGroupDeviceIds.length > 0);
        if (automated) continue;
        raised.push(content.domain);
        await this.deps.store.events.emit({
          kind: 'challenge_expired',
          certificateId: null,
          subject: content.domain,
          dedupeKey: `${profile.id}:${content.domain}:challenge_expired:${dayKey(this.deps.clock.now())}`,
          detail: { profile: profile.name, type: content.type },
          needsPerson: true,
        });
      }
    }
    let warnings = 0;
    for (const w of await collectExpiryWarnings(this.deps.store, this.deps.clock.now())) {
      if (await this.deps.store.events.emit(expiryWarningEvent(w))) warnings++;
    }
    return { refreshed, raised, warnings };
  }
}

export interface SchedulerOptions {
  patterns: Record<JobName, string>;
  /** Each run first sleeps a random 0…this, so replicas started together do not hit the CA together. */
  startDelayMaxMs: number;
  log: Logger;
}

export interface Scheduler {
  nextRuns(): Record<JobName, Date | null>;
  stop(): void;
}

/** setTimeout's limit (about 24.8 days); a later wake-up is re-armed by the runs before it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Timers may fire a hair before the wall clock reaches their time; the sweep compares with the clock. */
const WAKE_SLACK_MS = 5;

/**
 * croner timers for the worker role. `protect` stops a run from overlapping the previous one in this
 * process; across processes the leases inside each job do that.
 *
 * The renew job also wakes for the earliest retry of a failing renewal when its cron (plus the random start
 * delay) would come later: a retry due in a minute because a certificate is about to expire cannot wait for
 * the next run of a 10-minute cron and up to 8 minutes of start delay. Such a wake-up skips the random delay (the retry
 * times are already spread by when each attempt failed) and is re-armed after every renew run, including
 * runs from `jobs run renew`. Renew runs never overlap in this process.
 */
export function startScheduler(jobs: Jobs, opts: SchedulerOptions): Scheduler {
  let renewRunning = false;
  let stopped = false;
  let wake: { timer: ReturnType<typeof setTimeout>; at: Date } | null = null;

  async function runJob(job: JobName, startDelayMaxMs: number): Promise<void> {
    const delay = Math.floor(Math.random() * startDelayMaxMs);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (stopped) return;
    if (job === 'renew') {
      // A wake-up and a cron run at the same moment do the same work: one of them is enough.
      if (renewRunning) return;
      renewRunning = true;
    }
    try {
      const detail = await jobs.run(job);
      const { failed } = jobItems(detail);
      if (failed > 0) opts.log.warn({ job, ...summarize(detail) }, `job ${job} finished with ${failed} failed item(s)`);
      else opts.log.info({ job, ...summarize(detail) }, `job ${job} finished`);
    } catch (err) {
      const e = asCoreError(err);
      // An outage is not the job's failure: the schedule stands and the next run picks up where this stopped
      // (leases free themselves, persisted state machines resume).
      const next = timers[JOB_NAMES.indexOf(job)]?.nextRun()?.toISOString() ?? 'never';
      if (isDatabaseUnavailable(e))
        opts.log.warn(
          { job, code: e.code, reason: e.detail?.['reason'], next },
          `job ${job} skipped: the database is unavailable; next run at ${next}`,
        );
      else opts.log.error({ job, code: e.code, message: e.message, next }, `job ${job} failed`);
    } finally {
      if (job === 'renew') renewRunning = false;
    }
  }

  const timers = JOB_NAMES.map(
    (job) =>
      new Cron(opts.patterns[job], { name: `bigip-acme-${job}`, protect: true, timezone: 'UTC' }, () =>
        runJob(job, opts.startDelayMaxMs),
      ),
  );
  const renewCron = timers[JOB_NAMES.indexOf('renew')]!;

  async function armRenewWake(): Promise<void> {
    let next: Date | null;
    try {
      next = await jobs.nextRetryAt();
    } catch (err) {
      // The cron still runs; the next renew run tries again.
      const e = asCoreError(err);
      opts.log.warn({ code: e.code, message: e.message }, 'could not look up the next renewal retry');
      return;
    }
    if (stopped) return;
    if (wake) clearTimeout(wake.timer);
    wake = null;
    if (!next) return;
    const cronNext = renewCron.nextRun();
    // The cron gets there in time, even after its longest start delay.
    if (cronNext && cronNext.getTime() + opts.startDelayMaxMs <= next.getTime()) return;
    const timer = setTimeout(
      () => {
        wake = null;
        void runJob('renew', 0);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, next.getTime() - Date.now()) + WAKE_SLACK_MS),
    );
    timer.unref?.();
    wake = { timer, at: next };
  }

  const unsubscribe = jobs.onFinished((job) => {
    if (job === 'renew' && !stopped) void armRenewWake();
  });
  void armRenewWake();

  return {
    nextRuns: () => {
      const runs = Object.fromEntries(JOB_NAMES.map((job, i) => [job, timers[i]!.nextRun()])) as Record<
        JobName,
        Date | null
      >;
      if (wake && (!runs.renew || wake.at < runs.renew)) runs.renew = wake.at;
      return runs;
    },
    stop: () => {
      stopped = true;
      unsubscribe();
      if (wake) clearTimeout(wake.timer);
      wake = null;
      for (const t of timers) t.stop();
    },
  };
}

/** Next run times of patterns without starting anything (for `jobs status` from the CLI). */
export function nextRunsOf(patterns: Record<JobName, string>, after = new Date()): Record<JobName, Date | null> {
  return Object.fromEntries(
    JOB_NAMES.map((job) => [job, new Cron(patterns[job], { paused: true, timezone: 'UTC' }).nextRun(after)]),
  ) as Record<JobName, Date | null>;
}

/** Counts instead of lists, for log lines. */
function summarize(detail: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, Array.isArray(v) ? v.length : v]));
}
