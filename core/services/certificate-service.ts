import { certificateMatchesKey, parseCertificate } from '../domain/certificate-facts.ts';
import { ariCertId } from '../domain/ari-cert-id.ts';
import { createCsr } from '../domain/csr.ts';
import { renewalTime } from '../domain/renewal-time.ts';
import { normalizeDomainName } from '../domain/domain-name.ts';
import { describeKeySpec, generatePrivateKey, type KeySpec } from '../domain/key-spec.ts';
import {
  certificateNames,
  defaultObjectName,
  isFinalState,
  type ManagedCertificate,
  OBJECT_NAME_PATTERN,
  PARTITION_PATTERN,
} from '../domain/managed-certificate.ts';
import { type PendingDeploy, pendingDeploy } from '../domain/deploy-time.ts';
import type { Binding } from '../domain/binding.ts';
import type { CaProfile } from '../domain/ca-profile.ts';
import type { ManagedDomain } from '../domain/managed-domain.ts';
import { type PublicView, publicView } from '../domain/public-view.ts';
import { CoreError, isCoreError, runCommand, seeList } from '../errors.ts';
import { failpoint } from '../failpoints.ts';
import type { AcmeAccount, AcmeOrder } from '../ports/acme-gateway.ts';
import type { ApprovalService } from './approval-service.ts';
import { AuthorizationSync, domainNameOf } from './authorization-sync.ts';
import { accountOf, type CoreDeps, noProgress, type Progress, secretAad } from './core-deps.ts';
import type { ProfileService } from './profile-service.ts';

/**
 * A certificate as the edges show it: every public field (renewal state, `lastRenewalError`,
 * `failedAttempts`, `nextAttemptAt` …), the profile's name, and when its renewed certificate will be
 * deployed if bindings wait for it (the profile's deploy window), or null.
 */
export type CertificateView = PublicView<ManagedCertificate> & {
  profileName: string;
  pendingDeploy: PendingDeploy | null;
};

type CertificatePatch = Partial<Omit<ManagedCertificate, 'id' | 'createdAt' | 'updatedAt'>>;

/**
 * What the state machine works on. A first issuance moves the certificate's own state, key and CSR; a
 * renewal moves the renewal's (`renewalState`, `renewalKeySealed`, `renewalCsrPem`) beside the live
 * certificate, which stays `issued`. Either is handed to the steps as the same record.
 */
function workOf(row: ManagedCertificate): ManagedCertificate {
  if (row.renewalState === null) return row;
  return { ...row, state: row.renewalState, keySealed: row.renewalKeySealed, csrPem: row.renewalCsrPem, problem: null };
}

/** A step's patch, written to the renewal's columns when a renewal is in flight. */
function renewalPatch(patch: CertificatePatch, now: Date): CertificatePatch {
  const { state, keySealed, csrPem, problem, ...rest } = patch;
  if (state === 'issued') {
    // The new chain is in: chain, key and CSR replace the live ones in this one write.
    return {
      ...rest,
      state,
      ...(keySealed !== undefined ? { keySealed } : {}),
      ...(csrPem !== undefined ? { csrPem } : {}),
      renewalState: null,
      renewalKeySealed: null,
      renewalCsrPem: null,
      lastRenewalError: null,
    };
  }
  return {
    ...rest,
    ...(state !== undefined ? { renewalState: state } : {}),
    ...(keySealed !== undefined ? { renewalKeySealed: keySealed } : {}),
    ...(csrPem !== undefined ? { renewalCsrPem: csrPem } : {}),
    // A problem on the way is the renewal's error until success clears it; "no problem" on the way does not
    // clear it (`failedAttempts` still counts the attempts that failed).
    ...(problem ? { lastRenewalError: { code: problem.type, message: problem.detail, at: now.toISOString() } } : {}),
  };
}

export interface RequestCertificateInput {
  profile: string;
  commonName: string;
  sans?: string[];
  partition?: string;
  /** Must equal the profile's key properties when given. */
  keySpec?: KeySpec;
  passphrase?: string;
  /** BIG-IP object name; derived from the common name when absent. */
  name?: string;
}

