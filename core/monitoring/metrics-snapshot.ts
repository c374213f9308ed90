import type { DeploymentResult } from '../domain/deployment.ts';
import { type ReadyCondition, readyCondition } from '../domain/ready-condition.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeviceDeployFacts, RenewalOutcomes } from '../ports/repositories/metrics.ts';
import type { Store } from '../ports/store.ts';
import { JOB_NAMES, type JobName } from '../services/jobs.ts';

export interface CertificateMetrics {
  name: string;
  profile: string;
  /** notAfter of the live certificate; null before the first issuance. */
  expiresAt: Date | null;
  /** When the renew job renews it; null before the first issuance. */
  renewAt: Date | null;
  ready: ReadyCondition;
  /** Consecutive failed automatic renewal attempts (0 once one succeeds). */
  failedAttempts: number;
}

export interface JobMetrics {
  job: JobName;
  /** Last run that finished `ok`; null: none recorded. */
  lastSucceededAt: Date | null;
  /** Last run that finished at all, whatever its result; null: none recorded. */
  lastFinishedAt: Date | null;
}

/**
 * Everything `/metrics` says about certificates, renewals, deploys and jobs, read from the database in one go,
 * so every replica serving `/metrics` reports the same values and a restart loses none.
 */
export interface MetricsSnapshot {
  readAt: Date;
  certificates: CertificateMetrics[];
  renewals: RenewalOutcomes;
  deploys: Record<Exclude<DeploymentResult, 'running'>, number>;
  devices: DeviceDeployFacts[];
  jobs: JobMetrics[];
}

export type MetricsSnapshotDeps = { store: Pick<Store, 'metrics' | 'jobRuns'>; clock: Pick<Clock, 'now'> };

export async function readMetricsSnapshot(deps: MetricsSnapshotDeps): Promise<MetricsSnapshot> {
  const { metrics, jobRuns } = deps.store;
  const [certificates, renewals, deploys, devices, runs] = await Promise.all([
    metrics.certificates(),
    metrics.renewalOutcomes(),
    metrics.deployOutcomes(),
    metrics.devices(),
    jobRuns.list(),
  ]);
  const now = deps.clock.now();
  const byJob = new Map(runs.map((r) => [r.job, r]));
  return {
    readAt: now,
    certificates: certificates.map((c) => ({
      name: c.name,
      profile: c.profile,
      expiresAt: c.serial !== null ? c.notAfter : null,
      renewAt: c.serial !== null ? c.renewAt : null,
      ready: readyCondition(c, now),
      failedAttempts: c.failedAttempts,
    })),
    renewals,
    deploys,
    devices,
    jobs: JOB_NAMES.map((job) => ({
      job,
      lastSucceededAt: byJob.get(job)?.lastSucceededAt ?? null,
      lastFinishedAt: byJob.get(job)?.lastFinishedAt ?? null,
    })),
  };
}
