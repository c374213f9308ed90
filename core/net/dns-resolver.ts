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

/**
 * Runs `run` on a fresh resolver that is cancelled after `timeoutMs` (its queries then fail with
 * `ECANCELLED`). c-ares' own timeout is per try with backoff, so only this bounds the whole query; a resolver
 * of its own means cancelling it cannot take a concurrent query down with it.
 */
export async function queryWithin<T>(
  servers: string[],
  timeoutMs: number,
  run: (resolver: dns.promises.Resolver) => Promise<T>,
): Promise<T> {
  const resolver = newResolver(servers, timeoutMs);
  const timer = setTimeout(() => resolver.cancel(), timeoutMs);
  try {
    return await run(resolver);
  } finally {
    clearTimeout(timer);
  }
}
