import type { Approval } from '../domain/approval.ts';
import type { CaProfile } from '../domain/ca-profile.ts';
import {
  certificateNames,
  isRevoked,
  type ManagedCertificate,
  type PendingRevocation,
} from '../domain/managed-certificate.ts';
import {
  parseRevocationReason,
  REVOCATION_REASONS,
  type RevocationReason,
  revocationReasonProblem,
  signsWithCertificateKey,
} from '../domain/revocation-reason.ts';
import { invalidInput } from '../domain/validation/field-problems.ts';
import { asCoreError, CoreError, runCommand } from '../errors.ts';
import type { RevocationOutcome } from '../ports/acme-gateway.ts';
import { auditCertificate } from './certificate-audit.ts';
import { emitCertificateEvent } from './certificate-events.ts';
import type { CertificateService, CertificateView } from './certificate-service.ts';
import type { ApprovalService } from '../approvals/approval-service.ts';
import type { DeployReport, DeployService } from '../deploy/deploy-service.ts';
import { accountOf, type CoreDeps, noProgress, type Progress, secretAad } from '../services/core-deps.ts';

export interface RevokeInput {
  name: string;
  /** An RFC 5280 reason name (any spelling `parseRevocationReason` reads) or code. */
  reason: string;
  /** Order the replacement and deploy it to every bound device first; revoke only when both succeeded. */
  reissue?: boolean;
}

export interface RevocationResult {
  /** `awaiting_approval`: nothing was revoked yet; an approver decides (`approvalId`). */
  outcome: RevocationOutcome | 'awaiting_approval';
  certificate: CertificateView;
  reason: RevocationReason;
  /** The serial revoked (or to be revoked, while awaiting approval). */
  serial: string;
  /** Which key signed the request to the CA: the profile's account, or the certificate's own (keyCompromise). */
  signedWith: 'account' | 'certificate_key' | null;
  approvalId: string | null;
  /** With `reissue`: the replacement's serial and its deploy (null when nothing is bound). */
  replacement: { serial: string; deploy: DeployReport | null } | null;
}

/**
 * Revokes a certificate at its CA (RFC 8555 §7.6), signed with the profile's account key, or for
 * `keyCompromise` with the certificate's own key. The BIG-IPs keep serving it until a replacement is deployed:
 * with `reissue` the replacement is ordered and deployed to every binding first and the old certificate is
 * revoked only when both succeeded; without it the renewal policy chain renews a revoked certificate that is
 * still bound at the next renew run, and the deploy job replaces it. A profile in semi-automatic mode (renewal
 * or deploy approval) makes a revocation asked from Slack wait for an approver (kind `revocation`).
 */
