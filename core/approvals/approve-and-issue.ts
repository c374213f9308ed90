import type { ApprovalService, ApprovalView } from './approval-service.ts';
import type { CertificateService, CertificateView } from '../issuance/certificate-service.ts';
import type { RevocationResult, RevocationService } from '../issuance/revocation-service.ts';
import { noProgress, type Progress } from '../services/core-deps.ts';
import type { DeployService } from '../deploy/deploy-service.ts';
import { asCoreError } from '../errors.ts';
import { deploysOnIssue } from '../issuance/request-to-serve.ts';

/** A decision that is in: the approval as decided, and for an issuance the work it unblocked. */
export interface Approved {
  approval: ApprovalView;
  /**
   * For an issuance approval: order and issue the certificate now (the resume the approval was waiting for).
   * Null for a renewal or deploy approval, which the scheduler acts on at its next run.
   */
  issue: ((progress?: Progress) => Promise<CertificateView>) | null;
  /** For a revocation approval: revoke now, as asked (with the replacement first when a reissue was asked). */
  revoke: ((progress?: Progress) => Promise<RevocationResult>) | null;
}

/** The decision, and for an issuance the certificate as the order left it. */
export interface ApprovedAndIssued {
  approval: ApprovalView;
  certificate: CertificateView | null;
}

/**
 * "Approving an issuance starts the order", as one use case for every edge. The decision and the issuing are
 * two steps because an edge answers the person between them (Slack edits the clicked message while the CA
 * works); {@link approveAndIssue} runs both for an edge that simply waits.
 */
export class ApproveAndIssue {
  constructor(
    private readonly approvals: ApprovalService,
    private readonly certificates: CertificateService,
    private readonly revocations: RevocationService,
    /** Deploys right after issuing when the request asked for it (`issuance/request-to-serve.ts`). */
    private readonly deploys?: DeployService,
  ) {}

  /** Decide; a refusal or a lost race throws before anything is issued. */
  async approve(id: string, actor: string): Promise<Approved> {
    const approval = await this.approvals.approve(id, actor);
    if (approval.kind === 'revocation') {
      return {
        approval,
        issue: null,
        revoke: (progress = noProgress) => this.revocations.revokeApproved(approval, actor, progress),
      };
    }
    if (approval.kind !== 'issuance') return { approval, issue: null, revoke: null };
    // The approval is taken (approved → used) inside resume's gate, so a second resume orders nothing.
    return {
      approval,
      issue: (progress = noProgress) => this.issueAndServe(approval, actor, progress),
      revoke: null,
    };
  }

  /**
   * Issue; when the request named where it serves (`deployOnIssue` in the approval), deploy there at once:
   * the approver saw the device and profile in the request. A failed deploy does not undo the issuance; the
   * deploy use case records and tells each device's outcome, and the auto-deploy job tries again.
   */
  private async issueAndServe(approval: ApprovalView, actor: string, progress: Progress): Promise<CertificateView> {
    const cert = await this.certificates.resume(approval.certificateName, actor, progress);
    if (!this.deploys || cert.state !== 'issued' || !deploysOnIssue(approval.summary)) return cert;
    progress(`${cert.name}: issued; deploying it where the request asked`);
    try {
      await this.deploys.deploy(cert.name, {}, actor, progress);
    } catch (err) {
      progress(`${cert.name}: not deployed: ${asCoreError(err).message}`);
    }
    return this.certificates.show(cert.name);
  }

  /** Decide and, for an issuance, issue (for a revocation, revoke) before returning. */
  async approveAndIssue(id: string, actor: string, progress: Progress = noProgress): Promise<ApprovedAndIssued> {
    const { approval, issue, revoke } = await this.approve(id, actor);
    if (revoke) return { approval, certificate: (await revoke(progress)).certificate };
    return { approval, certificate: issue ? await issue(progress) : null };
  }
}
