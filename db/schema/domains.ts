import { boolean, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { ChallengeType } from '../../core/domain/challenge-type.ts';
import type { DnsPublisherSettings } from '../../core/domain/dns-publisher.ts';
import type { AuthorizationStatus, ConnectionStatus } from '../../core/domain/managed-domain.ts';
import type { AcmeProblem } from '../../core/ports/acme-gateway.ts';
import { timestamps } from './_columns.ts';
import { profiles } from './profiles.ts';

export const domains = pgTable(
  'domains',
  {
    id: uuid('id').primaryKey(),
    profileId: uuid('profile_id')
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    challengeType: text('challenge_type').$type<ChallengeType>().notNull(),
    status: text('status').$type<ConnectionStatus>().notNull().default('pending'),
    currentAuthorizationId: uuid('current_authorization_id'),
    problem: jsonb('problem').$type<AcmeProblem>(),
    lastCheckedAt: timestamp('last_checked_at', { withTimezone: true }),
    lastCheckDetail: text('last_check_detail'),
    endpointUrl: text('endpoint_url'),
    endpointUsername: text('endpoint_username'),
    /** Sealed (AES-256-GCM, see core/secrets). */
    endpointPasswordSealed: text('endpoint_password_sealed'),
    /** scrypt verifier of the endpoint password, so a responder without MASTER_KEY can check hook callers. */
    endpointPasswordVerifier: text('endpoint_password_verifier'),
    /** Devices that answer this domain's HTTP-01 from a data-group (the on-box method); empty → not used. */
    dataGroupDeviceIds: uuid('data_group_device_ids').array().notNull().default([]),
    dataGroupPath: text('data_group_path'),
    /** RFC 2136 or acme-dns settings for DNS-01 (no secret); null: not used. */
    dnsPublisher: jsonb('dns_publisher').$type<DnsPublisherSettings>(),
    /** Sealed (AES-256-GCM, see core/secrets): the TSIG secret or the acme-dns credentials. */
    dnsSecretSealed: text('dns_secret_sealed'),
    ...timestamps,
  },
  (t) => [uniqueIndex('domains_profile_name_uq').on(t.profileId, t.name), index('domains_name_idx').on(t.name)],
);

export const authorizations = pgTable(
  'authorizations',
  {
    id: uuid('id').primaryKey(),
    domainId: uuid('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    url: text('url').notNull().unique(),
    identifier: text('identifier').notNull(),
    wildcard: boolean('wildcard').notNull().default(false),
    status: text('status').$type<AuthorizationStatus>().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    challenges: jsonb('challenges')
      .$type<Partial<Record<ChallengeType, { url: string; token: string }>>>()
      .notNull()
      .default({}),
    httpToken: text('http_token'),
    httpKeyAuthorization: text('http_key_authorization'),
    dnsTxtValue: text('dns_txt_value'),
    tlsCertPem: text('tls_cert_pem'),
    /** Sealed (AES-256-GCM, see core/secrets): the throwaway TLS-ALPN-01 key. */
    tlsKeySealed: text('tls_key_sealed'),
    answeredType: text('answered_type').$type<ChallengeType>(),
    problem: jsonb('problem').$type<AcmeProblem>(),
    ...timestamps,
  },
  (t) => [
    index('authorizations_http_token_idx').on(t.httpToken),
    index('authorizations_identifier_idx').on(t.identifier),
  ],
);
