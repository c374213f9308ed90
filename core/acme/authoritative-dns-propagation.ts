import dns from 'node:dns';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { CoreError } from '../errors.ts';
import { clip } from '../net/clip.ts';
import { newResolver, queryWithin } from '../net/dns-resolver.ts';
import { errnoCode } from '../net/errno-code.ts';
import type { DnsPropagation, PropagationResult } from '../ports/dns-propagation.ts';

export interface AuthoritativeDnsPropagationOptions {
  /**
   * Recursive resolvers, 'ip' or 'ip:port' ('[v6]:port'), used to follow CNAMEs, find the zone's NS set and
   * the NS hosts' addresses, and as the servers asked when no NS set can be found. Empty or absent: the
   * system resolvers.
   */
  resolvers?: string[];
  /** Pause between polls; injected by tests so they need not wait. Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Test-only. The port the authoritative servers are queried on; always 53 in production. NS records carry
   * only host names, so a test DNS server on an unprivileged port can only play an authoritative server
   * (reached at the address its NS host resolves to) if this says where it listens.
   */
  authoritativePort?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_INTERVAL_MS = 2_000;
/** One TXT query, NS lookup or address lookup takes at most this, or the time left if that is shorter... */
const QUERY_TIMEOUT_MS = 3_000;
/** ...but never less than this, so that a last check near the bound can still get an answer. */
const MIN_QUERY_TIMEOUT_MS = 1_000;
const MAX_CNAME_HOPS = 8;
const VALUE_SNIPPET_MAX = 60;

/** One server a poll asks: `target` is what `setServers` takes (null: the system resolvers). */
interface Server {
  label: string;
  target: string | null;
}

interface Plan {
  /** The name whose TXT records are checked: `recordName` after following CNAMEs. */
  queryName: string;
  /** Which servers these are, e.g. `authoritative servers of example.com`. */
  where: string;
  /** Extra facts for the detail line (CNAMEs followed, fallback reason, NS hosts without addresses). */
  notes: string[];
  servers: Server[];
}

type Answer = { kind: 'has' } | { kind: 'lacks'; seen: string } | { kind: 'unreachable'; why: string };

export function createAuthoritativeDnsPropagation(opts: AuthoritativeDnsPropagationOptions = {}): DnsPropagation {
  const resolvers = opts.resolvers ?? [];
  const sleep = opts.sleep ?? ((ms: number) => delay(ms).then(() => undefined));
  const authoritativePort = opts.authoritativePort ?? 53;
  if (!Number.isInteger(authoritativePort) || authoritativePort < 1 || authoritativePort > 65535) {
    throw new CoreError('config_invalid', `authoritativePort must be a port number, got ${authoritativePort}`);
  }
  // Built once so a malformed list fails at startup rather than as a DNS error on every wait.
  newResolver(resolvers, QUERY_TIMEOUT_MS);
  const resolverLabel =
    resolvers.length > 0 ? resolvers.join(', ') : `system DNS ${dns.getServers().join(', ') || '(none configured)'}`;

  function query<T>(servers: string[], deadline: number, run: (r: dns.promises.Resolver) => Promise<T>): Promise<T> {
    const timeoutMs = Math.max(MIN_QUERY_TIMEOUT_MS, Math.min(QUERY_TIMEOUT_MS, deadline - performance.now()));
    return queryWithin(servers, timeoutMs, run);
  }

  /**
   * Follows CNAMEs as the CA does, then walks up the labels to the zone's NS set and resolves its hosts.
   * `transient` means the resolvers could not be asked; the next poll tries again.
   */
  async function plan(name: string, deadline: number): Promise<Plan | { transient: string }> {
    const notes: string[] = [];
    let queryName = name;
    for (let hop = 0; hop < MAX_CNAME_HOPS; hop += 1) {
      let targets: string[];
      try {
        targets = await query(resolvers, deadline, (r) => r.resolveCname(queryName));
      } catch (err) {
        const code = errnoCode(err);
        if (isTransient(code))
          return {
            transient: `could not look up CNAME ${queryName}: ${describeDnsError(code)} (asked ${resolverLabel})`,
          };
        break;
      }
      const next = targets[0] === undefined ? undefined : normalizeName(targets[0]);
      if (next === undefined || next === queryName) break;
      notes.push(`via CNAME ${next}`);
      queryName = next;
    }

    const labels = queryName.split('.');
    // A TLD's servers only refer onwards, so the walk stops below it.
    for (let i = 0; i < labels.length - 1; i += 1) {
      const zone = labels.slice(i).join('.');
      let nsHosts: string[];
      try {
        nsHosts = await query(resolvers, deadline, (r) => r.resolveNs(zone));
      } catch (err) {
        const code = errnoCode(err);
        if (isTransient(code))
          return { transient: `could not look up NS ${zone}: ${describeDnsError(code)} (asked ${resolverLabel})` };
        continue;
      }
      if (nsHosts.length === 0) continue;
      const servers: Server[] = [];
      const lookups = await Promise.all(
        [...new Set(nsHosts.map(normalizeName))].sort().map(async (host) => {
          const [v4, v6] = await query(resolvers, deadline, (r) =>
            Promise.allSettled([r.resolve4(host), r.resolve6(host)]),
          );
          const addresses = [v4, v6].flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
          const transient = [v4, v6].some((s) => s.status === 'rejected' && isTransient(errnoCode(s.reason)));
          return { host, addresses, transient };
        }),
      );
      if (lookups.every((l) => l.addresses.length === 0) && lookups.some((l) => l.transient)) {
        return { transient: `could not look up the addresses of the NS hosts of ${zone} (asked ${resolverLabel})` };
      }
      for (const { host, addresses } of lookups) {
        if (addresses.length === 0) notes.push(`no address for ${host}`);
        for (const address of addresses) {
          const target = withPort(address, authoritativePort);
          servers.push({ label: `${host} ${target}`, target });
        }
      }
      if (servers.length > 0) {
        return { queryName, where: `authoritative servers of ${zone}`, notes, servers };
      }
      notes.push(`no address for any NS host of ${zone}, so asked the resolvers instead`);
      return { queryName, where: 'resolvers', notes, servers: fallbackServers() };
    }
    notes.push(`no NS records found for ${queryName} or its parents, so asked the resolvers instead`);
    return { queryName, where: 'resolvers', notes, servers: fallbackServers() };
  }

  function fallbackServers(): Server[] {
    if (resolvers.length === 0) return [{ label: resolverLabel, target: null }];
    return resolvers.map((r) => ({ label: r, target: r }));
  }

  async function ask(server: Server, queryName: string, value: string, deadline: number): Promise<Answer> {
    let records: string[][];
    try {
      records = await query(server.target === null ? [] : [server.target], deadline, (r) => r.resolveTxt(queryName));
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENODATA') return { kind: 'lacks', seen: 'has no TXT records' };
      if (code === 'ENOTFOUND') return { kind: 'lacks', seen: 'answered NXDOMAIN' };
      return { kind: 'unreachable', why: describeDnsError(code) };
    }
    // A TXT record longer than 255 bytes arrives as several strings the CA concatenates.
    const values = records.map((chunks) => chunks.join(''));
    if (values.includes(value)) return { kind: 'has' };
    if (values.length === 0) return { kind: 'lacks', seen: 'has no TXT records' };
    return {
      kind: 'lacks',
      seen: `returned ${values.map((v) => JSON.stringify(clip(v, VALUE_SNIPPET_MAX))).join(', ')}`,
    };
  }

  async function waitForTxt(
    recordName: string,
    value: string,
    options: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<PropagationResult> {
    const name = normalizeName(recordName);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (name === '' || /\s/.test(name))
      return { ok: false, detail: `invalid record name ${JSON.stringify(recordName)}`, waitedMs: 0 };
    if (value === '') return { ok: false, detail: `TXT ${name}: the expected value is empty`, waitedMs: 0 };
    if (!(timeoutMs >= 0) || !(intervalMs > 0) || !Number.isFinite(timeoutMs) || !Number.isFinite(intervalMs)) {
      return { ok: false, detail: `TXT ${name}: timeoutMs must be >= 0 and intervalMs > 0`, waitedMs: 0 };
    }

    // Time is counted as query time plus the pauses asked for, so an injected sleep behaves like a clock.
    let waitedMs = 0;
    const timed = async <T>(run: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await run();
      } finally {
        waitedMs += performance.now() - started;
      }
    };
    const result = (ok: boolean, detail: string): PropagationResult => ({ ok, detail, waitedMs: Math.round(waitedMs) });

    try {
      let current: Plan | null = null;
      let last = '';
      for (let poll = 1; ; poll += 1) {
        // Queries end by the bound (give or take MIN_QUERY_TIMEOUT_MS), however many a poll needs.
        const deadline = performance.now() + Math.max(0, timeoutMs - waitedMs);
        if (current === null) {
          const planned = await timed(() => plan(name, deadline));
          if ('transient' in planned) last = `TXT ${name}: ${planned.transient}`;
          else current = planned;
        }
        if (current !== null) {
          const p = current;
          const answers = await timed(() => Promise.all(p.servers.map((s) => ask(s, p.queryName, value, deadline))));
          const verdict = judge(p, answers);
          const subject = [`TXT ${name}`, ...p.notes.filter((n) => n.startsWith('via CNAME'))].join(' ');
          const tail = p.notes.filter((n) => !n.startsWith('via CNAME'));
          const when = `after ${poll} poll${poll === 1 ? '' : 's'}, ${Math.round(waitedMs)} ms`;
          const line = (head: string): string =>
            [`${subject}: ${head} ${when}: ${verdict.servers}`, ...tail].join('; ');
          if (verdict.ok) return result(true, line(`visible at ${verdict.has} of ${p.servers.length} ${p.where}`));
          last = line(`not visible at all ${p.where}`);
        }
        if (waitedMs >= timeoutMs) return result(false, `${last} (gave up)`);
        const pause = Math.ceil(Math.min(intervalMs, timeoutMs - waitedMs));
        await sleep(pause);
        waitedMs += pause;
      }
    } catch (err) {
      return result(
        false,
        `TXT ${name}: propagation check failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  return { waitForTxt };
}

/**
 * Visible when every server that answered has the value and at least one did. A server that cannot be asked
 * (timeout, SERVFAIL, no route, e.g. an IPv6 address from an IPv4-only host) does not block: the CA's
 * resolver moves on to another server just the same. It is still named in the detail.
 */
function judge(plan: Plan, answers: Answer[]): { ok: boolean; has: number; servers: string } {
  const has = answers.filter((a) => a.kind === 'has').length;
  const ok = has > 0 && answers.every((a) => a.kind !== 'lacks');
  const servers = plan.servers
    .map((server, i) => {
      const answer = answers[i]!;
      if (answer.kind === 'has') return `${server.label} has it`;
      if (answer.kind === 'lacks') return `${server.label} ${answer.seen}`;
      return `${server.label} could not be asked (${answer.why})`;
    })
    .join(', ');
  return { ok, has, servers };
}

function withPort(address: string, port: number): string {
  if (port === 53) return address;
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** The resolver itself could not be asked: retry on the next poll rather than conclude anything. */
function isTransient(code: string): boolean {
  return code === 'ETIMEOUT' || code === 'ECANCELLED' || code === 'ECONNREFUSED';
}

function describeDnsError(code: string): string {
  switch (code) {
    case 'ENOTFOUND':
      return 'NXDOMAIN';
    case 'ENODATA':
      return 'no records of that type';
    case 'ESERVFAIL':
      return 'SERVFAIL';
    case 'EREFUSED':
      return 'REFUSED';
    case 'ECONNREFUSED':
      return 'could not reach the server (ECONNREFUSED)';
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return 'timed out';
    default:
      return code;
  }
}
