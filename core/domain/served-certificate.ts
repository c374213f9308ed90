/**
 * What clients see: which virtual servers present a bound client-ssl profile, where to connect (the
 * virtual's `destination`, `/Common/10.0.0.10:443`, `/Common/2001:db8::1.443`, `/Common/10.0.0.10%2:443`) and
 * with which SNI name (the profile's `serverName`), and whether a handshake's serial is the deployed one.
 */

export interface VirtualTarget {
  virtual: string;
  profile: string;
  host: string;
  port: number;
  /** SNI to send; null when the profile has no server name. */
  servername: string | null;
}

/** `/Common/10.0.0.10:443` → host and port; null for a wildcard or a destination that is not an address. */
export function parseDestination(destination: string | null): { host: string; port: number } | null {
  if (!destination) return null;
  const last = destination.split('/').pop() ?? '';
  // IPv6 destinations separate the port with a dot; IPv4 ones with a colon.
  const v6 = last.includes(':') && last.split(':').length > 2;
  const at = v6 ? last.lastIndexOf('.') : last.lastIndexOf(':');
  if (at <= 0) return null;
  const host = last.slice(0, at).replace(/%\d+$/, '');
  const port = Number(last.slice(at + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
  if (host === '0.0.0.0' || host === '::' || host === 'any' || host === 'any6') return null;
  return { host, port };
}

/**
 * The handshakes to make: each virtual server that has one of `profiles` attached, once per profile (a virtual
 * with two bound profiles is checked with each profile's SNI name). Virtuals whose destination is no
 * address are left out and named in `skipped`.
 */
export function virtualTargets(
  virtuals: { fullPath: string; destination: string | null; profiles: string[] }[],
  profiles: { fullPath: string; serverName: string | null }[],
): { targets: VirtualTarget[]; skipped: string[] } {
  const targets: VirtualTarget[] = [];
  const skipped: string[] = [];
  for (const v of virtuals) {
    const bound = profiles.filter((p) => v.profiles.includes(p.fullPath));
    if (bound.length === 0) continue;
    const address = parseDestination(v.destination);
    if (!address) {
      skipped.push(`${v.fullPath} (destination ${v.destination ?? 'none'})`);
      continue;
    }
    for (const p of bound)
      targets.push({ virtual: v.fullPath, profile: p.fullPath, ...address, servername: p.serverName });
  }
  return { targets, skipped };
}

/** Serials compared as numbers: `7A:00:10`, `7a0010` and `007a0010` are one serial. */
export function sameSerial(a: string | null | undefined, b: string | null | undefined): boolean {
  const norm = (s: string) =>
    s
      .replace(/[^0-9a-f]/gi, '')
      .replace(/^0+/, '')
      .toLowerCase();
  return !!a && !!b && norm(a) === norm(b);
}
