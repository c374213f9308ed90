import type { Binding } from '../domain/binding.ts';
import type { CaProfile } from '../domain/ca-profile.ts';
import { type PendingDeploy, pendingDeploy } from '../domain/deploy-time.ts';
import { certificateNames, type ManagedCertificate } from '../domain/managed-certificate.ts';
import { type PublicView, publicView } from '../domain/public-view.ts';
import { CoreError, runCommand, seeList } from '../errors.ts';
import { exportPem, exportPkcs12, type PemExport, type Pkcs12Export } from '../export/certificate-export.ts';
import { auditCertificate } from './certificate-audit.ts';
import { emitCertificateEvent } from './certificate-events.ts';
import { issuanceGate } from './gate.ts';
import { IssuanceMachine } from './machine.ts';
import {
  issuanceSummary,
  newCertificate,
  type RequestCertificateInput,
  type RequestOptions,
  insertRequest,
  validateRequest,
} from './request.ts';
import { orderRestart, renewalStart } from './work-record.ts';
import type { ApprovalService } from '../approvals/approval-service.ts';
import { type CoreDeps, noProgress, type Progress } from '../services/core-deps.ts';
import type { ProfileService } from '../services/profile-service.ts';

export { MAX_ORDER_ATTEMPTS } from './machine.ts';
export type { RequestCertificateInput, RequestOptions } from './request.ts';

/**
 * A certificate as the edges show it: every public field (renewal state, `lastRenewalError`,
 * `failedAttempts`, `nextAttemptAt` …), the profile's name, and when its renewed certificate will be
 * deployed if bindings wait for it (the profile's deploy window), or null.
 */
export type CertificateView = PublicView<ManagedCertificate> & {
  profileName: string;
  pendingDeploy: PendingDeploy | null;
};

/**
 * The certificate use cases every edge calls (CLI, Slack, the renewal sweep). The work lives in
 * `core/issuance/`: `request.ts` (validation, the new row, key and CSR), `gate.ts` (the issuance approval),
 * `machine.ts` (the persisted step/drive state machine), `schedule.ts` and `renewal-policies.ts` (when to
 * renew). This class wires them and turns rows into views.
 */
export class CertificateService {
  private readonly machine: IssuanceMachine;

  constructor(
    private readonly deps: CoreDeps,
    private readonly profiles: ProfileService,
    private readonly approvals: ApprovalService,
  ) {
    this.machine = new IssuanceMachine(deps);
  }

  /**
   * Validates the whole request before writing anything, stores it, then drives it towards `issued`; with
   * `approval`, stops after storing it and asks an approver (see {@link resume}).
   */
  async request(
    input: RequestCertificateInput,
    actor: string,
    progress: Progress = noProgress,
    opts: RequestOptions = {},
  ): Promise<CertificateView> {
    const profile = await this.profiles.get(input.profile);
    const valid = await validateRequest(this.deps, profile, input);
    const cert = newCertificate(this.deps, profile, valid, input.passphrase, actor);
    await insertRequest(this.deps, cert);
    if (opts.approval) {
      const approval = await this.approvals.request(
        'issuance',
        cert,
        { ...opts.summary, ...issuanceSummary(cert, profile) },
        actor,
      );
      await auditCertificate(this.deps, cert, actor, 'certificate.request', 'ok', {
        names: certificateNames(cert),
        profile: profile.name,
        approvalId: approval.id,
      });
      progress(`${cert.name}: requested; waiting for an approver (approval ${approval.id})`);
      return this.view(cert, profile);
    }
    await auditCertificate(this.deps, cert, actor, 'certificate.request', 'ok', {
      names: certificateNames(cert),
      profile: profile.name,
    });
    return this.view(await this.machine.drive(cert, actor, progress, profile), profile);
  }

  /** Continues a request from whatever step it reached (after a crash, a pause, or new challenge content). */
  async resume(name: string, actor: string, progress: Progress = noProgress): Promise<CertificateView> {
    const cert = await this.get(name);
    if (cert.renewalState !== null) return this.resumeRenewal(cert, actor, progress);
    if (cert.state === 'issued') return this.view(cert);
    const asked = await issuanceGate(this.deps, this.approvals, cert, actor, progress);
    if (asked) return this.view(asked);
    if (cert.state === 'failed') {
      progress(`${name}: retrying a failed request with a new order (same key)`);
      const reset = await this.deps.store.certificates.update(cert.id, { ...orderRestart(cert), problem: null });
      return this.view(await this.machine.drive(reset, actor, progress));
    }
    return this.view(await this.machine.drive(cert, actor, progress));
  }