export interface RequestOptions {
  /**
   * Store the request and ask an approver instead of ordering (requests from Slack): `resume` orders only
   * once the issuance approval is granted.
   */
  approval?: boolean;
}

/** What an approver sees of an issuance request: server-side state only, never the passphrase or key. */
function issuanceSummary(cert: ManagedCertificate, profile: CaProfile): Record<string, unknown> {
  return {
    names: certificateNames(cert),
    profile: profile.name,
    partition: cert.partition,
    keySpec: cert.keySpec,
    objectName: cert.name,
  };
}

/** A new order replaces an invalid one at most this many times per request, so a broken setup cannot loop. */
export const MAX_ORDER_ATTEMPTS = 3;
/** How long one `request`/`resume` keeps polling before handing back a resumable state. */
const DRIVE_BUDGET_MS = 10 * 60_000;

/** Forgetting an order: the next step creates a new one. */
function noOrder() {
  return { orderUrl: null, finalizeUrl: null, authorizationUrls: [] as string[], orderStatus: null };
}

/**
 * What one step asks of the loop: nothing (go on), a poll (the CA is working; wait, honouring Retry-After),
 * or a stop (a person must act first).
 */
type StepResult = { cert: ManagedCertificate; poll?: { retryAfterMs?: number | undefined }; stop?: string };

/** Polling starts fast (Pebble and Let's Encrypt often finish in tens of milliseconds) and backs off. */
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 2_000;
const MAX_RETRY_AFTER_MS = 10_000;
const MAX_BAD_NONCE_RETRIES = 10;
const MAX_SERVER_ERROR_RETRIES = 3;
const SERVER_ERROR_RETRY_MS = 250;

interface StepContext {
  profile: CaProfile;
  account: AcmeAccount;
  /** A renewal beside the live certificate (its own columns), not a first issuance. */
  renewal: boolean;
}

export class CertificateService {
  private readonly sync: AuthorizationSync;

