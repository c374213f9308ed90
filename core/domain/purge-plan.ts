import type { DeviceObject } from './deployment.ts';

/** Which of a certificate's objects on one device may be deleted, and which stay because a profile uses them. */
export interface PurgePlan {
  /** In deletion order: certificates, then chains, then keys, so a half-done purge never strands a certificate without its key. */
  remove: DeviceObject[];
  /** Objects a client-ssl profile still references, with those profiles' full paths. */
  keep: { object: DeviceObject; usedBy: string[] }[];
}

const ORDER = { cert: 0, chain: 1, key: 2 } as const;

/**
 * Never an object a profile still uses: `profiles` is what the device itself reports right now (every
 * client-ssl profile, every partition), not what bigip-acme believes it bound.
 */
export function purgePlan(
  objects: readonly DeviceObject[],
  profiles: readonly { fullPath: string; certKeyChain: readonly { cert: string; key: string; chain: string }[] }[],
): PurgePlan {
  const users = new Map<string, string[]>();
  for (const profile of profiles) {
    for (const entry of profile.certKeyChain) {
      for (const path of new Set([entry.cert, entry.key, entry.chain])) {
        const list = users.get(path) ?? [];
        if (!list.includes(profile.fullPath)) list.push(profile.fullPath);
        users.set(path, list);
      }
    }
  }
  const sorted = [...objects].sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
  const plan: PurgePlan = { remove: [], keep: [] };
  for (const object of sorted) {
    const usedBy = users.get(object.fullPath);
    if (usedBy) plan.keep.push({ object, usedBy });
    else plan.remove.push(object);
  }
  return plan;
}
