import { describe, expect, it } from 'vitest';
import { nextSyncAction, type SyncMeaning, syncMeaning } from '../../core/domain/sync-status.ts';

describe('syncMeaning: cm/sync-status status → what it means', () => {
  it.each([
    ['In Sync', 'in_sync'],
    ['Changes Pending', 'changes_pending'],
    ['Awaiting Initial Sync', 'awaiting_initial_sync'],
    ['Not All Devices Synced', 'syncing'],
    ['Syncing', 'syncing'],
    ['Disconnected', 'disconnected'],
    ['Standalone', 'standalone'],
    ['  in sync ', 'in_sync'],
    ['Something New', 'unknown'],
  ] as const)('%s → %s', (status, meaning) => {
    expect(syncMeaning(status)).toBe(meaning);
  });
});

describe('nextSyncAction: push, wait or done', () => {
  const cases: [SyncMeaning, boolean, boolean, ReturnType<typeof nextSyncAction>][] = [
    // meaning, autoSync, posted → action
    ['in_sync', false, false, 'done'],
    ['in_sync', true, true, 'done'],
    ['standalone', false, false, 'done'],
    ['changes_pending', false, false, 'post'],
    ['changes_pending', false, true, 'wait'],
    ['changes_pending', true, false, 'wait'],
    ['awaiting_initial_sync', true, false, 'post'],
    ['awaiting_initial_sync', false, true, 'wait'],
    ['disconnected', false, false, 'post'],
    ['disconnected', true, false, 'wait'],
    ['syncing', false, false, 'wait'],
    ['unknown', false, false, 'wait'],
  ];
  it.each(cases)('%s (auto-sync %s, pushed %s) → %s', (meaning, autoSync, posted, action) => {
    expect(nextSyncAction(meaning, { autoSync }, posted)).toBe(action);
  });
});
