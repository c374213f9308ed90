import { createHash } from 'node:crypto';
import type { ChallengeType } from '../domain/challenge-type.ts';
import type { Authorization, ConnectionStatus, ManagedDomain } from '../domain/managed-domain.ts';
import { dnsRecordName } from '../domain/domain-name.ts';
import { endpointPayload } from '../domain/endpoint-payload.ts';
import { buildTlsAlpnChallengeCertificate } from '../domain/tls-alpn-certificate.ts';
import { CoreError, runCommand } from '../errors.ts';
import { failpoint } from '../failpoints.ts';
import type { AcmeAccount, AcmeAuthorization, AcmeProblem } from '../ports/acme-gateway.ts';
import type { ProbeResult } from '../ports/challenge-probe.ts';
import { type CoreDepsWith, secretAad } from '../services/core-deps.ts';
import { publishToDataGroups, unpublishFromDataGroups } from './data-group-publisher.ts';
import { pushDnsTxt, usesDnsPublisher, withdrawDnsTxt } from './dns-txt-publisher.ts';

/** Whether the domain answers HTTP-01 from data-groups on BIG-IP devices (the on-box method). */
export function usesDataGroups(domain: Pick<ManagedDomain, 'challengeType' | 'dataGroupDeviceIds'>): boolean {
  return domain.challengeType === 'http-01' && domain.dataGroupDeviceIds.length > 0;
}

/** What {@link AuthorizationSync.record} writes on the domain row when its authorization or status changed. */
type DomainPatch = Pick<ManagedDomain, 'currentAuthorizationId' | 'status' | 'problem'>;

/** Pauses between the checks of content that was not there yet (about 1.5 s in all). */
const PROBE_RETRY_WAITS_MS = [100, 300, 1_000];

/** What happened to one authorization when the core tried to move it towards `valid`. */
export type AuthorizationOutcome =
  | { kind: 'valid' }
  /** `now`: answered in this call, rather than found already answered. */
  | { kind: 'answered'; now: boolean }
  | { kind: 'unreachable'; probe: ProbeResult }
  | { kind: 'invalid'; problem: AcmeProblem | null }
  | { kind: 'expired'; status: string };

export function dnsTxtValue(keyAuthorization: string): string {
  return createHash('sha256').update(keyAuthorization).digest('base64url');
}

export function connectionStatusOf(status: AcmeAuthorization['status']): ConnectionStatus {
  if (status === 'valid') return 'valid';
  if (status === 'invalid') return 'invalid';
  if (status === 'pending') return 'pending';
  return 'expired';
}

/** The CA's reason for a failed authorization: the failed challenge's error, when it gives one. */
export function problemOf(authz: AcmeAuthorization): AcmeProblem | null {
  return authz.challenges.find((c) => c.status === 'invalid' && c.error)?.error ?? null;
}

/** The domain row an authorization belongs to: wildcard authorizations name the base domain. */
export function domainNameOf(authz: AcmeAuthorization): string {
  return authz.wildcard ? `*.${authz.identifier.value}` : authz.identifier.value;
}

/**
 * Keeps the stored authorizations and their challenge content in step with the CA, and answers the one
 * challenge a domain uses only after probing that its content is reachable. Shared by Test Connection and by
 * certificate orders, so the rule lives once.
 */
export class AuthorizationSync {
  constructor(private readonly deps: CoreDepsWith<'authorizations' | 'devices' | 'domains'>) {}

  /** The domain's current authorization; not_found when it has none yet (Test and Deploy & Test need one). */
  async current(domain: ManagedDomain): Promise<Authorization> {
    const current = domain.currentAuthorizationId
      ? await this.deps.store.authorizations.findById(domain.currentAuthorizationId)
      : null;
    if (!current) {
      throw new CoreError('not_found', `domain "${domain.name}" has no challenge yet`, {
        hint: runCommand('run', ['domain', 'reconfigure']),
      });
    }
    return current;
  }