  /**
   * Issues the certificate again with a fresh key (the row, its name and bindings stay). The renewal runs
   * beside the live certificate, which stays `issued` — valid, deployed, exportable — until the new chain
   * downloads and replaces chain and key in one write; nothing deploys half a renewal. A renewal already in
   * flight is continued (same key, same order), never started twice. The view's `renewalState` is null
   * when it finished. Starting one is told to the notifier (`renewal_due`, with `reason`: the schedule's
   * reason for the sweep, `manual` for a person), and so is its end (`renewed`, from the machine).
   */
  async renew(
    name: string,
    actor: string,
    progress: Progress = noProgress,
    reason = 'manual',
  ): Promise<CertificateView> {
    const cert = await this.get(name);
    if (cert.state !== 'issued') {
      throw new CoreError('conflict', `certificate "${name}" is ${cert.state}, not issued`, {
        hint: runCommand('finish it with', ['cert', 'resume', name]),
      });
    }
    if (cert.renewalState !== null) {
      progress(`${name}: a renewal is already in flight (${cert.renewalState}); continuing it`);
      return this.resumeRenewal(cert, actor, progress);
    }
    progress(`${name}: renewing with a new key (was serial ${cert.serial})`);
    const reset = await this.deps.store.certificates.update(cert.id, renewalStart(this.deps.clock.now()));
    await auditCertificate(this.deps, cert, actor, 'certificate.renew', 'ok', { previousSerial: cert.serial });
    await emitCertificateEvent(
      this.deps,
      cert,
      'renewal_due',
      { serial: cert.serial, renewAt: cert.renewAt?.toISOString(), reason },
      false,
    );
    return this.view(await this.machine.drive(reset, actor, progress));
  }

  /** Continues the renewal in flight; one the CA failed gets a new order with the same key. */
  private async resumeRenewal(cert: ManagedCertificate, actor: string, progress: Progress): Promise<CertificateView> {
    if (cert.renewalState !== 'failed') return this.view(await this.machine.drive(cert, actor, progress));
    progress(`${cert.name}: retrying a failed renewal with a new order (same key)`);
    const reset = await this.deps.store.certificates.update(cert.id, orderRestart(cert));
    return this.view(await this.machine.drive(reset, actor, progress));
  }

  async get(name: string): Promise<ManagedCertificate> {
    const cert = await this.deps.store.certificates.findByName(name);
    if (!cert) throw new CoreError('not_found', `no certificate named "${name}"`, { hint: seeList('cert') });
    return cert;
  }

  async show(name: string): Promise<CertificateView> {
    return this.view(await this.get(name));
  }

  async list(profileName?: string): Promise<CertificateView[]> {
    const filter = profileName ? { profileId: (await this.profiles.get(profileName)).id } : {};
    const rows = await this.deps.store.certificates.list(filter);
    // One read of profiles and of bindings, not one per certificate: the dashboard lists every certificate on each open.
    const profiles = new Map((await this.deps.store.profiles.list()).map((p) => [p.id, p]));
    const bindings = new Map<string, Binding[]>();
    for (const b of await this.deps.store.bindings.list())
      bindings.set(b.certificateId, [...(bindings.get(b.certificateId) ?? []), b]);
    const now = this.deps.clock.now();
    return rows.map((c) => this.viewOf(c, profiles.get(c.profileId), bindings.get(c.id) ?? [], now));
  }

  /**
   * The issued chain (`fullchain`, the default, or the leaf alone: `pem`); the private key only when
   * explicitly asked for. Audited (core/export/certificate-export.ts).
   */
  async export(
    name: string,
    opts: { includeKey: boolean; format?: 'pem' | 'fullchain' },
    actor: string,
  ): Promise<PemExport> {
    const format = opts.format ?? 'fullchain';
    return exportPem(this.deps, await this.get(name), { format, includeKey: opts.includeKey }, actor);
  }

  /** One PKCS#12 file with the key, the leaf and the intermediates under `passphrase`; audited. */
  async exportPkcs12(
    name: string,
    opts: { passphrase: string | undefined; friendlyName?: string | undefined },
    actor: string,
  ): Promise<Pkcs12Export> {
    return exportPkcs12(this.deps, await this.get(name), opts, actor);
  }

  /** `known`: the certificate's profile when the caller has it already (a request), saving a read. */
  private async view(cert: ManagedCertificate, known?: CaProfile): Promise<CertificateView> {
    const profile = known ?? (await this.deps.store.profiles.findById(cert.profileId)) ?? undefined;
    const bindings = cert.state === 'issued' ? await this.deps.store.bindings.list({ certificateId: cert.id }) : [];
    return this.viewOf(cert, profile, bindings, this.deps.clock.now());
  }

  private viewOf(
    cert: ManagedCertificate,
    profile: CaProfile | undefined,
    bindings: readonly Binding[],
    now: Date,
  ): CertificateView {
    return {
      ...publicView(cert),
      profileName: profile?.name ?? '?',
      pendingDeploy: profile ? pendingDeploy({ cert, bindings, profile, now }) : null,
    };
  }
}
