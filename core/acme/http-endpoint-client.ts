import dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { ChallengePayload } from '../domain/challenge-payload.ts';
import { CoreError } from '../errors.ts';
import { clip } from '../net/clip.ts';
import { errnoCode } from '../net/errno-code.ts';
import { timeoutError } from '../net/timeout-error.ts';
import { isTlsVerifyError, tlsHandshakeReason, tlsVerifyReason } from '../net/tls-failure.ts';
import type { EndpointClient, EndpointResult } from '../ports/endpoint-client.ts';
import { readCappedResponse } from '../net/capped-response.ts';
import { blockListOf, refusalReason } from './endpoint-address-policy.ts';
import { settleOnce } from '../net/settle-once.ts';

export interface EndpointPolicy {
  /**
   * CIDRs (or bare addresses) an operator explicitly allows even if they fall in a refused range, e.g.
   * `169.254.10.0/24` for a responder on a link-local network. IPv4 entries also cover IPv4-mapped IPv6.
   */
  allow: string[];
  /** Total budget per post: address lookup, connection, TLS, request and response together. Default 10000. */
  timeoutMs?: number;
  /**
   * Extra PEM CA certificates trusted for https endpoints in addition to Node's bundled roots, for a
   * responder whose certificate comes from an internal CA.
   */
  ca?: string[];
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Only enough of the answer is read to explain a failure; the endpoint decides how much it sends. */
const BODY_CAP = 4 * 1024;
const DETAIL_SNIPPET_MAX = 300;

type Failure = Omit<EndpointResult, 'ok' | 'status'> & { status?: number };

function fail(f: Failure): EndpointResult {
  return {
    ok: false,
    status: f.status ?? null,
    detail: f.detail,
    ...(f.code === undefined ? {} : { code: f.code }),
    ...(f.retryable === undefined ? {} : { retryable: f.retryable }),
  };
}

export function createHttpEndpointClient(policy: EndpointPolicy): EndpointClient {
  const allow = blockListOf(policy.allow, 'allow');
  const timeoutMs = policy.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CoreError('config_invalid', `endpoint timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  const ca = policy.ca && policy.ca.length > 0 ? [...tls.rootCertificates, ...policy.ca] : undefined;

  async function post(
    url: string,
    username: string,
    password: string,
    payload: ChallengePayload,
  ): Promise<EndpointResult> {
    // Nothing of the raw URL is echoed until it has parsed without credentials in it.
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return fail({ detail: 'the API endpoint is not a valid URL', code: 'input_invalid', retryable: false });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      return fail({
        detail: `the API endpoint must be an http or https URL, not ${u.protocol.replace(/:$/, '')}`,
        code: 'input_invalid',
        retryable: false,
      });
    }
    if (u.username !== '' || u.password !== '') {
      return fail({
        detail: 'the API endpoint URL must not carry credentials; use the user name and password fields',
        code: 'input_invalid',
        retryable: false,
      });
    }
    // The query string may hold a token of its own, so it is only hinted at.
    const shown = `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
    const what = `POST ${shown}`;
    if (username.includes(':')) {
      return fail({
        detail: `${what}: the user name must not contain ":" (HTTP Basic auth)`,
        code: 'input_invalid',
        retryable: false,
      });
    }

    const redact = redactor(password, username);
    const deadline = Date.now() + timeoutMs;
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    try {
      const resolved = await resolveHost(host, deadline);
      if ('error' in resolved) {
        const code = errnoCode(resolved.error);
        const why = code === 'ETIMEDOUT' ? `timed out after ${timeoutMs} ms` : describeLookupError(code);
        return fail({
          detail: `${what}: could not resolve ${host}: ${why}`,
          code: 'challenge_unreachable',
          retryable: true,
        });
      }
      for (const { address } of resolved.addresses) {
        const reason = refusalReason(address, allow);
        if (reason !== null) {
          const target = address === host ? address : `${host} resolves to ${address}`;
          return fail({
            detail: `${what}: refused: ${target}, which is ${reason}; add it to the endpoint allow list if this is intended`,
            code: 'input_invalid',
            retryable: false,
          });
        }
      }

      const body = Buffer.from(JSON.stringify(payload), 'utf8');
      const outcome = await send({
        url: u,
        host,
        addresses: resolved.addresses,
        headers: {
          Host: u.host,
          'Content-Type': 'application/json',
          'Content-Length': String(body.length),
          Accept: 'application/json',
          'User-Agent': 'bigip-acme',
          Authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
          Connection: 'close',
        },
        body,
        remainingMs: Math.max(1, deadline - Date.now()),
        ca,
      });
      if ('error' in outcome) return networkFailure(what, outcome.error, timeoutMs, redact);

      const at = net.isIP(host) === 0 && outcome.remoteAddress ? `${what} at ${outcome.remoteAddress}` : what;
      const { status } = outcome;
      if (status >= 200 && status < 300) return { ok: true, status, detail: `${at}: HTTP ${status}` };
      if (status >= 300 && status < 400) {
        const where = outcome.location === undefined ? 'elsewhere' : describeLocation(outcome.location, u, redact);
        return fail({
          status,
          detail: `${at}: HTTP ${status} redirected to ${where}, not followed; set the API endpoint to the final URL`,
          code: 'input_invalid',
          retryable: false,
        });
      }
      const transient = status >= 500 || status === 408 || status === 425 || status === 429 || status < 200;
      return fail({
        status,
        detail: `${at}: HTTP ${status}, ${describeBody(outcome.body, outcome.truncated, redact)}`,
        code: transient ? 'challenge_unreachable' : 'input_invalid',
        retryable: transient,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return fail({
        detail: `${what}: failed unexpectedly: ${redact(message)}`,
        code: 'challenge_unreachable',
        retryable: true,
      });
    }
  }

  return { post };
}

type Resolved = { addresses: LookupAddress[] } | { error: unknown };

async function resolveHost(host: string, deadline: number): Promise<Resolved> {
  const family = net.isIP(host);
  if (family !== 0) return { addresses: [{ address: host, family }] };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Resolved>((resolve) => {
    timer = setTimeout(() => resolve({ error: timeoutError() }), Math.max(1, deadline - Date.now()));
  });
  try {
    // getaddrinfo cannot be cancelled; on timeout its late answer is simply ignored.
    const lookup = dns.promises
      .lookup(host, { all: true, verbatim: true })
      .then(
        (addresses): Resolved =>
          addresses.length > 0
            ? { addresses }
            : { error: Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' }) },
      )
      .catch((error: unknown): Resolved => ({ error }));
    return await Promise.race([lookup, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A `lookup` for the request that answers with the addresses already vetted, so the address that was checked
 * is the one dialled even if the name's DNS changes in between (DNS rebinding). Host header and SNI still
 * carry the URL's host name.
 */
function pinnedLookup(addresses: LookupAddress[]): net.LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    const matching = addresses.filter((a) => family === 0 || a.family === family);
    if (matching.length === 0) {
      callback(Object.assign(new Error(`no IPv${family} address among the vetted ones`), { code: 'ENOTFOUND' }), '');
      return;
    }
    // Node 20's connection racing (autoSelectFamily) asks for all addresses; plain connects ask for one.
    if (options.all) callback(null, matching);
    else callback(null, matching[0]!.address, matching[0]!.family);
  };
}

type SendOutcome =
  | { status: number; location?: string; body: Buffer; truncated: boolean; remoteAddress: string | undefined }
  | { error: unknown };

function send(o: {
  url: URL;
  host: string;
  addresses: LookupAddress[];
  headers: Record<string, string>;
  body: Buffer;
  remainingMs: number;
  ca: string[] | undefined;
}): Promise<SendOutcome> {
  return new Promise((resolve) => {
    const finish = settleOnce<SendOutcome>(resolve, () => {
      clearTimeout(timer);
      req.destroy();
    });
    const secure = o.url.protocol === 'https:';
    const options: https.RequestOptions = {
      hostname: o.host,
      port: o.url.port === '' ? (secure ? 443 : 80) : Number(o.url.port),
      path: `${o.url.pathname}${o.url.search}`,
      method: 'POST',
      headers: o.headers,
      // A fresh connection per post; no pooled socket can carry a request to a previously vetted address.
      agent: false,
      lookup: pinnedLookup(o.addresses),
      ...(secure && net.isIP(o.host) === 0 ? { servername: o.host } : {}),
      ...(secure && o.ca !== undefined ? { ca: o.ca } : {}),
    };
    // No redirect handling exists in node:http, so a 3xx simply comes back as the response.
    const req = secure ? https.request(options) : http.request(options);
    const timer = setTimeout(() => finish({ error: timeoutError() }), o.remainingMs);
    req.on('error', (error) => finish({ error }));
    req.on('response', (res) => {
      const remoteAddress = res.socket?.remoteAddress;
      readCappedResponse(res, BODY_CAP, (outcome) =>
        finish('error' in outcome ? outcome : { ...outcome, remoteAddress }),
      );
    });
    req.end(o.body);
  });
}

/**
 * Scrubs text the endpoint sent back (body, Location, error text) of what it must not repeat: the password,
 * the Basic credentials in any form, and private keys echoed from a tls payload.
 */
function redactor(password: string, username: string): (text: string) => string {
  const secrets = [
    password,
    Buffer.from(`${username}:${password}`, 'utf8').toString('base64'),
    encodeURIComponent(password),
  ].filter((s) => s !== '');
  return (text) => {
    let out = text.replace(
      /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
      '[private key]',
    );
    for (const secret of secrets) out = out.split(secret).join('[redacted]');
    return out;
  };
}

function describeBody(body: Buffer, truncated: boolean, redact: (text: string) => string): string {
  const text = redact(body.toString('utf8')).replace(/\s+/g, ' ').trim();
  if (text === '') return truncated ? 'unreadable body' : 'empty body';
  const shown = clip(text, DETAIL_SNIPPET_MAX);
  return `body ${JSON.stringify(truncated && shown === text ? `${text}…` : shown)}`;
}

function describeLocation(location: string, base: URL, redact: (text: string) => string): string {
  try {
    const target = new URL(location, base);
    target.username = '';
    target.password = '';
    return clip(redact(target.toString()), DETAIL_SNIPPET_MAX);
  } catch {
    return JSON.stringify(clip(redact(location), DETAIL_SNIPPET_MAX));
  }
}

function describeLookupError(code: string): string {
  switch (code) {
    case 'ENOTFOUND':
      return 'no such host (ENOTFOUND)';
    case 'EAI_AGAIN':
      return 'temporary DNS failure (EAI_AGAIN)';
    case 'ENODATA':
      return 'no address records (ENODATA)';
    default:
      return code;
  }
}

function networkFailure(
  what: string,
  err: unknown,
  timeoutMs: number,
  redact: (text: string) => string,
): EndpointResult {
  const code = errnoCode(err);
  const message = redact(err instanceof Error ? err.message : String(err));
  let why: string;
  switch (code) {
    case 'ETIMEDOUT':
      why = `timed out after ${timeoutMs} ms`;
      break;
    case 'ECONNREFUSED':
      why = 'connection refused';
      break;
    case 'ECONNRESET':
      why = 'connection reset by the server';
      break;
    case 'EPIPE':
      why = 'connection closed by the server';
      break;
    case 'EHOSTUNREACH':
      why = 'host unreachable';
      break;
    case 'ENETUNREACH':
      why = 'network unreachable';
      break;
    default: {
      const handshake = tlsHandshakeReason(code, message, 'endpoint');
      if (isTlsVerifyError(code)) why = `TLS certificate not accepted: ${tlsVerifyReason(message)}`;
      else if (handshake !== null) why = `TLS handshake failed: ${handshake}`;
      else if (code.startsWith('HPE_')) why = `not a valid HTTP response (${code})`;
      else why = code === 'EUNKNOWN' ? message : `${code}: ${message}`;
    }
  }
  const line = clip(why.replace(/\s+/g, ' ').trim(), DETAIL_SNIPPET_MAX);
  return fail({ detail: `${what}: ${line}`, code: 'challenge_unreachable', retryable: !isTlsVerifyError(code) });
}
