/**
 * Reads a device's place in a high-availability setup through its own REST API: which device it is
 * (`cm/device` `selfDevice`), its failover state, the group its certificates are synced through and that
 * group's members (`cm/device-group`), and the sync status. A device without the `cm` API (or a user not
 * allowed to read it) is treated as standalone: null.
 */
import { type HaGroup, type HaTopology, syncGroupOf } from '../domain/ha-topology.ts';
import { isCoreError } from '../errors.ts';
import type { BigIpClient } from '../ports/bigip-client.ts';

export async function readHaTopology(client: BigIpClient, now: Date): Promise<HaTopology | null> {
  let devices: Awaited<ReturnType<BigIpClient['listHaDevices']>>;
  try {
    devices = await client.listHaDevices();
  } catch (err) {
    if (isCoreError(err) && (err.code === 'bigip_not_found' || err.code === 'bigip_auth')) return null;
    throw err;
  }
  const self = devices.find((d) => d.self);
  if (!self) return null;
  const groups: HaGroup[] = [];
  for (const g of await client.listDeviceGroups()) {
    if (g.name === 'device_trust_group' || g.name === 'datasync-global-dg' || g.name === 'gtm') continue;
    groups.push({
      name: g.name,
      type: g.type,
      autoSync: g.autoSync,
      members: await client.listDeviceGroupMembers(g.fullPath),
    });
  }
  const group = syncGroupOf(self.name, groups);
  const syncStatus = group ? (await client.getSyncStatus()).status : null;
  return { self: self.name, failoverState: self.failoverState, group, syncStatus, readAt: now.toISOString() };
}
