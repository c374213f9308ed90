import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CoreError } from '../../core/errors.ts';
import { accountOf } from '../../core/services/core-deps.ts';
import type { Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

const EAB_KID = 'kid-1';
const EAB_KEY = randomBytes(32).toString('base64url');

describeWithPebble('profiles with EAB, Reconfigure, and replacing an order the CA invalidated', () => {
  const pebble = usePebble({ authzReuse: 0, eabKeys: { [EAB_KID]: EAB_KEY } });
  let database: Database;
  let core: TestCore;

  beforeAll(async () => {
    database = await freshDatabase(databaseTargets[0]!.open);
    core = await startTestCore(database, pebble());
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
  });

  const create = (name: string, eab?: { kid: string; hmacKey: string }) =>
    core.services.profiles.create(
      { name, server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true, ...(eab ? { eab } : {}) },
      'test',
    );

  it('creates the account with external account binding when the directory requires it, and seals the HMAC key', async () => {
    expect((await core.services.profiles.validate(pebble().directoryUrl)).externalAccountRequired).toBe(true);
    await expect(create('no-eab')).rejects.toMatchObject({
      code: 'input_invalid',
      message: expect.stringContaining('external account binding'),
    });
    const wrong = await create('bad-eab', { kid: EAB_KID, hmacKey: randomBytes(32).toString('base64url') }).catch(
      (e: unknown) => e,
    );
    expect(wrong).toBeInstanceOf(CoreError);
    expect((wrong as CoreError).code).toBe('acme_error');
    expect(await core.store.profiles.list()).toEqual([]);

    const created = await create('eab', { kid: EAB_KID, hmacKey: EAB_KEY });
    expect(created.eabKid).toBe(EAB_KID);
    expect(created).not.toHaveProperty('eabHmacKeySealed');
    const db = database.db as unknown as { execute(q: unknown): Promise<{ rows: Record<string, unknown>[] }> };
    const { rows } = await db.execute(sql`SELECT row_to_json(p)::text AS j FROM profiles p`);
    expect(rows[0]!.j).not.toContain(EAB_KEY);
    expect(String(rows[0]!.j)).toMatch(/"eab_hmac_key_sealed":"v1\./);

    const updated = await core.services.profiles.update('eab', { contact: ['new@example.com'] }, 'test');
    expect(updated.contact).toEqual(['new@example.com']);
  });

  it('Reconfigure refreshes only the domains whose authorization is gone', async () => {
    const [gone, kept] = await core.services.domains.add(
      'eab',
      ['gone.example.test', 'kept.example.test'],
      'http-01',
      'test',
    );
    const profile = (await core.store.profiles.findByName('eab'))!;
    const goneDomain = (await core.store.domains.find(profile.id, 'gone.example.test'))!;
    const authz = (await core.store.authorizations.findById(goneDomain.currentAuthorizationId!))!;
    await core.deps.acme.deactivateAuthorization(accountOf(core.deps, profile), authz.url);

    const refreshed = await core.services.domains.reconfigure('eab', 'test');
    expect(refreshed.map((c) => c.domain)).toEqual(['gone.example.test']);
    expect(refreshed[0]!.http!.fileName).not.toBe(gone!.http!.fileName);
    expect(refreshed[0]!.status).toBe('pending');
    expect((await core.services.domains.challenge({ name: 'kept.example.test' })).http!.fileName).toBe(
      kept!.http!.fileName,
    );
    expect((await core.services.domains.test({ name: 'gone.example.test' }, 'test')).outcome).toBe('valid');
  });

  it('replaces an order the CA invalidated with a new one and keeps the key', async () => {
    const name = 'replaced.example.test';
    await core.services.domains.add('eab', [name], 'dns-01', 'test');
    const waiting = await core.services.certificates.request({ profile: 'eab', commonName: name }, 'test');
    expect(waiting.state).toBe('awaiting_challenge');
    const before = (await core.store.certificates.findByName(waiting.name))!;

    // Deactivating the order's only authorization makes the CA invalidate the order.
    const profile = (await core.store.profiles.findByName('eab'))!;
    await core.deps.acme.deactivateAuthorization(accountOf(core.deps, profile), before.authorizationUrls[0]!);
    const second = await core.services.certificates.resume(waiting.name, 'test');
    expect(second.state).toBe('awaiting_challenge');
    expect(second.orderAttempts).toBe(2);
    expect(second.orderUrl).not.toBe(before.orderUrl);

    await pebble().setTxt(`_acme-challenge.${name}`, (await core.services.domains.challenge({ name })).dns!.value);
    const issued = await core.services.certificates.resume(waiting.name, 'test');
    expect(issued.state).toBe('issued');
    expect((await core.store.certificates.findByName(waiting.name))!.keySealed).toBe(before.keySealed);
  });
});
