import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CoreEventKind } from '../../core/domain/core-event.ts';
import type { Store } from '../../core/ports/store.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { ActivityService } from '../../core/services/activity-service.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { deployCoreDeps } from '../bigip/deploy-harness.ts';
import { truncateAll } from '../support/test-db.ts';

describe('ActivityService.recentProblems', () => {
  let database: Database;
  let store: Store;
  let now = new Date();
  let activity: ActivityService;
  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    store = createDrizzleStore(database);
    const deps = deployCoreDeps(store, createSecretBox(randomBytes(32).toString('base64')));
    activity = new ActivityService({ ...deps, clock: { ...deps.clock, now: () => now } });
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await truncateAll(database);
    now = new Date();
  });

  const emit = (kind: CoreEventKind, subject: string) =>
    store.events.emit({
      kind,
      certificateId: null,
      subject,
      dedupeKey: `${subject}:${kind}`,
      detail: {},
      needsPerson: true,
    });

  it('returns failed deploys and expired challenges, newest first, and nothing else', async () => {
    await emit('deploy_failed', 'a');
    await emit('renewed', 'b');
    await emit('challenge_expired', 'c');
    await emit('approval_requested', 'd');
    await emit('deploy_failed', 'e');
    expect((await activity.recentProblems()).map((e) => e.subject)).toEqual(['e', 'c', 'a']);
    expect((await activity.recentProblems(2)).map((e) => e.subject)).toEqual(['e', 'c']);
  });

  it('leaves out what is older than seven days', async () => {
    await emit('deploy_failed', 'old');
    now = new Date(Date.now() + 8 * 86_400_000);
    expect(await activity.recentProblems()).toEqual([]);
  });
});
