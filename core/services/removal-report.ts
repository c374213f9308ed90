import type { DevicePurge } from '../deploy/device-object-purge.ts';
import { asCoreError, CoreError } from '../errors.ts';

/** What a removal did, for the edges to print; every list empty when there was nothing of the kind. */
export interface RemovalReport {
  removed: { type: 'profile' | 'domain' | 'certificate'; name: string };
  /** Taken along with a profile (`--force`). */
  domains: string[];
  certificates: string[];
  /** Bindings forgotten; the devices' profiles keep serving what they have. */
  unbound: { certificate: string; device: string; profile: string }[];
  cancelledApprovals: number;
  /** Authorization URLs deactivated at the CA. */
  deactivatedAuthorizations: string[];
  accountDeactivated: boolean;
  /** `--purge-devices`: what was deleted from, and kept on, each device. */
  devices: DevicePurge[];
}

/** A purge that failed on some device: what failed, what was deleted already, and that the certificate stays. */
export function purgeFailure(
  name: string,
  purged: DevicePurge[],
  failed: DevicePurge[],
  deactivated: string[],
): CoreError {
  const first = failed[0]!.error!;
  const removed = purged.flatMap((p) => p.removed.map((path) => `${p.device}:${path}`));
  const what = failed.map((f) => `${f.device}: ${f.error!.message}`).join('; ');
  return new CoreError(
    first.code,
    `could not delete the objects of certificate "${name}" from ${failed.map((f) => f.device).join(', ')} (${what}); ` +
      `${removed.length > 0 ? `deleted already: ${removed.join(', ')}; ` : ''}` +
      `${deactivated.length > 0 ? `${deactivated.length} pending authorization(s) deactivated; ` : ''}` +
      'the certificate is still here: run the removal again once the device is reachable',
    { retryable: true, detail: { devices: purged } },
  );
}

/** A CA failure during a removal: what failed, what was already done at the CA, and that no row went. */
export function caFailure(err: unknown, doing: string, deactivated: string[]): CoreError {
  const e = asCoreError(err);
  const done = deactivated.length > 0 ? `; ${deactivated.length} pending authorization(s) were deactivated first` : '';
  return new CoreError(e.code, `${doing}: ${e.message}${done}; nothing was removed`, {
    retryable: e.retryable,
    cause: err,
    detail: { deactivatedAuthorizations: deactivated, ...(e.detail ?? {}) },
  });
}

export function auditDetail(report: RemovalReport): Record<string, unknown> {
  return {
    domains: report.domains,
    certificates: report.certificates,
    unbound: report.unbound,
    cancelledApprovals: report.cancelledApprovals,
    deactivatedAuthorizations: report.deactivatedAuthorizations.length,
    accountDeactivated: report.accountDeactivated,
    devices: report.devices.map((d) => ({ device: d.device, removed: d.removed, kept: d.kept })),
  };
}
