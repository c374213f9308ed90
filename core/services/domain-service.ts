import type { CaProfile } from '../domain/ca-profile.ts';
import { DEFAULT_DATA_GROUP, isFullPath } from '../domain/acme-irule.ts';
import type { ChallengeType } from '../domain/challenge-type.ts';
import { dnsRecordName, normalizeDomainName } from '../domain/domain-name.ts';
import { type Authorization, isAuthorizationUsable, type ManagedDomain } from '../domain/managed-domain.ts';
import { type PublicView, publicView } from '../domain/public-view.ts';
import { randomBytes } from 'node:crypto';
import { CoreError, isCoreError, runCommand, seeList } from '../errors.ts';
import { hashPassword } from '../secrets/password-verifier.ts';
import type { AcmeAccount, AcmeProblem } from '../ports/acme-gateway.ts';
import { AuthorizationSync, connectionStatusOf, usesDataGroups } from './authorization-sync.ts';
import { accountOf, type CoreDepsWith, noProgress, type Progress, secretAad } from './core-deps.ts';
import type { ProfileService } from './profile-service.ts';

export type DomainView = PublicView<ManagedDomain> & { profileName: string };

/** The content that answers a domain's challenge, in the form a person or web server publishes it. */
export interface ChallengeContent {
  domain: string;
  type: ChallengeType;
  status: ManagedDomain['status'];
  expiresAt: Date | null;
  http?: { fileName: string; content: string; urlPath: string };
  dns?: { recordName: string; value: string; zoneLine: string };
  /** The key is the throwaway challenge key, not a certificate key. */
  tls?: { certPem: string; keyPem: string };
}

/**
 * Challenge content as any result may show it: the TLS-ALPN-01 certificate without its key. The key leaves
 * only when asked for, as a file (`domain challenge --out`, mode 0600; the bot's file upload).
 */
export type PublicChallengeContent = Omit<ChallengeContent, 'tls'> & { tls?: { certPem: string } };

export function withoutChallengeKey(content: ChallengeContent): PublicChallengeContent {
  const { tls, ...rest } = content;
  return tls ? { ...rest, tls: { certPem: tls.certPem } } : rest;
}

export type TestOutcome = 'valid' | 'already_valid' | 'invalid' | 'unreachable' | 'expired';

export interface TestResult {
  domain: DomainView;
  outcome: TestOutcome;
  detail: string;
  problem: AcmeProblem | null;
}

export interface EndpointInput {
  url: string;
  username: string;
  password: string;
}

function parseEndpointUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new CoreError('input_invalid', `endpoint "${input}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CoreError('input_invalid', `endpoint "${input}" must be http:// or https://`);
  if (url.username || url.password)
    throw new CoreError(
      'input_invalid',
      'put the endpoint credentials in --username and --password-file, not in the URL',
    );
  return url.toString();
}

export interface DomainRef {
  name: string;
  profile?: string | undefined;
}

export class DomainService {
  private readonly sync: AuthorizationSync;

  constructor(
    private readonly deps: CoreDepsWith<'audit' | 'authorizations' | 'devices' | 'domains' | 'profiles'>,
    private readonly profiles: ProfileService,
  ) {
    this.sync = new AuthorizationSync(deps);
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
      await this.deps.store.audit.append({
        actor,
        action: 'domain.add',
        objectType: 'domain',
        objectId: domain.id,
        objectName: name,
        result: 'ok',
        detail: { profile: profile.name, challengeType },
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
    const current = domain.currentAuthorizationId
      ? await this.deps.store.authorizations.findById(domain.currentAuthorizationId)
      : null;
    if (!current)
      throw new CoreError('not_found', `domain "${domain.name}" has no challenge yet`, {
        hint: runCommand('run', ['domain', 'reconfigure']),
      });

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
    await this.deps.store.audit.append({
      actor,
      action: 'domain.test',
      objectType: 'domain',
      objectId: domain.id,
      objectName: domain.name,
      result: result.outcome === 'valid' || result.outcome === 'already_valid' ? 'ok' : 'error',
      detail: { outcome: result.outcome, detail: result.detail },
    });
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
          detail: `the authorization is ${outcome.kind === 'expired' ? outcome.status : 'gone'}; run: bigip-acme domain reconfigure --profile ${profile.name}`,
          problem: null,
        };
    }
  }

