import type { CaProfile } from '../domain/ca-profile.ts';
import { certificateNames, type ManagedCertificate } from '../domain/managed-certificate.ts';
import { nextRenewalAttempt } from '../domain/retry-backoff.ts';
import { asCoreError, type CoreError, isDatabaseUnavailable, mentionCommand } from '../errors.ts';
import { RENEWAL_AUDIT } from '../domain/audit-entry.ts';
import { auditCertificate } from './certificate-audit.ts';
import { emitCertificateEvent } from './certificate-events.ts';
import { decideRenewal } from './renewal-policies.ts';
import { renewalSchedule } from './schedule.ts';
import { orderRestart } from './work-record.ts';
import type { ApprovalService } from '../approvals/approval-service.ts';
import { boundedMap } from '../services/bounded-map.ts';
import type { CertificateService } from './certificate-service.ts';
import { accountOf, type CoreDeps, noProgress, type Progress } from '../services/core-deps.ts';
import { type LeaseOptions, withLease } from '../services/with-lease.ts';

export interface SweepReport {
  candidates: number;
  renewed: string[];
  failed: { name: string; code: string; message: string }[];
  /** Waiting for a person: an approval, or challenge content that automation could not publish. */
  waiting: string[];
  /** Claimed by another worker, or no longer due after claiming. */
  skipped: number;
  ariPolled: number;
  /** First issuances that had stopped half-way (a crash, an approval clicked just before one) and were resumed. */
  resumed: string[];
}

/** An order unfinished this long after the renewal began is abandoned and replaced. */
const ABANDON_AFTER_MS = 4 * 3_600_000;
/** How often to look again at a CA that offers no renewalInfo, in case it starts to. */
const NO_ARI_RECHECK_MS = 24 * 3_600_000;
const SWEEP_BATCH = 500;
/**
 * A first issuance untouched this long has nobody driving it: one `request`/`resume` drives for at most
 * 10 minutes (DRIVE_BUDGET_MS) and writes the row as it moves on.
 */
const STALLED_AFTER_MS = 15 * 60_000;
const STALLED_STATES: ReadonlySet<string> = new Set(['requested', 'ordering', 'finalizing']);
const SWEEP_CONCURRENCY = 4;

/**
 * The renewal sweep: preselects candidates (due certificates and renewals in flight), claims each with a
 * lease, decides under the claim with the renewal policy chain (`core/issuance/renewal-policies.ts`, the one
 * "due" rule), then renews it through the certificate service's persisted state machine, beside
 * the live certificate (which stays `issued`). Failures back off per certificate, bounded by the live
 * certificate's expiry (`retry-backoff.ts`: never after notAfter minus a safety margin, minutes apart in
 * the last 1/20, the CA's Retry-After as a floor) and are kept on the row (`lastRenewalError`,
 * `failedAttempts`, `nextAttemptAt`); a challenge automation cannot answer is raised to people instead of
 * retried blindly. Starting and finishing a renewal are told by the certificate use cases (a person's renew
 * is told the same way); a failed attempt, with its backoff, is told here.
 */
