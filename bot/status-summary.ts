import type { CoreServices } from '../core/services/index.ts';

/** Counts for `/acme status`, read from the core's own list views; no rule of the bot's own. */
export interface StatusSummary {
  profiles: number;
  /** Domain connection status → count. */
  domains: Record<string, number>;
  /** Certificate state → count. */
  certificates: Record<string, number>;
  devices: number;
  pendingApprovals: number;
}

function countBy<T>(rows: readonly T[], key: (row: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[key(row)] = (counts[key(row)] ?? 0) + 1;
  return counts;
}

export async function collectStatus(services: CoreServices): Promise<StatusSummary> {
  const [profiles, domains, certificates, devices, approvals] = await Promise.all([
    services.profiles.list(),
    services.domains.list(),
    services.certificates.list(),
    services.devices.list(),
    services.approvals.list('pending'),
  ]);
  return {
    profiles: profiles.length,
    domains: countBy(domains, (d) => d.status),
    certificates: countBy(certificates, (c) => c.state),
    devices: devices.length,
    pendingApprovals: approvals.length,
  };
}
