/**
 * Whether one peer of a device group holds the deployed certificate after the sync, said for a person. The
 * checks are read from the peer itself: the certificate object with the expected fingerprint, the key, and
 * every bound client-ssl profile pointing at them.
 */
import { sameFingerprint } from './deploy-plan.ts';
import type { SyncMeaning } from './sync-status.ts';

export interface PeerCheck {
  peer: string;
  group: string;
  /** The group's status when the wait ended. */
  groupStatus: SyncMeaning;
  /** What the sync status details said about this peer (`bigip2: disconnected`); null when not listed. */
  connected: boolean | null;
  /** Why the peer's configuration could not be read; null when it was read. */
  unreadable: string | null;
  /** The fingerprint of the deployed certificate object on the peer; null when missing. */
  fingerprint: string | null;
  keyPresent: boolean;
  /** Bound profiles on the peer that do not reference the new certificate and key. */
  profilesNotSwitched: string[];
  /** The wait for "In Sync" ended at its deadline. */
  timedOut: boolean;
}

export interface PeerVerdict {
  ok: boolean;
  message: string;
}

export function peerVerdict(
  c: PeerCheck,
  expected: { fingerprint: string; cert: string; waitedSeconds: number },
): PeerVerdict {
  const holds =
    c.unreadable === null &&
    sameFingerprint(c.fingerprint, expected.fingerprint) &&
    c.keyPresent &&
    c.profilesNotSwitched.length === 0;
  if (holds)
    return { ok: true, message: `${c.peer} holds ${expected.cert} (fingerprint verified) on every bound profile` };
  const kept = 'it keeps what it served before; the next deploy run retries';
  if (c.connected === false)
    return {
      ok: false,
      message: `${c.peer} is disconnected from device group ${c.group} and did not receive the sync; ${kept}`,
    };
  if (c.unreadable !== null) return { ok: false, message: `${c.peer} could not be read (${c.unreadable}); ${kept}` };
  const missing =
    c.fingerprint === null
      ? `${expected.cert} is missing`
      : !sameFingerprint(c.fingerprint, expected.fingerprint)
        ? `${expected.cert} has fingerprint ${c.fingerprint}`
        : !c.keyPresent
          ? 'the key is missing'
          : `${c.profilesNotSwitched.join(', ')} still point elsewhere`;
  if (c.timedOut)
    return {
      ok: false,
      message: `${c.peer} did not receive the sync within ${expected.waitedSeconds} s (group ${c.group} is ${c.groupStatus.replace(/_/g, ' ')}): ${missing}; ${kept}`,
    };
  return { ok: false, message: `${c.peer}: ${missing} although group ${c.group} reports in sync; ${kept}` };
}
