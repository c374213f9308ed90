import type { ApprovalRepository } from './repositories/approvals.ts';
import type { AuditLog } from './repositories/audit.ts';
import type { BindingRepository } from './repositories/bindings.ts';
import type { CertificateRepository } from './repositories/certificates.ts';
import type { HookChallengeRepository } from './repositories/challenges.ts';
import type { DeploymentRepository, DeviceObjectRepository } from './repositories/deployments.ts';
import type { DeviceRepository } from './repositories/devices.ts';
import type { AuthorizationRepository, DomainRepository } from './repositories/domains.ts';
import type { EventOutbox } from './repositories/events.ts';
import type { JobRunRepository } from './repositories/job-runs.ts';
import type { LeaseRepository } from './repositories/leases.ts';
import type { MetricsReadModel } from './repositories/metrics.ts';
import type { ProfileRepository } from './repositories/profiles.ts';
import type { SealedValueRepository } from './repositories/sealed-values.ts';

// Each repository's contract lives in ./repositories/<aggregate>.ts; these names stay importable from here so
// callers that take the whole store (the composition root, tests) need one import.
export type { ApprovalRepository } from './repositories/approvals.ts';
export type { AuditFilter, AuditLog } from './repositories/audit.ts';
export type { BindingRepository } from './repositories/bindings.ts';
export type { CertificateRepository } from './repositories/certificates.ts';
export type { HookChallenge, HookChallengeRepository, HttpChallenge } from './repositories/challenges.ts';
export type { DeploymentRepository, DeviceObjectRepository } from './repositories/deployments.ts';
export type { DeviceRepository } from './repositories/devices.ts';
export type { AuthorizationRepository, DomainRepository } from './repositories/domains.ts';
export type { EventFilter, EventOutbox } from './repositories/events.ts';
export type { JobRun, JobRunRepository } from './repositories/job-runs.ts';
export type { LeaseRepository } from './repositories/leases.ts';
export type { MetricsReadModel } from './repositories/metrics.ts';
export type { ProfileRepository } from './repositories/profiles.ts';
export type { SealedValueRepository } from './repositories/sealed-values.ts';

/**
 * Everything persistent, one repository per aggregate. The composition root builds the whole store; each
 * service declares the repositories it uses (`Pick<Store, 'devices' | 'audit'>`), so its dependencies are
 * visible in its type and a test fake needs only those.
 */
export interface Store {
  profiles: ProfileRepository;
  domains: DomainRepository;
  authorizations: AuthorizationRepository;
  certificates: CertificateRepository;
  hookChallenges: HookChallengeRepository;
  devices: DeviceRepository;
  bindings: BindingRepository;
  deployments: DeploymentRepository;
  deviceObjects: DeviceObjectRepository;
  leases: LeaseRepository;
  events: EventOutbox;
  approvals: ApprovalRepository;
  jobRuns: JobRunRepository;
  audit: AuditLog;
  /** Every sealed column at once, for key rotation. */
  sealedValues: SealedValueRepository;
  /** Read-only aggregates for `/metrics`. */
  metrics: MetricsReadModel;
  close(): Promise<void>;
}
