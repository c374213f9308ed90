import { Cron } from 'croner';
import { CoreError } from '../errors.ts';

/**
 * The seed's *Auto deployment*: "at 00:00 following renewal, or a time of day you select", in the profile's
 * time zone — unless what the devices serve would expire first, then at once.
 */
export function nextDeployTime(after: Date, timeOfDay: string, timeZone: string): Date {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(timeOfDay);
  if (!match) throw new CoreError('input_invalid', `deploy time must be HH:MM (got "${timeOfDay}")`);
  const next = new Cron(`${Number(match[2])} ${Number(match[1])} * * *`, { timezone: timeZone, paused: true }).nextRun(
    after,
  );
  if (!next) throw new CoreError('input_invalid', `no next deploy time for ${timeOfDay} in ${timeZone}`);
  return next;
}

export interface DeployDueInput {
  /** When the certificate now on the row was issued. */
  issuedAt: Date;
  now: Date;
  timeOfDay: string;
  timeZone: string;
  /** The earliest expiry among what the bound profiles serve now; null when something has never been deployed. */
  servedNotAfter: Date | null;
}

export function isDeployDue(input: DeployDueInput): {
  due: boolean;
  at: Date;
  reason: 'deploy_time' | 'expires_first';
} {
  const at = nextDeployTime(input.issuedAt, input.timeOfDay, input.timeZone);
  if (input.servedNotAfter && input.servedNotAfter.getTime() <= at.getTime()) {
    return { due: true, at: input.now, reason: 'expires_first' };
  }
  return { due: input.now.getTime() >= at.getTime(), at, reason: 'deploy_time' };
}

/**
 * When a certificate's bindings that do not serve its current issue will be deployed by the auto deploy
 * job: the profile's deploy time after issuance, or now when what is served would expire first or was
 * revoked (a revoked certificate is as good as expired to clients that check). `due` says
 * whether that time has come. Null when nothing waits: no binding behind, the certificate not issued, or
 * the profile does not deploy by itself.
 */
export interface PendingDeploy {
  at: Date;
  due: boolean;
  reason: 'deploy_time' | 'expires_first' | 'served_revoked';
  /** How many bindings do not serve the current issue yet. */
  bindings: number;
}

export interface PendingDeployInput {
  /** `revokedSerial`: the last serial revoked at the CA (absent: none known). */
  cert: { state: string; issuedAt: Date | null; fingerprintSha256: string | null; revokedSerial?: string | null };
  bindings: readonly {
    deployedFingerprint: string | null;
    deployedNotAfter: Date | null;
    deployedSerial?: string | null;
  }[];
  profile: { autoDeploy: boolean; deployTime: string; deployTimeZone: string };
  now: Date;
}

export function pendingDeploy({ cert, bindings, profile, now }: PendingDeployInput): PendingDeploy | null {
  if (cert.state !== 'issued' || !cert.issuedAt || !cert.fingerprintSha256 || !profile.autoDeploy) return null;
  const behind = bindings.filter((b) => b.deployedFingerprint !== cert.fingerprintSha256);
  if (behind.length === 0) return null;
  if (cert.revokedSerial && behind.some((b) => b.deployedSerial === cert.revokedSerial)) {
    return { at: now, due: true, reason: 'served_revoked', bindings: behind.length };
  }
  const served = behind.flatMap((b) => (b.deployedNotAfter ? [b.deployedNotAfter.getTime()] : []));
  const due = isDeployDue({
    issuedAt: cert.issuedAt,
    now,
    timeOfDay: profile.deployTime,
    timeZone: profile.deployTimeZone,
    servedNotAfter: served.length > 0 ? new Date(Math.min(...served)) : null,
  });
  return { at: due.at, due: due.due, reason: due.reason, bindings: behind.length };
}