  constructor(
    private readonly deps: CoreDeps,
    private readonly profiles: ProfileService,
    private readonly approvals: ApprovalService,
  ) {
    this.sync = new AuthorizationSync(deps);
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
    const partition = (input.partition ?? 'Common').trim();
    if (!PARTITION_PATTERN.test(partition))
      throw new CoreError('input_invalid', `partition "${partition}" is not a valid BIG-IP partition name`);
    if (input.keySpec && input.keySpec !== profile.keySpec) {
      throw new CoreError(
        'key_mismatch',
        `key ${describeKeySpec(input.keySpec)} does not match profile "${profile.name}", which uses ${describeKeySpec(profile.keySpec)}`,
      );
    }
    const commonName = await this.profileDomain(profile.id, profile.name, input.commonName);
    const sans: string[] = [];
    for (const san of input.sans ?? []) {
      const name = await this.profileDomain(profile.id, profile.name, san);
      if (name !== commonName && !sans.includes(name)) sans.push(name);
    }
    const name = (input.name ?? defaultObjectName(commonName)).trim();
    if (!OBJECT_NAME_PATTERN.test(name)) {
      throw new CoreError(
        'input_invalid',
        `object name "${name}" must start with a letter and use only letters, digits, ".", "_" or "-"`,
      );
    }
    if (input.passphrase !== undefined && input.passphrase.length < 4) {
      throw new CoreError('input_invalid', 'the key passphrase must be at least 4 characters');
    }
    if (await this.deps.store.certificates.findByName(name)) {
      throw new CoreError('conflict', `certificate "${name}" already exists`, {
        hint: runCommand('resume it with', ['cert', 'resume', name]),
      });
    }

    const id = this.deps.newId();
    const now = this.deps.clock.now();
    const cert: ManagedCertificate = {
      id,
      name,
      profileId: profile.id,
      partition,
      commonName,
      sans,
      keySpec: profile.keySpec,
      keySealed: null,
      passphraseSealed:
        input.passphrase === undefined
          ? null
          : this.deps.secrets.seal(input.passphrase, secretAad('certificates', id, 'passphrase')),
      csrPem: null,
      state: 'requested',
      ...noOrder(),
      orderAttempts: 0,
      problem: null,
      chainPem: null,
      serial: null,
      notBefore: null,
      notAfter: null,
      fingerprintSha256: null,
      subject: null,
      issuer: null,
      issuedAt: null,
      requestedBy: actor,
      renewAt: null,
      renewReason: null,
      ariWindowStart: null,
      ariWindowEnd: null,
      ariNextPollAt: null,
      failedAttempts: 0,
      nextAttemptAt: null,
      renewalStartedAt: null,
      renewalState: null,
      renewalKeySealed: null,
      renewalCsrPem: null,
      lastRenewalError: null,
      lastRenewalAttemptAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.store.certificates.insert(cert);
    if (opts.approval) {
      const approval = await this.approvals.request('issuance', cert, issuanceSummary(cert, profile), actor);
      await this.audit(cert, actor, 'certificate.request', 'ok', {
        names: certificateNames(cert),
        profile: profile.name,
        approvalId: approval.id,
      });
      progress(`${name}: requested; waiting for an approver (approval ${approval.id})`);
      return this.view(cert);
    }
    await this.audit(cert, actor, 'certificate.request', 'ok', {
      names: certificateNames(cert),
      profile: profile.name,
    });
    return this.drive(cert, actor, progress, profile);
  }

  /** Continues a request from whatever step it reached (after a crash, a pause, or new challenge content). */
  async resume(name: string, actor: string, progress: Progress = noProgress): Promise<CertificateView> {
    const cert = await this.get(name);
    if (cert.renewalState !== null) return this.resumeRenewal(cert, actor, progress);
    if (cert.state === 'issued') return this.view(cert);
    const asked = await this.issuanceGate(cert, actor, progress);
    if (asked) return asked;
    if (cert.state === 'failed') {
      progress(`${name}: retrying a failed request with a new order (same key)`);
      const reset = await this.deps.store.certificates.update(cert.id, {
        state: cert.keySealed ? 'ordering' : 'requested',
        ...noOrder(),
        orderAttempts: 0,
        problem: null,
      });
      return this.drive(reset, actor, progress);
    }
    return this.drive(cert, actor, progress);
  }

  /**
   * A certificate requested with an approval is ordered only once that approval is granted: pending or
   * denied refuse, approved is taken (once) and ordering goes on, used (taken earlier) goes on. A request
   * that failed because it was denied asks again instead, and the returned view says it waits. Null: go on.
   * Certificates requested without an approval have none and are not gated.
   */
  private async issuanceGate(
    cert: ManagedCertificate,
    actor: string,
    progress: Progress,
  ): Promise<CertificateView | null> {
    const approvals = this.deps.store.approvals;
    // The open one first: a re-request and the denial before it may share a timestamp.
    const approval =
      (await approvals.findOpen(cert.id, 'issuance')) ?? (await approvals.findLatest(cert.id, 'issuance'));
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
      if (!(await this.approvals.consume(approval))) {
        throw new CoreError('conflict', `certificate "${cert.name}" is being issued by another request right now`, {
          hint: runCommand('see', ['cert', 'show', cert.name]),
        });
      }
      return null;
    }
    const denial = `denied by ${approval.decidedBy ?? 'someone'}${approval.reason ? `: ${approval.reason}` : ''}`;
    if (cert.state === 'failed' && !cert.issuedAt && !cert.chainPem) {
      const profile = (await this.deps.store.profiles.findById(cert.profileId))!;
      const reset = await this.deps.store.certificates.update(cert.id, {
        state: 'requested',
        ...noOrder(),
        orderAttempts: 0,
        problem: null,
      });
      const again = await this.approvals.request('issuance', reset, issuanceSummary(reset, profile), actor);
      progress(`${cert.name}: the last request was ${denial}; asked for a new approval (${again.id})`);
      return this.view(reset);
    }
    throw new CoreError('conflict', `the issuance of certificate "${cert.name}" was ${denial}; nothing was ordered`);
  }

