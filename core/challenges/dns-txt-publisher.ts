import { dnsRecordName } from '../domain/domain-name.ts';
import type { AcmeDnsCredentials } from '../domain/dns-publisher.ts';
import type { ManagedDomain } from '../domain/managed-domain.ts';
import { asCoreError, CoreError } from '../errors.ts';
import type { ProbeResult } from '../ports/challenge-probe.ts';
import { type CoreDeps, secretAad } from '../services/core-deps.ts';

/**
 * DNS-01 without a person: the TXT value goes to the zone by an RFC 2136 update (TSIG-signed) or to the
 * acme-dns server the name is delegated to, before the CA is asked to validate; then the core waits until
 * every authoritative server answers it. The RFC 2136 value is deleted again, exactly that value, once the
 * authorization is decided either way (acme-dns keeps the last two values per account and has no delete).
 */
type Deps = Pick<CoreDeps, 'dnsUpdates' | 'acmeDns' | 'propagation' | 'secrets' | 'log'>;

export function usesDnsPublisher(domain: Pick<ManagedDomain, 'challengeType' | 'dnsPublisher'>): boolean {
  return domain.challengeType === 'dns-01' && domain.dnsPublisher !== null;
}

/** The domain's sealed DNS secret, opened: the TSIG secret bytes, or the acme-dns credentials. */
export function openTsigSecret(deps: Pick<CoreDeps, 'secrets'>, domain: ManagedDomain): Buffer {
  return Buffer.from(openDnsSecret(deps, domain), 'base64');
}

export function openAcmeDnsCredentials(deps: Pick<CoreDeps, 'secrets'>, domain: ManagedDomain): AcmeDnsCredentials {
  return JSON.parse(openDnsSecret(deps, domain)) as AcmeDnsCredentials;
}

function openDnsSecret(deps: Pick<CoreDeps, 'secrets'>, domain: ManagedDomain): string {
  if (!domain.dnsSecretSealed)
    throw new CoreError('secret_invalid', `${domain.name} has DNS settings but no stored secret; set them again`);
  return deps.secrets.open(domain.dnsSecretSealed, secretAad('domains', domain.id, 'dns_secret'));
}

/**
 * Puts `value` where the CA will look. Throws CoreError naming the cause when the server refuses; answers
 * `ok: false` when it was accepted but did not reach every authoritative server in time.
 */
export async function publishDnsTxt(deps: Deps, domain: ManagedDomain, value: string): Promise<string> {
  const settings = domain.dnsPublisher;
  if (!settings) throw new CoreError('input_invalid', `${domain.name} has no DNS method`);
  const name = dnsRecordName(domain.name);
  if (settings.kind === 'rfc2136') {
    await deps.dnsUpdates.addTxt(settings, openTsigSecret(deps, domain), name, value);
    return `added TXT ${name} by RFC 2136 update to ${settings.server}`;
  }
  await deps.acmeDns.checkDelegation(name, settings.fulldomain);
  await deps.acmeDns.update(
    settings.url,
    { ...openAcmeDnsCredentials(deps, domain), subdomain: settings.subdomain },
    value,
  );
  return `set TXT ${settings.fulldomain} on acme-dns ${settings.url}`;
}

/** {@link publishDnsTxt}, then the wait for every authoritative server; never throws. */
export async function pushDnsTxt(deps: Deps, domain: ManagedDomain, value: string): Promise<ProbeResult> {
  let published: string;
  try {
    published = await publishDnsTxt(deps, domain, value);
  } catch (err) {
    return { ok: false, detail: asCoreError(err).message };
  }
  const propagated = await deps.propagation.waitForTxt(dnsRecordName(domain.name), value);
  if (!propagated.ok) return { ok: false, detail: `${published}, but ${propagated.detail}` };
  return { ok: true, detail: published };
}

/**
 * Deletes exactly `value` (RFC 2136): other values on the name, such as the apex's beside a wildcard's, stay.
 * Best effort: a failure is logged, not thrown; the value answers nothing once the authorization is decided.
 */
export async function withdrawDnsTxt(deps: Deps, domain: ManagedDomain, value: string): Promise<void> {
  const settings = domain.dnsPublisher;
  if (domain.challengeType !== 'dns-01' || settings?.kind !== 'rfc2136') return;
  try {
    await deps.dnsUpdates.removeTxt(settings, openTsigSecret(deps, domain), dnsRecordName(domain.name), value);
  } catch (err) {
    deps.log.warn(
      { domain: domain.name, err: asCoreError(err).message },
      'could not delete the DNS-01 TXT record; it answers nothing now, delete it by hand',
    );
  }
}
