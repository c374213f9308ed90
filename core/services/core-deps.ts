import type { CaProfile } from '../domain/ca-profile.ts';
import type { AcmeAccount, AcmeGateway } from '../ports/acme-gateway.ts';
import type { BigIpClientFactory } from '../ports/bigip-client.ts';
import type { AcmeDnsClient } from '../ports/acme-dns.ts';
import type { ChallengeProbe } from '../ports/challenge-probe.ts';
import type { Clock } from '../ports/clock.ts';
import type { DnsPropagation } from '../ports/dns-propagation.ts';
import type { DnsUpdateClient } from '../ports/dns-update.ts';
import type { EndpointClient } from '../ports/endpoint-client.ts';
import type { Logger } from '../ports/logger.ts';
import type { Store } from '../ports/store.ts';
import type { SecretBox } from '../secrets/secret-box.ts';

/** What every core service is built from; the composition root supplies real adapters, tests fakes. */
export interface CoreDeps {
  store: Store;
  acme: AcmeGateway;
  probe: ChallengeProbe;
  endpoints: EndpointClient;
  propagation: DnsPropagation;
  /** RFC 2136 + TSIG updates, for DNS-01 domains that publish their TXT value that way. */
  dnsUpdates: DnsUpdateClient;
  /** acme-dns's HTTP API, for DNS-01 domains delegated to one. */
  acmeDns: AcmeDnsClient;
  /** Opens an iControl REST session to one device. */
  bigip: BigIpClientFactory;
  secrets: SecretBox;
  clock: Clock;
  log: Logger;
  newId: () => string;
}

/** Associated data binding a sealed value to its row and column, so it cannot be moved elsewhere. */
export function secretAad(table: string, id: string, column: string): string {
  return `${table}:${id}:${column}`;
}

export function accountOf(deps: Pick<CoreDeps, 'secrets'>, profile: CaProfile): AcmeAccount {
  return {
    directoryUrl: profile.directoryUrl,
    accountUrl: profile.accountUrl,
    accountKeyPem: deps.secrets.open(profile.accountKeySealed, secretAad('profiles', profile.id, 'account_key')),
  };
}

/** Progress lines for long operations; edges print or post them. */
export type Progress = (message: string) => void;
export const noProgress: Progress = () => {};

/**
 * The dependencies of a service that reads or writes only the repositories `K`: its type says which they are,
 * and a test fake needs only those. The composition root passes the whole `CoreDeps` (it has them all).
 */
export type CoreDepsWith<K extends keyof Store> = Omit<CoreDeps, 'store'> & { store: Pick<Store, K> };
