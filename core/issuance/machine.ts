import { ariCertId } from '../domain/ari-cert-id.ts';
import type { CaProfile } from '../domain/ca-profile.ts';
import { certificateMatchesKey, parseCertificate } from '../domain/certificate-facts.ts';
import { describeKeySpec } from '../domain/key-spec.ts';
import { certificateNames, isFinalState, type ManagedCertificate } from '../domain/managed-certificate.ts';
import type { ManagedDomain } from '../domain/managed-domain.ts';
import { CoreError, isCoreError, mentionCommand, runCommand } from '../errors.ts';
import { failpoint } from '../failpoints.ts';
import type { AcmeAccount, AcmeOrder } from '../ports/acme-gateway.ts';
import { AuthorizationSync, domainNameOf } from '../challenges/authorization-sync.ts';
import { dnsRecordName } from '../domain/domain-name.ts';
import { accountOf, type CoreDeps, type Progress, secretAad } from '../services/core-deps.ts';
import { RENEWAL_AUDIT } from '../domain/audit-entry.ts';
import { auditCertificate } from './certificate-audit.ts';
import { emitCertificateEvent } from './certificate-events.ts';
import { emitRequestOutcome } from './request-outcome.ts';
import { createKeyAndCsr } from './request.ts';
import { renewalSchedule } from './schedule.ts';
import { type CertificatePatch, noOrder, renewalBookkeepingCleared, renewalPatch, workOf } from './work-record.ts';

/** A new order replaces an invalid one at most this many times per request, so a broken setup cannot loop. */
export const MAX_ORDER_ATTEMPTS = 3;
/** How long one `request`/`resume` keeps polling before handing back a resumable state. */
const DRIVE_BUDGET_MS = 10 * 60_000;

/**
 * What one step asks of the loop: nothing (go on), a poll (the CA is working; wait, honouring Retry-After),
 * or a stop (a person must act first).
 */
type StepResult = { cert: ManagedCertificate; poll?: { retryAfterMs?: number | undefined }; stop?: string };

/** Polling starts fast (Pebble and Let's Encrypt often finish in tens of milliseconds) and backs off. */
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 2_000;
const MAX_RETRY_AFTER_MS = 10_000;
const MAX_SERVER_ERROR_RETRIES = 3;
const SERVER_ERROR_RETRY_MS = 250;

interface StepContext {
  profile: CaProfile;
  account: AcmeAccount;
  /** A renewal beside the live certificate (its own columns), not a first issuance. */
  renewal: boolean;
  /** The row as this drive last wrote it (the store returns it from each update), so the drive ends without a read. */
  lastRow?: ManagedCertificate;
  /**
   * This order's authorizations were all answered (or valid) in this drive: while the order stays `pending` the
   * CA is validating, and only the order needs polling (an authorization that fails turns the order invalid).
   */
  answeredOrder?: string;
}

/**
 * The persisted issuance state machine (decision 0004): `step` observes the CA, acts once and records the
 * result on the row; `drive` loops over steps until the certificate is issued, failed, waits for a person, or
 * its time budget is spent. Every step is idempotent against the stored state, so any run resumes another.
 */
export class IssuanceMachine {
  private readonly sync: AuthorizationSync;

  constructor(private readonly deps: CoreDeps) {
    this.sync = new AuthorizationSync(deps);
  }

