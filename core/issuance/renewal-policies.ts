import type { CaProfile } from '../domain/ca-profile.ts';
import { isRevoked, type ManagedCertificate } from '../domain/managed-certificate.ts';

/**
 * Whether the renewal sweep works on a certificate now: a chain of small pure policies in the style of
 * cert-manager's `internal/controller/certificates/policies`. Each policy either decides (renew or not, and
 * why) or passes to the next; the first decision wins. This chain is the one "due" rule: the store's
 * `listRenewalCandidates` only preselects a coarse superset by indexed columns, and the sweep re-checks every
 * candidate here under its claim.
 */

export interface RenewalPolicyInput {
  cert: Pick<
    ManagedCertificate,
    'state' | 'renewalState' | 'renewalStartedAt' | 'renewAt' | 'nextAttemptAt' | 'serial' | 'revokedSerial'
  >;
  profile: Pick<CaProfile, 'autoRenew'>;
  /** Whether any binding puts this certificate on a BIG-IP profile. */
  bound: boolean;
  now: Date;
}

/**
 * - `retry_backoff`: an attempt failed and its backoff (`nextAttemptAt`) has not elapsed.
 * - `renewal_in_flight`: a renewal started and has not finished; continue it (same key, same order).
 * - `not_issued`: nothing to renew yet (a first issuance is not the renewal sweep's).
 * - `auto_renew_off`: the profile renews only on request.
 * - `revoked`: the live certificate was revoked and a BIG-IP is bound to it; replace it now.
 * - `revoked_unbound`: the live certificate was revoked and nothing serves it; renewing would revive it.
 * - `not_scheduled`: no renewal time on the row.
 * - `renewal_time_reached`: `renewAt` has come; start a renewal.
 * - `renewal_time_ahead`: `renewAt` lies in the future.
 */
export type RenewalVerdictReason =
  | 'retry_backoff'
  | 'renewal_in_flight'
  | 'not_issued'
  | 'auto_renew_off'
  | 'revoked'
  | 'revoked_unbound'
  | 'not_scheduled'
  | 'renewal_time_reached'
  | 'renewal_time_ahead';

export interface RenewalVerdict {
  renew: boolean;
  reason: RenewalVerdictReason;
}

/** A decision, or null to let the next policy decide. */
export type RenewalPolicy = (input: RenewalPolicyInput) => RenewalVerdict | null;

/** A failed attempt waits out its backoff, whether it was a new renewal or one in flight. */
export const retryBackoffNotElapsed: RenewalPolicy = ({ cert, now }) =>
  cert.nextAttemptAt && cert.nextAttemptAt > now ? { renew: false, reason: 'retry_backoff' } : null;

/**
 * A renewal beside the live certificate, or (rows from before renewals ran beside it) any unfinished row
 * whose renewal started, is continued whatever the profile and the renewal time say.
 */
export const renewalInFlight: RenewalPolicy = ({ cert }) =>
  cert.renewalState !== null || (cert.state !== 'issued' && cert.renewalStartedAt !== null)
    ? { renew: true, reason: 'renewal_in_flight' }
    : null;

export const notYetIssued: RenewalPolicy = ({ cert }) =>
  cert.state !== 'issued' ? { renew: false, reason: 'not_issued' } : null;

export const autoRenewOff: RenewalPolicy = ({ profile }) =>
  profile.autoRenew ? null : { renew: false, reason: 'auto_renew_off' };

/**
 * A revoked certificate is still served until something replaces it (`cert revoke` does not touch the
 * BIG-IPs): when bindings use it, it is renewed at once whatever `renewAt` says, as a CA's ARI answers an
 * immediate window for a revoked certificate; the deploy job then puts the replacement on every binding.
 * Without bindings nobody needs a replacement, and renewing would undo what the person who revoked it meant.
 */
export const revokedCertificate: RenewalPolicy = ({ cert, bound }) => {
  if (!isRevoked(cert)) return null;
  return bound ? { renew: true, reason: 'revoked' } : { renew: false, reason: 'revoked_unbound' };
};

/** `renewAt` comes from `renewalSchedule` (lifetime fraction, profile deadline, ARI window, emergency). */
export const renewalTimeReached: RenewalPolicy = ({ cert, now }) => {
  if (cert.renewAt === null) return { renew: false, reason: 'not_scheduled' };
  return cert.renewAt <= now
    ? { renew: true, reason: 'renewal_time_reached' }
    : { renew: false, reason: 'renewal_time_ahead' };
};

/** In order; the last policy always decides. */
export const RENEWAL_POLICY_CHAIN: readonly RenewalPolicy[] = [
  retryBackoffNotElapsed, // a failing certificate is not hammered, in flight or not
  renewalInFlight, // a started renewal is finished before anything else is asked
  notYetIssued, // first issuances are resumed by the stalled-issuance pass, not here
  autoRenewOff, // manual-renewal profiles are renewed only by a person
  revokedCertificate, // a revoked certificate still served is replaced now; one nobody serves is left alone
  renewalTimeReached, // the persisted renewal time has come
];

export function decideRenewal(
  input: RenewalPolicyInput,
  chain: readonly RenewalPolicy[] = RENEWAL_POLICY_CHAIN,
): RenewalVerdict {
  for (const policy of chain) {
    const verdict = policy(input);
    if (verdict) return verdict;
  }
  return { renew: false, reason: 'not_scheduled' };
}
