import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Schema } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { makeCertificate, makeProfile } from '../fixtures/builders.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

/** The data part of migration 0007: the statement after its last breakpoint. */
const MIGRATION = readFileSync(
  join(import.meta.dirname, '../../db/migrations/0007_renewal_beside_live_certificate.sql'),
  'utf8',
);
const MOVE_RENEWALS_IN_FLIGHT = MIGRATION.split('--> statement-breakpoint').at(-1)!;

describe.each(databaseTargets)(
  'migration 0007 on $kind: renewals in flight move beside the live certificate',
  ({ open }) => {
    let database: Database;
    beforeAll(async () => {
      database = await freshDatabase(open);
    });
    afterAll(async () => {
      await database?.close();
    });

    it('a renewal that ran in the row is moved to the renewal columns; first issuances and issued rows stay as they were', async () => {
      const store = createDrizzleStore(database);
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const updatedAt = new Date('2026-03-03T00:32:01.000Z');
      const issuedFields = {
        serial: '0abc',
        notBefore: new Date('2026-03-01T00:00:00Z'),
        notAfter: new Date('2026-03-07T00:00:00Z'),
        chainPem: 'CHAIN',
      };
      // As rows looked before 0007: a renewal that failed mid-order, with its new key in the row's own column.
      const renewing = makeCertificate(profile.id, {
        name: 'renewing',
        ...issuedFields,
        state: 'ordering',
        keySealed: 'v1.k1.next-key',
        csrPem: 'NEXT-CSR',
        orderUrl: 'https://ca/order/1',
        problem: { type: 'acme_unreachable', detail: 'cannot reach the CA' },
        renewalStartedAt: new Date('2026-03-03T00:00:00Z'),
        failedAttempts: 2,
        updatedAt,
      });
      const firstIssuance = makeCertificate(profile.id, {
        name: 'first',
        state: 'ordering',
        keySealed: 'v1.k1.key',
        csrPem: 'CSR',
        serial: null,
      });
      const issued = makeCertificate(profile.id, {
        name: 'issued',
        ...issuedFields,
        state: 'issued',
        keySealed: 'v1.k1.live-key',
        csrPem: 'CSR',
      });
      for (const c of [renewing, firstIssuance, issued]) await store.certificates.insert(c);
      // `insert` stamps updated_at itself; the migration reads it as the error's time.
      await (database.db as PgliteDatabase<Schema>).execute(
        sql`UPDATE certificates SET updated_at = ${updatedAt.toISOString()} WHERE name = 'renewing'`,
      );

      await (database.db as PgliteDatabase<Schema>).execute(sql.raw(MOVE_RENEWALS_IN_FLIGHT));

      expect(await store.certificates.findById(renewing.id)).toMatchObject({
        state: 'issued',
        serial: '0abc',
        chainPem: 'CHAIN',
        keySealed: null,
        csrPem: null,
        renewalState: 'ordering',
        renewalKeySealed: 'v1.k1.next-key',
        renewalCsrPem: 'NEXT-CSR',
        orderUrl: 'https://ca/order/1',
        problem: null,
        lastRenewalError: { code: 'acme_unreachable', message: 'cannot reach the CA', at: '2026-03-03T00:32:01.000Z' },
        failedAttempts: 2,
      });
      expect(await store.certificates.findById(firstIssuance.id)).toMatchObject({
        state: 'ordering',
        keySealed: 'v1.k1.key',
        renewalState: null,
        renewalKeySealed: null,
      });
      expect(await store.certificates.findById(issued.id)).toMatchObject({
        state: 'issued',
        keySealed: 'v1.k1.live-key',
        renewalState: null,
        lastRenewalError: null,
      });
    });
  },
);