  /** Stores the CA's view of an authorization (with fresh challenge content the first time it is seen). */
  async record(account: AcmeAccount, domain: ManagedDomain, authz: AcmeAuthorization): Promise<Authorization> {
    const { saved, domainPatch } = await this.recordAuthorization(account, domain, authz);
    if (domainPatch) await this.deps.store.domains.update(domain.id, domainPatch);
    return saved;
  }

  /**
   * {@link record} without the domain's write: returns what the domain row must say (its current authorization
   * and connection status), or null when it says so already, so a caller with more to write does it in one update.
   */
  private async recordAuthorization(
    account: AcmeAccount,
    domain: ManagedDomain,
    authz: AcmeAuthorization,
  ): Promise<{ saved: Authorization; domainPatch: DomainPatch | null }> {
    const known = await this.deps.store.authorizations.findByUrl(authz.url);
    const base = {
      status: authz.status,
      expiresAt: authz.expires ? new Date(authz.expires) : null,
      problem: problemOf(authz),
    };
    const unchanged =
      known &&
      known.status === base.status &&
      known.expiresAt?.getTime() === base.expiresAt?.getTime() &&
      JSON.stringify(known.problem) === JSON.stringify(base.problem);
    const saved = known
      ? unchanged
        ? known
        : await this.deps.store.authorizations.update(known.id, base)
      : await this.deps.store.authorizations.upsert({
          ...(await this.material(account, domain, authz)),
          ...base,
        });
    const wasOpen = known && (known.status === 'pending' || known.status === 'processing');
    if (wasOpen && authz.status !== 'pending' && usesDataGroups(domain) && known.httpToken) {
      await unpublishFromDataGroups(this.deps, domain, known.httpToken);
    }
    if (wasOpen && authz.status !== 'pending' && usesDnsPublisher(domain) && known.dnsTxtValue) {
      await withdrawDnsTxt(this.deps, domain, known.dnsTxtValue);
    }
    const current = domain.currentAuthorizationId === saved.id && domain.status === connectionStatusOf(authz.status);
    return {
      saved,
      domainPatch: current
        ? null
        : { currentAuthorizationId: saved.id, status: connectionStatusOf(authz.status), problem: base.problem },
    };
  }

  /**
   * Builds the challenge content the CA offered for this authorization. The TLS-ALPN-01 certificate costs a
   * key pair, so it is made only for domains that use it unless the whole set is asked for (domain add).
   */
  async material(
    account: AcmeAccount,
    domain: Pick<ManagedDomain, 'id' | 'challengeType'>,
    authz: AcmeAuthorization,
    everyType = false,
  ): Promise<Authorization> {
    const domainId = domain.id;
    const id = this.deps.newId();
    const now = this.deps.clock.now();
    const record: Authorization = {
      id,
      domainId,
      url: authz.url,
      identifier: authz.identifier.value,
      wildcard: authz.wildcard === true,
      status: authz.status,
      expiresAt: authz.expires ? new Date(authz.expires) : null,
      challenges: {},
      httpToken: null,
      httpKeyAuthorization: null,
      dnsTxtValue: null,
      tlsCertPem: null,
      tlsKeySealed: null,
      answeredType: null,
      problem: problemOf(authz),
      createdAt: now,
      updatedAt: now,
    };
    for (const challenge of authz.challenges) {
      const keyAuthorization = this.deps.acme.keyAuthorization(account, challenge.token);
      if (challenge.type === 'http-01') {
        record.challenges['http-01'] = { url: challenge.url, token: challenge.token };
        record.httpToken = challenge.token;
        record.httpKeyAuthorization = keyAuthorization;
      } else if (challenge.type === 'dns-01') {
        record.challenges['dns-01'] = { url: challenge.url, token: challenge.token };
        record.dnsTxtValue = dnsTxtValue(keyAuthorization);
      } else if (
        challenge.type === 'tls-alpn-01' &&
        !authz.wildcard &&
        (everyType || domain.challengeType === 'tls-alpn-01')
      ) {
        const { certPem, keyPem } = await buildTlsAlpnChallengeCertificate(authz.identifier.value, keyAuthorization);
        record.challenges['tls-alpn-01'] = { url: challenge.url, token: challenge.token };
        record.tlsCertPem = certPem;
        record.tlsKeySealed = this.deps.secrets.seal(keyPem, secretAad('authorizations', id, 'tls_key'));
      }
    }
    return record;
  }

