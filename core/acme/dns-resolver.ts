import dns from 'node:dns';
import { CoreError } from '../errors.ts';

/**
 * A resolver on the given servers ('ip' or 'ip:port'; none = the system's), with a per-query timeout: c-ares'
 * own retries would otherwise outlast the caller's budget.
 */
export function newResolver(servers: string[], timeoutMs: number): dns.promises.Resolver {
  const resolver = new dns.promises.Resolver({ timeout: Math.max(1, Math.ceil(timeoutMs / 2)), tries: 2 });
  if (servers.length > 0) {
    try {
      resolver.setServers(servers);
    } catch (err) {
      throw new CoreError('config_invalid', `invalid DNS server list ${JSON.stringify(servers)}`, { cause: err });
    }
  }
  return resolver;
}
