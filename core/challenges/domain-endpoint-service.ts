import { randomBytes } from 'node:crypto';
import { DEFAULT_DATA_GROUP, isFullPath } from '../domain/acme-irule.ts';
import type { ManagedDomain } from '../domain/managed-domain.ts';
import { CoreError, runCommand, seeList } from '../errors.ts';
import type { ProbeResult } from '../ports/challenge-probe.ts';
import { hashPassword } from '../secrets/password-verifier.ts';
import { AuthorizationSync, usesDataGroups } from './authorization-sync.ts';
import { usesDnsPublisher } from './dns-txt-publisher.ts';
import { type CoreDepsWith, noProgress, type Progress, secretAad } from '../services/core-deps.ts';
import { appendAudit } from '../services/audit-trail.ts';

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

/**
 * Where a domain publishes its challenge content, and publishing it there: an API endpoint (the built-in
 * responder's challenge-hook or an operator's own) or BIG-IP data-groups. A domain publishes one way. Every
 * method takes a domain already resolved by DomainService, which also shapes the answer for the edges.
 */
export class DomainEndpointService {
  private readonly sync: AuthorizationSync;

  constructor(private readonly deps: CoreDepsWith<'audit' | 'authorizations' | 'devices' | 'domains'>) {
    this.sync = new AuthorizationSync(deps);
  }

  /**
   * The seed's *API End Point*, *user name*, *password*: where the core publishes this domain's challenge
   * content. The password is kept sealed (for the core to call the endpoint) and as a one-way verifier (for
   * the built-in responder's challenge-hook to check callers without MASTER_KEY).
   */
  async setEndpoint(domain: ManagedDomain, input: EndpointInput, actor: string): Promise<ManagedDomain> {
    if (usesDataGroups(domain)) {
      throw new CoreError('conflict', `${domain.name} answers HTTP-01 from BIG-IP data-groups`, {
        hint: runCommand('clear that first', ['domain', 'datagroup', 'clear'], { aside: true }),
      });
    }
    if (domain.dnsPublisher) {
      throw new CoreError('conflict', `${domain.name} publishes its TXT value by ${domain.dnsPublisher.kind}`, {
        hint: runCommand('clear that first', ['domain', 'dns', 'clear', domain.name], { aside: true }),
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
    await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.endpoint.set', 'ok', { url });
    return updated;
  }

  /**
   * Points the domain at the built-in responder's challenge-hook, with generated credentials. The core then
   * publishes to it in process (core/challenges/in-process-endpoint-client.ts).
   */
  useBuiltinEndpoint(domain: ManagedDomain, responderUrl: string, actor: string): Promise<ManagedDomain> {
    const base = responderUrl.replace(/\/+$/, '');
    return this.setEndpoint(
      domain,
      {
        url: `${base}/challenge-hook/${encodeURIComponent(domain.name)}`,
        username: 'bigip-acme',
        password: randomBytes(24).toString('base64url'),
      },
      actor,
    );
  }

  async clearEndpoint(domain: ManagedDomain, actor: string): Promise<ManagedDomain> {
    const updated = await this.deps.store.domains.update(domain.id, {
      endpointUrl: null,
      endpointUsername: null,
      endpointPasswordSealed: null,
      endpointPasswordVerifier: null,
    });
    await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.endpoint.clear', 'ok', {});
    return updated;
  }

  /**
   * The on-box HTTP-01 method: the CA's requests reach these BIG-IPs, whose iRule (see `device
   * install-responder`) answers from `dataGroup`. Replaces an API endpoint: a domain publishes one way.
   */
  async setDataGroup(
    domain: ManagedDomain,
    input: { devices: string[]; dataGroup?: string | undefined },
    actor: string,
  ): Promise<ManagedDomain> {
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
    await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.datagroup.set', 'ok', {
      devices: input.devices,
      dataGroup: path,
    });
    return updated;
  }

  async clearDataGroup(domain: ManagedDomain, actor: string): Promise<ManagedDomain> {
    const updated = await this.deps.store.domains.update(domain.id, { dataGroupDeviceIds: [], dataGroupPath: null });
    await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.datagroup.clear', 'ok', {});
    return updated;
  }

  /**
   * The publishing half of the seed's *Deploy & Test*: the current challenge content to the domain's API
   * endpoint or data-groups, audited either way.
   */
  async publish(domain: ManagedDomain, actor: string, progress: Progress = noProgress): Promise<ProbeResult> {
    if (!domain.endpointUrl && !usesDataGroups(domain) && !usesDnsPublisher(domain)) {
      throw new CoreError('input_invalid', `${domain.name} has no API endpoint`, {
        hint: runCommand('set one with', ['domain', 'endpoint', 'set', domain.name]),
      });
    }
    const current = await this.sync.current(domain);
    progress(
      `${domain.name}: publishing the ${domain.challengeType} content to ${domain.endpointUrl ?? (domain.dnsPublisher ? `DNS by ${domain.dnsPublisher.kind}` : `data-group ${domain.dataGroupPath}`)}`,
    );
    const pushed = await this.sync.push(domain, current);
    await appendAudit(
      this.deps.store.audit,
      'domain',
      domain,
      actor,
      'domain.endpoint.deploy',
      pushed.ok ? 'ok' : 'error',
      {
        detail: pushed.detail,
      },
    );
    return pushed;
  }
}
