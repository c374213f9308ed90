import { Cron } from 'croner';

/**
 * What one recorded job run says: how many items it handled and how that went, and whether the job keeps to
 * its schedule. Pure; `jobs run`, `jobs status`, `status` and the scheduler's log all read runs through it.
 *
 * A run whose body finished but where items failed is not `ok`: `failed` when nothing succeeded, `partial`
 * when some did. `error` is a run that stopped before finishing (recorded by the caller).
 */
export type JobResult = 'ok' | 'partial' | 'failed' | 'error';

export interface JobItems {
  succeeded: number;
  failed: number;
  /** Waiting for a person: an approval, or challenge content nobody publishes automatically. */
  waiting: number;
}

export interface FailedItem {
  name: string;
  message: string;
  code?: string;
  device?: string;
}

// The report fields of the renew, deploy and reconfigure jobs (SweepReport, AutoDeployReport, reconfigure).
const SUCCEEDED_KEYS = ['renewed', 'resumed', 'deployed', 'refreshed'] as const;
const WAITING_KEYS = ['waiting', 'raised'] as const;

function count(detail: Record<string, unknown>, keys: readonly string[]): number {
  return keys.reduce((n, k) => n + (Array.isArray(detail[k]) ? (detail[k] as unknown[]).length : 0), 0);
}

export function jobItems(detail: Record<string, unknown>): JobItems {
  return {
    succeeded: count(detail, SUCCEEDED_KEYS),
    failed: count(detail, ['failed']),
    waiting: count(detail, WAITING_KEYS),
  };
}

export function jobResult(items: JobItems): Exclude<JobResult, 'error'> {
  if (items.failed === 0) return 'ok';
  return items.succeeded > 0 ? 'partial' : 'failed';
}

/** The failed items a report lists, as far as they are well-formed (older rows may hold anything). */
export function failedItems(detail: Record<string, unknown> | null): FailedItem[] {
  const failed = detail?.failed;
  if (!Array.isArray(failed)) return [];
  return failed.flatMap((f) => {
    if (typeof f !== 'object' || f === null) return [];
    const { name, message, code, device } = f as Record<string, unknown>;
    if (typeof name !== 'string') return [];
    return [
      {
        name,
        message: typeof message === 'string' ? message : 'failed',
        ...(typeof code === 'string' ? { code } : {}),
        ...(typeof device === 'string' ? { device } : {}),
      },
    ];
  });
}

/**
 * - `never_run`: no run recorded (a fresh install, or no worker has ever run).
 * - `running`: started and not finished yet.
 * - `stalled`: started more than `stallAfterMs` ago and never finished (the process died in it).
 * - `overdue`: the run that should have followed the last one has not started, `graceMs` after its time
 *   (is a worker running?).
 * - `on_schedule`: otherwise.
 */
export type JobTiming = 'never_run' | 'running' | 'stalled' | 'overdue' | 'on_schedule';

export interface JobTimingInput {
  /** The job's croner pattern (UTC), as the scheduler runs it. */
  pattern: string;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  now: Date;
  /** Leeway after a scheduled time: the scheduler's random start delay and more. */
  graceMs: number;
  stallAfterMs: number;
}

export function jobTiming(input: JobTimingInput): JobTiming {
  const { lastStartedAt, lastFinishedAt, now } = input;
  if (!lastStartedAt) return 'never_run';
  if (!lastFinishedAt || lastFinishedAt < lastStartedAt) {
    return now.getTime() - lastStartedAt.getTime() > input.stallAfterMs ? 'stalled' : 'running';
  }
  const due = new Cron(input.pattern, { paused: true, timezone: 'UTC' }).nextRun(lastStartedAt);
  if (due && now.getTime() > due.getTime() + input.graceMs) return 'overdue';
  return 'on_schedule';
}
