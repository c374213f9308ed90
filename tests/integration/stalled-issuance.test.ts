import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AcmeGateway } from '../../core/ports/acme-gateway.ts';
import type { Database } from '../../db/client.ts';
import { describeWithPebble, usePebble } from '../support/pebble.ts';
import { startTestCore, type TestCore } from '../support/test-core.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

/**
 * First issuances that stopped half-way — the process died after an approval was granted, after it was
 * taken, or after the order was created — are finished by the renew job once nobody has touched them for
 * 15 minutes. Waiting for an approval, or still being driven, they are left alone.
 */
for (const target of databaseTargets) {
  describeWithPebble(`stalled first issuances on ${target.kind}`, () => {
    const pebble = usePebble({ authzReuse: 0 });
    let database: Database;
    let core: TestCore;
    const name = (label: string) => `${label}.stalled-${target.kind}.example.test`;

    beforeAll(async () => {
      database = await freshDatabase(target.open);
      core = await startTestCore(database, pebble(), undefined, { approvers: ['slack:U0BOB'] });
      await core.services.profiles.create(
        { name: 'web', server: pebble().directoryUrl, keySpec: 'ec-p256', acceptTos: true },
        'test',
      );
      await core.services.domains.add(
        'web',
        ['approved', 'taken', 'crashed', 'pending', 'fresh'].map(name),
        'http-01',
        'test',
      );
    });
    afterAll(async () => {
      await core?.close();
      await database?.close();
    });

    /** As if nothing had written the row for an hour. */
    async function age(id: string): Promise<void> {
      await (database.db as { execute(q: unknown): Promise<unknown> }).execute(
        sql`UPDATE certificates SET updated_at = now() - interval '1 hour' WHERE id = ${id}`,
      );
    }

    const requestGated = (label: string) =>
      core.services.certificates.request({ profile: 'web', commonName: name(label) }, 'slack:U0ALICE', undefined, {
        approval: true,
      });

    it('resumes what was approved (taken or not) or crashed after ordering; leaves pending and fresh ones', async () => {
      const { services, store } = core;

      // Approved, but the process died before it took the approval.
      const approved = await requestGated('approved');
      const [a1] = await services.approvals.list('pending');
      await services.approvals.approve(a1!.id, 'slack:U0BOB');

      // Approved and taken, then the process died before ordering.
      const taken = await requestGated('taken');
      const a2 = (await services.approvals.list('pending')).find((a) => a.certificateId === taken.id)!;
      await services.approvals.approve(a2.id, 'slack:U0BOB');
      await store.approvals.transition(a2.id, 'approved', { state: 'used' });

      // Requested from the CLI; the drive died right after the order was created (the row holds the order).
      // The services hold their own copy of the dependencies (the in-process responder wraps the endpoint
      // client), so the crash goes into the shared gateway object itself, and comes out again.
      const gateway = core.deps.acme as { getAuthorization: AcmeGateway['getAuthorization'] };
      const real = gateway.getAuthorization;
      gateway.getAuthorization = async () => {
        throw new Error('simulated crash after the order was created');
      };
      try {
        await expect(
          services.certificates.request({ profile: 'web', commonName: name('crashed') }, 'cli:ops'),
        ).rejects.toThrow(/simulated crash/);
      } finally {
        gateway.getAuthorization = real;
      }
      const crashed = (await store.certificates.findByName(name('crashed')))!;
      expect(crashed.state).toBe('ordering');
      expect(crashed.orderUrl).toMatch(/^https:/);

      // Waiting for an approver: not resumed. Approved a minute ago: someone may still be driving it.
      const pending = await requestGated('pending');
      const fresh = await requestGated('fresh');
      const a3 = (await services.approvals.list('pending')).find((a) => a.certificateId === fresh.id)!;
      await services.approvals.approve(a3.id, 'slack:U0BOB');

      for (const c of [approved, taken, crashed, pending]) await age(c.id);

      const report = await services.renewals.sweep();
      expect([...report.resumed].sort()).toEqual([approved.name, crashed.name, taken.name].sort());
      for (const c of [approved, taken, crashed])
        expect((await services.certificates.show(c.name)).state).toBe('issued');
      // The crashed request went on with the order it had created.
      expect((await store.certificates.findById(crashed.id))?.orderUrl).toBe(crashed.orderUrl);
      expect((await store.approvals.findById(a1!.id))?.state).toBe('used');
      expect((await services.certificates.show(pending.name)).state).toBe('requested');
      expect((await services.certificates.show(fresh.name)).state).toBe('requested');
      expect((await store.approvals.findById(a3.id))?.state).toBe('approved');

      // A second sweep finds nothing more to resume.
      expect((await services.renewals.sweep()).resumed).toEqual([]);
    });
  });
}