export class RevocationService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly certificates: CertificateService,
    private readonly deploys: DeployService,
    private readonly approvals: ApprovalService,
  ) {}

  /**
   * Checks the whole request before anything is sent or written, then revokes; with `approval`, a profile
   * whose rule asks for one gets an approval instead and nothing is revoked yet.
   */
  async revoke(
    input: RevokeInput,
    actor: string,
    progress: Progress = noProgress,
    opts: { approval?: boolean } = {},
  ): Promise<RevocationResult> {
    const { cert, reason, profile, pending } = await this.check(input);
    if (opts.approval && requiresApproval(profile)) {
      const approval = await this.approvals.request(
        'revocation',
        cert,
        {
          names: certificateNames(cert),
          serial: cert.serial,
          reason,
          reissue: Boolean(input.reissue),
          profile: profile.name,
        },
        actor,
      );
      progress(`${cert.name}: revocation of serial ${cert.serial} waits for an approver (approval ${approval.id})`);
      return {
        outcome: 'awaiting_approval',
        certificate: await this.certificates.show(cert.name),
        reason,
        serial: cert.serial!,
        signedWith: null,
        approvalId: approval.id,
        replacement: null,
      };
    }
    return this.perform(cert, profile, reason, Boolean(input.reissue), actor, progress, null, pending);
  }

  /** Carries out an approved revocation, once (the approval is taken), for the serial the approver saw. */
  async revokeApproved(approval: Approval, actor: string, progress: Progress = noProgress): Promise<RevocationResult> {
    const summary = approval.summary;
    const cert = await this.deps.store.certificates.findById(approval.certificateId);
    if (!cert) throw new CoreError('not_found', `the certificate of approval ${approval.id} no longer exists`);
    if (cert.serial !== summary.serial) {
      throw new CoreError(
        'conflict',
        `certificate "${cert.name}" is serial ${cert.serial ?? '-'} now, not ${String(summary.serial)} as approved; nothing was revoked`,
      );
    }
    const reissue = summary.reissue === true;
    const { reason, profile, pending } = await this.check({ name: cert.name, reason: String(summary.reason), reissue });
    if (!(await this.approvals.consume(approval))) {
      throw new CoreError('conflict', `approval ${approval.id} was already acted on; nothing was revoked again`);
    }
    return this.perform(cert, profile, reason, reissue, actor, progress, approval, pending);
  }

  /**
   * Reason, then name, then state: each refusal before anything is written or sent. With `reissue`, a
   * revocation whose replacement was issued but not yet deployed (or not yet revoked) is what is finished.
   */
  private async check(input: RevokeInput) {
    const problem = revocationReasonProblem(input.reason);
    if (problem) throw invalidInput({ reason: problem });
    const reason = parseRevocationReason(input.reason)!;
    const cert = await this.certificates.get(input.name);
    if (cert.state !== 'issued' || !cert.chainPem || !cert.serial) {
      throw new CoreError('conflict', `certificate "${cert.name}" is ${cert.state}, not issued; nothing to revoke`);
    }
    const waiting = cert.pendingRevocation;
    const pending = input.reissue && waiting && waiting.serial !== cert.serial ? waiting : null;
    if (pending && pending.reason !== reason) {
      throw invalidInput({
        reason: `serial ${pending.serial} of "${cert.name}" waits to be revoked for ${pending.reason} once its replacement is deployed; finish it with --reason ${pending.reason} --reissue`,
      });
    }
    const profile = (await this.deps.store.profiles.findById(cert.profileId))!;
    if (pending) return { cert, reason, profile, pending };
    if (isRevoked(cert)) {
      throw new CoreError(
        'conflict',
        `certificate "${cert.name}" (serial ${cert.serial}) was already revoked at ${cert.revokedAt?.toISOString() ?? '?'} (${cert.revocationReason ?? '?'}, by ${cert.revokedBy ?? '?'}); nothing changed`,
        { hint: runCommand('issue its replacement with', ['cert', 'renew', cert.name]) },
      );
    }
    return { cert, reason, profile, pending: null };
  }

  private async perform(
    cert: ManagedCertificate,
    profile: CaProfile,
    reason: RevocationReason,
    reissue: boolean,
    actor: string,
    progress: Progress,
    approval: Approval | null,
    pending: PendingRevocation | null,
  ): Promise<RevocationResult> {
    // What is revoked: the certificate on the row now, or the one a reissue already replaced there.
    const old = pending
      ? { serial: pending.serial, chainPem: pending.chainPem, keySealed: cert.pendingRevocationKeySealed }
      : { serial: cert.serial!, chainPem: cert.chainPem!, keySealed: cert.keySealed };
    const byKey = signsWithCertificateKey(reason) && old.keySealed !== null;
    const audit = (result: 'ok' | 'error', detail: Record<string, unknown>) =>
      auditCertificate(this.deps, cert, actor, 'certificate.revoke', result, {
        serial: old.serial,
        reason,
        reissue,
        ...(approval ? { approvalId: approval.id, requestedBy: approval.requestedBy } : {}),
        ...detail,
      });

    let replacement: RevocationResult['replacement'] = null;
    if (reissue) {
      // Kept before the renewal replaces it on the row, so that a failure on the way can be finished later.
      if (!pending) {
        await this.deps.store.certificates.update(cert.id, {
          pendingRevocation: {
            serial: old.serial,
            chainPem: old.chainPem,
            reason,
            requestedBy: approval?.requestedBy ?? actor,
            at: this.deps.clock.now().toISOString(),
          },
          pendingRevocationKeySealed: byKey ? old.keySealed : null,
        });
      }
      replacement = await this.replaceFirst(cert, old.serial, reason, !pending, actor, progress, audit);
    }

    progress(`${cert.name}: revoking serial ${old.serial} at the CA (${reason})`);
    let outcome: RevocationOutcome;
    try {
      outcome = byKey
        ? await this.deps.acme.revokeCertificateWithKey(
            profile.directoryUrl,
            old.chainPem,
            this.deps.secrets.open(old.keySealed!, secretAad('certificates', cert.id, 'key')),
            REVOCATION_REASONS[reason],
          )
        : await this.deps.acme.revokeCertificate(
            accountOf(this.deps, profile),
            old.chainPem,
            REVOCATION_REASONS[reason],
          );
    } catch (err) {
      const e = asCoreError(err);
      await audit('error', { stage: 'revoke', code: e.code, error: e.message });
      throw new CoreError(
        e.code,
        replacement
          ? `${cert.name}: the replacement (serial ${replacement.serial}) is issued and deployed, but serial ${old.serial} could not be revoked: ${e.message}`
          : `${cert.name}: serial ${old.serial} was not revoked: ${e.message}`,
        {
          retryable: e.retryable,
          cause: e,
          ...(e.detail ? { detail: e.detail } : {}),
          ...(replacement ? { hint: finishHint(cert.name, reason) } : {}),
        },
      );
    }
    const signedWith = byKey ? 'certificate_key' : 'account';
    const now = this.deps.clock.now();
    await this.deps.store.certificates.update(cert.id, {
      revokedSerial: old.serial,
      revokedAt: now,
      revocationReason: reason,
      revokedBy: actor,
      ...(reissue ? { pendingRevocation: null, pendingRevocationKeySealed: null } : {}),
    });
    await audit('ok', { outcome, signedWith, ...(replacement ? { replacementSerial: replacement.serial } : {}) });
    const stillServed = !replacement && (await this.deps.store.bindings.list({ certificateId: cert.id })).length > 0;
    await emitCertificateEvent(
      this.deps,
      cert,
      'revoked',
      {
        serial: old.serial,
        reason,
        by: actor,
        ...(replacement ? { replacementSerial: replacement.serial } : {}),
        stillServed,
      },
      // Served and revoked with no automatic replacement coming: a person has to renew it.
      stillServed && !profile.autoRenew,
      old.serial,
    );
    progress(
      `${cert.name}: serial ${old.serial} ${outcome === 'revoked' ? 'revoked' : 'was already revoked at the CA; recorded'}`,
    );
    return {
      outcome,
      certificate: await this.certificates.show(cert.name),
      reason,
      serial: old.serial,
      signedWith,
      approvalId: approval?.id ?? null,
      replacement,
    };
  }

  /**
   * `--reissue`: order the replacement (unless an earlier run issued it already) and deploy it everywhere it
   * is bound; any shortfall stops before revoking, and running the same command again finishes it.
   */
  private async replaceFirst(
    cert: ManagedCertificate,
    oldSerial: string,
    reason: RevocationReason,
    order: boolean,
    actor: string,
    progress: Progress,
    audit: (result: 'error', detail: Record<string, unknown>) => Promise<void>,
  ): Promise<NonNullable<RevocationResult['replacement']>> {
    const notRevoked = async (stage: string, e: CoreError): Promise<never> => {
      await audit('error', { stage, code: e.code, error: e.message });
      throw new CoreError(e.code, `${cert.name}: ${e.message}; serial ${oldSerial} was NOT revoked`, {
        retryable: e.retryable,
        cause: e,
        hint: finishHint(cert.name, reason),
      });
    };
    let renewed: CertificateView;
    if (order) {
      progress(`${cert.name}: ordering the replacement first (serial ${oldSerial} stays valid until it is deployed)`);
      try {
        renewed = await this.certificates.renew(cert.name, actor, progress, 'revocation');
      } catch (err) {
        return notRevoked('reissue', asCoreError(err));
      }
    } else {
      progress(`${cert.name}: the replacement (serial ${cert.serial}) was issued by an earlier run`);
      renewed = await this.certificates.show(cert.name);
    }
    if (renewed.renewalState !== null || renewed.serial === oldSerial || !renewed.serial) {
      const why = renewed.lastRenewalError?.message ?? `the renewal is ${renewed.renewalState ?? 'not finished'}`;
      return notRevoked('reissue', new CoreError('conflict', `the replacement is not issued yet (${why})`));
    }
    const bound = (await this.deps.store.bindings.list({ certificateId: cert.id })).length > 0;
    if (!bound) {
      progress(`${cert.name}: replacement serial ${renewed.serial} issued; nothing is bound, so nothing to deploy`);
      return { serial: renewed.serial, deploy: null };
    }
    progress(`${cert.name}: deploying the replacement (serial ${renewed.serial}) to every bound device`);
    let report: DeployReport;
    try {
      report = await this.deploys.deploy(cert.name, {}, actor, progress);
    } catch (err) {
      return notRevoked('deploy', asCoreError(err));
    }
    if (!report.ok) {
      const failed = report.devices
        .filter((d) => d.result !== 'succeeded' && d.result !== 'unchanged')
        .map((d) => `${d.device}: ${d.result}${d.error ? ` (${d.error.message})` : ''}`);
      return notRevoked(
        'deploy',
        new CoreError(
          'deploy_failed',
          `the replacement (serial ${renewed.serial}) did not reach every device: ${failed.join('; ')}`,
        ),
      );
    }
    return { serial: renewed.serial, deploy: report };
  }
}

/** Running the same `--reissue` revocation again picks up where it stopped (renewal, deploy, or the revocation). */
function finishHint(name: string, reason: RevocationReason) {
  return runCommand('fix the cause, then finish it with', ['cert', 'revoke', name, '--reason', reason, '--reissue']);
}

/** The profile's approval rule: a profile in semi-automatic mode (renewals or deploys approved) approves revocations too. */
export function requiresApproval(profile: Pick<CaProfile, 'renewApproval' | 'deployApproval'>): boolean {
  return profile.renewApproval || profile.deployApproval;
}
