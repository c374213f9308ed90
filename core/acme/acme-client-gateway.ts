import { createHash, createPublicKey } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import acme from 'acme-client';
import { ariCertId } from '../domain/ari-cert-id.ts';
import { CoreError } from '../errors.ts';
import { errnoCode } from '../net/errno-code.ts';
import { isTlsVerifyError } from '../net/tls-failure.ts';
import type {
  AcmeAccount,
  AcmeAuthorization,
  AcmeChallenge,
  AcmeGateway,
  AcmeOrder,
  AcmeProblem,
  DirectoryInfo,
  RenewalInfo,
} from '../ports/acme-gateway.ts';
import { ariRetryAfterMs, parseRenewalInfoBody } from './renewal-info.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | undefined>;
  data: unknown;
}

/** acme-client's internal API object; public enough (documented in its source) and the only way to see status codes. */
interface AcmeApi {
  apiRequest(url: string, payload: unknown, validStatusCodes: number[]): Promise<RawResponse>;
  apiResourceRequest(resource: string, payload: unknown, validStatusCodes: number[]): Promise<RawResponse>;
}

const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';
const MAX_NONCE_ATTEMPTS = 10;
const ALREADY_REPLACED = 'urn:ietf:params:acme:error:alreadyReplaced';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Retry-After is delta-seconds or an HTTP date (Pebble sends both). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function problemOf(data: unknown, status: number): AcmeProblem {
  if (data && typeof data === 'object' && 'type' in data) {
    const p = data as AcmeProblem;
    return {
      type: String(p.type),
      detail: String(p.detail ?? ''),
      status,
      ...(p.subproblems ? { subproblems: p.subproblems } : {}),
    };
  }
  return { type: 'about:blank', detail: `HTTP ${status}`, status };
}

