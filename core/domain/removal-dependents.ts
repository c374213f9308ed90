/**
 * What still depends on a profile, domain or certificate someone asked to remove. Removal is refused while
 * any of it exists (unless the edge's force option says to take the dependents along), and the refusal names
 * them, so the person knows exactly what to remove or unbind first.
 */
export interface RemovalDependents {
  /** Domains of the profile, by name. */
  domains: readonly string[];
  /** Certificates of the profile, or those covering the domain, by name. */
  certificates: readonly string[];
  /** Client-ssl profiles that carry the certificate(s), by device name and profile full path. */
  bindings: readonly { device: string; profile: string }[];
  /** Approvals still waiting for a decision on the certificate(s). */
  pendingApprovals: number;
}

export const NO_DEPENDENTS: RemovalDependents = { domains: [], certificates: [], bindings: [], pendingApprovals: 0 };

/** Names shown before the list is cut short, so a profile with hundreds of certificates gives a readable line. */
const NAMES_SHOWN = 5;

function named(count: number, singular: string, plural: string, names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  const more = names.length > NAMES_SHOWN ? `, and ${names.length - NAMES_SHOWN} more` : '';
  return `${count} ${count === 1 ? singular : plural}: ${shown}${more}`;
}

/** The dependents as one clause each, in a fixed order; empty when nothing depends on the object. */
export function dependentClauses(d: RemovalDependents): string[] {
  const clauses: string[] = [];
  if (d.domains.length > 0) clauses.push(named(d.domains.length, 'domain', 'domains', d.domains));
  if (d.certificates.length > 0)
    clauses.push(named(d.certificates.length, 'certificate', 'certificates', d.certificates));
  if (d.bindings.length > 0) {
    const shown = d.bindings.slice(0, NAMES_SHOWN).map((b) => `device ${b.device} profile ${b.profile}`);
    const more = d.bindings.length > NAMES_SHOWN ? `, and ${d.bindings.length - NAMES_SHOWN} more` : '';
    clauses.push(`bound to ${shown.join(', ')}${more}`);
  }
  if (d.pendingApprovals > 0)
    clauses.push(`${d.pendingApprovals} pending approval${d.pendingApprovals === 1 ? '' : 's'}`);
  return clauses;
}

/**
 * Why `subject` (e.g. `certificate "www"`) cannot be removed as things are, or null when nothing depends on
 * it: `certificate "www" is still in use: bound to device bigip1 profile /Common/app_ssl; 1 pending approval`.
 */
export function removalRefusal(subject: string, d: RemovalDependents): string | null {
  const clauses = dependentClauses(d);
  return clauses.length === 0 ? null : `${subject} is still in use: ${clauses.join('; ')}`;
}