  /**
   * The seed's *API End Point*, *user name*, *password*: where the core publishes this domain's challenge
   * content. The password is kept sealed (for the core to call the endpoint) and as a one-way verifier (for
   * the built-in responder's challenge-hook to check callers without MASTER_KEY).
   */
  async setEndpoint(ref: DomainRef, input: EndpointInput, actor: string): Promise<DomainView> {
    const { domain, profile } = await this.resolve(ref);
    if (usesDataGroups(domain)) {
      throw new CoreError('conflict', `${domain.name} answers HTTP-01 from BIG-IP data-groups`, {
        hint: runCommand('clear that first', ['domain', 'datagroup', 'clear'], { aside: true }),
      });
    }
    const url = parseEndpointUrl(input.url);
    if (!/^[^\s:]{1,64}$/.test(input.username)) {
      throw new CoreError('input_invalid', 'the endpoint user name must be 1-64 characters without spaces or ":"');
    }
    if (input.password.length < 12)
      throw new CoreError('input_invalid', 'the endpoint password must be at least 12 characters');
    const updated = await this.deps.store.domains.update(domain.id, {
      endpointUrl: url,
      endpointUsername: input.username,
      endpointPasswordSealed: this.deps.secrets.seal(
        input.password,
        secretAad('domains', domain.id, 'endpoint_password'),
      ),
      endpointPasswordVerifier: await hashPassword(input.password),
    });
    await this.auditDomain(domain, actor, 'domain.endpoint.set', 'ok', { url });
    return this.view(updated, profile);
  }

  /** Points the domain at the built-in responder's challenge-hook, with generated credentials. */
  async useBuiltinEndpoint(ref: DomainRef, responderUrl: string, actor: string): Promise<DomainView> {
    const { domain } = await this.resolve(ref);
    const base = responderUrl.replace(/\/+$/, '');
    return this.setEndpoint(
      ref,
      {
        url: `${base}/challenge-hook/${encodeURIComponent(domain.name)}`,
        username: 'bigip-acme',
        password: randomBytes(24).toString('base64url'),
      },
      actor,
    );
  }

  /**
   * The on-box HTTP-01 method: the CA's requests reach these BIG-IPs, whose iRule (see `device
   * install-responder`) answers from `dataGroup`. Replaces an API endpoint: a domain publishes one way.
   */
  async setDataGroup(
    ref: DomainRef,
    input: { devices: string[]; dataGroup?: string | undefined },
    actor: string,
  ): Promise<DomainView> {
    const { domain, profile } = await this.resolve(ref);
    if (domain.challengeType !== 'http-01') {
      throw new CoreError(
        'input_invalid',
        `${domain.name} uses ${domain.challengeType}; the data-group method answers http-01 only`,
      );
    }
    if (domain.endpointUrl)
      throw new CoreError('conflict', `${domain.name} publishes to the API endpoint ${domain.endpointUrl}`, {
        hint: runCommand('clear it first', ['domain', 'endpoint', 'clear'], { aside: true }),
      });
    if (input.devices.length === 0) throw new CoreError('input_invalid', 'name at least one device (--device)');
    const path = input.dataGroup?.trim() || DEFAULT_DATA_GROUP;
    if (!isFullPath(path))
      throw new CoreError('input_invalid', `data-group "${path}" must be a full path like ${DEFAULT_DATA_GROUP}`);
    const ids: string[] = [];
    for (const name of [...new Set(input.devices)]) {
      const device = await this.deps.store.devices.findByName(name);
      if (!device) throw new CoreError('not_found', `no device named "${name}"`, { hint: seeList('device') });
      ids.push(device.id);
    }
    const updated = await this.deps.store.domains.update(domain.id, { dataGroupDeviceIds: ids, dataGroupPath: path });
    await this.auditDomain(domain, actor, 'domain.datagroup.set', 'ok', { devices: input.devices, dataGroup: path });
    return this.view(updated, profile);
  }

  async clearDataGroup(ref: DomainRef, actor: string): Promise<DomainView> {
    const { domain, profile } = await this.resolve(ref);
    const updated = await this.deps.store.domains.update(domain.id, { dataGroupDeviceIds: [], dataGroupPath: null });
    await this.auditDomain(domain, actor, 'domain.datagroup.clear', 'ok', {});
    return this.view(updated, profile);
  }