  /** Drives the work in flight and returns the row as it is then (the live certificate and where a renewal stands). */
  async drive(
    initial: ManagedCertificate,
    actor: string,
    progress: Progress,
    knownProfile?: CaProfile,
  ): Promise<ManagedCertificate> {
    const deadline = this.deps.clock.now().getTime() + DRIVE_BUDGET_MS;
    const profile = knownProfile ?? (await this.deps.store.profiles.findById(initial.profileId))!;
    const context: StepContext = {
      profile,
      account: accountOf(this.deps, profile),
      renewal: initial.renewalState !== null,
    };
    let cert = workOf(initial);
    let pollMs = FIRST_POLL_MS;
    let polledAt = '';
    let serverErrors = 0;
    while (!isFinalState(cert.state)) {
      let result: StepResult;
      try {
        result = await this.step(cert, context, progress);
      } catch (err) {
        // Within one request a CA 5xx is retried up to 3 times 250 ms apart; every step is idempotent against
        // the stored state.
        if (
          isCoreError(err) &&
          err.retryable &&
          err.code === 'acme_error' &&
          ++serverErrors <= MAX_SERVER_ERROR_RETRIES
        ) {
          await this.deps.clock.sleep(SERVER_ERROR_RETRY_MS);
          continue;
        }
        if (isCoreError(err) && !err.retryable) {
          cert = await this.save(context, cert.id, {
            state: 'failed',
            problem: (err.detail?.problem as ManagedCertificate['problem']) ?? { type: err.code, detail: err.message },
          });
          await auditCertificate(
            this.deps,
            cert,
            actor,
            context.renewal ? 'certificate.renew.failed' : 'certificate.failed',
            'error',
            { code: err.code, message: err.message },
          );
          // A first issuance that failed for good is told to its requester; a renewal keeps the live certificate.
          if (!context.renewal && initial.state !== 'issued' && initial.requestedBy)
            await emitRequestOutcome(this.deps, cert, initial.requestedBy, {
              outcome: 'failed',
              reason: cert.problem?.detail ?? err.message,
            });
        }
        throw err;
      }
      cert = result.cert;
      if (result.stop) {
        progress(result.stop);
        break;
      }
      if (!result.poll) {
        pollMs = FIRST_POLL_MS;
        continue;
      }
      // A new stage (validating → finalizing) starts polling fast again.
      const stage = `${cert.state}/${cert.orderStatus}`;
      if (stage !== polledAt) pollMs = FIRST_POLL_MS;
      polledAt = stage;
      const wait = Math.min(result.poll.retryAfterMs ?? pollMs, MAX_RETRY_AFTER_MS);
      if (this.deps.clock.now().getTime() + wait > deadline) {
        progress(
          `${cert.name}: still ${cert.state}; run again later: ${mentionCommand(['cert', 'resume', cert.name])}`,
        );
        break;
      }
      await this.deps.clock.sleep(wait);
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    }
    if (cert.state === 'issued') {
      await auditCertificate(this.deps, cert, actor, RENEWAL_AUDIT.succeeded.action, 'ok', {
        serial: cert.serial,
        notAfter: cert.notAfter?.toISOString(),
        // Monitoring counts finished renewals by this flag (bigip_acme_renewals_total).
        ...(initial.renewalStartedAt !== null ? { [RENEWAL_AUDIT.succeeded.detailFlag]: true } : {}),
      });
      if (initial.renewalStartedAt === null && initial.state !== 'issued' && initial.requestedBy)
        await emitRequestOutcome(this.deps, cert, initial.requestedBy, {
          outcome: 'issued',
          serial: cert.serial,
          notAfter: cert.notAfter,
        });
      // Whoever drove it (a person's renew or resume, or the sweep), a finished renewal is told once.
      if (initial.renewalStartedAt !== null) {
        await emitCertificateEvent(
          this.deps,
          cert,
          'renewed',
          { previousSerial: initial.serial, serial: cert.serial, notAfter: cert.notAfter?.toISOString() ?? null },
          false,
          cert.serial ?? undefined,
        );
      }
    }
    return context.lastRow ?? (await this.deps.store.certificates.findById(cert.id)) ?? cert;
  }

  /** Writes a step's patch to the columns the drive works on and returns the record the steps see. */
  private async save(context: StepContext, id: string, patch: CertificatePatch): Promise<ManagedCertificate> {
    const written = context.renewal ? renewalPatch(patch, this.deps.clock.now()) : patch;
    context.lastRow = await this.deps.store.certificates.update(id, written);
    return workOf(context.lastRow);
  }

  /** One persisted step of the state machine (cert-manager's Sync: observe, act once, record). */
  private async step(cert: ManagedCertificate, context: StepContext, progress: Progress): Promise<StepResult> {
    const { profile, account } = context;
    const save = (patch: CertificatePatch) => this.save(context, cert.id, patch);

    if (!cert.keySealed || !cert.csrPem) {
      progress(`${cert.name}: generating the ${describeKeySpec(cert.keySpec)} key and CSR`);
      const withKey = await save({ ...(await createKeyAndCsr(this.deps, cert)), state: 'ordering' });
      failpoint('key_persisted');
      return { cert: withKey };
    }

    if (!cert.orderUrl) {
      if (cert.orderAttempts >= MAX_ORDER_ATTEMPTS) {
        throw new CoreError(
          'acme_order_invalid',
          `${cert.name}: the CA invalidated ${cert.orderAttempts} orders in a row; fix the cause`,
          { hint: runCommand('then run', ['cert', 'resume', cert.name]) },
        );
      }
      await this.checkDelegations(cert);
      progress(`${cert.name}: creating an order for ${certificateNames(cert).join(', ')}`);
      const replaces = await this.replacesFor(cert, profile);
      const order = await this.deps.acme.newOrder(account, certificateNames(cert), {
        profile: profile.acmeProfile ?? undefined,
        replaces,
      });
      const updated = await save({
        state: 'ordering',
        orderUrl: order.url,
        finalizeUrl: order.finalize,
        authorizationUrls: order.authorizations,
        orderStatus: order.status,
        orderAttempts: cert.orderAttempts + 1,
        problem: null,
      });
      failpoint('order_created');
      return { cert: updated };
    }

    const order = await this.readOrder(account, cert);
    if (!order) {
      return { cert: await save(noOrder()) };
    }

    switch (order.status) {
      case 'pending':
        if (context.answeredOrder === order.url) return { cert, poll: { retryAfterMs: order.retryAfterMs } };
        return this.answerAuthorizations(context, cert, order, progress);
      case 'ready':
        progress(`${cert.name}: all names validated; finalizing with the CSR`);
        await this.sync.markValid(order.authorizations);
        await this.deps.acme.finalize(account, order, cert.csrPem!);
        failpoint('finalize_sent');
        return { cert: await save({ state: 'finalizing', orderStatus: 'processing' }), poll: {} };
      case 'processing':
        return {
          cert:
            cert.state === 'finalizing' && cert.orderStatus === 'processing'
              ? cert
              : await save({ state: 'finalizing', orderStatus: 'processing' }),
          poll: { retryAfterMs: order.retryAfterMs },
        };
      case 'valid':
        return { cert: await this.download(context, cert, order, progress) };
      default:
        return this.replaceInvalidOrder(context, cert, order, progress);
    }
  }