/** Turns a CA error response into a CoreError; the one place ACME failures are classified. */
export function classifyProblem(resp: RawResponse, doing: string): CoreError {
  const problem = problemOf(resp.data, resp.status);
  const short = problem.type.replace('urn:ietf:params:acme:error:', '');
  const retryAfterMs = parseRetryAfter(resp.headers['retry-after']);
  const detail = { problem, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const message = `CA refused to ${doing}: ${short}: ${problem.detail}`;
  if (short === 'rateLimited' || resp.status === 429) {
    return new CoreError('acme_rate_limited', message, { retryable: true, detail });
  }
  if (short === 'badNonce') return new CoreError('acme_bad_nonce', message, { retryable: true, detail });
  return new CoreError('acme_error', message, { retryable: resp.status >= 500, detail });
}

function classifyThrown(err: unknown, doing: string, url: string): CoreError {
  if (err instanceof CoreError) return err;
  const code = errnoCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (NETWORK_CODES.has(code) || code.startsWith('ERR_TLS') || isTlsVerifyError(code)) {
    return new CoreError('acme_unreachable', `cannot reach the CA at ${new URL(url).origin} to ${doing}: ${code}`, {
      // An untrusted CA certificate needs a settings change (ACME_CA_FILE, the URL); retrying cannot help.
      retryable: !isTlsVerifyError(code),
      cause: err,
    });
  }
  return new CoreError('acme_error', `${doing} failed: ${message}`, { cause: err, retryable: false });
}

function mailto(contact: string[]): string[] {
  return contact.map((c) => (c.startsWith('mailto:') ? c : `mailto:${c}`));
}

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

/** RFC 7638 JWK thumbprint of the account key. */
export function jwkThumbprint(accountKeyPem: string): string {
  const jwk = createPublicKey(accountKeyPem).export({ format: 'jwk' }) as Record<string, string>;
  const canonical =
    jwk.kty === 'EC'
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return b64url(createHash('sha256').update(canonical).digest());
}

/** Default bound on each request to the CA (ACME_TIMEOUT_SECONDS). */
export const DEFAULT_ACME_TIMEOUT_MS = 10_000;

/** What a request to the CA that did not complete in time becomes: retryable, and saying so in words. */
export function acmeTimeoutError(url: string, method: string, timeoutMs: number, cause?: unknown): CoreError {
  const u = new URL(url);
  return new CoreError(
    'acme_timeout',
    `the CA at ${u.host} did not answer ${method.toUpperCase()} ${u.pathname} within ${timeoutMs / 1000} s (timed out)`,
    {
      retryable: true,
      detail: { timeoutMs },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** axios' own timeout (`ECONNABORTED`, or `ETIMEDOUT` with clarifyTimeoutError) and the OS's connect timeout. */
function isTimeoutCode(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ECONNABORTED' || code === 'ETIMEDOUT';
}

/** The limits one request to the CA carries (axios options). */
export interface RequestLimits {
  /** axios: covers connecting (its connect-phase timer) and any silence on the socket after. */
  timeout: number;
  /** The whole exchange, however the CA trickles: DNS, connect, TLS, request, every byte of the answer. */
  signal: AbortSignal;
}

export interface AcmeClientGatewayOptions {
  /**
   * Bound on each request to the CA, from dialling to the last byte of the answer; default 10 s. A CA that
   * accepts and never answers fails with `acme_timeout` (retryable) after this long.
   */
  timeoutMs?: number;
  /** Extra trusted CA certificates (PEM) for a private ACME server, on top of the system roots. */
  caPem?: string;
}

type Rejected = (error: { response?: unknown }) => Promise<unknown>;
let networkErrorsUnwrapped = false;

/**
 * acme-client's response interceptor handles a failure without a response (connection refused, TLS trust,
 * timeout) by reading `response.config` and throws a TypeError that hides the real cause. Let such errors
 * through untouched so they can be classified; their retries are off anyway (see below).
 */
function unwrapNetworkErrors(): void {
  if (networkErrorsUnwrapped) return;
  networkErrorsUnwrapped = true;
  const handlers = (acme.axios.interceptors.response as unknown as { handlers: ({ rejected?: Rejected } | null)[] })
    .handlers;
  for (const handler of handlers) {
    const original = handler?.rejected;
    if (!handler || !original) continue;
    handler.rejected = (error) => (error?.response ? original(error) : Promise.reject(error));
  }
}

/**
 * AcmeGateway over acme-client. acme-client's own retries on 429/5xx resend a stale nonce (node-acme-client
 * #103), so they are turned off and retrying is left to the callers, which know Retry-After; its badNonce
 * retry (fresh nonce from the error) stays.
 */
export function createAcmeClientGateway(opts: AcmeClientGatewayOptions = {}): AcmeGateway {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ACME_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CoreError(
      'config_invalid',
      `the ACME timeout must be a positive number of milliseconds, got ${timeoutMs}`,
    );
  }
  // No retries inside acme-client: they would resend stale nonces (above) and, on a CA that does not answer,
  // multiply the wait (5 tries, 5-25 s apart) far past the timeout.
  (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings.retryMaxAttempts = 0;
  unwrapNetworkErrors();
  if (opts.caPem) {
    // One secure context for every connection: passing `ca` to the agent would rebuild the trust store
    // (~150 roots, ~16 ms of CPU) on each new connection, and acme-client opens one per nonce.
    const secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, opts.caPem] });
    acme.axios.defaults.httpsAgent = new https.Agent({ secureContext, keepAlive: true });
  }
  acme.setLogger(() => {});

  const clients = new Map<string, acme.Client>();
  const thumbprints = new Map<string, string>();

  /**
   * Sends one request under this gateway's limits. Each request gets its own full bound: a CA that answers
   * slowly but steadily is not cut short by the requests before it, and one that never answers fails after
   * `timeoutMs` on the first request it ignores.
   */
  async function bounded<T>(url: string, method: string, send: (limits: RequestLimits) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await send({ timeout: timeoutMs, signal });
    } catch (err) {
      if (signal.aborted || isTimeoutCode(err)) throw acmeTimeoutError(url, method, timeoutMs, err);
      throw err;
    }
  }

  /**
   * Every request acme-client itself sends (directory, newNonce, signed POSTs) goes through its client's
   * `http.request`; this gives each one the limits. Per client, so two gateways keep their own timeouts.
   */
  function withDeadlines(client: acme.Client): acme.Client {
    type Request = (url: string, method: string, o?: Record<string, unknown>) => Promise<unknown>;
    const http = (client as unknown as { http: { request: Request } }).http;
    const request = http.request.bind(http);
    http.request = (url, method, o = {}) => bounded(url, method, (limits) => request(url, method, { ...o, ...limits }));
    return client;
  }

  /** acme-client resends on badNonce 5 times; requests it sends itself get as many tries as ours. */
  function withNonceRetries(client: acme.Client): acme.Client {
    (client as unknown as { http: { maxBadNonceRetries: number } }).http.maxBadNonceRetries = MAX_NONCE_ATTEMPTS;
    return client;
  }

  /** Every acme-client Client this gateway uses: our badNonce tries and our request limits. */
  function configured(client: acme.Client): acme.Client {
    return withDeadlines(withNonceRetries(client));
  }

  function clientFor(account: AcmeAccount): acme.Client {
    const key = `${account.directoryUrl}\n${account.accountUrl}`;
    let client = clients.get(key);
    if (!client) {
      client = configured(
        new acme.Client({
          directoryUrl: account.directoryUrl,
          accountKey: account.accountKeyPem,
          accountUrl: account.accountUrl,
        }),
      );
      clients.set(key, client);
    }
    return client;
  }

  function api(account: AcmeAccount): AcmeApi {
    return (clientFor(account) as unknown as { api: AcmeApi }).api;
  }

  /**
   * A signed request, sent again while the CA rejects its nonce (each answer carries a fresh one). acme-client
   * retries a few times itself; under a CA that rejects half of all nonces that is not enough, and every
   * request is safe to repeat because a rejected nonce means the CA did nothing (reliability.md: ≤ 10).
   */
  async function signed(send: () => Promise<RawResponse>, doing: string, url: string): Promise<RawResponse> {
    for (let attempt = 1; ; attempt++) {
      let resp: RawResponse;
      try {
        resp = await send();
      } catch (err) {
        throw classifyThrown(err, doing, url);
      }
      const badNonce = resp.status === 400 && problemOf(resp.data, resp.status).type === BAD_NONCE;
      if (!badNonce || attempt >= MAX_NONCE_ATTEMPTS) return resp;
    }
  }

  async function call(account: AcmeAccount, url: string, payload: unknown, doing: string): Promise<RawResponse> {
    const resp = await signed(() => api(account).apiRequest(url, payload, []), doing, url);
    if (resp.status >= 400) throw classifyProblem(resp, doing);
    return resp;
  }

  function toOrder(resp: RawResponse, url: string): AcmeOrder {
    const data = resp.data as Omit<AcmeOrder, 'url'>;
    const retryAfterMs = parseRetryAfter(resp.headers['retry-after']);
    return { ...data, url, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }

  /** Unauthenticated GET through acme-client's axios (same TLS trust, limits, User-Agent); any status returned. */
  async function plainGet(url: string, doing: string): Promise<RawResponse> {
    try {
      return (await bounded(url, 'get', (limits) =>
        acme.axios.get(url, { validateStatus: () => true, ...limits }),
      )) as unknown as RawResponse;
    } catch (err) {
      throw classifyThrown(err, doing, url);
    }
  }

  async function orderRequest(account: AcmeAccount, payload: Record<string, unknown>): Promise<RawResponse> {
    return signed(
      () => api(account).apiResourceRequest('newOrder', payload, []),
      'create an order',
      account.directoryUrl,
    );
  }

  const gateway: AcmeGateway = {
    async directory(url) {
      const resp = await plainGet(url, 'read the directory');
      const data = resp.data as Record<string, unknown> | undefined;
      if (resp.status >= 400 || !data || typeof data !== 'object' || typeof data.newOrder !== 'string') {
        throw new CoreError(
          'acme_error',
          `${url} is not an ACME directory (HTTP ${resp.status}${data && typeof data === 'object' ? ', no newOrder' : ''})`,
          { retryable: resp.status >= 500 },
        );
      }
      const meta = (data.meta ?? {}) as Record<string, unknown>;
      return {
        url,
        termsOfService: typeof meta.termsOfService === 'string' ? meta.termsOfService : null,
        website: typeof meta.website === 'string' ? meta.website : null,
        caaIdentities: Array.isArray(meta.caaIdentities) ? meta.caaIdentities.map(String) : [],
        externalAccountRequired: meta.externalAccountRequired === true,
        profiles:
          meta.profiles && typeof meta.profiles === 'object'
            ? Object.fromEntries(
                Object.entries(meta.profiles as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
              )
            : {},
        renewalInfo: typeof data.renewalInfo === 'string' ? data.renewalInfo : null,
      } satisfies DirectoryInfo;
    },

    async createAccount(input) {
      const client = new acme.Client({
        directoryUrl: input.directoryUrl,
        accountKey: input.accountKeyPem,
        ...(input.eab ? { externalAccountBinding: { kid: input.eab.kid, hmacKey: input.eab.hmacKey } } : {}),
      });
      // newAccount goes through acme-client (the JWK, not a key id, signs it), so its own badNonce retry is
      // the one that counts here: raised to ours (at 5, a CA rejecting half of all nonces fails 1 account in 64).
      configured(client);
      try {
        await client.createAccount({
          termsOfServiceAgreed: input.termsOfServiceAgreed,
          ...(input.contact.length ? { contact: mailto(input.contact) } : {}),
        });
      } catch (err) {
        throw classifyThrown(err, 'create the account', input.directoryUrl);
      }
      return client.getAccountUrl();
    },

    async updateContact(account, contact) {
      await call(account, account.accountUrl, { contact: mailto(contact) }, 'update the account contact');
    },

    async newOrder(account, names, orderOpts = {}) {
      const payload = {
        identifiers: names.map((value) => ({ type: 'dns', value })),
        ...(orderOpts.profile ? { profile: orderOpts.profile } : {}),
      };
      let resp = await orderRequest(
        account,
        orderOpts.replaces ? { ...payload, replaces: orderOpts.replaces } : payload,
      );
      // RFC 9773 §5: the certificate was already replaced (another order named it). The renewal is still
      // wanted, so ask again as a plain order, once (reliability.md #15).
      if (orderOpts.replaces && resp.status === 409 && problemOf(resp.data, resp.status).type === ALREADY_REPLACED) {
        resp = await orderRequest(account, payload);
      }
      if (resp.status >= 400) throw classifyProblem(resp, 'create an order');
      const location = resp.headers.location;
      if (!location) throw new CoreError('acme_error', 'CA created an order without a Location header');
      return toOrder(resp, location);
    },

    async getOrder(account, url) {
      return toOrder(await call(account, url, null, 'read the order'), url);
    },

    async getAuthorization(account, url) {
      const resp = await call(account, url, null, 'read the authorization');
      const retryAfterMs = parseRetryAfter(resp.headers['retry-after']);
      return {
        ...(resp.data as Omit<AcmeAuthorization, 'url'>),
        url,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    },

    keyAuthorization(account, token) {
      let thumbprint = thumbprints.get(account.accountUrl);
      if (!thumbprint) {
        thumbprint = jwkThumbprint(account.accountKeyPem);
        thumbprints.set(account.accountUrl, thumbprint);
      }
      return `${token}.${thumbprint}`;
    },

    async answerChallenge(account, challengeUrl) {
      const resp = await call(account, challengeUrl, {}, 'accept the challenge answer');
      return resp.data as AcmeChallenge;
    },

    async finalize(account, order, csrPem) {
      const der = acme.crypto.getPemBodyAsB64u(csrPem);
      const resp = await call(account, order.finalize, { csr: der }, 'finalize the order');
      return toOrder(resp, order.url);
    },

    async downloadCertificate(account, certificateUrl) {
      const resp = await call(account, certificateUrl, null, 'download the certificate');
      return String(resp.data);
    },

    async deactivateAuthorization(account, url) {
      await call(account, url, { status: 'deactivated' }, 'deactivate the authorization');
    },

    async renewalInfo(directoryUrl, certPem) {
      // The directory is read each time: polls are hours apart, and this keeps no cache to go stale.
      const directory = await gateway.directory(directoryUrl);
      if (!directory.renewalInfo) return null;
      const url = `${directory.renewalInfo.replace(/\/+$/, '')}/${ariCertId(certPem)}`;
      const resp = await plainGet(url, 'read the renewal information');
      const retryAfterMs = ariRetryAfterMs(resp.headers['retry-after']);
      // 404: the CA does not know this certificate (not issued by it, or not yet visible to its ARI). Like a
      // malformed window (§4.2) that is "no suggestion": renew on the default schedule, ask again later.
      if (resp.status === 404) return { window: null, explanationUrl: null, retryAfterMs } satisfies RenewalInfo;
      if (resp.status >= 400) throw classifyProblem(resp, 'return the renewal information');
      return { ...parseRenewalInfoBody(resp.data), retryAfterMs } satisfies RenewalInfo;
    },
  };
  return gateway;
}