  /**
   * Issues the certificate again with a fresh key (the row, its name and bindings stay). The renewal runs
   * beside the live certificate, which stays `issued` — valid, deployed, exportable — until the new chain
   * downloads and replaces chain and key in one write; nothing deploys half a renewal. A renewal already in
   * flight is continued (same key, same order), never started twice. The view's `renewalState` is null
   * when it finished.
   */
  async renew(name: string, actor: string, progress: Progress = noProgress): Promise<CertificateView> {
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
    const reset = await this.deps.store.certificates.update(cert.id, {
      renewalState: 'requested',
      renewalKeySealed: null,
      renewalCsrPem: null,
      ...noOrder(),
      orderAttempts: 0,
      renewalStartedAt: this.deps.clock.now(),
    });
    await this.audit(cert, actor, 'certificate.renew', 'ok', { previousSerial: cert.serial });
    return this.drive(reset, actor, progress);
  }

  /** Continues the renewal in flight; one the CA failed gets a new order with the same key. */
  private async resumeRenewal(cert: ManagedCertificate, actor: string, progress: Progress): Promise<CertificateView> {
    if (cert.renewalState !== 'failed') return this.drive(cert, actor, progress);
    progress(`${cert.name}: retrying a failed renewal with a new order (same key)`);
    const reset = await this.deps.store.certificates.update(cert.id, {
      renewalState: cert.renewalKeySealed ? 'ordering' : 'requested',
      ...noOrder(),
      orderAttempts: 0,
    });
    return this.drive(reset, actor, progress);
  }

  /** Writes a step's patch to the columns the drive works on and returns the record the steps see. */
  private async save(context: StepContext, id: string, patch: CertificatePatch): Promise<ManagedCertificate> {
    const written = context.renewal ? renewalPatch(patch, this.deps.clock.now()) : patch;
    return workOf(await this.deps.store.certificates.update(id, written));
  }

  private async drive(
    initial: ManagedCertificate,
    actor: string,
    progress: Progress,
    knownProfile?: CaProfile,
  ): Promise<CertificateView> {
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
    let badNonces = 0;
    let serverErrors = 0;
    while (!isFinalState(cert.state)) {
      let result: StepResult;
      try {
        result = await this.step(cert, context, progress);
      } catch (err) {
        // Within one request: a rejected nonce is retried at once with the fresh nonce the CA sent (up to 10
        // times), a CA 5xx up to 3 times 250 ms apart; every step is idempotent against the stored state.
        if (isCoreError(err) && err.code === 'acme_bad_nonce' && ++badNonces <= MAX_BAD_NONCE_RETRIES) continue;
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
          await this.audit(cert, actor, context.renewal ? 'certificate.renew.failed' : 'certificate.failed', 'error', {
            code: err.code,
            message: err.message,
          });
          throw err;
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
        progress(`${cert.name}: still ${cert.state}; run again later: bigip-acme cert resume ${cert.name}`);
        break;
      }
      await this.deps.clock.sleep(wait);
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    }
    if (cert.state === 'issued') {
      await this.audit(cert, actor, 'certificate.issued', 'ok', {
        serial: cert.serial,
        notAfter: cert.notAfter?.toISOString(),
      });
    }
    // The row as it is, not the renewal's work record: the live certificate and where the renewal stands.
    return this.view((await this.deps.store.certificates.findById(cert.id)) ?? cert);
  }