export class RenewalService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly certificates: CertificateService,
    private readonly approvals: ApprovalService,
    private readonly lease: LeaseOptions,
  ) {}

  async sweep(progress: Progress = noProgress): Promise<SweepReport> {
    const report: SweepReport = {
      candidates: 0,
      renewed: [],
      failed: [],
      waiting: [],
      skipped: 0,
      ariPolled: 0,
      resumed: [],
    };
    report.ariPolled = await this.pollAri();
    const ids = await this.deps.store.certificates.listRenewalCandidates(this.deps.clock.now(), SWEEP_BATCH);
    report.candidates = ids.length;
    if (ids.length > 0) progress(`${ids.length} certificate(s) due for renewal or with a renewal in flight`);
    await boundedMap(ids, SWEEP_CONCURRENCY, async (id) => {
      const claimed = await withLease(this.deps.store.leases, `renew:${id}`, this.lease, this.deps.log, () =>
        this.renewOne(id, report, progress),
      );
      if (!claimed.ran) report.skipped++;
    });
    const before = new Date(this.deps.clock.now().getTime() - STALLED_AFTER_MS);
    const stalled = await this.deps.store.certificates.listStalledIssuances(before, SWEEP_BATCH);
    if (stalled.length > 0) progress(`${stalled.length} first issuance(s) stopped half-way; resuming`);
    await boundedMap(stalled, SWEEP_CONCURRENCY, async (id) => {
      const claimed = await withLease(this.deps.store.leases, `renew:${id}`, this.lease, this.deps.log, () =>
        this.resumeStalled(id, before, report, progress),
      );
      if (!claimed.ran) report.skipped++;
    });
    return report;
  }

  /**
   * Resumes a first issuance nobody is driving any more. The issuance gate in `resume` still applies: an
   * approval granted but never acted on is taken here, exactly once.
   */
  private async resumeStalled(id: string, before: Date, report: SweepReport, progress: Progress): Promise<void> {
    const cert = await this.deps.store.certificates.findById(id);
    // Re-check under the claim: another worker (or a person) may have moved it on meanwhile.
    if (!cert || cert.serial !== null || !STALLED_STATES.has(cert.state) || cert.updatedAt >= before) {
      report.skipped++;
      return;
    }
    progress(`${cert.name}: resuming a first issuance stopped at ${cert.state}`);
    try {
      const view = await this.certificates.resume(cert.name, 'scheduler', progress);
      if (view.state === 'issued') report.resumed.push(cert.name);
      else if (view.state === 'awaiting_challenge') report.waiting.push(cert.name);
      else if (view.state === 'failed')
        report.failed.push({
          name: cert.name,
          code: view.problem?.type ?? 'acme_order_invalid',
          message: view.problem?.detail ?? 'the CA rejected the order',
        });
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      const e = asCoreError(err);
      // The row is left as it was, so the next sweep tries again.
      this.deps.log.warn({ certificate: cert.name, code: e.code }, 'could not resume a stalled first issuance');
      report.failed.push({ name: cert.name, code: e.code, message: e.message });
    }
  }

  /** Recomputes `renewAt` for a certificate from its validity, its profile and the stored ARI window. */
  schedule(cert: ManagedCertificate, profile: CaProfile): { renewAt: Date; renewReason: string } {
    return renewalSchedule(
      { ...cert, notBefore: cert.notBefore!, notAfter: cert.notAfter! },
      profile,
      this.deps.clock.now(),
    );
  }

  private async renewOne(id: string, report: SweepReport, progress: Progress): Promise<void> {
    const now = this.deps.clock.now();
    const cert = await this.deps.store.certificates.findById(id);
    if (!cert) return;
    const profile = (await this.deps.store.profiles.findById(cert.profileId))!;
    // Decided under the claim: another worker may have renewed it between our query and our claim.
    const bound = (await this.deps.store.bindings.list({ certificateId: cert.id })).length > 0;
    const verdict = decideRenewal({ cert, profile, bound, now });
    if (!verdict.renew) {
      report.skipped++;
      return;
    }
    const inFlight = verdict.reason === 'renewal_in_flight';
    const due = !inFlight;

    if (due && profile.renewApproval) {
      const approval = await this.approvals.requestForScheduler('renewal', cert, {
        names: certificateNames(cert),
        serial: cert.serial,
        notAfter: cert.notAfter?.toISOString() ?? null,
        profile: profile.name,
      });
      if (approval.state !== 'approved' || !(await this.approvals.consume(approval))) {
        report.waiting.push(cert.name);
        return;
      }
    }

    try {
      if (inFlight && cert.renewalStartedAt && now.getTime() - cert.renewalStartedAt.getTime() > ABANDON_AFTER_MS) {
        await this.abandon(cert);
      }
      if (due) {
        progress(
          `${cert.name}: renewing (serial ${cert.serial}, ${verdict.reason === 'revoked' ? 'revoked' : (cert.renewReason ?? 'due')})`,
        );
      } else {
        progress(`${cert.name}: resuming the renewal in flight (${cert.renewalState ?? cert.state})`);
      }
      await this.deps.store.certificates.update(cert.id, { lastRenewalAttemptAt: now });
      const view = due
        ? await this.certificates.renew(
            cert.name,
            'scheduler',
            progress,
            verdict.reason === 'revoked' ? 'revoked' : (cert.renewReason ?? 'due'),
          )
        : await this.certificates.resume(cert.name, 'scheduler', progress);
      // Where the renewal stands: its own step while it runs beside the live certificate, else the row's.
      const step = view.renewalState ?? view.state;
      const problem =
        view.renewalState !== null && view.lastRenewalError
          ? { type: view.lastRenewalError.code, detail: view.lastRenewalError.message }
          : view.problem;
      if (step === 'issued') {
        report.renewed.push(cert.name);
        return;
      }
      if (step === 'awaiting_challenge') {
        report.waiting.push(cert.name);
        await this.failed(
          cert,
          `challenge content for ${cert.name} is not reachable; publish it (${mentionCommand(['domain', 'show'])}) and the next sweep continues`,
          'challenge_unreachable',
          true,
        );
        return;
      }
      if (step === 'failed') {
        await this.deactivatePending(cert);
        report.failed.push({
          name: cert.name,
          code: problem?.type ?? 'acme_order_invalid',
          message: problem?.detail ?? 'the CA rejected the order',
        });
        await this.failed(cert, problem?.detail ?? 'the CA rejected the order', 'acme_order_invalid', true);
      }
      // Still in flight (the CA is working): the next sweep resumes it.
    } catch (err) {
      // A database outage is not this certificate's failure: no backoff, no alert; the next sweep resumes it.
      if (isDatabaseUnavailable(err)) throw err;
      const e = asCoreError(err);
      report.failed.push({ name: cert.name, code: e.code, message: e.message });
      await this.failed(cert, e.message, e.code, !e.retryable, e);
    }
  }

  /**
   * Records the failure on the row (the live certificate stays `issued`), schedules the next attempt before
   * the live certificate's deadline, and raises it: once per certificate and day, and once more when the
   * CA's Retry-After pushes the next attempt past the deadline (a person has to know).
   */
  private async failed(
    cert: ManagedCertificate,
    message: string,
    code: string,
    needsPerson: boolean,
    error?: CoreError,
  ): Promise<void> {
    const fresh = (await this.deps.store.certificates.findById(cert.id)) ?? cert;
    const now = this.deps.clock.now();
    const failures = fresh.failedAttempts + 1;
    const retryAfterMs = typeof error?.detail?.retryAfterMs === 'number' ? error.detail.retryAfterMs : null;
    const live =
      fresh.state === 'issued' && fresh.notBefore && fresh.notAfter
        ? { notBefore: fresh.notBefore, notAfter: fresh.notAfter }
        : null;
    const next = nextRenewalAttempt({ now, failures, live, retryAfterMs });
    await this.deps.store.certificates.update(cert.id, {
      failedAttempts: failures,
      nextAttemptAt: next.at,
      lastRenewalError: { code, message, at: now.toISOString() },
    });
    // One row per failed attempt (the event below is one per day): monitoring counts these.
    await auditCertificate(this.deps, cert, 'scheduler', RENEWAL_AUDIT.failedAction, 'error', {
      code,
      attempt: failures,
      nextAttemptAt: next.at.toISOString(),
    });
    const pastDeadline = next.reason === 'retry_after_past_deadline';
    await emitCertificateEvent(
      this.deps,
      cert,
      'renewal_failed',
      {
        code,
        message,
        attempt: failures,
        nextAttemptAt: next.at.toISOString(),
        retry: next.reason,
        ...(next.deadline ? { deadline: next.deadline.toISOString() } : {}),
      },
      needsPerson || pastDeadline,
      pastDeadline ? 'past_deadline' : undefined,
    );
  }

  /** Drops an order stuck for hours; the next attempt creates a fresh one with the same key. */
  private async abandon(cert: ManagedCertificate): Promise<void> {
    await this.deactivatePending(cert);
    await this.deps.store.certificates.update(cert.id, {
      ...orderRestart(cert),
      renewalStartedAt: this.deps.clock.now(),
    });
    await auditCertificate(this.deps, cert, 'scheduler', 'certificate.renew.abandon_order', 'ok', {
      orderUrl: cert.orderUrl,
    });
  }

  /** Pending authorizations of a failed or abandoned order are deactivated so they stop counting against limits. */
  private async deactivatePending(cert: ManagedCertificate): Promise<void> {
    const fresh = (await this.deps.store.certificates.findById(cert.id)) ?? cert;
    if (fresh.authorizationUrls.length === 0) return;
    const profile = (await this.deps.store.profiles.findById(cert.profileId))!;
    const account = accountOf(this.deps, profile);
    for (const url of fresh.authorizationUrls) {
      try {
        const authz = await this.deps.acme.getAuthorization(account, url);
        if (authz.status === 'pending') await this.deps.acme.deactivateAuthorization(account, url);
      } catch (err) {
        this.deps.log.warn(
          { certificate: cert.name, code: asCoreError(err).code },
          'could not deactivate an authorization',
        );
      }
    }
  }

  /** Fetches ARI windows that are due for a look and reschedules those certificates. */
  private async pollAri(): Promise<number> {
    const now = this.deps.clock.now();
    const ids = await this.deps.store.certificates.listAriPollCandidates(now, SWEEP_BATCH);
    let polled = 0;
    // One directory read per profile and sweep: a CA without ARI costs no request per certificate.
    const offersAri = new Map<string, Promise<boolean>>();
    for (const id of ids) {
      const cert = await this.deps.store.certificates.findById(id);
      if (!cert?.chainPem || cert.state !== 'issued') continue;
      const profile = (await this.deps.store.profiles.findById(cert.profileId))!;
      try {
        if (!offersAri.has(profile.id))
          offersAri.set(
            profile.id,
            this.deps.acme.directory(profile.directoryUrl).then((d) => d.renewalInfo !== null),
          );
        const info = (await offersAri.get(profile.id))
          ? await this.deps.acme.renewalInfo(profile.directoryUrl, cert.chainPem)
          : null;
        polled++;
        if (!info) {
          await this.deps.store.certificates.update(id, { ariNextPollAt: new Date(now.getTime() + NO_ARI_RECHECK_MS) });
          continue;
        }
        const jitter = 1 + (Math.random() * 0.2 - 0.1);
        const changed =
          info.window?.start.getTime() !== cert.ariWindowStart?.getTime() ||
          info.window?.end.getTime() !== cert.ariWindowEnd?.getTime();
        const patch = {
          ariNextPollAt: new Date(now.getTime() + Math.round(info.retryAfterMs * jitter)),
          ...(changed ? { ariWindowStart: info.window?.start ?? null, ariWindowEnd: info.window?.end ?? null } : {}),
        };
        const updated = await this.deps.store.certificates.update(id, patch);
        if (changed) await this.deps.store.certificates.update(id, this.schedule(updated, profile));
      } catch (err) {
        if (isDatabaseUnavailable(err)) throw err;
        const e = asCoreError(err);
        this.deps.log.warn({ certificate: cert.name, code: e.code }, 'ARI poll failed; trying again in an hour');
        await this.deps.store.certificates.update(id, { ariNextPollAt: new Date(now.getTime() + 3_600_000) });
      }
    }
    return polled;
  }
}
