/**
 * What the core tells notifiers, through a durable outbox: one row per certificate, kind and day, so a
 * restart or a second worker never produces a second message for the same thing.
 */
export type CoreEventKind =
  | 'renewal_due'
  | 'renewed'
  | 'renewal_failed'
  | 'deployed'
  | 'deploy_failed'
  | 'challenge_expired'
  | 'approval_requested'
  | 'approval_decided'
  | 'expiry_warning';

export interface CoreEvent {
  id: number;
  kind: CoreEventKind;
  certificateId: string | null;
  /** The certificate or domain name, for a reader. */
  subject: string;
  /** `<certificate or subject>:<kind>:<UTC day>` (or a finer key when one day may hold several). */
  dedupeKey: string;
  /** Facts for the message; never a secret. */
  detail: Record<string, unknown>;
  /** Whether a person has to act (renewal fell back to a manual challenge, approval waiting…). */
  needsPerson: boolean;
  createdAt: Date;
  deliveredAt: Date | null;
}

export function dayKey(at: Date): string {
  return at.toISOString().slice(0, 10);
}
