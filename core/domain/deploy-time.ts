import { Cron } from 'croner';
import { CoreError } from '../errors.ts';

/**
 * The seed's *Auto deployment*: "at 00:00 following renewal, or a time of day you select", in the profile's
 * time zone — unless what the devices serve would expire first, then at once.
 */
export function nextDeployTime(after: Date, timeOfDay: string, timeZone: string): Date {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(timeOfDay);
  if (!match) throw new CoreError('input_invalid', `deploy time must be HH:MM (got "${timeOfDay}")`);
  const next = new Cron(`${Number(match[2])} ${Number(match[1])} * * *`, { timezone: timeZone, paused: true }).nextRun(after);
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

export function isDeployDue(input: DeployDueInput): { due: boolean; at: Date; reason: 'deploy_time' | 'expires_first' } {
  const at = nextDeployTime(input.issuedAt, input.timeOfDay, input.timeZone);
  if (input.servedNotAfter && input.servedNotAfter.getTime() <= at.getTime()) {
    return { due: true, at: input.now, reason: 'expires_first' };
  }
  return { due: input.now.getTime() >= at.getTime(), at, reason: 'deploy_time' };
}
