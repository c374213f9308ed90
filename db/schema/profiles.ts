import { boolean, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import type { KeySpec } from '../../core/domain/key-spec.ts';
import { timestamps } from './_columns.ts';

export const profiles = pgTable('profiles', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull().unique(),
  directoryUrl: text('directory_url').notNull(),
  keySpec: text('key_spec').$type<KeySpec>().notNull(),
  contact: text('contact').array().notNull().default([]),
  tosAgreed: boolean('tos_agreed').notNull(),
  tosUrl: text('tos_url'),
  eabKid: text('eab_kid'),
  /** Sealed (AES-256-GCM, see core/secrets). */
  eabHmacKeySealed: text('eab_hmac_key_sealed'),
  /** Sealed (AES-256-GCM, see core/secrets). */
  accountKeySealed: text('account_key_sealed').notNull(),
  accountUrl: text('account_url').notNull(),
  acmeProfile: text('acme_profile'),
  autoRenew: boolean('auto_renew').notNull().default(true),
  renewDaysBefore: integer('renew_days_before').notNull().default(7),
  autoDeploy: boolean('auto_deploy').notNull().default(true),
  deployTime: text('deploy_time').notNull().default('00:00'),
  deployTimeZone: text('deploy_time_zone').notNull().default('UTC'),
  renewApproval: boolean('renew_approval').notNull().default(false),
  deployApproval: boolean('deploy_approval').notNull().default(false),
  ...timestamps,
});
