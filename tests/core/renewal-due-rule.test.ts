import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateState, RenewalState } from '../../core/domain/managed-certificate.ts';
import { decideRenewal } from '../../core/issuance/renewal-policies.ts';
import type { Store } from '../../core/ports/store.ts';
import type { Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { makeCertificate, makeProfile } from '../fixtures/builders.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

/**
 * One "due" rule: the renewal policy chain decides; the store's `listRenewalCandidates` only preselects. Over
 * every combination of the columns the chain reads, the preselection must hold every certificate the chain
 * renews (a coarse superset), or the sweep would never see it.
 */
const NOW = new Date('2030-01-01T00:00:00Z');
const PAST = new Date(NOW.getTime() - 60_000);
const FUTURE = new Date(NOW.getTime() + 60_000);

for (const target of databaseTargets) {
  describe(`on ${target.kind}`, () => {
    let database: Database;
    let store: Store;

    beforeAll(async () => {
      database = await freshDatabase(target.open);
      store = createDrizzleStore(database);
    });
    afterAll(async () => {
      await database?.close();
    });

    it('the store preselects every certificate the renewal policy chain renews', async () => {
      const profiles = { auto: makeProfile({ autoRenew: true }), manual: makeProfile({ autoRenew: false }) };
      for (const p of Object.values(profiles)) await store.profiles.insert(p);
      const states: CertificateState[] = ['requested', 'ordering', 'failed', 'issued'];
      const renewalStates: (RenewalState | null)[] = [null, 'ordering', 'failed'];
      const times = [null, PAST, FUTURE];
      const renewing = new Set<string>();
      let n = 0;
      for (const profile of Object.values(profiles))
        for (const state of states)
          for (const renewalState of renewalStates)
            for (const renewalStartedAt of [null, PAST])
              for (const renewAt of times)
                for (const nextAttemptAt of times)
                  for (const revoked of [false, true]) {
                    // The invariant the preselection relies on: a renewal in flight has its start time.
                    if (renewalState !== null && renewalStartedAt === null) continue;
                    const cert = makeCertificate(profile.id, {
                      id: randomUUID(),
                      name: `c${n++}`,
                      state,
                      renewalState,
                      renewalStartedAt,
                      renewAt,
                      nextAttemptAt,
                      serial: `5e${n}`,
                      revokedSerial: revoked ? `5e${n}` : null,
                    });
                    await store.certificates.insert(cert);
                    // Bound: the revoked certificates the chain renews are the bound ones, so this is the superset.
                    if (decideRenewal({ cert, profile, bound: true, now: NOW }).renew) renewing.add(cert.id);
                  }
      const preselected = new Set(await store.certificates.listRenewalCandidates(NOW, 10_000));
      expect(renewing.size).toBeGreaterThan(0);
      expect([...renewing].filter((id) => !preselected.has(id))).toEqual([]);
    });
  });
}
