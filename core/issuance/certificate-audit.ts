import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import { appendAudit } from '../services/audit-trail.ts';
import type { CoreDeps } from '../services/core-deps.ts';

/** One audit row about a certificate. */
export function auditCertificate(
  deps: Pick<CoreDeps, 'store'>,
  cert: Pick<ManagedCertificate, 'id' | 'name'>,
  actor: string,
  action: string,
  result: 'ok' | 'error',
  detail: Record<string, unknown>,
): Promise<void> {
  return appendAudit(deps.store.audit, 'certificate', cert, actor, action, result, detail);
}