  /**
   * Publishes the domain's challenge content to its API endpoint (the seed's automated challenges), and for
   * DNS-01 waits until the TXT record is visible at the zone's authoritative servers. Idempotent: endpoints
   * replace what they had for the type.
   */
  async push(domain: ManagedDomain, authz: Authorization): Promise<ProbeResult> {
    if (usesDnsPublisher(domain)) {
      if (!authz.dnsTxtValue) return { ok: false, detail: `the CA offered no dns-01 content for ${domain.name}` };
      return pushDnsTxt(this.deps, domain, authz.dnsTxtValue);
    }
    if (usesDataGroups(domain)) {
      if (!authz.httpToken || !authz.httpKeyAuthorization)
        return { ok: false, detail: `the CA offered no http-01 content for ${domain.name}` };
      return publishToDataGroups(this.deps, domain, authz.httpToken, authz.httpKeyAuthorization);
    }
    if (!domain.endpointUrl || !domain.endpointUsername || !domain.endpointPasswordSealed) {
      return { ok: false, detail: `${domain.name} has no API endpoint` };
    }
    const tlsKey =
      domain.challengeType === 'tls-alpn-01' && authz.tlsKeySealed
        ? this.deps.secrets.open(authz.tlsKeySealed, secretAad('authorizations', authz.id, 'tls_key'))
        : null;
    const payload = endpointPayload(domain.challengeType, authz, tlsKey);
    if (!payload) return { ok: false, detail: `the CA offered no ${domain.challengeType} content for ${domain.name}` };
    const password = this.deps.secrets.open(
      domain.endpointPasswordSealed,
      secretAad('domains', domain.id, 'endpoint_password'),
    );
    const result = await this.deps.endpoints.post(domain.endpointUrl, domain.endpointUsername, password, payload);
    if (!result.ok) return { ok: false, detail: `API endpoint ${domain.endpointUrl}: ${result.detail}` };
    if (domain.challengeType === 'dns-01' && authz.dnsTxtValue) {
      const propagated = await this.deps.propagation.waitForTxt(dnsRecordName(domain.name), authz.dnsTxtValue);
      if (!propagated.ok) return { ok: false, detail: propagated.detail };
    }
    return { ok: true, detail: `published to ${domain.endpointUrl}` };
  }

  /** Probes the domain's chosen challenge content the way the CA will see it. */
  async probe(account: AcmeAccount, domain: ManagedDomain, authz: Authorization): Promise<ProbeResult> {
    const type = domain.challengeType;
    const missing = (what: string): ProbeResult => ({
      ok: false,
      detail: `the CA offered no ${type} challenge for ${domain.name} (${what})`,
    });
    if (type === 'http-01') {
      if (!authz.httpToken || !authz.httpKeyAuthorization) return missing('no token');
      return this.deps.probe.http(authz.identifier, authz.httpToken, authz.httpKeyAuthorization);
    }
    if (type === 'dns-01') {
      if (!authz.dnsTxtValue) return missing('no TXT value');
      return this.deps.probe.dns(domain.name, authz.dnsTxtValue);
    }
    const tls = authz.challenges['tls-alpn-01'];
    if (!tls || !authz.tlsCertPem) return missing('no certificate');
    return this.deps.probe.tlsAlpn(authz.identifier, this.deps.acme.keyAuthorization(account, tls.token));
  }

