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
  | 'expiry_warning'
  | 'revoked'
  | 'request_outcome';

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

/** What each kind means, for a reader of `bigip-acme events`; a Record, so a new kind cannot be left out. */
export const EVENT_KIND_DESCRIPTIONS: Record<CoreEventKind, string> = {
  renewal_due: 'a renewal started (scheduled, or by a person)',
  renewed: 'a renewal finished with a new certificate',
  renewal_failed: 'a scheduled renewal attempt failed (one per certificate and day)',
  deployed: 'a deploy (scheduled, or by a person) put the certificate on a device',
  deploy_failed: 'a deploy failed on a device',
  challenge_expired: "a domain's challenge content expired and nobody publishes it automatically",
  approval_requested: 'a renewal, deploy or issuance waits for an approver',
  approval_decided: 'an approver decided',
  expiry_warning: 'a certificate not on its way to renewal expires within 21, 7 or 3 days',
  revoked: 'a certificate was revoked at its CA (reason, by whom, and whether BIG-IPs still serve it)',
  request_outcome: 'a certificate request ended (issued, failed or denied); told to the person who filed it',
};

export const CORE_EVENT_KINDS = Object.keys(EVENT_KIND_DESCRIPTIONS) as CoreEventKind[];
