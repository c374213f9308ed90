import type { CaProfile } from '../domain/ca-profile.ts';
import { type ChallengeContent, challengeContentOf } from '../domain/challenge-content.ts';
import type { ChallengeType } from '../domain/challenge-type.ts';
import { normalizeDomainName } from '../domain/domain-name.ts';
import { isAuthorizationUsable, type ManagedDomain } from '../domain/managed-domain.ts';
import { type PublicView, publicView } from '../domain/public-view.ts';
import { CoreError, isCoreError, mentionCommand, seeList } from '../errors.ts';
import type { AcmeAccount, AcmeProblem } from '../ports/acme-gateway.ts';
import { AuthorizationSync, connectionStatusOf } from '../challenges/authorization-sync.ts';
import { DomainEndpointService, type EndpointInput } from '../challenges/domain-endpoint-service.ts';
import { type DnsDelegation, DomainDnsService, type Rfc2136Input } from '../challenges/domain-dns-service.ts';
import { usesDnsPublisher } from '../challenges/dns-txt-publisher.ts';
import { describeDnsPublisher } from '../domain/dns-publisher.ts';
import { accountOf, type CoreDepsWith, noProgress, type Progress, secretAad } from './core-deps.ts';
import type { ProfileService } from './profile-service.ts';
import { appendAudit } from './audit-trail.ts';

export type DomainView = PublicView<ManagedDomain> & { profileName: string };

export type TestOutcome = 'valid' | 'already_valid' | 'invalid' | 'unreachable' | 'expired';

export interface TestResult {
  domain: DomainView;
  outcome: TestOutcome;
  detail: string;
  problem: AcmeProblem | null;
}

export interface DomainRef {
  name: string;
  profile?: string | undefined;
}

export class DomainService {
  private readonly sync: AuthorizationSync;
  private readonly endpoints: DomainEndpointService;
  private readonly dns: DomainDnsService;

  constructor(
    private readonly deps: CoreDepsWith<'audit' | 'authorizations' | 'devices' | 'domains' | 'profiles'>,
    private readonly profiles: ProfileService,
  ) {
    this.sync = new AuthorizationSync(deps);
    this.endpoints = new DomainEndpointService(deps);
    this.dns = new DomainDnsService(deps);
  }

  /**
   * Adds domains to a profile and fetches the challenge set for each from the CA. Every name is validated
   * before anything is written; each domain is then stored together with its authorization, atomically.
   */
  async add(
    profileName: string,
    names: string[],
    challengeType: ChallengeType,
    actor: string,
    progress: Progress = noProgress,
  ): Promise<ChallengeContent[]> {
    const profile = await this.profiles.get(profileName);
    if (names.length === 0) throw new CoreError('input_invalid', 'give at least one domain name');
    const normalized = [...new Set(names.map((n) => normalizeDomainName(n, challengeType)))];
    for (const name of normalized) {
      if (await this.deps.store.domains.find(profile.id, name)) {
        throw new CoreError('conflict', `domain "${name}" is already in profile "${profile.name}"`);
      }
    }
    const account = accountOf(this.deps, profile);
    const added: ChallengeContent[] = [];
    for (const [i, name] of normalized.entries()) {
      progress(`[${i + 1}/${normalized.length}] ${name}: asking the CA for challenges`);
      let domain: ManagedDomain;
      try {
        domain = await this.createDomain(account, profile, name, challengeType);
      } catch (err) {
        // Each domain is stored atomically; say which ones made it before the failure.
        if (!isCoreError(err) || added.length === 0) throw err;
        throw new CoreError(err.code, `${err.message} (added before this: ${added.map((a) => a.domain).join(', ')})`, {
          retryable: err.retryable,
          cause: err,
          ...(err.detail ? { detail: err.detail } : {}),
        });
      }
      await appendAudit(this.deps.store.audit, 'domain', { id: domain.id, name }, actor, 'domain.add', 'ok', {
        profile: profile.name,
        challengeType,
      });
      added.push(await this.content(domain));
    }
    return added;
  }

