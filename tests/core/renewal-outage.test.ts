import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/ports/store.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { createCoreServices } from '../../core/services/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { databaseUnavailable } from '../../db/connection-loss.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { deployCoreDeps } from '../bigip/deploy-harness.ts';
import { makeCertificate, makeProfile } from '../fixtures/builders.ts';

/*
 * A database blip in the middle of a renewal is not the certificate's failure: before, the sweep counted it
 * (failedAttempts + 1, an hour's backoff, a renewal_failed alert to people) as soon as the database answered
 * again. Now the run ends with db_unavailable and the next sweep simply renews.
 */
describe('a renewal sweep hit by a database outage', () => {
  let database: Database;
  let store: Store;
  let failNextUpdate = false;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    store = createDrizzleStore(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('ends the run as db_unavailable without counting a failure, backing off or alerting, and leaves no lease behind', async () => {
    const profile = makeProfile();
    await store.profiles.insert(profile);
    const cert = makeCertificate(profile.id, {
      state: 'issued',
      serial: '01',
      notBefore: new Date(Date.now() - 60 * 86_400_000),
      notAfter: new Date(Date.now() + 30 * 86_400_000),
      renewAt: new Date(Date.now() - 60_000),
    });
    await store.certificates.insert(cert);
    // The connection drops exactly when the renewal starts writing; the database is back right after.
    const flaky: Store = {
      ...store,
      certificates: {
        ...store.certificates,
        update: async (id, patch) => {
          if (failNextUpdate) {
            failNextUpdate = false;
            throw databaseUnavailable(new Error('Connection terminated unexpectedly'));
          }
          return store.certificates.update(id, patch);
        },
      },
    };
    const services = createCoreServices(
      deployCoreDeps(flaky, createSecretBox(Buffer.alloc(32, 7).toString('base64'))),
      { holder: 'test' },
    );
    failNextUpdate = true;

    await expect(services.renewals.sweep()).rejects.toMatchObject({ code: 'db_unavailable' });
    const after = (await store.certificates.findById(cert.id))!;
    expect(after).toMatchObject({ state: 'issued', failedAttempts: 0, nextAttemptAt: null, renewalStartedAt: null });
    expect((await store.events.list({ certificateId: cert.id })).map((e) => e.kind)).not.toContain('renewal_failed');
    // Not wedged: the claim was released, so the next run (any replica) can take it at once.
    expect(await store.leases.tryAcquire(`renew:${cert.id}`, 'another-replica', 60_000)).toBe(true);
  });
});
