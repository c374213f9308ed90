import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';

/**
 * A person's `cert renew` is told to the notifier like the sweep's renewal: `renewal_due` when it starts
 * (reason `manual`) and `renewed` when the new chain is in, each once.
 */
describeWithPebble('events from a manual renewal', () => {
  const pebble = usePebble({ authzReuse: 0 });
  let database: Database;
  let core: TestCore;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
    await core.services.profiles.create(
      { name: 'manual', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    await core.services.domains.add('manual', ['renew-events.example.test'], 'http-01', 'test');
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
  });

  it('a manual renew emits renewal_due and renewed, as the sweep does', async () => {
    const { services, store } = core;
    const first = await services.certificates.request(
      { profile: 'manual', commonName: 'renew-events.example.test' },
      'cli:alice',
    );
    expect(first.state).toBe('issued');
    // A first issuance tells only its requester (request_outcome); renewal events come from renewals alone.
    const issuedEvents = await store.events.list({ certificateId: first.id });
    expect(issuedEvents.map((e) => [e.kind, e.detail['outcome'], e.detail['requester']])).toEqual([
      ['request_outcome', 'issued', 'cli:alice'],
    ]);

    const renewed = await services.certificates.renew(first.name, 'cli:alice');
    expect(renewed.renewalState).toBeNull();
    expect(renewed.serial).not.toBe(first.serial);

    const events = (await store.events.list({ certificateId: first.id }))
      .filter((e) => e.kind !== 'request_outcome')
      .sort((a, b) => a.id - b.id);
    expect(events.map((e) => e.kind)).toEqual(['renewal_due', 'renewed']);
    expect(events[0]!.detail).toMatchObject({ serial: first.serial, reason: 'manual' });
    expect(events[1]!.detail).toMatchObject({ previousSerial: first.serial, serial: renewed.serial });
    expect(events.every((e) => !e.needsPerson && e.subject === first.name)).toBe(true);
  });
});
