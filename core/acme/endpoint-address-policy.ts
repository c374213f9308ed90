import net from 'node:net';
import { CoreError } from '../errors.ts';

/**
 * Addresses a challenge endpoint must never be, because reaching them from the core's host can expose
 * credentials or internal services (SSRF): link-local (which holds most clouds' metadata service), the
 * remaining metadata addresses, unspecified and multicast. Loopback and RFC 1918 are deliberately allowed:
 * the built-in responder usually lives there. The first matching entry names the reason.
 */
const REFUSED_RANGES: ReadonlyArray<readonly [cidr: string, reason: string]> = [
  ['169.254.169.254/32', 'a cloud metadata address'],
  ['100.100.100.200/32', 'a cloud metadata address'],
  ['fd00:ec2::254/128', 'a cloud metadata address'],
  ['169.254.0.0/16', 'link-local'],
  ['fe80::/10', 'link-local'],
  ['0.0.0.0/8', 'unspecified ("this network")'],
  ['::/128', 'unspecified'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['ff00::/8', 'multicast'],
];

const REFUSED_LISTS: ReadonlyArray<readonly [list: net.BlockList, reason: string]> = REFUSED_RANGES.map(
  ([cidr, reason]) => [blockListOf([cidr], 'refused range'), reason] as const,
);

interface Cidr {
  address: string;
  prefix: number;
  type: 'ipv4' | 'ipv6';
}

/** Parses `a.b.c.d/n`, `v6::/n` or a bare address (a single-address range); throws config_invalid. */
function parseCidr(entry: string, what: string): Cidr {
  const text = entry.trim();
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = net.isIP(address);
  if (family === 0) {
    throw new CoreError('config_invalid', `${what} entry ${JSON.stringify(entry)} is not an IP address or CIDR`);
  }
  const max = family === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) {
    throw new CoreError(
      'config_invalid',
      `${what} entry ${JSON.stringify(entry)} needs a prefix length from 0 to ${max}`,
    );
  }
  return { address, prefix, type: family === 4 ? 'ipv4' : 'ipv6' };
}

export function blockListOf(cidrs: readonly string[], what: string): net.BlockList {
  const list = new net.BlockList();
  for (const entry of cidrs) {
    const { address, prefix, type } = parseCidr(entry, what);
    list.addSubnet(address, prefix, type);
  }
  return list;
}

/** An address as `BlockList.check` takes it: no URL brackets, no `%zone`; null when it is not an IP at all. */
function plainAddress(ip: string): { address: string; type: 'ipv4' | 'ipv6' } | null {
  const address = ip
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  const family = net.isIP(address);
  return family === 0 ? null : { address, type: family === 4 ? 'ipv4' : 'ipv6' };
}

/** Why `ip` is refused, or null when it may be dialled. Anything that is not an IP address is refused. */
export function refusalReason(ip: string, allow: net.BlockList): string | null {
  const plain = plainAddress(ip);
  if (plain === null) return 'not an IP address';
  // BlockList matches IPv4 rules against IPv4-mapped IPv6 (::ffff:169.254.169.254) too, in both lists.
  if (allow.check(plain.address, plain.type)) return null;
  for (const [list, reason] of REFUSED_LISTS) {
    if (list.check(plain.address, plain.type)) return reason;
  }
  return null;
}

/**
 * Whether the endpoint policy refuses to dial `ip`: link-local, cloud metadata, unspecified, broadcast or
 * multicast, unless an `allow` CIDR covers it. Text that is not an IP address is refused. Throws
 * config_invalid when an `allow` entry is not a CIDR.
 */
export function isRefusedAddress(ip: string, allow: string[]): boolean {
  return refusalReason(ip, blockListOf(allow, 'allow')) !== null;
}
