import type { Deployment, DeploymentResult, DeviceObject } from '../../domain/deployment.ts';

export interface DeploymentRepository {
  insert(deployment: Deployment): Promise<void>;
  update(id: string, patch: Partial<Omit<Deployment, 'id'>>): Promise<Deployment>;
  /** Newest first. */
  list(filter?: {
    certificateId?: string;
    deviceId?: string;
    result?: DeploymentResult;
    limit?: number;
  }): Promise<Deployment[]>;
  /**
   * The newest attempt of each certificate on each device, among attempts started at or after `since`:
   * what a device was last left with (a later success supersedes an earlier failure).
   */
  latestPerTarget(since: Date): Promise<Deployment[]>;
}

export interface DeviceObjectRepository {
  /** Records an installed object; installing the same path again revives and re-stamps the row. */
  record(object: DeviceObject): Promise<void>;
  /** Objects of this certificate on this device that have not been removed. */
  listLive(deviceId: string, certificateId: string): Promise<DeviceObject[]>;
  markRemoved(id: string, at: Date): Promise<void>;
}
