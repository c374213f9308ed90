import type { Store } from '../core/ports/store.ts';
import type { Database } from './client.ts';
import { guardConnectionLoss } from './connection-loss.ts';
import { createApprovalRepository } from './repositories/approvals.ts';
import { createAuditLog } from './repositories/audit-log.ts';
import { createAuthorizationRepository } from './repositories/authorizations.ts';
import { createBindingRepository } from './repositories/bindings.ts';
import { createCertificateRepository } from './repositories/certificates.ts';
import { createDeploymentRepository, createDeviceObjectRepository } from './repositories/deployments.ts';
import { createDeviceRepository } from './repositories/devices.ts';
import { createDomainRepository } from './repositories/domains.ts';
import { queryBuilderOf } from './repositories/drizzle-db.ts';
import { createEventOutbox } from './repositories/events.ts';
import { createHookChallengeRepository } from './repositories/hook-challenges.ts';
import { createJobRunRepository } from './repositories/job-runs.ts';
import { createLeaseRepository } from './repositories/leases.ts';
import { createMetricsReadModel } from './repositories/metrics.ts';
import { createProfileRepository } from './repositories/profiles.ts';
import { createSealedValueRepository } from './repositories/sealed-values.ts';

/** The store on PostgreSQL or PGlite: one repository per aggregate (db/repositories/), all on one connection pool. */
export function createDrizzleStore(database: Database): Store {
  const db = queryBuilderOf(database);
  // A lost connection surfaces as one retryable `db_unavailable`, whichever query hit it (connection-loss.ts).
  return guardConnectionLoss<Store>({
    profiles: createProfileRepository(db),
    domains: createDomainRepository(db),
    authorizations: createAuthorizationRepository(db),
    certificates: createCertificateRepository(db),
    hookChallenges: createHookChallengeRepository(db),
    devices: createDeviceRepository(db),
    bindings: createBindingRepository(db),
    deployments: createDeploymentRepository(db),
    deviceObjects: createDeviceObjectRepository(db),
    leases: createLeaseRepository(db),
    events: createEventOutbox(db),
    approvals: createApprovalRepository(db),
    jobRuns: createJobRunRepository(db),
    audit: createAuditLog(db),
    sealedValues: createSealedValueRepository(db),
    metrics: createMetricsReadModel(db),
    close: () => database.close(),
  });
}
