import type { ApprovalKind } from '../domain/approval.ts';
import {
  CONCERN_ORDER,
  type CertificateConcern,
  certificateHealth,
  type HealthLevel,
  type RecordedFailure,
} from '../domain/certificate-health.ts';
import { isDeployDue } from '../domain/deploy-time.ts';
import { type FailedItem, failedItems, type JobItems, type JobTiming, jobItems, jobTiming } from '../domain/job-run.ts';
import type { UndeliverableEvent } from '../ports/repositories/events.ts';
import type { CoreDepsWith } from './core-deps.ts';
import { JOB_DESCRIPTIONS, JOB_NAMES, type JobName, nextRunsOf } from './jobs.ts';

/**
 * One truthful view of health, for every edge (`bigip-acme status`, `jobs status`, Slack's `/acme status`):
 * what is failing, what needs attention, what waits (for an approver or a deploy window) and until when,
 * and how the scheduled jobs are doing. Read-only; the rule for each certificate is `certificateHealth`.
 */

/** `waiting` is by design (an approver, a deploy window) and never changes the verdict. */
export type StatusLevel = HealthLevel | 'waiting';
export type Verdict = 'ok' | 'degraded' | 'failing';

export interface CertificateStatus {
  name: string;
  profileName: string;
  state: string;
  concern: CertificateConcern;
  level: HealthLevel;
  summary: string;
  failedAttempts: number;
  nextAttemptAt: Date | null;
  notAfter: Date | null;
  lastError: RecordedFailure | null;
}

export interface DomainStatus {
  name: string;
  profileName: string;
  status: 'invalid' | 'expired';
  level: HealthLevel;
  detail: string | null;
  lastCheckedAt: Date | null;
}

export interface DeployFailure {
  certificate: string;
  device: string;
  serial: string;
  result: 'failed' | 'rolled_back';
  step: string;
  at: Date;
  message: string;
  level: 'failing';
}

export type PendingDeployReason = 'deploy_window' | 'next_deploy_run' | 'approval' | 'auto_deploy_off';

export interface PendingDeploy {
  certificate: string;
  profileName: string;
  devices: string[];
  reason: PendingDeployReason;
  /** When it deploys: the profile's deploy time, or the deploy job's next run; null when a person must act. */
  at: Date | null;
  timeZone: string;
  level: 'waiting';
}

export interface WaitingApproval {
  id: string;
  kind: ApprovalKind;
  certificate: string;
  requestedBy: string;
  since: Date;
  level: 'waiting';
}

export interface JobStatus {
  job: JobName;
  description: string;
  /** The croner pattern (UTC) this process knows for it; null when not configured here. */
  schedule: string | null;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastResult: string | null;
  /** Items the last finished run handled; null when it recorded none (never ran, or stopped with an error). */
  items: JobItems | null;
  failed: FailedItem[];
  /** Why the last run stopped, when it stopped with an error. */
  error: { code: string; message: string } | null;
  nextRun: Date | null;
  holder: string | null;
  timing: JobTiming;
  level: HealthLevel | null;
}

/** Notifications Slack refused on every attempt and that were given up (core/domain/delivery-failure.ts). */
export interface NotificationStatus {
  /** Given up within the look-back (7 days). */
  undeliverable: number;
  /** The newest of them: what, and what Slack said (an error code, never the message). */
  latest: UndeliverableEvent[];
  level: 'degraded' | null;
}

export interface StatusReport {
  verdict: Verdict;
  at: Date;
  counts: { failing: number; degraded: number; waiting: number };
  certificates: CertificateStatus[];
  domains: DomainStatus[];
  deploys: { failed: DeployFailure[]; pending: PendingDeploy[] };
  approvals: WaitingApproval[];
  jobs: JobStatus[];
  notifications: NotificationStatus;
  inventory: {
    profiles: number;
    devices: number;
    domains: Record<string, number>;
    certificates: Record<string, number>;
  };
}

