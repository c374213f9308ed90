import { eq } from 'drizzle-orm';
import type { Device } from '../../core/domain/device.ts';
import { CoreError } from '../../core/errors.ts';
import type { DeviceRepository } from '../../core/ports/repositories/devices.ts';
import { devices } from '../schema/index.ts';
import { type DrizzleDb, touched } from './drizzle-db.ts';
import { conflictOr, isForeignKeyViolation, oneOrNotFound } from './pg-errors.ts';

export type DeviceRow = typeof devices.$inferSelect;

/** The row is the domain shape column for column; the signature makes the compiler check it stays so. */
export function deviceFromRow(row: DeviceRow): Device {
  return row;
}

export function createDeviceRepository(db: DrizzleDb): DeviceRepository {
  return {
    async insert(device) {
      try {
        await db.insert(devices).values(device);
      } catch (err) {
        conflictOr(err, `device "${device.name}"`);
      }
    },
    async findById(id) {
      const [row] = await db.select().from(devices).where(eq(devices.id, id));
      return row ? deviceFromRow(row) : null;
    },
    async findByName(name) {
      const [row] = await db.select().from(devices).where(eq(devices.name, name));
      return row ? deviceFromRow(row) : null;
    },
    async list() {
      return (await db.select().from(devices).orderBy(devices.name)).map(deviceFromRow);
    },
    async update(id, patch) {
      const rows = await db
        .update(devices)
        .set({ ...patch, ...touched() })
        .where(eq(devices.id, id))
        .returning();
      return deviceFromRow(oneOrNotFound(rows, 'device'));
    },
    async remove(id) {
      try {
        const rows = await db.delete(devices).where(eq(devices.id, id)).returning({ id: devices.id });
        oneOrNotFound(rows, 'device');
      } catch (err) {
        if (isForeignKeyViolation(err))
          throw new CoreError('conflict', 'the device still has bindings; remove them first');
        throw err;
      }
    },
  };
}