  /**
   * The ARI CertID of the certificate a renewal replaces (RFC 9773 §5), when the CA offers ARI: renewal
   * orders inside the window are exempt from rate limits. The previous chain stays on the row until the new
   * one downloads, so it is still there when the order is created, also after a crash.
   */
  private async replacesFor(cert: ManagedCertificate, profile: CaProfile): Promise<string | undefined> {
    if (!cert.renewalStartedAt || !cert.chainPem) return undefined;
    const directory = await this.deps.acme.directory(profile.directoryUrl);
    if (!directory.renewalInfo) return undefined;
    try {
      return ariCertId(cert.chainPem);
    } catch {
      return undefined;
    }
  }

  /** An order the CA no longer knows (404) is as good as invalid: forget it and order again. */
  private async readOrder(account: AcmeAccount, cert: ManagedCertificate): Promise<AcmeOrder | null> {
    try {
      return await this.deps.acme.getOrder(account, cert.orderUrl!);
    } catch (err) {
      if (isCoreError(err) && err.code === 'acme_error' && (err.detail?.problem as { status?: number })?.status === 404)
        return null;
      throw err;
    }
  }

  private async answerAuthorizations(
    context: StepContext,
    cert: ManagedCertificate,
    order: AcmeOrder,
    progress: Progress,
  ): Promise<StepResult> {
    const { account } = context;
    const answered: string[] = [];
    const unreachable: string[] = [];
    const failed: string[] = [];
    await Promise.all(
      order.authorizations.map(async (url) => {
        const acmeAuthz = await this.deps.acme.getAuthorization(account, url);
        const domain = await this.domainFor(cert, domainNameOf(acmeAuthz));
        const outcome = await this.sync.advance(account, domain, acmeAuthz);
        if (outcome.kind === 'answered' && outcome.now) answered.push(domain.name);
        else if (outcome.kind === 'unreachable')
          unreachable.push(`${domain.name} (${domain.challengeType}): ${outcome.probe.detail}`);
        else if (outcome.kind === 'invalid' || outcome.kind === 'expired') failed.push(domain.name);
      }),
    );
    if (unreachable.length > 0) {
      const message = `${cert.name}: waiting for challenge content. Publish it (${mentionCommand(['domain', 'challenge', 'NAME'])}), then run: ${mentionCommand(['cert', 'resume', cert.name])}\n  ${unreachable.join('\n  ')}`;
      const updated = await this.save(context, cert.id, {
        state: 'awaiting_challenge',
        problem: { type: 'challenge_unreachable', detail: unreachable.join('; ') },
      });
      return { cert: updated, stop: message };
    }
    if (failed.length > 0) return { cert, poll: {} }; // the order turns invalid next; handled there
    if (answered.length > 0) progress(`${cert.name}: the CA is validating ${answered.join(', ')}`);
    context.answeredOrder = order.url;
    const next =
      cert.state === 'ordering' ? cert : await this.save(context, cert.id, { state: 'ordering', problem: null });
    // Answered, or all valid and the CA has yet to mark the order ready: either way, poll with backoff.
    return { cert: next, poll: { retryAfterMs: order.retryAfterMs } };
  }

