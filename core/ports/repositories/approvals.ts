import type { Approval, ApprovalKind, ApprovalState } from '../../domain/approval.ts';

export interface ApprovalRepository {
  /** Stores a pending approval, or returns the open one (pending or approved) of that certificate and kind. */
  open(approval: Approval): Promise<{ approval: Approval; created: boolean }>;
  findOpen(certificateId: string, kind: ApprovalKind): Promise<Approval | null>;
  /** The most recently requested approval of that certificate and kind, whatever its state; null if none ever. */
  findLatest(certificateId: string, kind: ApprovalKind): Promise<Approval | null>;
  findById(id: string): Promise<Approval | null>;
  list(filter?: { state?: ApprovalState; limit?: number }): Promise<Approval[]>;
  /** Compare-and-set: moves `id` from `from` to the patch's state; null when it was not in `from` (a replay). */
  transition(
    id: string,
    from: ApprovalState,
    patch: Pick<Approval, 'state'> & Partial<Pick<Approval, 'decidedBy' | 'decidedAt' | 'reason'>>,
  ): Promise<Approval | null>;
  /** Records where a message showing the approval was posted (idempotent per channel and ts). */
  recordMessage(message: ApprovalMessage): Promise<void>;
  /** Every recorded message of the approval, oldest first. */
  messages(approvalId: string): Promise<ApprovalMessage[]>;
}

/** A chat message showing an approval: the channel (or DM) and the message's timestamp id. */
export interface ApprovalMessage {
  approvalId: string;
  channel: string;
  ts: string;
  postedAt: Date;
}
