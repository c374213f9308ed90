import { and, desc, eq, gte, isNull } from 'drizzle-orm';
import type { Deployment, DeviceObject } from '../../core/domain/deployment.ts';
import type { DeploymentRepository, DeviceObjectRepository } from '../../core/ports/repositories/deployments.ts';
import { deployments, deviceObjects } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';
import { oneOrNotFound } from './pg-errors.ts';

export type DeploymentRow = typeof deployments.$inferSelect;
export type DeviceObjectRow = typeof deviceObjects.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function deploymentFromRow(row: DeploymentRow): Deployment {
  return row;
}

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function deviceObjectFromRow(row: DeviceObjectRow): DeviceObject {
  return row;
}

export function createDeploymentRepository(db: DrizzleDb): DeploymentRepository {
  return {
    async insert(deployment) {
      await db.insert(deployments).values(deployment);
    },
    async update(id, patch) {
      const rows = await db.update(deployments).set(patch).where(eq(deployments.id, id)).returning();
      return deploymentFromRow(oneOrNotFound(rows, 'deployment'));
    },
    async list(filter = {}) {
      const conditions = [
        ...(filter.certificateId ? [eq(deployments.certificateId, filter.certificateId)] : []),
        ...(filter.deviceId ? [eq(deployments.deviceId, filter.deviceId)] : []),
        ...(filter.result ? [eq(deployments.result, filter.result)] : []),
      ];
      const rows = await db
        .select()
        .from(deployments)
        .where(and(...conditions))
        .orderBy(desc(deployments.startedAt), desc(deployments.id))
        .limit(filter.limit ?? 100);
      return rows.map(deploymentFromRow);
    },
    async latestPerTarget(since) {
      // DISTINCT ON walks deployments_certificate_device_idx: one row per (certificate, device), the newest.
      const rows = await db
        .selectDistinctOn([deployments.certificateId, deployments.deviceId])
        .from(deployments)
        .where(gte(deployments.startedAt, since))
        .orderBy(deployments.certificateId, deployments.deviceId, desc(deployments.startedAt), desc(deployments.id));
      return rows.map(deploymentFromRow).sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
    },
  };
}

export function createDeviceObjectRepository(db: DrizzleDb): DeviceObjectRepository {
  return {
    async record(object) {
      await db
        .insert(deviceObjects)
        .values(object)
        .onConflictDoUpdate({
          target: [deviceObjects.deviceId, deviceObjects.fullPath],
          set: {
            certificateId: object.certificateId,
            kind: object.kind,
            serial: object.serial,
            installedAt: object.installedAt,
            removedAt: null,
          },
        });
    },
    async listLive(deviceId, certificateId) {
      const rows = await db
        .select()
        .from(deviceObjects)
        .where(
          and(
            eq(deviceObjects.deviceId, deviceId),
            eq(deviceObjects.certificateId, certificateId),
            isNull(deviceObjects.removedAt),
          ),
        )
        .orderBy(deviceObjects.installedAt);
      return rows.map(deviceObjectFromRow);
    },
    async markRemoved(id, at) {
      await db.update(deviceObjects).set({ removedAt: at }).where(eq(deviceObjects.id, id));
    },
  };
}
