import type dns from 'node:dns';
import http from 'node:http';
import type { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { type TlsAlpnCertificateProblem, tlsAlpnCertificateProblem } from '../domain/tls-alpn-certificate.ts';
import { CoreError } from '../errors.ts';
import { clip } from '../net/clip.ts';
import { newResolver, queryWithin } from '../net/dns-resolver.ts';
import { errnoCode, UNKNOWN_ERRNO } from '../net/errno-code.ts';
import { timeoutError } from '../net/timeout-error.ts';
import { tlsHandshakeReason } from '../net/tls-failure.ts';
import type { ChallengeProbe, ProbeResult } from '../ports/challenge-probe.ts';
import { readCappedResponse } from '../net/capped-response.ts';
import { settleOnce } from '../net/settle-once.ts';

export interface NetworkChallengeProbeOptions {
  /** Port the CA dials for http-01: 80 in production, 5002 under Pebble. */
  httpPort?: number;
  /** Port the CA dials for tls-alpn-01: 443 in production, 5001 under Pebble. */
  tlsPort?: number;
  /** 'ip' or 'ip:port' ('[v6]:port'); empty means the system resolvers, which is what a public CA approximates. */
  dnsServers?: string[];
  /** Applies to each network step (address lookup, connection, TXT lookup) separately. */
  timeoutMs?: number;
}

const OBSERVED_MAX = 200;
const DETAIL_SNIPPET_MAX = 80;
const BODY_CAP = 8 * 1024;
const ACME_TLS_ALPN = 'acme-tls/1';

interface Address {
  address: string;
  family: 4 | 6;
}

/** A probe of one address; `unroutable` marks a local "can't get there from here" rather than a bad answer. */
type AddressResult = ProbeResult & { unroutable?: boolean };

export function createNetworkChallengeProbe(opts: NetworkChallengeProbeOptions = {}): ChallengeProbe {
  const httpPort = checkPort(opts.httpPort ?? 80, 'httpPort');
  const tlsPort = checkPort(opts.tlsPort ?? 443, 'tlsPort');
  const timeoutMs = opts.timeoutMs ?? 5000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CoreError('config_invalid', `timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  const dnsServers = opts.dnsServers ?? [];
  // Built once so a malformed server list fails at startup instead of turning every probe into a DNS error.
  const serverLabel = describeServers(newResolver(dnsServers, timeoutMs), dnsServers);

  const lookup = <T>(run: (r: dns.promises.Resolver) => Promise<T>): Promise<T> =>
    queryWithin(dnsServers, timeoutMs, run);

  async function resolveAddresses(domain: string): Promise<Address[] | ProbeResult> {
    const [v4, v6] = await lookup((r) => Promise.allSettled([r.resolve4(domain), r.resolve6(domain)]));
    const addresses: Address[] = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
    ];
    if (addresses.length > 0) return addresses;
    const failures = [v4, v6].flatMap((s) => (s.status === 'rejected' ? [errnoCode(s.reason)] : []));
    const hard = failures.find((code) => code !== 'ENOTFOUND' && code !== 'ENODATA');
    if (hard !== undefined) {
      return {
        ok: false,
        detail: `could not resolve ${domain}: ${describeDnsError(hard, timeoutMs)} (${serverLabel})`,
      };
    }
    return { ok: false, detail: `no A/AAAA record for ${domain} (${serverLabel})` };
  }

  async function acrossAddresses(
    domain: string,
    probeOne: (addr: Address) => Promise<AddressResult>,
  ): Promise<ProbeResult> {
    const resolved = await resolveAddresses(domain);
    if (!Array.isArray(resolved)) return resolved;
    // The CA may pick any of the addresses, so every one must serve the challenge; probing concurrently keeps
    // a multi-address name within one timeout.
    const results = await Promise.all(resolved.map(async (addr) => ({ addr, result: await probeOne(addr) })));
    // An IPv6 address this host cannot route to says nothing about what the CA will see.
    const skipped = results.filter(({ addr, result }) => !result.ok && addr.family === 6 && result.unroutable);
    const considered = results.filter((r) => !skipped.includes(r));
    const first = (considered.length > 0 ? considered : results)[0]!;
    const failed = considered.filter(({ result }) => !result.ok);
    const suffix = [
      failed.length > 0 && results.length > 1 ? `${failed.length} of ${results.length} addresses failed` : '',
      skipped.length > 0
        ? `not checked: ${skipped.map(({ addr }) => addr.address).join(', ')} (no IPv6 route from here)`
        : '',
    ]
      .filter(Boolean)
      .join('; ');
    const pick = failed[0] ?? first;
    return toResult({
      ok: failed.length === 0 && considered.length > 0,
      detail: suffix ? `${pick.result.detail} [${suffix}]` : pick.result.detail,
      observed: pick.result.observed,
    });
  }

  return {
    async http(domain, token, keyAuthorization) {
      if (isWildcard(domain)) {
        return { ok: false, detail: `http-01 cannot validate wildcard name ${domain}; use dns-01` };
      }
      const path = `/.well-known/acme-challenge/${encodeURIComponent(token)}`;
      // Mirrors the Host header the CA's client derives from its URL, which carries the port when not 80.
      const host = httpPort === 80 ? domain : `${domain}:${httpPort}`;
      const url = `http://${host}${path}`;
      try {
        return await acrossAddresses(domain, async ({ address, family }) => {
          const where = `GET ${url} at ${address}`;
          const res = await httpGet({ address, family, port: httpPort, host, path, timeoutMs });
          if ('error' in res) return networkFailure(where, res.error, timeoutMs);
          const observedBody = res.truncated ? `${res.body}…` : res.body;
          if (res.status >= 300 && res.status < 400 && res.location !== undefined) {
            return {
              ok: false,
              detail: `${where}: HTTP ${res.status} redirected to ${res.location} (redirects are not followed here)`,
              observed: res.location,
            };
          }
          if (res.status !== 200) {
            return {
              ok: false,
              detail: `${where}: HTTP ${res.status}, ${describeBody(res.body)}`,
              observed: observedBody,
            };
          }
          if (res.truncated || res.body.trimEnd() !== keyAuthorization) {
            return {
              ok: false,
              detail: `${where}: HTTP 200 but ${describeBody(res.body)} is not the expected key authorization`,
              observed: observedBody,
            };
          }
          return { ok: true, detail: `${where}: HTTP 200 with the expected key authorization`, observed: res.body };
        });
      } catch (err) {
        return unexpected(`GET ${url}`, err);
      }
    },

    async dns(domain, expectedTxt) {
      const name = `_acme-challenge.${isWildcard(domain) ? domain.slice(2) : domain}`;
      try {
        let records: string[][];
        try {
          records = await lookup((r) => r.resolveTxt(name));
        } catch (err) {
          return { ok: false, detail: `TXT ${name}: ${describeDnsError(errnoCode(err), timeoutMs)} (${serverLabel})` };
        }
        // A TXT record longer than 255 bytes arrives as several strings the CA concatenates.
        const values = records.map((chunks) => chunks.join(''));
        const observed = values.map((v) => JSON.stringify(v)).join(', ');
        if (values.includes(expectedTxt)) {
          const among = values.length > 1 ? ` among ${values.length} records` : '';
          return toResult({ ok: true, detail: `TXT ${name} has the expected value${among}`, observed });
        }
        const seen = values.length === 0 ? 'no values' : clip(observed, DETAIL_SNIPPET_MAX);
        return toResult({
          ok: false,
          detail: `TXT ${name} does not have the expected value; saw ${seen} (${serverLabel})`,
          observed,
        });
      } catch (err) {
        return unexpected(`TXT ${name}`, err);
      }
    },

    async tlsAlpn(domain, keyAuthorization) {
      if (isWildcard(domain)) {
        return { ok: false, detail: `tls-alpn-01 cannot validate wildcard name ${domain}; use dns-01` };
      }
      const target = `TLS ${domain}:${tlsPort} (ALPN ${ACME_TLS_ALPN})`;
      try {
        return await acrossAddresses(domain, async ({ address }) => {
          const where = `${target} at ${address}`;
          const res = await tlsHandshake({ address, port: tlsPort, servername: domain, timeoutMs });
          if ('error' in res) return networkFailure(where, res.error, timeoutMs);
          const observed = [`ALPN ${res.alpn || 'none'}`, `SAN ${res.cert?.subjectAltName ?? 'none'}`].join('; ');
          if (res.alpn !== ACME_TLS_ALPN) {
            const seen = res.alpn ? `negotiated ${res.alpn} instead` : 'no ALPN protocol negotiated';
            return { ok: false, detail: `${where}: ${seen}; the server does not answer ${ACME_TLS_ALPN}`, observed };
          }
          if (res.cert === undefined) {
            return { ok: false, detail: `${where}: the server presented no certificate`, observed };
          }
          const problem = tlsAlpnCertificateProblem(res.cert.toString(), domain, keyAuthorization);
          if (problem) return { ok: false, detail: `${where}: ${tlsAlpnProblemText(problem, domain)}`, observed };
          return {
            ok: true,
            detail: `${where}: challenge certificate for ${domain} with the expected digest`,
            observed,
          };
        });
      } catch (err) {
        return unexpected(target, err);
      }
    },
  };
}

