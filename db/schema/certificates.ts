import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { KeySpec } from '../../core/domain/key-spec.ts';
import type {
  CertificateState,
  PendingRevocation,
  RenewalError,
  RenewalState,
} from '../../core/domain/managed-certificate.ts';
import type { RevocationReason } from '../../core/domain/revocation-reason.ts';
import type { AcmeProblem } from '../../core/ports/acme-gateway.ts';
import { timestamps } from './_columns.ts';
import { profiles } from './profiles.ts';

export const certificates = pgTable(
  'certificates',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull().unique(),
    profileId: uuid('profile_id')
      .notNull()
      .references(() => profiles.id, { onDelete: 'restrict' }),
    partition: text('partition').notNull().default('Common'),
    commonName: text('common_name').notNull(),
    sans: text('sans').array().notNull().default([]),
    keySpec: text('key_spec').$type<KeySpec>().notNull(),
    /** Sealed (AES-256-GCM, see core/secrets). Stored before the CSR is ever sent. */
    keySealed: text('key_sealed'),
    /** Sealed (AES-256-GCM, see core/secrets). */
    passphraseSealed: text('passphrase_sealed'),
    csrPem: text('csr_pem'),
    state: text('state').$type<CertificateState>().notNull(),
    orderUrl: text('order_url'),
    finalizeUrl: text('finalize_url'),
    authorizationUrls: text('authorization_urls').array().notNull().default([]),
    orderStatus: text('order_status'),
    orderAttempts: integer('order_attempts').notNull().default(0),
    problem: jsonb('problem').$type<AcmeProblem>(),
    chainPem: text('chain_pem'),
    serial: text('serial'),
    notBefore: timestamp('not_before', { withTimezone: true }),
    notAfter: timestamp('not_after', { withTimezone: true }),
    fingerprintSha256: text('fingerprint_sha256'),
    subject: text('subject'),
    issuer: text('issuer'),
    issuedAt: timestamp('issued_at', { withTimezone: true }),
    requestedBy: text('requested_by').notNull(),
    renewAt: timestamp('renew_at', { withTimezone: true }),
    renewReason: text('renew_reason'),
    ariWindowStart: timestamp('ari_window_start', { withTimezone: true }),
    ariWindowEnd: timestamp('ari_window_end', { withTimezone: true }),
    ariNextPollAt: timestamp('ari_next_poll_at', { withTimezone: true }),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    renewalStartedAt: timestamp('renewal_started_at', { withTimezone: true }),
    renewalState: text('renewal_state').$type<RenewalState>(),
    /** Sealed (AES-256-GCM, see core/secrets), with the same AAD as `key_sealed`. */
    renewalKeySealed: text('renewal_key_sealed'),
    renewalCsrPem: text('renewal_csr_pem'),
    lastRenewalError: jsonb('last_renewal_error').$type<RenewalError>(),
    lastRenewalAttemptAt: timestamp('last_renewal_attempt_at', { withTimezone: true }),
    revokedSerial: text('revoked_serial'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revocationReason: text('revocation_reason').$type<RevocationReason>(),
    revokedBy: text('revoked_by'),
    pendingRevocation: jsonb('pending_revocation').$type<PendingRevocation>(),
    /** Sealed (AES-256-GCM, see core/secrets), with the same AAD as `key_sealed`. */
    pendingRevocationKeySealed: text('pending_revocation_key_sealed'),
    ...timestamps,
  },
  (t) => [
    index('certificates_renew_at_idx').on(t.renewAt),
    index('certificates_state_idx').on(t.state),
    // The sweep's two selections (bench/RESULTS.md "Sweep"): without these both scan the whole table.
    index('certificates_in_flight_idx').on(t.renewAt).where(sql`renewal_started_at IS NOT NULL`),
    index('certificates_ari_poll_idx').on(t.ariNextPollAt).where(sql`state = 'issued'`),
    // First issuances that stopped half-way (never issued): the renew job resumes them once they are stale.
    index('certificates_first_issuance_idx').on(t.updatedAt).where(sql`serial IS NULL`),
    // The scheduler's wake-up for the earliest retry of a failing renewal.
    index('certificates_retry_idx').on(t.nextAttemptAt).where(sql`failed_attempts > 0`),
  ],
);
