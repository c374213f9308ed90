import type { CoreError } from '../errors.ts';
import { DEPLOY_STEPS, type DeployedObjects, type DeploymentResult, type DeployStep } from './deployment.ts';

/** What one certificate's deploy uploads; prepared once and shared by every device. */
export interface DeployMaterial {
  /** The private key, encrypted with `passphrase` (PKCS#8 PEM). */
  encryptedKeyPem: string;
  passphrase: string;
  leafPem: string;
  /** The intermediates as one PEM bundle, or null. */
  chainPem: string | null;
  keyType: 'rsa' | 'ec';
  objects: DeployedObjects;
}

export interface DeviceDeploymentOutcome {
  result: DeploymentResult;
  step: DeployStep;
  /** What is where now, in one or two sentences for a person. */
  outcome: string;
  error: CoreError | null;
}

/** What the bound profiles showed when read back after a commit whose answer was lost. */
export type LostCommit = 'switched' | 'partial' | 'unchanged' | 'unreadable';

/** The steps before the profiles can reference anything of this attempt's (verify is the first after). */
const BEFORE_THE_SWITCH: readonly DeployStep[] = DEPLOY_STEPS.slice(0, DEPLOY_STEPS.indexOf('verify'));

/**
 * A failed device deploy, said for a person, and whether what this attempt installed is to be removed (only
 * when no profile can reference it: nothing switched, switched back, or the lost commit read back unchanged).
 */
export function failedDeployOutcome(f: {
  step: DeployStep;
  switched: boolean;
  rolledBack: boolean;
  lostCommit: LostCommit | null;
  cert: string;
}): { outcome: string; undoInstall: boolean } {
  const { step, switched, rolledBack, lostCommit, cert } = f;
  // The installed objects stay: a profile may reference them now. The next deploy reads the device.
  if (lostCommit === 'unreadable')
    return {
      outcome: `the commit's answer was lost and the profiles could not be read back: unknown whether they serve ${cert} or what they served before; retry (the next deploy reads the device and finishes or switches)`,
      undoInstall: false,
    };
  if (lostCommit === 'unchanged')
    return {
      outcome: `the commit's answer was lost; read back: the profiles still serve what they served before`,
      undoInstall: true,
    };
  if (!switched && !rolledBack && BEFORE_THE_SWITCH.includes(step))
    return { outcome: 'nothing switched: the profiles serve what they served before', undoInstall: true };
  if (rolledBack) return { outcome: 'switched back: the profiles serve what they served before', undoInstall: true };
  const outcome =
    step === 'verify' && switched
      ? `the profiles reference ${cert}, but it could not be verified and switching back failed`
      : step === 'verify'
        ? `the profiles already referenced ${cert} (an earlier attempt switched them); it could not be verified now, and nothing was changed`
        : step === 'save'
          ? `the profiles serve ${cert} (verified) but the configuration is not saved; retry to save`
          : `the profiles serve ${cert} (verified, saved); removing old objects failed; retry to finish`;
  return { outcome, undoInstall: false };
}
