import type { ErrorCode } from '../errors.ts';

/**
 * One attempt to put one certificate on one device, kept as history. `unchanged`: the device already served
 * this certificate and nothing was written. `rolled_back`: the profiles were switched and switched back.
 */
export type DeploymentResult = 'running' | 'succeeded' | 'unchanged' | 'failed' | 'rolled_back';

/** Steps in the order a deploy takes them; `step` on a record is the last one started. */
export const DEPLOY_STEPS = [
  'connect',
  'inspect',
  'upload',
  'key_install',
  'cert_install',
  'switch',
  'verify',
  'save',
  'cleanup',
  /** A device group: `config-sync to-group` (or waiting for auto-sync) until "In Sync". */
  'sync',
  /** A device group: every peer read back (a peer's own record ends here). */
  'peer_verify',
  /** A TLS handshake with each virtual server using a bound profile shows the new serial. */
  'handshake',
  'done',
] as const;
export type DeployStep = (typeof DEPLOY_STEPS)[number];

/** The versioned objects one deploy installs. */
export interface DeployedObjects {
  key: string;
  cert: string;
  /** The intermediates as one bundle object, or null when the CA sent none. */
  chain: string | null;
}

export interface Deployment {
  id: string;
  certificateId: string;
  deviceId: string;
  serial: string;
  objects: DeployedObjects;
  profiles: string[];
  /** Fingerprint each profile served before the attempt (null: none, or not ours to read). */
  oldFingerprints: Record<string, string | null>;
  newFingerprint: string;
  result: DeploymentResult;
  step: DeployStep;
  error: { code: ErrorCode; message: string; detail?: Record<string, unknown> | undefined } | null;
  /** What is where when the attempt ended, for a person reading a failure. */
  outcome: string | null;
  actor: string;
  startedAt: Date;
  finishedAt: Date | null;
}

/** An object bigip-acme installed on a device; the only kind cleanup may ever delete. */
export interface DeviceObject {
  id: string;
  deviceId: string;
  certificateId: string;
  kind: 'key' | 'cert' | 'chain';
  fullPath: string;
  serial: string;
  installedAt: Date;
  removedAt: Date | null;
}
