import { randomBytes } from 'node:crypto';
import { type DevicePurge, purgeDeviceObjects } from '../deploy/device-object-purge.ts';
import type { ApprovalKind } from '../domain/approval.ts';
import type { CaProfile } from '../domain/ca-profile.ts';
import { deployTargetLeaseKey } from '../domain/abandoned-deployment.ts';
import { certificateNames, isFinalState, type ManagedCertificate } from '../domain/managed-certificate.ts';
import type { ManagedDomain } from '../domain/managed-domain.ts';
import { NO_DEPENDENTS, type RemovalDependents, removalRefusal } from '../domain/removal-dependents.ts';
import { asCoreError, CoreError, type Hint, runCommand, seeList } from '../errors.ts';
import type { AcmeAccount } from '../ports/acme-gateway.ts';
import { accountOf, type CoreDepsWith, noProgress, type Progress } from './core-deps.ts';
import type { DeviceService } from './device-service.ts';
import type { DomainRef, DomainService } from './domain-service.ts';
import type { ProfileService } from './profile-service.ts';
import { appendAudit } from './audit-trail.ts';
import { auditDetail, caFailure, purgeFailure, type RemovalReport } from './removal-report.ts';
import type { LeaseOptions } from './with-lease.ts';

export interface RemoveOptions {
  /** Take the dependents along (unbind, cancel approvals, remove domains and certificates) instead of refusing. */
  force?: boolean | undefined;
}

type Deps = CoreDepsWith<
  | 'approvals'
  | 'audit'
  | 'authorizations'
  | 'bindings'
  | 'certificates'
  | 'deviceObjects'
  | 'devices'
  | 'domains'
  | 'leases'
  | 'profiles'
>;

const APPROVAL_KINDS: ApprovalKind[] = ['issuance', 'renewal', 'deploy'];
const LOCAL_PENDING = new Set(['pending', 'processing']);

/** What one certificate carries that a removal must take along or refuse on. */
interface CertificateTies {
  cert: ManagedCertificate;
  bindings: { id: string; deviceId: string; device: string; profile: string }[];
  pendingApprovals: number;
}

/**
 * `profile remove`, `domain remove`, `cert remove`: refused, naming the dependents, while anything uses the
 * object (unless forced); CA-side work (pending authorizations, the account) and device-side work (purging
 * versioned objects) happen before any row goes, and a failure there removes nothing from the database. The
 * rows then go in one statement or transaction. Certificates are claimed (the renewal's and each device's
 * deploy lease) for the whole removal, so no renewal or deploy runs on them meanwhile.
 */
export class RemovalService {
  constructor(
    private readonly deps: Deps,
    private readonly profiles: ProfileService,
    private readonly domainService: DomainService,
    private readonly devices: DeviceService,
    private readonly lease: LeaseOptions,
  ) {}

  async removeCertificate(
    name: string,
    opts: RemoveOptions & { purgeDevices?: boolean | undefined },
    actor: string,
    progress: Progress = noProgress,
  ): Promise<RemovalReport> {
    const cert = await this.deps.store.certificates.findByName(name);
    if (!cert) throw new CoreError('not_found', `no certificate named "${name}"`, { hint: seeList('cert') });
    const subject = `certificate "${cert.name}"`;
    this.refuseUnlessForced(subject, this.dependentsOf([await this.ties(cert)]), opts.force);
    return this.claimed([cert], async () => {
      // Again under the claim: a renewal that just finished moved the order, a binding may have come.
      const current = await this.deps.store.certificates.findById(cert.id);
      if (!current) throw new CoreError('not_found', `no certificate named "${name}"`, { hint: seeList('cert') });
      const ties = await this.ties(current);
      this.refuseUnlessForced(subject, this.dependentsOf([ties]), opts.force);
      return this.auditFailure('certificate', cert, actor, 'certificate.remove', () =>
        this.removeClaimedCertificate(current, ties, opts, actor, progress),
      );
    });
  }

  private async removeClaimedCertificate(
    cert: ManagedCertificate,
    ties: CertificateTies,
    opts: RemoveOptions & { purgeDevices?: boolean | undefined },
    actor: string,
    progress: Progress,
  ): Promise<RemovalReport> {
    const profile = await this.profileOf(cert);
    const deactivated = await this.deactivatePending(profile, this.orderAuthorizations(cert), progress);
    let purged: DevicePurge[] = [];
    if (opts.purgeDevices) {
      progress(`${cert.name}: deleting its objects from the devices`);
      purged = await purgeDeviceObjects(this.deps, cert.id, (d) => this.devices.connect(d));
      const failed = purged.filter((p) => p.error);
      if (failed.length > 0) throw purgeFailure(cert.name, purged, failed, deactivated);
    }
    await this.deps.store.certificates.remove(cert.id);
    const report = this.report('certificate', cert.name, [ties], deactivated, purged);
    await appendAudit(this.deps.store.audit, 'certificate', cert, actor, 'certificate.remove', 'ok', {
      force: Boolean(opts.force),
      purgeDevices: Boolean(opts.purgeDevices),
      ...auditDetail(report),
    });
    return report;
  }

