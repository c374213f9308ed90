import type { Device } from '../domain/device.ts';
import type { ManagedDomain } from '../domain/managed-domain.ts';
import { DEFAULT_DATA_GROUP } from '../domain/acme-irule.ts';
import { asCoreError } from '../errors.ts';
import type { ProbeResult } from '../ports/challenge-probe.ts';
import type { CoreDepsWith } from '../services/core-deps.ts';
import { deviceConnection } from '../services/device-service.ts';

/**
 * The on-box HTTP-01 method: puts `token → key authorization` into the domain's data-group on each of its
 * devices before the CA is asked to validate, and takes it out afterwards. Every device must take the record,
 * since the CA may reach any of them.
 */
export async function publishToDataGroups(
  deps: CoreDepsWith<'devices'>,
  domain: ManagedDomain,
  token: string,
  keyAuthorization: string,
): Promise<ProbeResult> {
  const path = domain.dataGroupPath ?? DEFAULT_DATA_GROUP;
  const results = await Promise.all(
    (await devicesOf(deps, domain)).map(async (device) => {
      const client = deps.bigip(deviceConnection(deps, device));
      try {
        await client.addDataGroupRecord(path, { name: token, data: keyAuthorization });
        return null;
      } catch (err) {
        return `${device.name}: ${asCoreError(err).message}`;
      } finally {
        await client.close();
      }
    }),
  );
  const failures = results.filter((r): r is string => r !== null);
  if (failures.length > 0) return { ok: false, detail: `data-group ${path}: ${failures.join('; ')}` };
  return { ok: true, detail: `published to data-group ${path} on ${domain.dataGroupDeviceIds.length} device(s)` };
}

/** Best effort: a record left behind answers nothing the CA will ask again, and the next cleanup retries. */
export async function unpublishFromDataGroups(
  deps: CoreDepsWith<'devices'>,
  domain: ManagedDomain,
  token: string,
): Promise<void> {
  const path = domain.dataGroupPath ?? DEFAULT_DATA_GROUP;
  await Promise.all(
    (await devicesOf(deps, domain)).map(async (device) => {
      const client = deps.bigip(deviceConnection(deps, device));
      try {
        await client.deleteDataGroupRecord(path, token);
      } catch (err) {
        deps.log.warn(
          { device: device.name, domain: domain.name, code: asCoreError(err).code },
          'could not remove a challenge record from the data-group',
        );
      } finally {
        await client.close();
      }
    }),
  );
}

async function devicesOf(deps: CoreDepsWith<'devices'>, domain: ManagedDomain): Promise<Device[]> {
  const found = await Promise.all(domain.dataGroupDeviceIds.map((id) => deps.store.devices.findById(id)));
  return found.filter((d): d is Device => d !== null);
}
