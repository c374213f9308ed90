import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import { openDatabase, type Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';

// reliability.md's "Hostile" rate (lego's e2e setting). At 50% a request fails after its 10 sends with
// probability 2^-10, so ~200 signed requests failed one renewal in about 1 run of 6 (seen on a loaded machine):
// the assertion below (no failure at all) holds only where exhausting the retry table is negligible (0.2^10).
describeWithPebble('renewals with PEBBLE_WFE_NONCEREJECT=20 and the validation sleep on', () => {
  const pebble = usePebble({ authzReuse: 0, nonceReject: 20, noSleep: false });
  let database: Database;
  let core: TestCore;

  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    await database.migrate();
    core = await startTestCore(database, pebble());
  });
  afterAll(async () => {
    await core?.close();
    await database?.close();
  });

  it('20 due certificates all renew: rejected nonces are retried with a fresh one, slow validations waited out', async () => {
    const profile = await core.services.profiles.create(
      { name: 'stress', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
      'test',
    );
    const names = Array.from({ length: 20 }, (_, i) => `s${i}.stress.example.test`);
    await core.services.domains.add('stress', names, 'http-01', 'test');
    // Already issued (by another CA, as far as this test cares) and due now.
    const certs: ManagedCertificate[] = [];
    for (const name of names) {
      const seeded = await seedIssuedCertificate(core.store, core.deps.secrets, {
        names: [name],
        profileId: profile.id,
      });
      certs.push(await core.store.certificates.update(seeded.id, { renewAt: new Date(Date.now() - 1000) }));
    }

    // Two sweeps at a time, as two scheduled runs would overlap with a forwarded `jobs run renew`.
    const deadline = Date.now() + 240_000;
    for (;;) {
      const reports = await Promise.all([core.services.renewals.sweep(), core.services.renewals.sweep()]);
      for (const r of reports) expect(r.failed, JSON.stringify(r.failed)).toEqual([]);
      const rows = await Promise.all(certs.map((c) => core.store.certificates.findById(c.id)));
      if (rows.every((r) => r?.state === 'issued' && r.serial !== certs.find((c) => c.id === r.id)!.serial)) break;
      if (Date.now() > deadline)
        throw new Error(`not all renewed: ${rows.map((r) => `${r?.name}:${r?.state}`).join(', ')}`);
    }
    for (const c of certs) {
      const row = (await core.store.certificates.findById(c.id))!;
      expect(row.failedAttempts).toBe(0);
      expect(row.orderAttempts).toBe(1);
    }
  }, 300_000);
});
