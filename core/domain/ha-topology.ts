/**
 * A BIG-IP's place in a high-availability setup, as read from `cm/device`, `cm/device-group` and
 * `cm/failover-status` (`reference/bigip-icontrol.md` §6), and the pure rules built on it: which group a
 * device deploys through, which registered devices form one group, and which member a deploy writes to.
 */

/** The built-in groups every device has; never the group a certificate is synced through. */
const BUILT_IN_GROUPS = new Set(['device_trust_group', 'datasync-global-dg', 'gtm']);

export interface HaGroup {
  name: string;
  /** `sync-failover` or `sync-only`. */
  type: string;
  autoSync: boolean;
  /** Device names (cm/device `name`), as the group lists them. */
  members: string[];
}

export interface HaTopology {
  /** The device's own name in the trust domain (`selfDevice: "true"`). */
  self: string;
  /** `active`, `standby`, … as `cm/device` says it; null when unknown. */
  failoverState: string | null;
  /** The group certificates are synced through; null for a standalone device. */
  group: HaGroup | null;
  /** `cm/sync-status` `status` when read (`In Sync`, `Changes Pending`, …). */
  syncStatus: string | null;
  /** ISO time of the reading. */
  readAt: string;
}

/**
 * The group a device's certificates are synced through: among the groups that list the device, a
 * sync-failover group first, else a sync-only one; built-in groups never. Null when there is none.
 */
export function syncGroupOf(self: string, groups: HaGroup[]): HaGroup | null {
  const mine = groups.filter((g) => !BUILT_IN_GROUPS.has(g.name) && g.members.includes(self));
  return mine.find((g) => g.type === 'sync-failover') ?? mine.find((g) => g.type === 'sync-only') ?? null;
}

/**
 * Registered devices with the same key form one group: the group's name and its members (a name alone is
 * not unique across clusters). Null for a standalone device or a group of one.
 */
export function haGroupKey(topology: HaTopology | null): string | null {
  const group = topology?.group;
  if (!group || group.members.length < 2) return null;
  return `${group.name}[${[...group.members].sort().join(',')}]`;
}

export interface MemberState {
  /** The registered device's name (bigip-acme's handle). */
  device: string;
  /** Live failover state; null when it could not be read. */
  failoverState: string | null;
}

export type MemberChoice = { ok: true; device: string; why: string } | { ok: false; message: string };

/**
 * Which member a group deploy installs and switches on: the one the operator names (it must be a registered
 * member), else the active one. No active member, or more than one (a split brain), is refused: writing to a
 * standby would be overwritten or flagged by the next sync from the active.
 */
export function chooseDeployMember(group: string, members: MemberState[], chosen?: string): MemberChoice {
  if (chosen !== undefined) {
    if (!members.some((m) => m.device === chosen))
      return {
        ok: false,
        message: `device "${chosen}" is not a registered member of device group ${group} (members: ${members.map((m) => m.device).join(', ')})`,
      };
    return { ok: true, device: chosen, why: 'chosen by the operator' };
  }
  const active = members.filter((m) => m.failoverState === 'active');
  if (active.length === 1) return { ok: true, device: active[0]!.device, why: 'the active member' };
  const states = members.map((m) => `${m.device}: ${m.failoverState ?? 'unreadable'}`).join(', ');
  if (active.length === 0)
    return { ok: false, message: `no member of device group ${group} is active (${states}); nothing written` };
  return {
    ok: false,
    message: `more than one member of device group ${group} says it is active (${states}); choose one with --via; nothing written`,
  };
}

export interface HaPeer {
  /** The peer's device name in the trust domain. */
  name: string;
  /** The registered device that is this peer, or null when it is not registered. */
  registeredAs: string | null;
}

/** The other members of `topology`'s group, matched to registered devices by the device name each reported. */
export function haPeers(topology: HaTopology, registered: { name: string; haTopology: HaTopology | null }[]): HaPeer[] {
  const group = topology.group;
  if (!group) return [];
  return group.members
    .filter((m) => m !== topology.self)
    .map((m) => ({
      name: m,
      registeredAs:
        registered.find((d) => d.haTopology?.self === m && haGroupKey(d.haTopology) === haGroupKey(topology))?.name ??
        null,
    }));
}
