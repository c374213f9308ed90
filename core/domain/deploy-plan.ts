import type { CertKeyChainEntry } from '../ports/bigip-client.ts';
import type { DeployedObjects } from './deployment.ts';

/**
 * Pure rules for putting a certificate on a BIG-IP without a moment where a profile points at a missing or
 * mismatched key: objects get versioned names (never installed over a name a profile uses), and a profile's
 * `certKeyChain` is rewritten by {@link nextCertKeyChain}.
 */

/** `20270224-1a2b3c4d`: notAfter (UTC date) and the serial's first 8 hex digits; sorts by expiry, unique per issue. */
export function versionTag(notAfter: Date, serial: string): string {
  const date = notAfter.toISOString().slice(0, 10).replace(/-/g, '');
  return `${date}-${serial.toLowerCase().padStart(8, '0').slice(0, 8)}`;
}

/** Object names for one issued certificate in `partition`. */
export function versionedObjects(
  certName: string,
  partition: string,
  notAfter: Date,
  serial: string,
  hasChain: boolean,
): DeployedObjects {
  const base = `/${partition}/${certName}_${versionTag(notAfter, serial)}`;
  return { key: `${base}.key`, cert: `${base}.crt`, chain: hasChain ? `${base}_chain.crt` : null };
}

/** The self-signed certificate every BIG-IP ships and `clientssl` uses until a real one is configured. */
export const PLACEHOLDER_CERT = '/Common/default.crt';

/** The key algorithm a chain entry's key has; BIG-IP allows one entry per algorithm. */
export type EntryKeyType = 'rsa' | 'ec' | 'other' | null;

export function keyTypeOf(deviceKeyType: string | null | undefined): EntryKeyType {
  if (!deviceKeyType) return null;
  if (deviceKeyType.startsWith('rsa')) return 'rsa';
  if (deviceKeyType.startsWith('ec')) return 'ec';
  return 'other';
}

/**
 * The profile's new `certKeyChain` with `ours` in it. Which entry ours takes the place of, in order:
 * 1. entries that use an object bigip-acme installed for this certificate (an earlier version) — the first
 *    such position, the rest dropped;
 * 2. the entry whose key has the same algorithm as ours (BIG-IP's one-entry-per-algorithm rule);
 * 3. the entry using BIG-IP's self-signed placeholder `/Common/default.crt` (a fresh profile inherits it;
 *    keeping it beside ours would hand clients of the other algorithm a self-signed certificate);
 * 4. a lone entry whose algorithm is unknown;
 * 5. otherwise ours is appended. Every other entry is kept as it was.
 */
export function nextCertKeyChain(
  current: ReadonlyArray<CertKeyChainEntry & { keyType: EntryKeyType }>,
  ours: CertKeyChainEntry & { keyType: EntryKeyType },
  owned: ReadonlySet<string>,
): CertKeyChainEntry[] {
  const strip = ({ keyType: _k, ...entry }: CertKeyChainEntry & { keyType: EntryKeyType }): CertKeyChainEntry => entry;
  const isOurs = (e: CertKeyChainEntry) =>
    owned.has(e.cert) || owned.has(e.key) || (e.cert === ours.cert && e.key === ours.key);
  let index = current.findIndex(isOurs);
  if (index < 0) index = current.findIndex((e) => e.keyType !== null && e.keyType === ours.keyType);
  if (index < 0) index = current.findIndex((e) => e.cert === PLACEHOLDER_CERT);
  if (index < 0 && current.length === 1 && current[0]?.keyType === null) index = 0;
  if (index < 0) return [...current.map(strip), strip(ours)];
  return current.flatMap((entry, i) => (i === index ? [strip(ours)] : isOurs(entry) ? [] : [strip(entry)]));
}

/** `SHA256/AA:BB:…` (BIG-IP) and `AA:BB:…` (OpenSSL) compare equal; case and separators are ignored. */
export function sameFingerprint(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const norm = (s: string) =>
    s
      .replace(/^SHA256\//i, '')
      .replace(/[^0-9a-f]/gi, '')
      .toLowerCase();
  return norm(a) === norm(b) && norm(a).length === 64;
}