  /**
   * One step for one authorization: valid → done; failed → say why; pending → probe, then answer the
   * domain's challenge once (a resumed run that already answered waits instead of answering again).
   */
  async advance(
    account: AcmeAccount,
    domain: ManagedDomain,
    acmeAuthz: AcmeAuthorization,
  ): Promise<AuthorizationOutcome> {
    const { saved: authz, domainPatch } = await this.recordAuthorization(account, domain, acmeAuthz);
    // The domain's status goes out with the content check's result, in one write, when there is a check.
    const writeDomain = async () => {
      if (domainPatch) await this.deps.store.domains.update(domain.id, domainPatch);
    };
    const settle = async (outcome: AuthorizationOutcome): Promise<AuthorizationOutcome> => {
      await writeDomain();
      return outcome;
    };
    if (acmeAuthz.status === 'valid') return settle({ kind: 'valid' });
    if (acmeAuthz.status === 'invalid') return settle({ kind: 'invalid', problem: problemOf(acmeAuthz) });
    if (acmeAuthz.status !== 'pending') return settle({ kind: 'expired', status: acmeAuthz.status });

    const chosen = acmeAuthz.challenges.find((c) => c.type === domain.challengeType);
    if (!chosen) {
      await writeDomain();
      throw new CoreError(
        'acme_error',
        `the CA offers no ${domain.challengeType} challenge for ${domain.name} (it offers ${acmeAuthz.challenges.map((c) => c.type).join(', ')})`,
      );
    }
    if (chosen.status !== 'pending' || authz.answeredType === domain.challengeType)
      return settle({ kind: 'answered', now: false });

    if (domain.endpointUrl || usesDataGroups(domain) || usesDnsPublisher(domain)) {
      const pushed = await this.push(domain, authz);
      if (!pushed.ok) return settle({ kind: 'unreachable', probe: pushed });
    }
    // Content published a moment ago may still be on its way (a responder replica hears of it through
    // NOTIFY, a web server through its own hook), so a miss is looked at again shortly before giving up.
    let probe = await this.probe(account, domain, authz);
    for (const wait of PROBE_RETRY_WAITS_MS) {
      if (probe.ok) break;
      await this.deps.clock.sleep(wait);
      probe = await this.probe(account, domain, authz);
    }
    await this.deps.store.domains.update(domain.id, {
      ...domainPatch,
      lastCheckedAt: this.deps.clock.now(),
      lastCheckDetail: probe.detail,
    });
    if (!probe.ok) return { kind: 'unreachable', probe };

    await this.deps.acme.answerChallenge(account, chosen.url);
    await this.deps.store.authorizations.update(authz.id, { answeredType: domain.challengeType as ChallengeType });
    failpoint('challenge_answered');
    return { kind: 'answered', now: true };
  }

  /** An order that became `ready` proves every one of its authorizations valid (RFC 8555 §7.1.6). */
  async markValid(urls: string[]): Promise<void> {
    for (const { authorization: authz, wasOpen } of await this.deps.store.authorizations.markValid(urls)) {
      const current = await this.deps.store.domains.markValidIfCurrent(authz.domainId, authz.id);
      if (!wasOpen) continue;
      // Data-group entries and DNS-01 TXT values are only ever published for open authorizations, so only
      // those are taken down.
      const domain = current ?? (await this.deps.store.domains.findById(authz.domainId));
      if (domain && authz.httpToken && usesDataGroups(domain))
        await unpublishFromDataGroups(this.deps, domain, authz.httpToken);
      if (domain && authz.dnsTxtValue && usesDnsPublisher(domain))
        await withdrawDnsTxt(this.deps, domain, authz.dnsTxtValue);
    }
  }

  /** Polls the CA until the authorization leaves `pending`, honouring Retry-After, up to a deadline. */
  async settle(
    account: AcmeAccount,
    domain: ManagedDomain,
    url: string,
    timeoutMs = 120_000,
  ): Promise<AcmeAuthorization> {
    const deadline = this.deps.clock.now().getTime() + timeoutMs;
    let delay = 50;
    for (;;) {
      const authz = await this.deps.acme.getAuthorization(account, url);
      if (authz.status !== 'pending') {
        await this.record(account, domain, authz);
        return authz;
      }
      const wait = Math.min(authz.retryAfterMs ?? delay, 10_000);
      if (this.deps.clock.now().getTime() + wait > deadline) {
        throw new CoreError('acme_timeout', `the CA has not finished validating ${domain.name}; try again later`, {
          retryable: true,
        });
      }
      await this.deps.clock.sleep(wait);
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
