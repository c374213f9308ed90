import { boolean, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { DeployedObjects, DeploymentResult, DeployStep } from '../../core/domain/deployment.ts';
import type { DeviceTestResult } from '../../core/domain/device.ts';
import type { HaTopology } from '../../core/domain/ha-topology.ts';
import type { ErrorCode } from '../../core/errors.ts';
import { timestamps } from './_columns.ts';
import { certificates } from './certificates.ts';

export const devices = pgTable('devices', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull().unique(),
  url: text('url').notNull(),
  username: text('username').notNull(),
  /** Sealed (AES-256-GCM, see core/secrets). */
  passwordSealed: text('password_sealed').notNull(),
  partition: text('partition').notNull().default('Common'),
  caPem: text('ca_pem'),
  insecure: boolean('insecure').notNull().default(false),
  hostname: text('hostname'),
  version: text('version'),
  lastTest: jsonb('last_test').$type<DeviceTestResult>(),
  lastTestAt: timestamp('last_test_at', { withTimezone: true }),
  /** Device group, peers and failover state as last read (device add/test); null: standalone or never read. */
  haTopology: jsonb('ha_topology').$type<HaTopology>(),
  ...timestamps,
});

export const bindings = pgTable(
  'bindings',
  {
    id: uuid('id').primaryKey(),
    certificateId: uuid('certificate_id')
      .notNull()
      .references(() => certificates.id, { onDelete: 'cascade' }),
    deviceId: uuid('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'restrict' }),
    profilePath: text('profile_path').notNull(),
    createProfile: boolean('create_profile').notNull().default(false),
    parentProfile: text('parent_profile').notNull().default('/Common/clientssl'),
    deployedFingerprint: text('deployed_fingerprint'),
    deployedSerial: text('deployed_serial'),
    deployedNotAfter: timestamp('deployed_not_after', { withTimezone: true }),
    deployedAt: timestamp('deployed_at', { withTimezone: true }),
    /** Serial a TLS handshake with a virtual server using this profile last presented, and when. */
    servedSerial: text('served_serial'),
    servedVerifiedAt: timestamp('served_verified_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('bindings_device_profile_uq').on(t.deviceId, t.profilePath),
    index('bindings_certificate_idx').on(t.certificateId),
  ],
);

export const deployments = pgTable(
  'deployments',
  {
    id: uuid('id').primaryKey(),
    certificateId: uuid('certificate_id')
      .notNull()
      .references(() => certificates.id, { onDelete: 'cascade' }),
    deviceId: uuid('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    serial: text('serial').notNull(),
    objects: jsonb('objects').$type<DeployedObjects>().notNull(),
    profiles: text('profiles').array().notNull().default([]),
    oldFingerprints: jsonb('old_fingerprints').$type<Record<string, string | null>>().notNull().default({}),
    newFingerprint: text('new_fingerprint').notNull(),
    result: text('result').$type<DeploymentResult>().notNull(),
    step: text('step').$type<DeployStep>().notNull(),
    error: jsonb('error').$type<{ code: ErrorCode; message: string; detail?: Record<string, unknown> }>(),
    outcome: text('outcome'),
    actor: text('actor').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('deployments_certificate_device_idx').on(t.certificateId, t.deviceId, t.startedAt)],
);

export const deviceObjects = pgTable(
  'device_objects',
  {
    id: uuid('id').primaryKey(),
    deviceId: uuid('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    certificateId: uuid('certificate_id')
      .notNull()
      .references(() => certificates.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<'key' | 'cert' | 'chain'>().notNull(),
    fullPath: text('full_path').notNull(),
    serial: text('serial').notNull(),
    installedAt: timestamp('installed_at', { withTimezone: true }).notNull(),
    removedAt: timestamp('removed_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('device_objects_device_path_uq').on(t.deviceId, t.fullPath)],
);