function checkPort(port: number, name: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CoreError('config_invalid', `${name} must be a port number between 1 and 65535, got ${port}`);
  }
  return port;
}

function describeServers(resolver: dns.promises.Resolver, configured: string[]): string {
  const servers = resolver.getServers().join(', ');
  return configured.length > 0 ? `asked ${servers}` : `asked system DNS ${servers || '(none configured)'}`;
}

function isWildcard(domain: string): boolean {
  return domain.startsWith('*.');
}

/** What the probe says about a presented certificate that fails the RFC 8737 rule. */
function tlsAlpnProblemText(problem: TlsAlpnCertificateProblem, domain: string): string {
  switch (problem.reason) {
    case 'unreadable':
      return 'the presented certificate is not readable';
    case 'wrong_names': {
      const dnsNames = problem.names.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase());
      return `certificate is for ${dnsNames.join(', ') || 'no DNS names'}, not ${domain} alone`;
    }
    case 'no_acme_identifier':
      return 'certificate has no acmeIdentifier extension, so it is not a challenge certificate';
    case 'malformed_acme_identifier':
      return "certificate's acmeIdentifier extension is not critical or holds no SHA-256 digest";
    case 'digest_mismatch':
      return "certificate's acmeIdentifier digest does not match the key authorization";
  }
}

