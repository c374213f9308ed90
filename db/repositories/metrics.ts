import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { RENEWAL_AUDIT } from '../../core/domain/audit-entry.ts';
import type { DeploymentResult } from '../../core/domain/deployment.ts';
import type { MetricsReadModel } from '../../core/ports/repositories/metrics.ts';
import { auditLog, bindings, certificates, deployments, devices, profiles } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';

type FinishedResult = Exclude<DeploymentResult, 'running'>;
const FINISHED_RESULTS: readonly FinishedResult[] = ['succeeded', 'unchanged', 'failed', 'rolled_back'];
/** The device serves the certificate afterwards. */
const SUCCESS_RESULTS: readonly FinishedResult[] = ['succeeded', 'unchanged'];
const FAILURE_RESULTS: readonly FinishedResult[] = ['failed', 'rolled_back'];

/** Aggregates come back as Date (node-postgres, PGlite) or, through some paths, as text. */
function dateOf(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  const at = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(at.getTime()) ? null : at;
}

export function createMetricsReadModel(db: DrizzleDb): MetricsReadModel {
  return {
    async certificates() {
      return db
        .select({
          name: certificates.name,
          profile: profiles.name,
          state: certificates.state,
          serial: certificates.serial,
          notAfter: certificates.notAfter,
          renewAt: certificates.renewAt,
          failedAttempts: certificates.failedAttempts,
        })
        .from(certificates)
        .innerJoin(profiles, eq(profiles.id, certificates.profileId))
        .orderBy(certificates.name);
    },

    async renewalOutcomes() {
      const { action, detailFlag } = RENEWAL_AUDIT.succeeded;
      const [row] = await db
        .select({
          succeeded:
            sql<number>`count(*) filter (where ${auditLog.action} = ${action} and ${auditLog.detail} ->> ${detailFlag}::text = 'true')`.mapWith(
              Number,
            ),
          failed: sql<number>`count(*) filter (where ${auditLog.action} = ${RENEWAL_AUDIT.failedAction})`.mapWith(
            Number,
          ),
        })
        .from(auditLog)
        .where(inArray(auditLog.action, [action, RENEWAL_AUDIT.failedAction]));
      return { succeeded: row?.succeeded ?? 0, failed: row?.failed ?? 0 };
    },

    async deployOutcomes() {
      const rows = await db
        .select({ result: deployments.result, n: sql<number>`count(*)`.mapWith(Number) })
        .from(deployments)
        .where(ne(deployments.result, 'running'))
        .groupBy(deployments.result);
      const counts = Object.fromEntries(FINISHED_RESULTS.map((r) => [r, 0])) as Record<FinishedResult, number>;
      for (const { result, n } of rows) if (result !== 'running') counts[result] = n;
      return counts;
    },

    async devices() {
      const lastSuccess = await db
        .select({
          device: devices.name,
          at: sql`max(${deployments.finishedAt})`,
        })
        .from(devices)
        .leftJoin(
          deployments,
          and(eq(deployments.deviceId, devices.id), inArray(deployments.result, [...SUCCESS_RESULTS])),
        )
        .groupBy(devices.name)
        .orderBy(devices.name);
      // The newest finished attempt of each certificate on each device it is still bound to: a later success
      // clears a failure, and a binding removed since does not keep an old failure alive.
      const latest = db
        .selectDistinctOn([deployments.certificateId, deployments.deviceId], {
          deviceId: deployments.deviceId,
          result: deployments.result,
        })
        .from(deployments)
        .where(
          and(
            ne(deployments.result, 'running'),
            sql`exists (select 1 from ${bindings} where ${bindings.certificateId} = ${deployments.certificateId} and ${bindings.deviceId} = ${deployments.deviceId})`,
          ),
        )
        .orderBy(
          deployments.certificateId,
          deployments.deviceId,
          sql`${deployments.startedAt} desc`,
          sql`${deployments.id} desc`,
        )
        .as('latest');
      const failing = await db
        .select({ device: devices.name, n: sql<number>`count(*)`.mapWith(Number) })
        .from(latest)
        .innerJoin(devices, eq(devices.id, latest.deviceId))
        .where(inArray(latest.result, [...FAILURE_RESULTS]))
        .groupBy(devices.name);
      const failingBy = new Map(failing.map((f) => [f.device, f.n]));
      return lastSuccess.map(({ device, at }) => ({
        device,
        lastSuccessAt: dateOf(at),
        failingCertificates: failingBy.get(device) ?? 0,
      }));
    },
  };
}
