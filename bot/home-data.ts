import type { CoreServices } from '../core/services/index.ts';
import type { HomeData } from './blocks/home.ts';

/**
 * What the Home tab shows, read from the core's own list views (already public views): one list call per
 * section, all at once, never one per row.
 */
export async function collectHomeData(services: CoreServices): Promise<HomeData> {
  const [profiles, domains, certificates, bindings, approvals, problems] = await Promise.all([
    services.profiles.list(),
    services.domains.list(),
    services.certificates.list(),
    services.bindings.list(),
    services.approvals.list('pending'),
    services.activity.recentProblems(),
  ]);
  return { profiles, domains, certificates, bindings, approvals, problems };
}
