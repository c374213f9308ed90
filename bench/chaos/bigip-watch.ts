/**
 * Watching a simulated BIG-IP while faults hit it: after every request the simulator answers, each watched
 * client-ssl profile must reference a certificate and a key that exist and belong together (the invariant
 * `tests/bigip/deploy-harness.ts` asserts at the end of a test, here checked at every step in between).
 */
import { assertProfilesConsistent } from '../../tests/bigip/deploy-harness.ts';
import type { BigIpSimulator } from '../../tests/support/bigip-simulator/index.ts';

export interface ProfileWatch {
  /** Distinct violations seen, each with the request after which it was first seen. */
  violations: string[];
  /** Requests checked so far. */
  checks: number;
}

export function watchProfiles(sim: BigIpSimulator, profiles: () => string[]): ProfileWatch {
  const watch: ProfileWatch = { violations: [], checks: 0 };
  const seen = new Set<string>();
  const push = sim.requests.push.bind(sim.requests);
  sim.requests.push = (...entries) => {
    const n = push(...entries);
    watch.checks++;
    try {
      assertProfilesConsistent(sim, profiles());
    } catch (err) {
      const message = (err as Error).message;
      if (!seen.has(message)) {
        seen.add(message);
        const last = entries[entries.length - 1];
        watch.violations.push(`after ${last?.method} ${last?.path} (${last?.status}): ${message}`);
      }
    }
    return n;
  };
  return watch;
}

/** The certificate and key objects on the device whose names start with `prefix` (one certificate's versions). */
export function objectsNamed(sim: BigIpSimulator, prefix: string): { certs: string[]; keys: string[] } {
  return {
    certs: [...sim.state.certs.keys()].filter((p) => p.startsWith(prefix)),
    keys: [...sim.state.keys.keys()].filter((p) => p.startsWith(prefix)),
  };
}
