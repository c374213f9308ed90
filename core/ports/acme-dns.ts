import type { AcmeDnsCredentials } from '../domain/dns-publisher.ts';

/** What `/register` returns: the account (sealed by the caller) and where its TXT record lives. */
export interface AcmeDnsAccount extends AcmeDnsCredentials {
  subdomain: string;
  fulldomain: string;
}

/**
 * An acme-dns server (github.com/joohoi/acme-dns): a DNS server for `_acme-challenge` names delegated to it by
 * CNAME, with an HTTP API. Failures throw CoreError `acme_dns_error` naming the cause (unreachable, 401,
 * a refused TXT), or `dns_delegation_missing` for a CNAME that is not there.
 */
export interface AcmeDnsClient {
  /** POST /register: a new account, once per domain. */
  register(url: string): Promise<AcmeDnsAccount>;
  /** POST /update: sets the TXT value of the account's subdomain (the server keeps the last two). */
  update(url: string, account: AcmeDnsCredentials & { subdomain: string }, txt: string): Promise<void>;
  /**
   * Whether `recordName` (e.g. `_acme-challenge.example.com`) is a CNAME to `fulldomain`, as the resolvers
   * see it. Throws `dns_delegation_missing` with the exact record to create when it is missing or points
   * elsewhere.
   */
  checkDelegation(recordName: string, fulldomain: string): Promise<void>;
}
