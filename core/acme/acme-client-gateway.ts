import { createHash, createPublicKey } from 'node:crypto';
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
  RevocationOutcome,
} from '../ports/acme-gateway.ts';
import { apiInternals, patchAcmeClientGlobally, patchClient, type RawResponse } from './acme-client-patches.ts';
import { type AgentOption, caAgents, isStaleKeptAliveSocket } from './ca-agents.ts';
import { NoncePool } from './nonce-pool.ts';
import { ariRetryAfterMs, parseRenewalInfoBody } from './renewal-info.ts';

const ALREADY_REPLACED = 'urn:ietf:params:acme:error:alreadyReplaced';
const ALREADY_REVOKED = 'urn:ietf:params:acme:error:alreadyRevoked';

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

/** A revokeCert answer: 200 is done; `alreadyRevoked` is the same end state, so not an error. */
function revocationOutcome(resp: RawResponse): RevocationOutcome {
  if (resp.status < 400) return 'revoked';
  if (problemOf(resp.data, resp.status).type === ALREADY_REVOKED) return 'already_revoked';
  throw classifyProblem(resp, 'revoke the certificate');
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

/** The limits one request to the CA carries (axios options), and the kept-alive connection it goes on. */
export type RequestLimits = {
  /** axios: covers connecting (its connect-phase timer) and any silence on the socket after. */
  timeout: number;
  /** The whole exchange, however the CA trickles: DNS, connect, TLS, request, every byte of the answer. */
  signal: AbortSignal;
} & AgentOption;

export interface AcmeClientGatewayOptions {
  /**
   * Bound on each request to the CA, from dialling to the last byte of the answer; default 10 s. A CA that
   * accepts and never answers fails with `acme_timeout` (retryable) after this long.
   */
  timeoutMs?: number;
  /** Extra trusted CA certificates (PEM) for a private ACME server, on top of the system roots. */
  caPem?: string;
}

/**
 * AcmeGateway over acme-client (its internals are patched only in acme-client-patches.ts). Connections to the
 * CA are kept alive, nonces pooled, badNonce resent by the one rule; every other failure is classified here
 * and retrying it is left to the callers, which know Retry-After.
 */
export function createAcmeClientGateway(opts: AcmeClientGatewayOptions = {}): AcmeGateway {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ACME_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CoreError(
      'config_invalid',
      `the ACME timeout must be a positive number of milliseconds, got ${timeoutMs}`,
    );
  }
  // Before any request: plain GETs (directory, renewalInfo) go through acme-client's axios too.
  patchAcmeClientGlobally();
  const agents = caAgents({ timeoutMs, caPem: opts.caPem });
  const noncePools = new Map<string, NoncePool>();
  const clients = new Map<string, acme.Client>();
  const thumbprints = new Map<string, string>();

  /**
   * Sends one request under this gateway's limits, on the CA's kept-alive connection. Each request gets its
   * own full bound: a CA that answers slowly but steadily is not cut short by the requests before it, and one
   * that never answers fails after `timeoutMs` on the first request it ignores.
   */
  async function bounded<T>(url: string, method: string, send: (limits: RequestLimits) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(timeoutMs);
    const limits = { timeout: timeoutMs, signal, ...agents.forUrl(url) };
    try {
      return await send(limits).catch((err: unknown) => {
        if (isStaleKeptAliveSocket(err) && !signal.aborted) return send(limits);
        throw err;
      });
    } catch (err) {
      if (signal.aborted || isTimeoutCode(err)) throw acmeTimeoutError(url, method, timeoutMs, err);
      throw err;
    }
  }

  /** Every acme-client Client this gateway uses: its requests under our limits, nonces from the CA's pool. */
  function configured(client: acme.Client, directoryUrl: string): acme.Client {
    const origin = new URL(directoryUrl).origin;
    let nonces = noncePools.get(origin);
    if (!nonces) {
      nonces = new NoncePool();
      noncePools.set(origin, nonces);
    }
    return patchClient(client, {
      nonces,
      send: (url, method, o, request) => bounded(url, method, (limits) => request(url, method, { ...o, ...limits })),
    });
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
        account.directoryUrl,
      );
      clients.set(key, client);
    }
    return client;
  }

  /** A signed request; the CA's error answers come back as responses, failures to reach it are classified. */
  async function signed(send: () => Promise<RawResponse>, doing: string, url: string): Promise<RawResponse> {
    try {
      return await send();
    } catch (err) {
      throw classifyThrown(err, doing, url);
    }
  }

  async function call(account: AcmeAccount, url: string, payload: unknown, doing: string): Promise<RawResponse> {
    const resp = await signed(() => apiInternals(clientFor(account)).apiRequest(url, payload, []), doing, url);
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
      () => apiInternals(clientFor(account)).apiResourceRequest('newOrder', payload, []),
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
      // newAccount goes through acme-client's own flow (the JWK, not a key id, signs it): patched like the rest.
      configured(client, input.directoryUrl);
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

    async deactivateAccount(account) {
      // What acme-client's updateAccount({ status: 'deactivated' }) sends, through this gateway's limits and
      // error classification like updateContact.
      await call(account, account.accountUrl, { status: 'deactivated' }, 'deactivate the account');
    },

    async revokeCertificate(account, certPem, reasonCode) {
      const payload = { certificate: acme.crypto.getPemBodyAsB64u(certPem), reason: reasonCode };
      const send = () => apiInternals(clientFor(account)).apiResourceRequest('revokeCert', payload, []);
      return revocationOutcome(await signed(send, 'revoke the certificate', account.directoryUrl));
    },

    async revokeCertificateWithKey(directoryUrl, certPem, certKeyPem, reasonCode) {
      // A client of its own whose "account key" is the certificate's key, never registered: acme-client then
      // signs with a `jwk` header. It goes through `configured` like every client: this CA's nonce pool, the
      // same limits and kept-alive connection, the one badNonce rule.
      const client = configured(new acme.Client({ directoryUrl, accountKey: certKeyPem }), directoryUrl);
      const payload = { certificate: acme.crypto.getPemBodyAsB64u(certPem), reason: reasonCode };
      const send = () => apiInternals(client).apiResourceRequest('revokeCert', payload, [], { includeJwsKid: false });
      return revocationOutcome(await signed(send, 'revoke the certificate', directoryUrl));
    },
  };
  return gateway;
}
