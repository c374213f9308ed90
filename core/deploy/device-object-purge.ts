import type { Device } from '../domain/device.ts';
import { purgePlan } from '../domain/purge-plan.ts';
import { asCoreError, type CoreError } from '../errors.ts';
import type { BigIpClient } from '../ports/bigip-client.ts';
import type { CoreDepsWith } from '../services/core-deps.ts';

/** What a purge did on one device. */
export interface DevicePurge {
  device: string;
  removed: string[];
  /** Left on the device because a client-ssl profile still references them. */
  kept: { path: string; usedBy: string[] }[];
  /** Why the purge stopped on this device; the objects not listed in `removed` are still there. */
  error: { code: CoreError['code']; message: string } | null;
}

/**
 * Deletes a certificate's versioned objects (the ones bigip-acme recorded installing) from every device that
 * still has some, except those a client-ssl profile references: the device is asked before anything is
 * deleted, and an object it still refuses as in use is kept too. Each deleted object is marked removed at
 * once, so a purge that stops half-way (a device down) is resumed by running it again.
 */
export async function purgeDeviceObjects(
  deps: CoreDepsWith<'devices' | 'deviceObjects'>,
  certificateId: string,
  connect: (device: Device) => BigIpClient,
): Promise<DevicePurge[]> {
  const results: DevicePurge[] = [];
  for (const device of await deps.store.devices.list()) {
    const objects = await deps.store.deviceObjects.listLive(device.id, certificateId);
    if (objects.length === 0) continue;
    const result: DevicePurge = { device: device.name, removed: [], kept: [], error: null };
    results.push(result);
    const client = connect(device);
    try {
      const plan = purgePlan(objects, await client.listClientSslProfiles());
      result.kept = plan.keep.map((k) => ({ path: k.object.fullPath, usedBy: k.usedBy }));
      for (const object of plan.remove) {
        try {
          if (object.kind === 'key') await client.deleteKey(object.fullPath);
          else await client.deleteCert(object.fullPath);
        } catch (err) {
          // Something started using it since the device answered the list: it stays.
          if (asCoreError(err).code !== 'bigip_in_use') throw err;
          result.kept.push({ path: object.fullPath, usedBy: ['(in use, the device says)'] });
          continue;
        }
        await deps.store.deviceObjects.markRemoved(object.id, deps.clock.now());
        result.removed.push(object.fullPath);
      }
      if (result.removed.length > 0) await client.saveConfig();
    } catch (err) {
      const e = asCoreError(err);
      result.error = { code: e.code, message: e.message };
    } finally {
      await client.close();
    }
  }
  return results;
}
