/**
 * What a device group's `cm/sync-status` `status` means to a deploy, and what the deploy does next
 * (`reference/bigip-icontrol.md` §6 "Waiting for completion": f5-ansible and nornir wait on the in-between
 * states and push with `to-group` when the group has changes or was never synced).
 */

export type SyncMeaning =
  | 'in_sync'
  | 'syncing'
  | 'changes_pending'
  | 'awaiting_initial_sync'
  | 'disconnected'
  | 'standalone'
  | 'unknown';

const MEANINGS: Record<string, SyncMeaning> = {
  'in sync': 'in_sync',
  syncing: 'syncing',
  'not all devices synced': 'syncing',
  'changes pending': 'changes_pending',
  'awaiting initial sync': 'awaiting_initial_sync',
  disconnected: 'disconnected',
  standalone: 'standalone',
};

export function syncMeaning(status: string | null | undefined): SyncMeaning {
  return MEANINGS[(status ?? '').trim().toLowerCase()] ?? 'unknown';
}

/** `post`: run `config-sync to-group`; `wait`: poll again; `done`: the group holds what the member holds. */
export type SyncAction = 'post' | 'wait' | 'done';

/**
 * The next move after reading the status. A manual-sync group with changes is pushed once; an auto-sync group
 * syncs by itself and is only waited for, except a group that was never synced, which must be pushed. With
 * a disconnected peer a manual group is still pushed (the connected peers get the change) and then waited on,
 * since the peer may come back before the deadline; the caller's deadline ends every wait, and each peer is
 * then judged on what it holds.
 */
export function nextSyncAction(meaning: SyncMeaning, group: { autoSync: boolean }, posted: boolean): SyncAction {
  switch (meaning) {
    case 'in_sync':
    case 'standalone':
      return 'done';
    case 'awaiting_initial_sync':
      return posted ? 'wait' : 'post';
    case 'changes_pending':
    case 'disconnected':
      // A manual group is pushed even with a peer away: the connected peers get the certificate now.
      return posted || group.autoSync ? 'wait' : 'post';
    default:
      return 'wait';
  }
}
