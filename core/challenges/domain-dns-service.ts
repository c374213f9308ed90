import { randomBytes } from 'node:crypto';
import { dnsRecordName } from '../domain/domain-name.ts';
import {
  acmeDnsCname,
  type AcmeDnsSettings,
  type DnsPublisherSettings,
  parseAcmeDnsUrl,
  parseRfc2136Settings,
  parseTsigSecret,
} from '../domain/dns-publisher.ts';
import type { ManagedDomain } from '../domain/managed-domain.ts';
import { asCoreError, CoreError, runCommand } from '../errors.ts';
import type { ProbeResult } from '../ports/challenge-probe.ts';
import { appendAudit } from '../services/audit-trail.ts';
import { type CoreDepsWith, secretAad } from '../services/core-deps.ts';
import { openAcmeDnsCredentials, openTsigSecret } from './dns-txt-publisher.ts';

export interface Rfc2136Input {
  server: string;
  zone?: string | undefined;
  keyName: string;
  algorithm: string;
  /** Base64, as tsig-keygen prints it; read by the edge from a file or stdin, never an option value. */
  secret: string;
}

/** The record an acme-dns domain needs, and whether it resolves yet. */
export interface DnsDelegation {
  record: string;
  /** null: not checked (RFC 2136 needs none). */
  problem: string | null;
}

/**
 * The DNS method of a DNS-01 domain (`domain dns set|show|clear`, the Slack form): RFC 2136 with a TSIG key, or
 * an acme-dns account registered once. The TSIG secret and the acme-dns credentials are sealed; nothing here
 * returns or audits them.
 */
export class DomainDnsService {
  constructor(private readonly deps: CoreDepsWith<'audit' | 'domains'>) {}

  private refuseUnless(domain: ManagedDomain): void {
    if (domain.challengeType !== 'dns-01') {
      throw new CoreError(
        'input_invalid',
        `${domain.name} uses ${domain.challengeType}; a DNS method publishes dns-01 content only`,
      );
    }
    if (domain.endpointUrl) {
      throw new CoreError('conflict', `${domain.name} publishes to the API endpoint ${domain.endpointUrl}`, {
        hint: runCommand('clear it first', ['domain', 'endpoint', 'clear', domain.name], { aside: true }),
      });
    }
  }

  async setRfc2136(domain: ManagedDomain, input: Rfc2136Input, actor: string): Promise<ManagedDomain> {
    this.refuseUnless(domain);
    const settings = parseRfc2136Settings(input);
    const secret = parseTsigSecret(input.secret);
    const updated = await this.save(domain, settings, secret.toString('base64'));
    await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.dns.set', 'ok', {
      method: 'rfc2136',
      server: settings.server,
      zone: settings.zone,
      keyName: settings.keyName,
      algorithm: settings.algorithm,
    });
    return updated;
  }

  /**
   * Registers an acme-dns account for the domain (once: a domain already registered with the same server
   * keeps its account, so the CNAME the operator created stays right) and answers the CNAME to create. A
   * wildcard and its apex share `_acme-challenge.<name>`, which can be a CNAME to one place only, so the second
   * of them takes the first one's account (acme-dns serves two values per account for exactly this).
   */
  async setAcmeDns(domain: ManagedDomain, input: { url: string }, actor: string): Promise<ManagedDomain> {
    this.refuseUnless(domain);
    const url = parseAcmeDnsUrl(input.url);
    const current = domain.dnsPublisher;
    if (current?.kind === 'acme-dns' && current.url === url && domain.dnsSecretSealed) return domain;
    const sibling = (await this.deps.store.domains.listByProfile(domain.profileId)).find(
      (d) =>
        d.id !== domain.id &&
        dnsRecordName(d.name) === dnsRecordName(domain.name) &&
        d.dnsPublisher?.kind === 'acme-dns' &&
        d.dnsPublisher.url === url &&
        d.dnsSecretSealed,
    );
    const account = sibling
      ? { ...(sibling.dnsPublisher as AcmeDnsSettings), ...openAcmeDnsCredentials(this.deps, sibling) }
      : await this.deps.acmeDns.register(url);
    const settings: DnsPublisherSettings = {
      kind: 'acme-dns',
      url,
      subdomain: account.subdomain,
      fulldomain: account.fulldomain.replace(/\.$/, '').toLowerCase(),
    };
    const updated = await this.save(
      domain,
      settings,
      JSON.stringify({ username: account.username, password: account.password }),
    );
    await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.dns.set', 'ok', {
      method: 'acme-dns',
      url,
      subdomain: settings.subdomain,
      fulldomain: settings.fulldomain,
      ...(sibling ? { sharedWith: sibling.name } : {}),
    });
    return updated;
  }

  async clear(domain: ManagedDomain, actor: string): Promise<ManagedDomain> {
    const updated = await this.deps.store.domains.update(domain.id, { dnsPublisher: null, dnsSecretSealed: null });
    await appendAudit(this.deps.store.audit, 'domain', domain, actor, 'domain.dns.clear', 'ok', {});
    return updated;
  }

  /** For acme-dns: the CNAME to create and whether it is there; null for other methods. */
  async delegation(domain: ManagedDomain): Promise<DnsDelegation | null> {
    const settings = domain.dnsPublisher;
    if (settings?.kind !== 'acme-dns') return null;
    const name = dnsRecordName(domain.name);
    const record = acmeDnsCname(name, settings.fulldomain);
    try {
      await this.deps.acmeDns.checkDelegation(name, settings.fulldomain);
      return { record, problem: null };
    } catch (err) {
      return { record, problem: asCoreError(err).message };
    }
  }

  /**
   * Test Connection's first step for a domain with a DNS method: the update path itself, without the CA. RFC
   * 2136 adds a throwaway TXT value and deletes it again; acme-dns checks the CNAME and sets a throwaway value
   * (it keeps two, and the next challenge replaces it). Never throws; the detail names the cause.
   */
  async check(domain: ManagedDomain): Promise<ProbeResult> {
    const settings = domain.dnsPublisher;
    if (!settings) return { ok: false, detail: `${domain.name} has no DNS method` };
    const name = dnsRecordName(domain.name);
    const probe = randomBytes(32).toString('base64url');
    try {
      if (settings.kind === 'rfc2136') {
        const secret = openTsigSecret(this.deps, domain);
        await this.deps.dnsUpdates.addTxt(settings, secret, name, probe);
        await this.deps.dnsUpdates.removeTxt(settings, secret, name, probe);
        return { ok: true, detail: `${settings.server} took a test TXT update for ${name} and its deletion` };
      }
      await this.deps.acmeDns.checkDelegation(name, settings.fulldomain);
      await this.deps.acmeDns.update(
        settings.url,
        { ...openAcmeDnsCredentials(this.deps, domain), subdomain: settings.subdomain },
        probe,
      );
      return { ok: true, detail: `${name} is delegated to ${settings.fulldomain} and acme-dns took a test update` };
    } catch (err) {
      return { ok: false, detail: asCoreError(err).message };
    }
  }

  private save(domain: ManagedDomain, settings: DnsPublisherSettings, secret: string): Promise<ManagedDomain> {
    return this.deps.store.domains.update(domain.id, {
      dnsPublisher: settings,
      dnsSecretSealed: this.deps.secrets.seal(secret, secretAad('domains', domain.id, 'dns_secret')),
    });
  }
}
