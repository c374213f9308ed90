/**
 * The HA half of a group deploy, after the chosen member serves the new certificate: bring the group in sync
 * (push with `config-sync to-group` for a manual-sync group, wait for an auto-sync one), bounded by a
 * deadline, then read every peer and judge whether it holds the certificate on every bound profile. Nothing
 * is written to a peer and nothing is rolled back: a peer that missed the sync keeps what it served before.
 */
import type { DeployedObjects } from '../domain/deployment.ts';
import type { Device } from '../domain/device.ts';
import { type PeerCheck, type PeerVerdict, peerVerdict } from '../domain/peer-verdict.ts';
import { nextSyncAction, type SyncMeaning, syncMeaning } from '../domain/sync-status.ts';
import { asCoreError, CoreError } from '../errors.ts';
import type { BigIpClient, SyncStatusRecord } from '../ports/bigip-client.ts';
import type { Progress } from '../services/core-deps.ts';

export interface SyncTiming {
  /** How long to wait for "In Sync". */
  timeoutMs: number;
  /** Between two reads of the sync status. */
  pollMs: number;
}

export interface SyncResult {
  meaning: SyncMeaning;
  status: SyncStatusRecord | null;
  posted: boolean;
  timedOut: boolean;
  waitedMs: number;
}

/** Pushes or waits until the group reads "In Sync" or the deadline passes; a refused push throws. */
export async function syncGroup(
  client: BigIpClient,
  group: { name: string; autoSync: boolean },
  via: string,
  timing: SyncTiming,
  progress: Progress,
): Promise<SyncResult> {
  const started = Date.now();
  const deadline = started + timing.timeoutMs;
  let posted = false;
  for (;;) {
    const status = await client.getSyncStatus();
    const meaning = syncMeaning(status.status);
    const action = nextSyncAction(meaning, group, posted);
    if (action === 'done') return { meaning, status, posted, timedOut: false, waitedMs: Date.now() - started };
    if (action === 'post') {
      try {
        await client.configSyncToGroup(group.name);
      } catch (err) {
        const e = asCoreError(err);
        throw new CoreError(
          'deploy_failed',
          `config-sync to-group ${group.name} from ${via} was refused: ${e.message}`,
          {
            retryable: true,
            cause: e,
            detail: { stage: 'sync' },
          },
        );
      }
      posted = true;
      progress(`${via}: config-sync to-group ${group.name} started (group was ${status.status})`);
      continue;
    }
    if (Date.now() >= deadline) return { meaning, status, posted, timedOut: true, waitedMs: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, Math.min(timing.pollMs, Math.max(1, deadline - Date.now()))));
  }
}

/** What the sync status details say about one device (`bigip2: disconnected`); null when not listed. */
function connectedPerDetails(status: SyncStatusRecord | null, haName: string): boolean | null {
  const line = status?.details.find((d) => d.startsWith(`${haName}: `));
  if (!line) return null;
  return !/disconnected/i.test(line);
}

/** Reads one peer and judges it. */
export async function verifyPeer(
  client: BigIpClient,
  peer: Device,
  group: string,
  sync: SyncResult,
  expected: { objects: DeployedObjects; fingerprint: string; profiles: string[] },
): Promise<PeerVerdict> {
  const check: PeerCheck = {
    peer: peer.name,
    group,
    groupStatus: sync.meaning,
    connected: connectedPerDetails(sync.status, peer.haTopology?.self ?? peer.name),
    unreadable: null,
    fingerprint: null,
    keyPresent: false,
    profilesNotSwitched: [],
    timedOut: sync.timedOut,
  };
  try {
    check.fingerprint = (await client.getCert(expected.objects.cert))?.fingerprint ?? null;
    check.keyPresent = (await client.getKey(expected.objects.key)) !== null;
    for (const path of expected.profiles) {
      const profile = await client.getClientSslProfile(path);
      const switched = profile?.certKeyChain.some(
        (e) => e.cert === expected.objects.cert && e.key === expected.objects.key,
      );
      if (!switched) check.profilesNotSwitched.push(path);
    }
  } catch (err) {
    check.unreadable = asCoreError(err).message;
  }
  return peerVerdict(check, {
    fingerprint: expected.fingerprint,
    cert: expected.objects.cert,
    waitedSeconds: Math.round(sync.waitedMs / 1000),
  });
}
