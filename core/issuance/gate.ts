import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import { CoreError, runCommand } from '../errors.ts';
import type { ApprovalService } from '../approvals/approval-service.ts';
import type { CoreDeps, Progress } from '../services/core-deps.ts';
import { issuanceSummary } from './request.ts';
import { freshOrder } from './work-record.ts';

/**
 * The approval gate of a first issuance. A certificate requested with an approval is ordered only once that
 * approval is granted: pending or denied refuse, approved is taken (once) and ordering goes on, used (taken
 * earlier) goes on. A request that failed because it was denied asks again instead: the returned row waits
 * for that new approval. Null: go on. Certificates requested without an approval have none and are not gated.
 */
export async function issuanceGate(
  deps: Pick<CoreDeps, 'store'>,
  approvals: Pick<ApprovalService, 'request' | 'consume'>,
  cert: ManagedCertificate,
  actor: string,
  progress: Progress,
): Promise<ManagedCertificate | null> {
  const store = deps.store.approvals;
  // The open one first: a re-request and the denial before it may share a timestamp.
  const approval = (await store.findOpen(cert.id, 'issuance')) ?? (await store.findLatest(cert.id, 'issuance'));
  if (!approval || approval.state === 'used') return null;
  if (approval.state === 'pending') {
    throw new CoreError(
      'conflict',
      `certificate "${cert.name}" is waiting for approval ${approval.id} (requested by ${approval.requestedBy})`,
      { hint: runCommand('an approver decides it with', ['approval', 'approve', approval.id]) },
    );
  }
  if (approval.state === 'approved') {
    // Losing this compare-and-set means another resume took it a moment ago and is ordering now: one
    // order per approval, so this one stops (a later resume, after a crash, finds it used and goes on).
    if (!(await approvals.consume(approval))) {
      throw new CoreError('conflict', `certificate "${cert.name}" is being issued by another request right now`, {
        hint: runCommand('see', ['cert', 'show', cert.name]),
      });
    }
    return null;
  }
  const denial = `denied by ${approval.decidedBy ?? 'someone'}${approval.reason ? `: ${approval.reason}` : ''}`;
  if (cert.state === 'failed' && !cert.issuedAt && !cert.chainPem) {
    const profile = (await deps.store.profiles.findById(cert.profileId))!;
    const reset = await deps.store.certificates.update(cert.id, { state: 'requested', ...freshOrder(), problem: null });
    const again = await approvals.request('issuance', reset, issuanceSummary(reset, profile), actor);
    progress(`${cert.name}: the last request was ${denial}; asked for a new approval (${again.id})`);
    return reset;
  }
  throw new CoreError('conflict', `the issuance of certificate "${cert.name}" was ${denial}; nothing was ordered`);
}
