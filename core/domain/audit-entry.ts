/** Append-only record of who did what to which object. Never holds a secret. */
export interface AuditEntry {
  id?: number;
  at: Date;
  actor: string;
  action: string;
  objectType: 'profile' | 'domain' | 'certificate' | 'device' | 'binding' | 'system';
  objectId: string | null;
  objectName: string | null;
  result: 'ok' | 'error';
  detail: Record<string, unknown>;
}