function toResult(r: ProbeResult): ProbeResult {
  return r.observed === undefined
    ? { ok: r.ok, detail: r.detail }
    : { ok: r.ok, detail: r.detail, observed: clip(r.observed, OBSERVED_MAX) };
}

function describeBody(body: string): string {
  return body.length === 0 ? 'empty body' : `body ${JSON.stringify(clip(body, DETAIL_SNIPPET_MAX))}`;
}

function describeDnsError(code: string, timeoutMs: number): string {
  switch (code) {
    case 'ENOTFOUND':
      return 'NXDOMAIN (no such name)';
    case 'ENODATA':
      return 'no record of that type (ENODATA)';
    case 'ESERVFAIL':
      return 'SERVFAIL from the DNS server';
    case 'EREFUSED':
      return 'the DNS server REFUSED the query';
    case 'ECONNREFUSED':
      return 'could not reach the DNS server (ECONNREFUSED)';
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return `timed out after ${timeoutMs} ms`;
    default:
      return code;
  }
}

const UNROUTABLE = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

function networkFailure(where: string, err: unknown, timeoutMs: number): AddressResult {
  const code = errnoCode(err);
  const unroutable = UNROUTABLE.has(code);
  return {
    ok: false,
    detail: `${where}: ${describeNetError(code, err, timeoutMs)}`,
    ...(unroutable ? { unroutable } : {}),
  };
}

function describeNetError(code: string, err: unknown, timeoutMs: number): string {
  switch (code) {
    case 'ETIMEDOUT':
      return `timed out after ${timeoutMs} ms`;
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'EPIPE':
      return 'connection closed by the server';
  }
  const message = err instanceof Error ? err.message : String(err);
  const handshake = tlsHandshakeReason(code, message, 'challenge port');
  if (handshake !== null) return `TLS handshake failed: ${handshake}`;
  return code === UNKNOWN_ERRNO ? message : `${code}: ${message}`;
}

function unexpected(what: string, err: unknown): ProbeResult {
  return {
    ok: false,
    detail: `${what}: probe failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`,
  };
}

type HttpOutcome = { status: number; location?: string; body: string; truncated: boolean } | { error: unknown };

function httpGet(o: {
  address: string;
  family: 4 | 6;
  port: number;
  host: string;
  path: string;
  timeoutMs: number;
}): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    const finish = settleOnce<HttpOutcome>(resolve, () => {
      clearTimeout(timer);
      req.destroy();
    });
    const req = http.request({
      host: o.address,
      family: o.family,
      port: o.port,
      path: o.path,
      method: 'GET',
      // A fresh connection per probe: a pooled keep-alive socket could answer from a stale backend.
      agent: false,
      headers: { Host: o.host, Accept: '*/*', 'User-Agent': 'bigip-acme-challenge-probe', Connection: 'close' },
    });
    const timer = setTimeout(() => finish({ error: timeoutError() }), o.timeoutMs);
    req.on('error', (error) => finish({ error }));
    // A challenge response is ~90 bytes; anything past the cap is already wrong.
    req.on('response', (res) =>
      readCappedResponse(res, BODY_CAP, (outcome) =>
        finish('error' in outcome ? outcome : { ...outcome, body: outcome.body.toString('utf8') }),
      ),
    );
    req.end();
  });
}

type TlsOutcome = { alpn: string | false | null; cert: X509Certificate | undefined } | { error: unknown };

function tlsHandshake(o: {
  address: string;
  port: number;
  servername: string;
  timeoutMs: number;
}): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    const finish = settleOnce<TlsOutcome>(resolve, () => {
      clearTimeout(timer);
      socket.destroy();
    });
    const socket = tls.connect({
      host: o.address,
      port: o.port,
      servername: o.servername,
      ALPNProtocols: [ACME_TLS_ALPN],
      // The challenge certificate is self-signed by design; its digest, not its chain, is what we check.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => finish({ error: timeoutError() }), o.timeoutMs);
    socket.on('error', (error) => finish({ error }));
    socket.once('secureConnect', () => {
      finish({ alpn: socket.alpnProtocol, cert: socket.getPeerX509Certificate() });
    });
  });
}