  /** One persisted step of the state machine (cert-manager's Sync: observe, act once, record). */
  private async step(cert: ManagedCertificate, context: StepContext, progress: Progress): Promise<StepResult> {
    const { profile, account } = context;
    const save = (patch: CertificatePatch) => this.save(context, cert.id, patch);

    if (!cert.keySealed || !cert.csrPem) {
      progress(`${cert.name}: generating the ${describeKeySpec(cert.keySpec)} key and CSR`);
      const keyPem = await generatePrivateKey(cert.keySpec);
      const csrPem = await createCsr(keyPem, cert.commonName, cert.sans);
      const keySealed = this.deps.secrets.seal(keyPem, secretAad('certificates', cert.id, 'key'));
      const withKey = await save({ keySealed, csrPem, state: 'ordering' });
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

  /** An order the CA no longer knows (404) is as good as invalid: forget it and order again. */
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
      const message = `${cert.name}: waiting for challenge content. Publish it (bigip-acme domain challenge NAME), then run: bigip-acme cert resume ${cert.name}\n  ${unreachable.join('\n  ')}`;
      const updated = await this.save(context, cert.id, {
        state: 'awaiting_challenge',
        problem: { type: 'challenge_unreachable', detail: unreachable.join('; ') },
      });
      return { cert: updated, stop: message };
    }
    if (failed.length > 0) return { cert, poll: {} }; // the order turns invalid next; handled there
    if (answered.length > 0) progress(`${cert.name}: the CA is validating ${answered.join(', ')}`);
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
        `${cert.name}: ${detail}; fix the content, then run: bigip-acme domain reconfigure and bigip-acme cert resume ${cert.name}`,
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
    const profile = (await this.deps.store.profiles.findById(cert.profileId))!;
    const decision = renewalTime({
      notBefore: facts.notBefore,
      notAfter: facts.notAfter,
      renewDaysBefore: profile.renewDaysBefore,
      now: this.deps.clock.now(),
      random: Math.random,
    });
    return this.save(context, cert.id, {
      state: 'issued',
      // The key and CSR this chain was issued for (a renewal's, moved over from its columns).
      keySealed: cert.keySealed,
      csrPem: cert.csrPem,
      renewAt: decision.at,
      renewReason: decision.reason,
      ariWindowStart: null,
      ariWindowEnd: null,
      ariNextPollAt: null,
      failedAttempts: 0,
      nextAttemptAt: null,
      renewalStartedAt: null,
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

  /** A name the certificate may carry: one of this profile's domains, never another profile's. */
  private async profileDomain(profileId: string, profileName: string, input: string): Promise<string> {
    const wildcard = input.trim().startsWith('*.');
    const name = normalizeDomainName(input, wildcard ? 'dns-01' : 'http-01');
    if (await this.deps.store.domains.find(profileId, name)) return name;
    const elsewhere = await this.deps.store.domains.findByName(name);
    if (elsewhere.length > 0) {
      throw new CoreError(
        'domain_foreign',
        `"${name}" belongs to another profile, not "${profileName}"; add it to "${profileName}" first`,
      );
    }
    throw new CoreError('domain_foreign', `"${name}" is not a domain of profile "${profileName}"`, {
      hint: runCommand('add it with', ['domain', 'add', '--profile', profileName, name]),
    });
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

  /** The issued chain; the private key (and passphrase) only when explicitly asked for, and audited. */
  async export(
    name: string,
    opts: { includeKey: boolean },
    actor: string,
  ): Promise<{ chainPem: string; keyPem?: string }> {
    const cert = await this.get(name);
    if (cert.state !== 'issued' || !cert.chainPem)
      throw new CoreError('conflict', `certificate "${name}" is ${cert.state}, not issued`);
    if (opts.includeKey && !cert.keySealed) {
      // Only a renewal in flight from before migration 0007 leaves the live certificate without its key.
      throw new CoreError('conflict', `the key of certificate "${name}" was replaced by a renewal in flight`, {
        hint: runCommand('finish it with', ['cert', 'resume', name]),
      });
    }
    await this.audit(cert, actor, 'certificate.export', 'ok', { includeKey: opts.includeKey });
    if (!opts.includeKey) return { chainPem: cert.chainPem };
    return {
      chainPem: cert.chainPem,
      keyPem: this.deps.secrets.open(cert.keySealed!, secretAad('certificates', cert.id, 'key')),
    };
  }

  private async view(cert: ManagedCertificate): Promise<CertificateView> {
    const profile = (await this.deps.store.profiles.findById(cert.profileId)) ?? undefined;
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

  private audit(
    cert: ManagedCertificate,
    actor: string,
    action: string,
    result: 'ok' | 'error',
    detail: Record<string, unknown>,
  ) {
    return this.deps.store.audit.append({
      actor,
      action,
      objectType: 'certificate',
      objectId: cert.id,
      objectName: cert.name,
      result,
      detail,
    });
  }
}
