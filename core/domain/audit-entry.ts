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

/**
 * The audit rows renewal outcomes are counted from (`bigip_acme_renewals_total`): a finished renewal is the
 * `certificate.issued` row whose detail says `renewal: true`; a failed automatic attempt has its own row.
 */
export const RENEWAL_AUDIT = {
  succeeded: { action: 'certificate.issued', detailFlag: 'renewal' },
  failedAction: 'certificate.renew.attempt_failed',
} as const;