  async removeDomain(ref: DomainRef, actor: string, progress: Progress = noProgress): Promise<RemovalReport> {
    const { domain, profile } = await this.domainService.resolve(ref);
    const covering = (await this.deps.store.certificates.list({ profileId: profile.id }))
      .filter((c) => certificateNames(c).includes(domain.name))
      .map((c) => c.name);
    // No force for a domain: a certificate covering it could not renew without it; remove the certificate first.
    const refusal = removalRefusal(`domain "${domain.name}"`, { ...NO_DEPENDENTS, certificates: covering });
    if (refusal) {
      throw new CoreError('conflict', refusal, {
        detail: { certificates: covering },
        hint: runCommand(covering.length === 1 ? 'remove it first' : 'remove each first, e.g.', [
          'cert',
          'remove',
          covering[0]!,
        ]),
      });
    }
    return this.auditFailure('domain', domain, actor, 'domain.remove', async () => {
      const deactivated = await this.deactivatePending(profile, await this.pendingOf([domain.id]), progress);
      await this.deps.store.domains.remove(domain.id);
      const report = this.report('domain', domain.name, [], deactivated, []);
      await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.remove', 'ok', {
        profile: profile.name,
        ...auditDetail(report),
      });
      return report;
    });
  }

  async removeProfile(
    name: string,
    opts: RemoveOptions & { deactivateAccount?: boolean | undefined },
    actor: string,
    progress: Progress = noProgress,
  ): Promise<RemovalReport> {
    const profile = await this.profiles.get(name);
    const domains = await this.deps.store.domains.listByProfile(profile.id);
    const certs = await this.deps.store.certificates.list({ profileId: profile.id });
    const ties = await Promise.all(certs.map((c) => this.ties(c)));
    const dependents = { ...this.dependentsOf(ties, true), domains: domains.map((d) => d.name) };
    this.refuseUnlessForced(`profile "${profile.name}"`, dependents, opts.force);
    return this.claimed(certs, () =>
      this.auditFailure('profile', profile, actor, 'profile.remove', () =>
        this.removeClaimedProfile(profile, domains, ties, opts, actor, progress),
      ),
    );
  }

  private async removeClaimedProfile(
    profile: CaProfile,
    domains: ManagedDomain[],
    ties: CertificateTies[],
    opts: RemoveOptions & { deactivateAccount?: boolean | undefined },
    actor: string,
    progress: Progress,
  ): Promise<RemovalReport> {
    const certs = ties.map((t) => t.cert);
    const pending = [
      ...(await this.pendingOf(domains.map((d) => d.id))),
      ...certs.flatMap((c) => this.orderAuthorizations(c)),
    ];
    const deactivated = await this.deactivatePending(profile, [...new Set(pending)], progress);
    let accountDeactivated = false;
    if (opts.deactivateAccount) {
      progress(`${profile.name}: deactivating the ACME account`);
      try {
        await this.deps.acme.deactivateAccount(accountOf(this.deps, profile));
      } catch (err) {
        throw caFailure(err, `could not deactivate the ACME account of profile "${profile.name}"`, deactivated);
      }
      accountDeactivated = true;
    }
    await this.deps.store.profiles.remove(profile.id, { withCertificates: Boolean(opts.force) });
    const report = {
      ...this.report('profile', profile.name, ties, deactivated, []),
      domains: domains.map((d) => d.name),
      accountDeactivated,
    };
    // One row per object taken along, so each one's own history ends with its removal.
    for (const d of domains) {
      await appendAudit(this.deps.store.audit, 'domain', d, actor, 'domain.remove', 'ok', { profile: profile.name });
    }
    for (const c of certs) {
      await appendAudit(this.deps.store.audit, 'certificate', c, actor, 'certificate.remove', 'ok', {
        profile: profile.name,
      });
    }
    await appendAudit(this.deps.store.audit, 'profile', profile, actor, 'profile.remove', 'ok', {
      force: Boolean(opts.force),
      ...auditDetail(report),
    });
    return report;
  }

  /** Runs the CA, device and database work of a removal; a failure is audited (result `error`) and rethrown. */
  private async auditFailure<T>(
    objectType: 'profile' | 'domain' | 'certificate',
    object: { id: string; name: string },
    actor: string,
    action: string,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = asCoreError(err);
      await appendAudit(this.deps.store.audit, objectType, object, actor, action, 'error', {
        code: e.code,
        message: e.message,
      }).catch(() => undefined);
      throw err;
    }
  }

  private async ties(cert: ManagedCertificate): Promise<CertificateTies> {
    const deviceNames = new Map((await this.deps.store.devices.list()).map((d) => [d.id, d.name]));
    const bindings = (await this.deps.store.bindings.list({ certificateId: cert.id })).map((b) => ({
      id: b.id,
      deviceId: b.deviceId,
      device: deviceNames.get(b.deviceId) ?? b.deviceId,
      profile: b.profilePath,
    }));
    let pendingApprovals = 0;
    for (const kind of APPROVAL_KINDS) {
      if ((await this.deps.store.approvals.findOpen(cert.id, kind))?.state === 'pending') pendingApprovals++;
    }
    return { cert, bindings, pendingApprovals };
  }

  /** The certificates' bindings and approvals; with `named`, the certificates themselves too (a profile's). */
  private dependentsOf(ties: CertificateTies[], named = false): RemovalDependents {
    return {
      ...NO_DEPENDENTS,
      certificates: named ? ties.map((t) => t.cert.name) : [],
      bindings: ties.flatMap((t) => t.bindings.map((b) => ({ device: b.device, profile: b.profile }))),
      pendingApprovals: ties.reduce((n, t) => n + t.pendingApprovals, 0),
    };
  }

  private refuseUnlessForced(subject: string, dependents: RemovalDependents, force: boolean | undefined): void {
    if (force) return;
    const refusal = removalRefusal(subject, dependents);
    if (!refusal) return;
    const hint: Hint = { action: 'use-option', option: 'force', purpose: 'to take them along' };
    throw new CoreError('conflict', refusal, { detail: { dependents }, hint });
  }

  /** The pending authorizations of the order a certificate has in flight (first issuance or renewal). */
  private orderAuthorizations(cert: ManagedCertificate): string[] {
    const inFlight = cert.orderUrl && (!isFinalState(cert.state) || cert.renewalState !== null);
    return inFlight ? cert.authorizationUrls : [];
  }

  /** Authorization URLs of these domains still open here (pending or processing, not expired). */
  private async pendingOf(domainIds: string[]): Promise<string[]> {
    const now = this.deps.clock.now().getTime();
    const urls: string[] = [];
    for (const id of domainIds) {
      for (const a of await this.deps.store.authorizations.listByDomain(id)) {
        if (LOCAL_PENDING.has(a.status) && !(a.expiresAt && a.expiresAt.getTime() <= now)) urls.push(a.url);
      }
    }
    return urls;
  }

  /**
   * Deactivates each authorization the CA still has pending (RFC 8555 §7.5.2), so it stops counting against
   * the account. Any failure stops the removal before a row goes, and says what was already deactivated.
   */
  private async deactivatePending(profile: CaProfile, urls: string[], progress: Progress): Promise<string[]> {
    if (urls.length === 0) return [];
    const account: AcmeAccount = accountOf(this.deps, profile);
    const done: string[] = [];
    progress(`${profile.name}: deactivating pending authorizations at the CA`);
    for (const url of urls) {
      try {
        const authz = await this.deps.acme.getAuthorization(account, url);
        if (authz.status !== 'pending') continue;
        await this.deps.acme.deactivateAuthorization(account, url);
        done.push(url);
      } catch (err) {
        throw caFailure(err, `could not deactivate the pending authorization ${url}`, done);
      }
    }
    return done;
  }

  private report(
    type: RemovalReport['removed']['type'],
    name: string,
    ties: CertificateTies[],
    deactivated: string[],
    devices: DevicePurge[],
  ): RemovalReport {
    return {
      removed: { type, name },
      domains: [],
      certificates: type === 'profile' ? ties.map((t) => t.cert.name) : [],
      unbound: ties.flatMap((t) =>
        t.bindings.map((b) => ({ certificate: t.cert.name, device: b.device, profile: b.profile })),
      ),
      cancelledApprovals: ties.reduce((n, t) => n + t.pendingApprovals, 0),
      deactivatedAuthorizations: deactivated,
      accountDeactivated: false,
      devices,
    };
  }

  private async profileOf(cert: ManagedCertificate): Promise<CaProfile> {
    const profile = await this.deps.store.profiles.findById(cert.profileId);
    if (!profile) throw new CoreError('not_found', `the profile of certificate "${cert.name}" is gone`);
    return profile;
  }

  /**
   * Runs `fn` holding the renewal lease of each certificate and the deploy lease of each device it is bound
   * to or has objects on; refused (nothing done) when a renewal or deploy holds one now.
   */
  private async claimed<T>(certs: ManagedCertificate[], fn: () => Promise<T>): Promise<T> {
    const holder = `${this.lease.holder}/remove-${randomBytes(6).toString('base64url')}`;
    const ttlMs = Math.max(this.lease.ttlMs, 10 * 60_000);
    const devices = await this.deps.store.devices.list();
    const held: string[] = [];
    try {
      for (const cert of certs) {
        const keys = [`renew:${cert.id}`, ...devices.map((d) => deployTargetLeaseKey(cert.id, d.id))];
        for (const key of keys) {
          if (!(await this.deps.store.leases.tryAcquire(key, holder, ttlMs))) {
            throw new CoreError(
              'conflict',
              `a renewal or deploy of certificate "${cert.name}" is running right now; nothing was removed, try again when it has finished`,
              { retryable: true },
            );
          }
          held.push(key);
        }
      }
      return await fn();
    } finally {
      for (const key of held) await this.deps.store.leases.release(key, holder).catch(() => undefined);
    }
  }
}
