import { and, eq, gt, isNotNull, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { CoreError } from '../../core/errors.ts';
import type { SealedValueRepository } from '../../core/ports/repositories/sealed-values.ts';
import { SEALED_COLUMNS, type SealedColumn, sealedColumnName } from '../../core/secrets/sealed-columns.ts';
import { authorizations, certificates, devices, domains, hookChallenges, profiles } from '../schema/index.ts';
import type { DrizzleDb } from './drizzle-db.ts';

interface Target {
  table: PgTable;
  id: PgColumn;
  column: PgColumn;
  /** The column's property name in the drizzle table, for `set`. */
  property: string;
}

/** The drizzle column behind each registry entry; the store tests check both lists name the same columns. */
const TARGETS: Record<string, Target> = {
  'profiles.account_key_sealed': {
    table: profiles,
    id: profiles.id,
    column: profiles.accountKeySealed,
    property: 'accountKeySealed',
  },
  'profiles.eab_hmac_key_sealed': {
    table: profiles,
    id: profiles.id,
    column: profiles.eabHmacKeySealed,
    property: 'eabHmacKeySealed',
  },
  'certificates.key_sealed': {
    table: certificates,
    id: certificates.id,
    column: certificates.keySealed,
    property: 'keySealed',
  },
  'certificates.renewal_key_sealed': {
    table: certificates,
    id: certificates.id,
    column: certificates.renewalKeySealed,
    property: 'renewalKeySealed',
  },
  'certificates.pending_revocation_key_sealed': {
    table: certificates,
    id: certificates.id,
    column: certificates.pendingRevocationKeySealed,
    property: 'pendingRevocationKeySealed',
  },
  'certificates.passphrase_sealed': {
    table: certificates,
    id: certificates.id,
    column: certificates.passphraseSealed,
    property: 'passphraseSealed',
  },
  'authorizations.tls_key_sealed': {
    table: authorizations,
    id: authorizations.id,
    column: authorizations.tlsKeySealed,
    property: 'tlsKeySealed',
  },
  'hook_challenges.key_sealed': {
    table: hookChallenges,
    id: hookChallenges.id,
    column: hookChallenges.keySealed,
    property: 'keySealed',
  },
  'domains.endpoint_password_sealed': {
    table: domains,
    id: domains.id,
    column: domains.endpointPasswordSealed,
    property: 'endpointPasswordSealed',
  },
  'domains.dns_secret_sealed': {
    table: domains,
    id: domains.id,
    column: domains.dnsSecretSealed,
    property: 'dnsSecretSealed',
  },
  'devices.password_sealed': {
    table: devices,
    id: devices.id,
    column: devices.passwordSealed,
    property: 'passwordSealed',
  },
};

export function sealedTargetOf(c: SealedColumn): Target {
  const target = TARGETS[sealedColumnName(c)];
  if (!target) throw new CoreError('internal', `no database column for sealed column ${sealedColumnName(c)}`);
  return target;
}

/** The key id of a sealed value in SQL: the second dot-separated part of `v1.<keyId>.…`. */
const keyIdOf = (column: PgColumn) => sql<string>`split_part(${column}, '.', 2)`;

export function createSealedValueRepository(db: DrizzleDb): SealedValueRepository {
  return {
    async usage() {
      const out = [];
      for (const c of SEALED_COLUMNS) {
        const t = sealedTargetOf(c);
        const rows = await db
          .select({ keyId: keyIdOf(t.column), count: sql<number>`count(*)::int` })
          .from(t.table)
          .where(isNotNull(t.column))
          .groupBy(keyIdOf(t.column));
        for (const r of rows) out.push({ column: sealedColumnName(c), keyId: r.keyId, count: Number(r.count) });
      }
      return out;
    },
    async listNotUnder(c, keyId, afterId, limit) {
      const t = sealedTargetOf(c);
      const rows = await db
        .select({ id: t.id, value: t.column })
        .from(t.table)
        .where(
          and(
            isNotNull(t.column),
            sql`${keyIdOf(t.column)} <> ${keyId}`,
            afterId === null ? undefined : gt(t.id, afterId),
          ),
        )
        .orderBy(t.id)
        .limit(limit);
      return rows.map((r) => ({ id: String(r.id), value: String(r.value) }));
    },
    async replace(c, id, expected, next) {
      const t = sealedTargetOf(c);
      const rows = await db
        .update(t.table)
        .set({ [t.property]: next } as never)
        .where(and(eq(t.id, id), eq(t.column, expected)))
        .returning({ id: t.id });
      return rows.length === 1;
    },
  };
}
