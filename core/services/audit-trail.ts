import type { AuditEntry } from '../domain/audit-entry.ts';
import type { AuditLog } from '../ports/repositories/audit.ts';

/** What an audit row is about; `null` fields for a refusal that names no object. */
export interface AuditedObject {
  id: string | null;
  name: string | null;
}

/** One audit row: who did what to which object, and how it went. The one way services write the audit log. */
export function appendAudit(
  audit: AuditLog,
  objectType: AuditEntry['objectType'],
  object: AuditedObject,
  actor: string,
  action: string,
  result: AuditEntry['result'],
  detail: Record<string, unknown>,
): Promise<void> {
  return audit.append({
    actor,
    action,
    objectType,
    objectId: object.id,
    objectName: object.name,
    result,
    detail,
  });
}
