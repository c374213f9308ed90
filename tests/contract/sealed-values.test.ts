import { randomBytes, randomUUID } from 'node:crypto';
import { getTableColumns, getTableName } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MasterKeys } from '../../core/ports/master-keys.ts';
import type { Store } from '../../core/ports/store.ts';
import { SEALED_COLUMNS, sealedColumnName } from '../../core/secrets/sealed-columns.ts';
import { createSecretBox, masterKeyId } from '../../core/secrets/secret-box.ts';
import { SecretsService } from '../../core/secrets/secrets-service.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import type { Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { sealedTargetOf } from '../../db/repositories/sealed-values.ts';
import { makeCertificate, makeDevice, makeProfile } from '../fixtures/builders.ts';
import { schemaTables, sealedValuesOutsideRegistry } from '../support/sealed-scan.ts';
import { databaseTargets, freshDatabase, truncateAll } from '../support/test-db.ts';

const devicesColumn = SEALED_COLUMNS.find((c) => sealedColumnName(c) === 'devices.password_sealed')!;

describe('the sealed-column registry', () => {
  it('lists exactly the schema columns named *_sealed, each mapped to that very column', () => {
    const inSchema = schemaTables().flatMap((t) =>
      Object.values(getTableColumns(t))
        .filter((c) => c.name.endsWith('_sealed'))
        .map((c) => `${getTableName(t)}.${c.name}`),
    );
    expect(new Set(SEALED_COLUMNS.map(sealedColumnName))).toEqual(new Set(inSchema));
    for (const c of SEALED_COLUMNS) {
      const target = sealedTargetOf(c);
      expect(`${getTableName(target.table)}.${target.column.name}`).toBe(sealedColumnName(c));
      expect(target.id.name).toBe('id');
    }
  });
});

/** A key ring fixed for a test: primary first. */
const ringOf = (ids: string[]): MasterKeys => ({
  source: 'environment',
  keyIds: () => ids,
  generatePrimary: () => {
    throw new Error('not in this test');
  },
  dropKey: () => {},
});