  async clearEndpoint(ref: DomainRef, actor: string): Promise<DomainView> {
    const { domain, profile } = await this.resolve(ref);
    const updated = await this.deps.store.domains.update(domain.id, {
      endpointUrl: null,
      endpointUsername: null,
      endpointPasswordSealed: null,
      endpointPasswordVerifier: null,
    });
    await this.auditDomain(domain, actor, 'domain.endpoint.clear', 'ok', {});
    return this.view(updated, profile);
  }

  /**
   * The seed's *Deploy & Test*: publish the current challenge content to the domain's API endpoint, then run
   * Test Connection.
   */
  async deployAndTest(
    ref: DomainRef,
    actor: string,
    progress: Progress = noProgress,
  ): Promise<TestResult & { published: string }> {
    const { domain, profile } = await this.resolve(ref);
    if (!domain.endpointUrl && !usesDataGroups(domain)) {
      throw new CoreError('input_invalid', `${domain.name} has no API endpoint`, {
        hint: runCommand('set one with', ['domain', 'endpoint', 'set', domain.name]),
      });
    }
    const current = domain.currentAuthorizationId
      ? await this.deps.store.authorizations.findById(domain.currentAuthorizationId)
      : null;
    if (!current)
      throw new CoreError('not_found', `domain "${domain.name}" has no challenge yet`, {
        hint: runCommand('run', ['domain', 'reconfigure']),
      });
    progress(
      `${domain.name}: publishing the ${domain.challengeType} content to ${domain.endpointUrl ?? `data-group ${domain.dataGroupPath}`}`,
    );
    const pushed = await this.sync.push(domain, current);
    await this.auditDomain(domain, actor, 'domain.endpoint.deploy', pushed.ok ? 'ok' : 'error', {
      detail: pushed.detail,
    });
    if (!pushed.ok) {
      return {
        domain: this.view(domain, profile),
        outcome: 'unreachable',
        detail: pushed.detail,
        problem: null,
        published: pushed.detail,
      };
    }
    return { ...(await this.test(ref, actor, progress)), published: pushed.detail };
  }

  private auditDomain(
    domain: ManagedDomain,
    actor: string,
    action: string,
    result: 'ok' | 'error',
    detail: Record<string, unknown>,
  ) {
    return this.deps.store.audit.append({
      actor,
      action,
      objectType: 'domain',
      objectId: domain.id,
      objectName: domain.name,
      result,
      detail,
    });
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
      await this.deps.store.audit.append({
        actor,
        action: 'domain.reconfigure',
        objectType: 'domain',
        objectId: domain.id,
        objectName: domain.name,
        result: 'ok',
        detail: { previous: current?.status ?? null },
      });
      refreshed.push(await this.content((await this.deps.store.domains.findById(domain.id))!));
    }
    return refreshed;
  }

  async content(domain: ManagedDomain): Promise<ChallengeContent> {
    const authz = domain.currentAuthorizationId
      ? await this.deps.store.authorizations.findById(domain.currentAuthorizationId)
      : null;
    const base: ChallengeContent = {
      domain: domain.name,
      type: domain.challengeType,
      status: domain.status,
      expiresAt: authz?.expiresAt ?? null,
    };
    if (!authz) return base;
    return { ...base, ...this.material(domain, authz) };
  }

  private material(domain: ManagedDomain, authz: Authorization): Partial<ChallengeContent> {
    if (domain.challengeType === 'http-01' && authz.httpToken && authz.httpKeyAuthorization) {
      return {
        http: {
          fileName: authz.httpToken,
          content: authz.httpKeyAuthorization,
          urlPath: `/.well-known/acme-challenge/${authz.httpToken}`,
        },
      };
    }
    if (domain.challengeType === 'dns-01' && authz.dnsTxtValue) {
      const recordName = dnsRecordName(domain.name);
      return {
        dns: { recordName, value: authz.dnsTxtValue, zoneLine: `${recordName}. 60 IN TXT "${authz.dnsTxtValue}"` },
      };
    }
    if (domain.challengeType === 'tls-alpn-01' && authz.tlsCertPem && authz.tlsKeySealed) {
      return {
        tls: {
          certPem: authz.tlsCertPem,
          keyPem: this.deps.secrets.open(authz.tlsKeySealed, secretAad('authorizations', authz.id, 'tls_key')),
        },
      };
    }
    return {};
  }

  view(domain: ManagedDomain, profile: CaProfile): DomainView {
    return { ...publicView(domain), profileName: profile.name };
  }
}