  /**
   * An invalid order is never polled again. When a name failed validation it needs a person (the content
   * was wrong): the request fails naming it. Otherwise (expired, CA-side) a new order replaces it.
   */
  private async replaceInvalidOrder(
    context: StepContext,
    cert: ManagedCertificate,
    order: AcmeOrder,
    progress: Progress,
  ): Promise<StepResult> {
    const { account } = context;
    const failedNames: string[] = [];
    let problem = order.error ?? null;
    for (const url of order.authorizations) {
      const acmeAuthz = await this.deps.acme.getAuthorization(account, url).catch(() => null);
      if (!acmeAuthz) continue;
      const domain = await this.domainFor(cert, domainNameOf(acmeAuthz)).catch(() => null);
      if (domain) await this.sync.record(account, domain, acmeAuthz);
      if (acmeAuthz.status === 'invalid') {
        failedNames.push(domainNameOf(acmeAuthz));
        problem = acmeAuthz.challenges.find((c) => c.error)?.error ?? problem;
      } else if (acmeAuthz.status === 'pending') {
        // Leftover pending authorizations would otherwise count against the account (RFC 8555 §7.5.2).
        await this.deps.acme.deactivateAuthorization(account, url).catch(() => undefined);
      }
    }
    if (failedNames.length > 0) {
      const detail = `validation failed for ${failedNames.join(', ')}${problem ? `: ${problem.detail}` : ''}`;
      const failed = problem ?? { type: 'acme_order_invalid', detail };
      await this.save(context, cert.id, { ...noOrder(), state: 'failed', problem: failed });
      progress(`${cert.name}: ${detail}`);
      throw new CoreError(
        'acme_challenge_invalid',
        `${cert.name}: ${detail}; fix the content, then run: ${mentionCommand(['domain', 'reconfigure'])} and ${mentionCommand(['cert', 'resume', cert.name])}`,
        {
          detail: { problem: failed },
        },
      );
    }
    progress(
      `${cert.name}: the CA invalidated the order (${problem?.detail ?? 'no reason given'}); creating a new one`,
    );
    return { cert: await this.save(context, cert.id, { ...noOrder(), state: 'ordering', problem }) };
  }

  private async download(context: StepContext, cert: ManagedCertificate, order: AcmeOrder, progress: Progress) {
    const { account } = context;
    if (!order.certificate)
      throw new CoreError('acme_error', 'the CA marked the order valid without a certificate URL');
    progress(`${cert.name}: downloading the certificate chain`);
    const chainPem = await this.deps.acme.downloadCertificate(account, order.certificate);
    failpoint('certificate_downloaded');
    const facts = parseCertificate(chainPem);
    const keyPem = this.deps.secrets.open(cert.keySealed!, secretAad('certificates', cert.id, 'key'));
    if (!certificateMatchesKey(chainPem, keyPem)) {
      throw new CoreError('key_mismatch', `${cert.name}: the CA returned a certificate for a different key`);
    }
    // A new chain has no ARI window yet: the ARI poll reschedules once the CA suggests one.
    const schedule = renewalSchedule(
      { notBefore: facts.notBefore, notAfter: facts.notAfter, ariWindowStart: null, ariWindowEnd: null },
      context.profile,
      this.deps.clock.now(),
    );
    return this.save(context, cert.id, {
      state: 'issued',
      // The key and CSR this chain was issued for (a renewal's, moved over from its columns).
      keySealed: cert.keySealed,
      csrPem: cert.csrPem,
      ...schedule,
      ...renewalBookkeepingCleared(),
      orderStatus: 'valid',
      chainPem,
      serial: facts.serial,
      notBefore: facts.notBefore,
      notAfter: facts.notAfter,
      fingerprintSha256: facts.fingerprintSha256,
      subject: facts.subject,
      issuer: facts.issuer,
      issuedAt: this.deps.clock.now(),
      problem: null,
    });
  }

  /**
   * A name delegated to acme-dns validates only through its CNAME, so a missing or wrong one is named (with
   * the record to create) before an order spends an authorization on it.
   */
  private async checkDelegations(cert: ManagedCertificate): Promise<void> {
    for (const name of certificateNames(cert)) {
      const domain = await this.deps.store.domains.find(cert.profileId, name);
      const settings = domain?.challengeType === 'dns-01' ? domain.dnsPublisher : null;
      if (settings?.kind === 'acme-dns')
        await this.deps.acmeDns.checkDelegation(dnsRecordName(name), settings.fulldomain);
    }
  }

  private async domainFor(cert: ManagedCertificate, name: string): Promise<ManagedDomain> {
    const domain = await this.deps.store.domains.find(cert.profileId, name);
    if (!domain)
      throw new CoreError(
        'not_found',
        `${cert.name}: the CA asked about "${name}", which is not a domain of its profile`,
      );
    return domain;
  }
}
