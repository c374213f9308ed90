import { CoreError, runCommand } from '../../errors.ts';
import { isRevoked, type ManagedCertificate } from '../managed-certificate.ts';

export type DeployableFacts = Pick<
  ManagedCertificate,
  'name' | 'state' | 'chainPem' | 'keySealed' | 'serial' | 'notAfter' | 'fingerprintSha256' | 'revokedSerial'
>;

/**
 * Why a deploy of this certificate cannot start, checked before any device is contacted; null when it can.
 * `boundDevices` counts the devices it is bound to (on `device` only, when the deploy names one). Every edge
 * asks the deploy service, which applies this rule, so Slack's "deploying to N devices" and the CLI agree.
 */
export function deployRefusal(cert: DeployableFacts, boundDevices: number, device?: string): CoreError | null {
  if (!hasIssuedMaterial(cert))
    return new CoreError('conflict', `certificate "${cert.name}" is ${cert.state}, not issued; nothing to deploy`);
  if (isRevoked(cert)) {
    // Putting a revoked certificate on a profile that does not serve it yet would break that profile.
    return new CoreError(
      'conflict',
      `certificate "${cert.name}" (serial ${cert.serial}) is revoked; nothing to deploy`,
      {
        hint: runCommand('issue its replacement with', ['cert', 'renew', cert.name]),
      },
    );
  }
  if (boundDevices === 0) {
    return new CoreError(
      'input_invalid',
      `certificate "${cert.name}" is bound to no BIG-IP profile${device ? ` on ${device}` : ''}`,
      { hint: runCommand('add one', ['binding', 'add'], { aside: true }) },
    );
  }
  return null;
}

/** Issued, with everything a deploy sends (chain, key, serial, expiry, fingerprint). */
export function hasIssuedMaterial<C extends DeployableFacts>(
  cert: C,
): cert is C & { chainPem: string; keySealed: string; serial: string; notAfter: Date; fingerprintSha256: string } {
  return (
    cert.state === 'issued' &&
    Boolean(cert.chainPem && cert.keySealed && cert.serial && cert.notAfter && cert.fingerprintSha256)
  );
}
