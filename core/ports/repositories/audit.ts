import type { AuditEntry } from '../../domain/audit-entry.ts';

export interface AuditFilter {
  objectId?: string;
  /** The object's name as recorded (a certificate, domain, profile or device name). */
  objectName?: string;
  actor?: string;
  /** An action or its family: `certificate.renew` also matches `certificate.renew.abandon_order`. */
  action?: string;
  /** Recorded at or after. */
  since?: Date;
  /** Default 100. */
  limit?: number;
}

export interface AuditLog {
  append(entry: Omit<AuditEntry, 'id' | 'at'> & { at?: Date }): Promise<void>;
  /** Newest (last appended) first; every filter given must hold. */
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
}
