import type { Rfc2136Settings } from '../domain/dns-publisher.ts';

/**
 * RFC 2136 dynamic updates signed with TSIG (RFC 8945): how the core adds and removes a DNS-01 TXT value on
 * the zone's primary server. Each call is one signed UPDATE whose signed answer is checked. Failures throw a
 * CoreError naming the cause: `dns_update_refused` (NOTAUTH, REFUSED, NOTZONE, BADSIG, BADKEY, BADTIME: the
 * settings or the server's policy must change) or `dns_update_failed` (SERVFAIL, no answer in time: retryable).
 */
export interface DnsUpdateClient {
  /** The zone that holds `name`, from the SOA `server` answers for it (`host:port`). */
  findZone(server: string, name: string): Promise<string>;
  /** Adds `value` to the TXT records of `name`; values already there stay (wildcard and apex share a name). */
  addTxt(settings: Rfc2136Settings, secret: Buffer, name: string, value: string): Promise<void>;
  /** Removes exactly `value` from the TXT records of `name`; other values stay. Absent already is fine. */
  removeTxt(settings: Rfc2136Settings, secret: Buffer, name: string, value: string): Promise<void>;
}