for (const target of databaseTargets) {
  describe(`sealed values on ${target.kind}`, () => {
    let database: Database;
    let store: Store;
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const oldBox = createSecretBox(oldKey);
    const ring = createSecretBox(newKey, [oldKey]);
    const [oldId, newId] = [masterKeyId(oldKey), masterKeyId(newKey)];
    const passwords = ['pw-a', 'pw-b', 'pw-c', 'pw-d', 'pw-e'];
    let ids: string[];
    /** Each device's password, by device id. */
    let plain: Record<string, string>;
    let certId: string;

    beforeAll(async () => {
      database = await freshDatabase(target.open);
      store = createDrizzleStore(database);
    });
    afterAll(async () => {
      await database?.close();
    });
    beforeEach(async () => {
      await truncateAll(database);
      ids = [];
      plain = {};
      for (const pw of passwords) {
        const d = makeDevice();
        await store.devices.insert({ ...d, passwordSealed: oldBox.seal(pw, secretAad('devices', d.id, 'password')) });
        ids.push(d.id);
        plain[d.id] = pw;
      }
      ids.sort();
      const p = makeProfile();
      await store.profiles.insert({
        ...p,
        accountKeySealed: oldBox.seal('account key', secretAad('profiles', p.id, 'account_key')),
      });
      certId = randomUUID();
      // A renewal in flight: its key sits beside the live one, sealed for the certificate's `key` column.
      await store.certificates.insert(
        makeCertificate(p.id, {
          id: certId,
          keySealed: oldBox.seal('live key', secretAad('certificates', certId, 'key')),
          renewalKeySealed: oldBox.seal('renewal key', secretAad('certificates', certId, 'key')),
          passphraseSealed: null,
        }),
      );
    });

    /** Each device's password as the ring opens it now, by device id. */
    const opened = async (): Promise<Record<string, string>> =>
      Object.fromEntries(
        await Promise.all(
          ids.map(async (id) => [
            id,
            ring.open((await store.devices.findById(id))!.passwordSealed, secretAad('devices', id, 'password')),
          ]),
        ),
      );

    it('counts values per column and key, pages past a cursor, and replaces only the value it read', async () => {
      expect(await store.sealedValues.usage()).toEqual(
        expect.arrayContaining([
          { column: 'devices.password_sealed', keyId: oldId, count: 5 },
          { column: 'profiles.account_key_sealed', keyId: oldId, count: 1 },
        ]),
      );
      const first = await store.sealedValues.listNotUnder(devicesColumn, newId, null, 2);
      expect(first.map((r) => r.id)).toEqual(ids.slice(0, 2));
      const next = await store.sealedValues.listNotUnder(devicesColumn, newId, first[1]!.id, 10);
      expect(next.map((r) => r.id)).toEqual(ids.slice(2));
      expect(await store.sealedValues.listNotUnder(devicesColumn, oldId, null, 10)).toEqual([]);

      const row = first[0]!;
      const resealed = ring.seal(plain[row.id]!, secretAad('devices', row.id, 'password'));
      expect(await store.sealedValues.replace(devicesColumn, row.id, 'v1.stale', resealed)).toBe(false);
      expect((await store.devices.findById(row.id))!.passwordSealed).toBe(row.value);
      expect(await store.sealedValues.replace(devicesColumn, row.id, row.value, resealed)).toBe(true);
      expect((await store.devices.findById(row.id))!.passwordSealed).toBe(resealed);
      expect(await store.sealedValues.usage()).toEqual(
        expect.arrayContaining([
          { column: 'devices.password_sealed', keyId: oldId, count: 4 },
          { column: 'devices.password_sealed', keyId: newId, count: 1 },
        ]),
      );
      expect(await sealedValuesOutsideRegistry(database)).toEqual([]);
    });

    it("a value another process rewrites during the rotation keeps that process's write, and nothing is lost", async () => {
      // Another process changes the second device's password between the rotation's read and its write.
      const racing: Store = {
        ...store,
        sealedValues: {
          ...store.sealedValues,
          async replace(column, id, expected, next) {
            if (id === ids[1]) {
              await store.devices.update(id, {
                passwordSealed: ring.seal('pw-b changed', secretAad('devices', id, 'password')),
              });
            }
            return store.sealedValues.replace(column, id, expected, next);
          },
        },
      };
      const service = new SecretsService({ store: racing, secrets: ring }, ringOf([newId, oldId]));
      const result = await service.rotate({ batchSize: 2 }, 'test');
      expect(result).toMatchObject({
        keyId: newId,
        resealed: 7,
        changedMeanwhile: 1,
        remaining: 0,
        retirable: [oldId],
      });
      expect(await opened()).toEqual({ ...plain, [ids[1]!]: 'pw-b changed' });
      const cert = (await store.certificates.findById(certId))!;
      for (const sealed of [cert.keySealed!, cert.renewalKeySealed!]) expect(sealed.split('.')[1]).toBe(newId);
      expect(ring.open(cert.renewalKeySealed!, secretAad('certificates', certId, 'key'))).toBe('renewal key');
      expect(ring.open(cert.keySealed!, secretAad('certificates', certId, 'key'))).toBe('live key');
    });

    it('a value written meanwhile under the old key (a replica not yet given the new key) is counted, and blocks retire-key', async () => {
      let written = false;
      const racing: Store = {
        ...store,
        sealedValues: {
          ...store.sealedValues,
          async replace(column, id, expected, next) {
            const ok = await store.sealedValues.replace(column, id, expected, next);
            if (!written && id === ids[4]) {
              written = true;
              await store.devices.update(ids[0]!, {
                passwordSealed: oldBox.seal('pw-a again', secretAad('devices', ids[0]!, 'password')),
              });
            }
            return ok;
          },
        },
      };
      const keys = ringOf([newId, oldId]);
      const service = new SecretsService({ store: racing, secrets: ring }, keys);
      const result = await service.rotate({}, 'test');
      expect(result).toMatchObject({ resealed: 8, changedMeanwhile: 0, remaining: 1, retirable: [] });
      await expect(service.retireKey(oldId, 'test')).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringContaining(`1 value(s) are still sealed under key ${oldId}`),
      });
      const again = await service.rotate({}, 'test');
      expect(again).toMatchObject({ resealed: 1, remaining: 0, retirable: [oldId] });
      expect(await opened()).toEqual({ ...plain, [ids[0]!]: 'pw-a again' });
      await expect(service.retireKey(oldId, 'test')).resolves.toEqual({ retired: oldId, source: 'environment' });
    });

    it('runs one rotation at a time per process, and never re-seals with a box that is not the ring primary', async () => {
      const before = await opened();
      const stray = new SecretsService({ store, secrets: oldBox }, ringOf([newId, oldId]));
      await expect(stray.rotate({}, 'test')).rejects.toMatchObject({ code: 'internal' });
      expect((await store.sealedValues.usage()).every((u) => u.keyId === oldId)).toBe(true);

      const service = new SecretsService({ store, secrets: ring }, ringOf([newId, oldId]));
      const [first, second] = await Promise.allSettled([service.rotate({}, 'test'), service.rotate({}, 'test')]);
      expect(first.status).toBe('fulfilled');
      expect(second).toMatchObject({ status: 'rejected', reason: { code: 'conflict' } });
      expect(await opened()).toEqual(before);
    });
  });
}
