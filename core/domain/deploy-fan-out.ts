/**
 * How wide one certificate's deploy fans out. Across devices it is latency-bound (a device's deploy is ~20
 * sequential round trips), so every device starts at once up to a cap that bounds open connections and
 * memory; within a device at most two requests are in flight, so a BIG-IP's management plane (one control
 * process, mcpd) never sees a burst from us (bench/RESULTS.md, "Deploy fan-out").
 */
export const MAX_DEVICES_AT_ONCE = 64;
export const MAX_REQUESTS_IN_FLIGHT_PER_DEVICE = 2;

/** Devices deployed at once: what the caller asked for, else one slot per device up to the cap. */
export function deployConcurrency(deviceCount: number, requested?: number): number {
  if (requested !== undefined) return Math.max(1, Math.floor(requested));
  return Math.max(1, Math.min(deviceCount, MAX_DEVICES_AT_ONCE));
}
