import type { ManagedCertificate } from '../domain/managed-certificate.ts';
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
  return deps.store.audit.append({
    actor,
    action,
    objectType: 'certificate',
    objectId: cert.id,
    objectName: cert.name,
    result,
    detail,
  });
}
