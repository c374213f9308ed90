/**
 * A decision a person must take before the core goes on: a renewal or a deploy of a profile that requires
 * approval (the seed's semi-automatic mode), the first issuance of a certificate requested from Slack, or a
 * revocation asked from Slack for a certificate of such a profile.
 * Built from server-side state; decided once (compare-and-set).
 */
export type ApprovalKind = 'renewal' | 'deploy' | 'issuance' | 'revocation';
export type ApprovalState = 'pending' | 'approved' | 'denied' | 'used';

export interface Approval {
  id: string;
  kind: ApprovalKind;
  certificateId: string;
  state: ApprovalState;
  /** What is asked, for the approver: names, serial, devices. Never a secret. */
  summary: Record<string, unknown>;
  requestedBy: string;
  requestedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
}
