import type { DeploymentResult } from '../../domain/deployment.ts';
import type { ManagedCertificate } from '../../domain/managed-certificate.ts';

/** What `/metrics` shows of one certificate; names only, never key material. */
export type CertificateMetricFacts = Pick<
  ManagedCertificate,
  'name' | 'state' | 'serial' | 'notAfter' | 'renewAt' | 'failedAttempts'
> & {
  /** The CA profile's name. */
  profile: string;
};

export interface DeviceDeployFacts {
  /** The device's name. */
  device: string;
  /** When a deploy to it last finished `succeeded` or `unchanged` (the device serves the certificate); null: never. */
  lastSuccessAt: Date | null;
  /** Certificates whose newest deploy attempt on this device ended `failed` or `rolled_back`. */
  failingCertificates: number;
}

/** Renewals that ended, by how, as recorded in the audit log since this version. */
export interface RenewalOutcomes {
  /** Renewals that finished with a new certificate, whoever drove them. */
  succeeded: number;
  /** Automatic renewal attempts that failed (each one put the certificate into back-off). */
  failed: number;
}

/**
 * A read model for monitoring: aggregates over persisted state and history, so every replica answers the
 * same and a restart loses nothing. Read at scrape time (behind a short cache), so each query is one cheap
 * aggregate rather than a walk over rows.
 */
export interface MetricsReadModel {
  certificates(): Promise<CertificateMetricFacts[]>;
  renewalOutcomes(): Promise<RenewalOutcomes>;
  /** Finished deploy attempts by result (`running` ones are not counted). */
  deployOutcomes(): Promise<Record<Exclude<DeploymentResult, 'running'>, number>>;
  /** Every device, including those never deployed to. */
  devices(): Promise<DeviceDeployFacts[]>;
}
