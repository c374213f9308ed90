import { eq } from 'drizzle-orm';
import type { CaProfile } from '../../core/domain/ca-profile.ts';
import type { ProfileRepository } from '../../core/ports/repositories/profiles.ts';
import { CoreError } from '../../core/errors.ts';
import { certificates, profiles } from '../schema/index.ts';
import { type DrizzleDb, touched } from './drizzle-db.ts';
import { conflictOr, isForeignKeyViolation, oneOrNotFound } from './pg-errors.ts';

export type ProfileRow = typeof profiles.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function profileFromRow(row: ProfileRow): CaProfile {
  return row;
}

export function createProfileRepository(db: DrizzleDb): ProfileRepository {
  return {
    async insert(profile) {
      try {
        await db.insert(profiles).values(profile);
      } catch (err) {
        conflictOr(err, `profile "${profile.name}"`);
      }
    },
    async findById(id) {
      const [row] = await db.select().from(profiles).where(eq(profiles.id, id));
      return row ? profileFromRow(row) : null;
    },
    async findByName(name) {
      const [row] = await db.select().from(profiles).where(eq(profiles.name, name));
      return row ? profileFromRow(row) : null;
    },
    async list() {
      return (await db.select().from(profiles).orderBy(profiles.name)).map(profileFromRow);
    },
    async update(id, patch) {
      const rows = await db
        .update(profiles)
        .set({ ...patch, ...touched() })
        .where(eq(profiles.id, id))
        .returning();
      return profileFromRow(oneOrNotFound(rows, 'profile'));
    },
    async remove(id, opts) {
      try {
        await db.transaction(async (tx) => {
          if (opts.withCertificates) await tx.delete(certificates).where(eq(certificates.profileId, id));
          // Domains and their authorizations cascade; a certificate left (or added meanwhile) restricts.
          const rows = await tx.delete(profiles).where(eq(profiles.id, id)).returning({ id: profiles.id });
          oneOrNotFound(rows, 'profile');
        });
      } catch (err) {
        if (isForeignKeyViolation(err))
          throw new CoreError('conflict', 'the profile still has certificates; nothing was removed');
        throw err;
      }
    },
  };
}
