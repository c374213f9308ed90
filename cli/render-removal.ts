import type { RemovalReport } from '../core/services/removal-report.ts';

/** The text answer of `profile remove`, `domain remove` and `cert remove`: what went, and what stayed where. */
export function renderRemoval(r: RemovalReport): string {
  const lines = [`removed ${r.removed.type} ${r.removed.name}`];
  if (r.domains.length > 0) lines.push(`  domains removed: ${r.domains.join(', ')}`);
  if (r.certificates.length > 0) lines.push(`  certificates removed: ${r.certificates.join(', ')}`);
  for (const u of r.unbound) {
    lines.push(`  unbound ${u.certificate} from ${u.device}:${u.profile} (the profile keeps serving it)`);
  }
  if (r.cancelledApprovals > 0) lines.push(`  pending approvals cancelled: ${r.cancelledApprovals}`);
  if (r.deactivatedAuthorizations.length > 0)
    lines.push(`  pending authorizations deactivated at the CA: ${r.deactivatedAuthorizations.length}`);
  if (r.accountDeactivated) lines.push('  ACME account deactivated at the CA');
  for (const d of r.devices) {
    for (const path of d.removed) lines.push(`  ${d.device}: deleted ${path}`);
    for (const k of d.kept) lines.push(`  ${d.device}: kept ${k.path} (used by ${k.usedBy.join(', ')})`);
  }
  return lines.join('\n');
}