export interface StatusOptions {
  /** The jobs' croner patterns, for next runs and overdue checks; without them both are unknown. */
  schedules?: Record<JobName, string>;
  /** The scheduler's random start delay (JOBS_START_DELAY_MAX_SECONDS), part of the leeway before a job is overdue. */
  startDelayMaxMs?: number;
}

/** Failed deploys this recent count (a later success on the same device supersedes them). */
const DEPLOY_LOOK_BACK_MS = 7 * 86_400_000;
/** Renewal failures are looked up this far back; a streak's newest failure is rarely older (backoff ≤ 32 h). */
const FAILURE_LOOK_BACK_MS = 30 * 86_400_000;
const FAILURE_EVENTS = 1000;
const APPROVALS = 500;
/** Notifications given up this recent count (the outbox purge drops older rows anyway). */
const UNDELIVERABLE_LOOK_BACK_MS = 7 * 86_400_000;
const UNDELIVERABLE_SHOWN = 5;
const OVERDUE_GRACE_MS = 15 * 60_000;
const STALL_AFTER_MS = 6 * 3_600_000;

function countBy<T>(rows: readonly T[], key: (row: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[key(row)] = (counts[key(row)] ?? 0) + 1;
  return counts;
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

export class StatusService {
  constructor(
    private readonly deps: CoreDepsWith<
      | 'approvals'
      | 'bindings'
      | 'certificates'
      | 'deployments'
      | 'devices'
      | 'domains'
      | 'events'
      | 'jobRuns'
      | 'profiles'
    >,
    private readonly opts: StatusOptions = {},
  ) {}

  /** Every job's last run (with its failed items), result, timing and next run. */
  async jobs(): Promise<JobStatus[]> {
    const now = this.deps.clock.now();
    const schedules = this.opts.schedules;
    const next = schedules ? nextRunsOf(schedules, now) : null;
    const runs = new Map((await this.deps.store.jobRuns.list()).map((r) => [r.job, r]));
    return JOB_NAMES.map((job) => {
      const run = runs.get(job);
      const detail = run?.lastDetail ?? null;
      const lastResult = run?.lastResult ?? null;
      const finishedCleanly = lastResult !== null && lastResult !== 'error' && detail !== null;
      const timing: JobTiming = schedules
        ? jobTiming({
            pattern: schedules[job],
            lastStartedAt: run?.lastStartedAt ?? null,
            lastFinishedAt: run?.lastFinishedAt ?? null,
            now,
            graceMs: OVERDUE_GRACE_MS + (this.opts.startDelayMaxMs ?? 0),
            stallAfterMs: STALL_AFTER_MS,
          })
        : run?.lastStartedAt
          ? 'on_schedule'
          : 'never_run';
      const failing = lastResult === 'error' || lastResult === 'failed' || lastResult === 'partial';
      return {
        job,
        description: JOB_DESCRIPTIONS[job],
        schedule: schedules?.[job] ?? null,
        lastStartedAt: run?.lastStartedAt ?? null,
        lastFinishedAt: run?.lastFinishedAt ?? null,
        lastResult,
        items: finishedCleanly ? jobItems(detail) : null,
        failed: finishedCleanly ? failedItems(detail) : [],
        error:
          lastResult === 'error' && detail
            ? { code: String(detail.code ?? 'internal'), message: String(detail.message ?? 'the run stopped') }
            : null,
        nextRun: next?.[job] ?? null,
        holder: run?.holder ?? null,
        timing,
        level: failing ? 'failing' : timing === 'overdue' || timing === 'stalled' ? 'degraded' : null,
      };
    });
  }

  async summary(): Promise<StatusReport> {
    const now = this.deps.clock.now();
    const store = this.deps.store;
    const [profiles, certs, devices, bindings, approvals, latestDeploys, jobs, undeliverable] = await Promise.all([
      store.profiles.list(),
      store.certificates.list(),
      store.devices.list(),
      store.bindings.list(),
      store.approvals.list({ state: 'pending', limit: APPROVALS }),
      store.deployments.latestPerTarget(new Date(now.getTime() - DEPLOY_LOOK_BACK_MS)),
      this.jobs(),
      store.events.undeliverable(UNDELIVERABLE_SHOWN, new Date(now.getTime() - UNDELIVERABLE_LOOK_BACK_MS)),
    ]);
    const notifications: NotificationStatus = {
      undeliverable: undeliverable.count,
      latest: undeliverable.latest,
      level: undeliverable.count > 0 ? 'degraded' : null,
    };
    const domains = (await Promise.all(profiles.map((p) => store.domains.listByProfile(p.id)))).flat();
    const profileById = new Map(profiles.map((p) => [p.id, p]));
    const certById = new Map(certs.map((c) => [c.id, c]));
    const deviceName = new Map(devices.map((d) => [d.id, d.name]));
    const certName = (id: string) => certById.get(id)?.name ?? id;

    // The newest recorded failure of each certificate in a failure streak, from one query.
    const lastFailure = new Map<string, RecordedFailure>();
    if (certs.some((c) => c.failedAttempts > 0)) {
      const events = await store.events.list({
        kinds: ['renewal_failed'],
        since: new Date(now.getTime() - FAILURE_LOOK_BACK_MS),
        limit: FAILURE_EVENTS,
      });
      for (const e of events) {
        if (!e.certificateId || lastFailure.has(e.certificateId)) continue;
        lastFailure.set(e.certificateId, {
          code: typeof e.detail.code === 'string' ? e.detail.code : 'renewal_failed',
          message: typeof e.detail.message === 'string' ? e.detail.message : 'the renewal failed',
          at: e.createdAt,
          attempt: typeof e.detail.attempt === 'number' ? e.detail.attempt : null,
        });
      }
    }

    const certificates: CertificateStatus[] = certs
      .flatMap((cert) => {
        const profile = profileById.get(cert.profileId);
        const health = certificateHealth({
          cert,
          autoRenew: profile?.autoRenew ?? false,
          lastFailure: lastFailure.get(cert.id) ?? null,
          now,
        });
        if (!health) return [];
        return [
          {
            name: cert.name,
            profileName: profile?.name ?? '?',
            state: cert.state,
            concern: health.concern,
            level: health.level,
            summary: health.summary,
            failedAttempts: cert.failedAttempts,
            nextAttemptAt: cert.nextAttemptAt,
            notAfter: cert.notAfter,
            lastError: health.lastError,
          },
        ];
      })
      .sort((a, b) => CONCERN_ORDER.indexOf(a.concern) - CONCERN_ORDER.indexOf(b.concern) || byName(a, b));

    const domainStatus: DomainStatus[] = domains
      .filter((d) => d.status === 'invalid' || d.status === 'expired')
      .map((d) => ({
        name: d.name,
        profileName: profileById.get(d.profileId)?.name ?? '?',
        status: d.status as 'invalid' | 'expired',
        // The CA rejected what was published: the next order for this name fails the same way. An expired
        // authorization is routine (the reconfigure job fetches fresh content).
        level: d.status === 'invalid' ? ('failing' as const) : ('degraded' as const),
        detail: d.problem?.detail ?? d.lastCheckDetail,
        lastCheckedAt: d.lastCheckedAt,
      }))
      .sort((a, b) => (a.status === b.status ? byName(a, b) : a.status === 'invalid' ? -1 : 1));

    const isFailed = (d: { result: string }) => d.result === 'failed' || d.result === 'rolled_back';
    const failedDeploys: DeployFailure[] = latestDeploys.flatMap((d) =>
      d.result === 'failed' || d.result === 'rolled_back'
        ? [
            {
              certificate: certName(d.certificateId),
              device: deviceName.get(d.deviceId) ?? d.deviceId,
              serial: d.serial,
              result: d.result,
              step: d.step,
              at: d.startedAt,
              message: d.error?.message ?? d.outcome ?? d.result,
              level: 'failing' as const,
            },
          ]
        : [],
    );
    // A device whose last attempt failed is listed there, not again as waiting.
    const failedTargets = new Set(latestDeploys.filter(isFailed).map((d) => `${d.certificateId}:${d.deviceId}`));

    const waitingApprovals: WaitingApproval[] = approvals
      .map((a) => ({
        id: a.id,
        kind: a.kind,
        certificate: certName(a.certificateId),
        requestedBy: a.requestedBy,
        since: a.requestedAt,
        level: 'waiting' as const,
      }))
      .sort((a, b) => a.since.getTime() - b.since.getTime());
    const deployApprovalPending = new Set(approvals.filter((a) => a.kind === 'deploy').map((a) => a.certificateId));
    const nextDeployRun = jobs.find((j) => j.job === 'deploy')?.nextRun ?? null;

    const pending: PendingDeploy[] = [];
    const behindByCert = new Map<string, typeof bindings>();
    for (const b of bindings) {
      const cert = certById.get(b.certificateId);
      // As the deploy job selects them: issued certificates a binding does not serve yet.
      if (cert?.state !== 'issued' || !cert.fingerprintSha256 || b.deployedFingerprint === cert.fingerprintSha256)
        continue;
      if (failedTargets.has(`${b.certificateId}:${b.deviceId}`)) continue;
      behindByCert.set(cert.id, [...(behindByCert.get(cert.id) ?? []), b]);
    }
    for (const [certId, behind] of behindByCert) {
      const cert = certById.get(certId)!;
      const profile = profileById.get(cert.profileId);
      if (!profile) continue;
      const served = behind.flatMap((b) => (b.deployedNotAfter ? [b.deployedNotAfter.getTime()] : []));
      let reason: PendingDeployReason;
      let at: Date | null = null;
      if (!profile.autoDeploy) reason = 'auto_deploy_off';
      else {
        const due = isDeployDue({
          issuedAt: cert.issuedAt ?? cert.updatedAt,
          now,
          timeOfDay: profile.deployTime,
          timeZone: profile.deployTimeZone,
          servedNotAfter: served.length > 0 ? new Date(Math.min(...served)) : null,
        });
        if (!due.due) {
          reason = 'deploy_window';
          at = due.at;
        } else if (profile.deployApproval && deployApprovalPending.has(certId)) {
          reason = 'approval';
        } else {
          reason = 'next_deploy_run';
          at = nextDeployRun;
        }
      }
      pending.push({
        certificate: cert.name,
        profileName: profile.name,
        devices: [...new Set(behind.map((b) => deviceName.get(b.deviceId) ?? b.deviceId))].sort(),
        reason,
        at,
        timeZone: profile.deployTimeZone,
        level: 'waiting',
      });
    }
    pending.sort(
      (a, b) =>
        (a.at?.getTime() ?? Number.POSITIVE_INFINITY) - (b.at?.getTime() ?? Number.POSITIVE_INFINITY) ||
        a.certificate.localeCompare(b.certificate),
    );

    const levels: StatusLevel[] = [
      ...certificates.map((c) => c.level),
      ...domainStatus.map((d) => d.level),
      ...failedDeploys.map((d) => d.level),
      ...jobs.flatMap((j) => (j.level ? [j.level] : [])),
      ...(notifications.level ? [notifications.level] : []),
      ...waitingApprovals.map((a) => a.level),
      ...pending.map((p) => p.level),
    ];
    const counts = {
      failing: levels.filter((l) => l === 'failing').length,
      degraded: levels.filter((l) => l === 'degraded').length,
      waiting: levels.filter((l) => l === 'waiting').length,
    };
    return {
      verdict: counts.failing > 0 ? 'failing' : counts.degraded > 0 ? 'degraded' : 'ok',
      at: now,
      counts,
      certificates,
      domains: domainStatus,
      deploys: { failed: failedDeploys, pending },
      approvals: waitingApprovals,
      jobs,
      notifications,
      inventory: {
        profiles: profiles.length,
        devices: devices.length,
        domains: countBy(domains, (d) => d.status),
        certificates: countBy(certs, (c) => c.state),
      },
    };
  }
}