  private async createDomain(account: AcmeAccount, profile: CaProfile, name: string, challengeType: ChallengeType) {
    const order = await this.deps.acme.newOrder(account, [name], { profile: profile.acmeProfile ?? undefined });
    const authzUrl = order.authorizations[0];
    if (!authzUrl) throw new CoreError('acme_error', `the CA returned an order for ${name} without an authorization`);
    const acmeAuthz = await this.deps.acme.getAuthorization(account, authzUrl);
    if (!acmeAuthz.challenges.some((c) => c.type === challengeType) && acmeAuthz.status !== 'valid') {
      throw new CoreError(
        'input_invalid',
        `the CA offers no ${challengeType} challenge for ${name} (it offers ${acmeAuthz.challenges.map((c) => c.type).join(', ')})`,
      );
    }
    const now = this.deps.clock.now();
    const domain: ManagedDomain = {
      id: this.deps.newId(),
      profileId: profile.id,
      name,
      challengeType,
      status: connectionStatusOf(acmeAuthz.status),
      currentAuthorizationId: null,
      problem: null,
      lastCheckedAt: null,
      lastCheckDetail: null,
      endpointUrl: null,
      endpointUsername: null,
      endpointPasswordSealed: null,
      endpointPasswordVerifier: null,
      dataGroupDeviceIds: [],
      dataGroupPath: null,
      dnsPublisher: null,
      dnsSecretSealed: null,
      createdAt: now,
      updatedAt: now,
    };
    const authz = await this.sync.material(account, domain, acmeAuthz, true);
    await this.deps.store.domains.insertWithAuthorization(domain, authz);
    return { ...domain, currentAuthorizationId: authz.id };
  }

  /** Finds a domain by name; the profile is needed only when several profiles have the name. */
  async resolve(ref: DomainRef): Promise<{ domain: ManagedDomain; profile: CaProfile }> {
    const name = ref.name.trim().toLowerCase().replace(/\.$/, '');
    if (ref.profile) {
      const profile = await this.profiles.get(ref.profile);
      const domain = await this.deps.store.domains.find(profile.id, name);
      if (!domain) throw new CoreError('not_found', `profile "${profile.name}" has no domain "${name}"`);
      return { domain, profile };
    }
    const found = await this.deps.store.domains.findByName(name);
    if (found.length === 0) throw new CoreError('not_found', `no domain "${name}"`, { hint: seeList('domain') });
    if (found.length > 1) {
      const names = await Promise.all(
        found.map(async (d) => (await this.deps.store.profiles.findById(d.profileId))?.name),
      );
      throw new CoreError(
        'input_invalid',
        `"${name}" is in several profiles (${names.join(', ')}); choose one with --profile`,
      );
    }
    const domain = found[0]!;
    const profile = await this.deps.store.profiles.findById(domain.profileId);
    if (!profile) throw new CoreError('not_found', `profile of domain "${name}" is gone`);
    return { domain, profile };
  }

  async list(profileName?: string): Promise<DomainView[]> {
    const profiles = profileName ? [await this.profiles.get(profileName)] : await this.deps.store.profiles.list();
    const views: DomainView[] = [];
    for (const profile of profiles) {
      for (const d of await this.deps.store.domains.listByProfile(profile.id)) views.push(this.view(d, profile));
    }
    return views;
  }

  async show(ref: DomainRef): Promise<{ domain: DomainView; challenge: ChallengeContent }> {
    const { domain, profile } = await this.resolve(ref);
    return { domain: this.view(domain, profile), challenge: await this.content(domain) };
  }

  async challenge(ref: DomainRef): Promise<ChallengeContent> {
    return this.content((await this.resolve(ref)).domain);
  }

  /**
   * The seed's *Test Connection*: check the content is reachable as the CA will see it, and only then ask
   * the CA to validate. Already-valid authorizations are recognised, not answered again.
   */
  async test(ref: DomainRef, actor: string, progress: Progress = noProgress): Promise<TestResult> {
    const { domain, profile } = await this.resolve(ref);
    const account = accountOf(this.deps, profile);
    const current = await this.sync.current(domain);

    if (usesDnsPublisher(domain)) {
      // The update path first: a refused update is named before the CA is asked anything.
      progress(`${domain.name}: testing the DNS update path`);
      const checked = await this.dns.check(domain);
      if (!checked.ok) {
        await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.test', 'error', {
          outcome: 'unreachable',
          detail: checked.detail,
        });
        return { domain: this.view(domain, profile), outcome: 'unreachable', detail: checked.detail, problem: null };
      }
      progress(`${domain.name}: ${checked.detail}`);
    }

    progress(`${domain.name}: reading the authorization from the CA`);
    const acmeAuthz = await this.deps.acme.getAuthorization(account, current.url);
    const wasValid = acmeAuthz.status === 'valid';
    progress(`${domain.name}: checking the ${domain.challengeType} content is reachable`);
    let outcome = await this.sync.advance(account, domain, acmeAuthz);
    if (outcome.kind === 'answered') {
      progress(`${domain.name}: content reachable; the CA is validating`);
      const settled = await this.sync.settle(account, domain, acmeAuthz.url);
      outcome =
        settled.status === 'valid'
          ? { kind: 'valid' }
          : settled.status === 'invalid'
            ? {
                kind: 'invalid',
                problem: (await this.deps.store.authorizations.findByUrl(settled.url))?.problem ?? null,
              }
            : { kind: 'expired', status: settled.status };
    }
    const result = await this.describe(domain.id, profile, outcome, wasValid);
    await appendAudit(
      this.deps.store.audit,
      'domain',
      domain,
      actor,
      'domain.test',
      result.outcome === 'valid' || result.outcome === 'already_valid' ? 'ok' : 'error',
      { outcome: result.outcome, detail: result.detail },
    );
    return result;
  }

  private async describe(
    domainId: string,
    profile: CaProfile,
    outcome: Awaited<ReturnType<AuthorizationSync['advance']>>,
    wasValid: boolean,
  ): Promise<TestResult> {
    const domain = (await this.deps.store.domains.findById(domainId))!;
    const view = this.view(domain, profile);
    switch (outcome.kind) {
      case 'valid':
        return wasValid
          ? {
              domain: view,
              outcome: 'already_valid',
              detail: 'the CA already holds a valid authorization',
              problem: null,
            }
          : { domain: view, outcome: 'valid', detail: 'the CA validated the challenge', problem: null };
      case 'unreachable':
        return { domain: view, outcome: 'unreachable', detail: outcome.probe.detail, problem: null };
      case 'invalid':
        return {
          domain: view,
          outcome: 'invalid',
          detail: outcome.problem
            ? `${outcome.problem.type.replace('urn:ietf:params:acme:error:', '')}: ${outcome.problem.detail}`
            : 'the CA marked the authorization invalid',
          problem: outcome.problem,
        };
      default:
        return {
          domain: view,
          outcome: 'expired',
          detail: `the authorization is ${outcome.kind === 'expired' ? outcome.status : 'gone'}; run: ${mentionCommand(['domain', 'reconfigure', '--profile', profile.name])}`,
          problem: null,
        };
    }
  }

  // Where the domain publishes its challenge content: DomainEndpointService, answered here as a view.
  setEndpoint(ref: DomainRef, input: EndpointInput, actor: string): Promise<DomainView> {
    return this.change(ref, (d) => this.endpoints.setEndpoint(d, input, actor));
  }
  useBuiltinEndpoint(ref: DomainRef, responderUrl: string, actor: string): Promise<DomainView> {
    return this.change(ref, (d) => this.endpoints.useBuiltinEndpoint(d, responderUrl, actor));
  }
  clearEndpoint(ref: DomainRef, actor: string): Promise<DomainView> {
    return this.change(ref, (d) => this.endpoints.clearEndpoint(d, actor));
  }
  setDataGroup(ref: DomainRef, input: { devices: string[]; dataGroup?: string | undefined }, actor: string) {
    return this.change(ref, (d) => this.endpoints.setDataGroup(d, input, actor));
  }
  clearDataGroup(ref: DomainRef, actor: string): Promise<DomainView> {
    return this.change(ref, (d) => this.endpoints.clearDataGroup(d, actor));
  }

  // How a DNS-01 domain publishes its TXT value itself: DomainDnsService, answered here as a view.
  setDnsRfc2136(ref: DomainRef, input: Rfc2136Input, actor: string): Promise<DomainView> {
    return this.change(ref, (d) => this.dns.setRfc2136(d, input, actor));
  }
  async setDnsAcmeDns(
    ref: DomainRef,
    input: { url: string },
    actor: string,
  ): Promise<{ domain: DomainView; delegation: DnsDelegation | null }> {
    const { domain, profile } = await this.resolve(ref);
    const updated = await this.dns.setAcmeDns(domain, input, actor);
    return { domain: this.view(updated, profile), delegation: await this.dns.delegation(updated) };
  }
  async showDns(
    ref: DomainRef,
  ): Promise<{ domain: DomainView; method: string | null; delegation: DnsDelegation | null }> {
    const { domain, profile } = await this.resolve(ref);
    return {
      domain: this.view(domain, profile),
      method: domain.dnsPublisher ? describeDnsPublisher(domain.dnsPublisher) : null,
      delegation: await this.dns.delegation(domain),
    };
  }
  clearDns(ref: DomainRef, actor: string): Promise<DomainView> {
    return this.change(ref, (d) => this.dns.clear(d, actor));
  }

  private async change(ref: DomainRef, apply: (domain: ManagedDomain) => Promise<ManagedDomain>): Promise<DomainView> {
    const { domain, profile } = await this.resolve(ref);
    return this.view(await apply(domain), profile);
  }

  /** The seed's *Deploy & Test*: publish the current challenge content, then run Test Connection. */
  async deployAndTest(
    ref: DomainRef,
    actor: string,
    progress = noProgress,
  ): Promise<TestResult & { published: string }> {
    const { domain, profile } = await this.resolve(ref);
    const pushed = await this.endpoints.publish(domain, actor, progress);
    if (!pushed.ok) {
      const view = this.view(domain, profile);
      return { domain: view, outcome: 'unreachable', detail: pushed.detail, problem: null, published: pushed.detail };
    }
    return { ...(await this.test(ref, actor, progress)), published: pushed.detail };
  }

  /**
   * The seed's *Reconfigure*: fresh challenge content for every domain of the profile whose authorization
   * expired, failed or is gone; domains still pending or valid keep theirs.
   */
  async reconfigure(profileName: string, actor: string, progress: Progress = noProgress): Promise<ChallengeContent[]> {
    const profile = await this.profiles.get(profileName);
    const account = accountOf(this.deps, profile);
    const refreshed: ChallengeContent[] = [];
    for (const domain of await this.deps.store.domains.listByProfile(profile.id)) {
      const current = domain.currentAuthorizationId
        ? await this.deps.store.authorizations.findById(domain.currentAuthorizationId)
        : null;
      if (current && isAuthorizationUsable(current, this.deps.clock.now())) {
        const fresh = await this.deps.acme.getAuthorization(account, current.url).catch(() => null);
        if (fresh && (fresh.status === 'pending' || fresh.status === 'valid')) {
          await this.sync.record(account, domain, fresh);
          continue;
        }
      }
      progress(`${domain.name}: asking the CA for new challenges`);
      const order = await this.deps.acme.newOrder(account, [domain.name], {
        profile: profile.acmeProfile ?? undefined,
      });
      const acmeAuthz = await this.deps.acme.getAuthorization(account, order.authorizations[0]!);
      await this.sync.record(account, { ...domain, currentAuthorizationId: null }, acmeAuthz);
      await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.reconfigure', 'ok', {
        previous: current?.status ?? null,
      });
      refreshed.push(await this.content((await this.deps.store.domains.findById(domain.id))!));
    }
    return refreshed;
  }

  async content(domain: ManagedDomain): Promise<ChallengeContent> {
    const authz = domain.currentAuthorizationId
      ? await this.deps.store.authorizations.findById(domain.currentAuthorizationId)
      : null;
    return challengeContentOf(domain, authz, (a, sealed) =>
      this.deps.secrets.open(sealed, secretAad('authorizations', a.id, 'tls_key')),
    );
  }

  view(domain: ManagedDomain, profile: CaProfile): DomainView {
    return { ...publicView(domain), profileName: profile.name };
  }
}
