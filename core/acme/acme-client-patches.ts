/**
 * Every place this project reaches into acme-client's internals, for the version they were written against
 * (`PATCHED_ACME_CLIENT_VERSION`; tests/unit/acme-client-patches.test.ts fails on any other). Nothing else
 * touches `client.http`, `client.api` or the axios interceptors.
 *
 * - retries on 429/5xx off: they resend a stale nonce (node-acme-client #103) and multiply a hung CA's wait;
 * - network failures passed through unwrapped, so they can be classified;
 * - every request through the caller's `send` (limits, keep-alive agent);
 * - nonces: every answer's Replay-Nonce feeds a pool that signed requests draw from before `HEAD newNonce`;
 * - badNonce: resent per the one rule in bad-nonce-retry.ts, with the fresh nonce the rejection carried;
 * - the account key parsed once: acme-client signs with the PEM, which OpenSSL 3 parses again on every
 *   signature (~1.3 ms of CPU against 0.1 ms for the signature itself, 8+ signatures per certificate).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import acme from 'acme-client';
import { badNonceRetry } from './bad-nonce-retry.ts';
import type { NoncePool } from './nonce-pool.ts';

/** The acme-client releases these patches were written for and checked against. */
export const PATCHED_ACME_CLIENT_VERSION = '5.4.x';

export function isPatchedAcmeClientVersion(version: string): boolean {
  return /^5\.4\.\d+$/.test(version);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | undefined>;
  data: unknown;
}

type Request = (url: string, method: string, opts?: Record<string, unknown>) => Promise<RawResponse>;
type SignedOptions = { kid?: string | null; nonce?: string | null; includeExternalAccountBinding?: boolean };

/** acme-client's `HttpClient` (src/http.js): the members patched here. */
export interface AcmeHttpInternals {
  request: Request;
  getNonce(): Promise<string>;
  signedRequest(url: string, payload: unknown, opts?: SignedOptions, attempts?: number): Promise<RawResponse>;
  maxBadNonceRetries: number;
  /** PEM Buffer as acme-client keeps it; a KeyObject works everywhere it is used (getJwk, createSign). */
  accountKey: Buffer | KeyObject;
}

/** acme-client's `AcmeApi` (src/api.js): the only way to send a signed request and see its status code. */
export interface AcmeApiInternals {
  apiRequest(url: string, payload: unknown, validStatusCodes: number[]): Promise<RawResponse>;
  /** `includeJwsKid: false` signs with a `jwk` header instead of the account URL (newAccount, revokeCert by key). */
  apiResourceRequest(
    resource: string,
    payload: unknown,
    validStatusCodes: number[],
    opts?: { includeJwsKid?: boolean },
  ): Promise<RawResponse>;
}

type Rejected = (error: { response?: unknown }) => Promise<unknown>;

/** acme-client's axios response interceptors (src/axios.js): its retry handler is among them. */
export function responseInterceptors(): ({ rejected?: Rejected } | null)[] {
  return (acme.axios.interceptors.response as unknown as { handlers: ({ rejected?: Rejected } | null)[] }).handlers;
}

export function acmeSettings(): { retryMaxAttempts: number } {
  return (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings;
}

export function httpInternals(client: acme.Client): AcmeHttpInternals {
  return (client as unknown as { http: AcmeHttpInternals }).http;
}

export function apiInternals(client: acme.Client): AcmeApiInternals {
  return (client as unknown as { api: AcmeApiInternals }).api;
}

let patchedGlobally = false;

/** The process-wide patches (acme-client has one axios instance); idempotent. */
export function patchAcmeClientGlobally(): void {
  if (patchedGlobally) return;
  patchedGlobally = true;
  // No retries inside acme-client: they would resend stale nonces and, on a CA that does not answer,
  // multiply the wait (5 tries, 5-25 s apart) far past the timeout. Callers retry knowing Retry-After.
  acmeSettings().retryMaxAttempts = 0;
  // Its interceptor handles a failure without a response (connection refused, TLS trust, timeout) by reading
  // `response.config` and throws a TypeError that hides the real cause: let such errors through untouched.
  for (const handler of responseInterceptors()) {
    const original = handler?.rejected;
    if (!handler || !original) continue;
    handler.rejected = (error) => (error?.response ? original(error) : Promise.reject(error));
  }
  acme.setLogger(() => {});
}

export interface ClientPatch {
  /** Sends every request acme-client itself makes (directory, newNonce, signed POSTs); `request` is its own. */
  send(url: string, method: string, opts: Record<string, unknown>, request: Request): Promise<RawResponse>;
  /** Shared by every client of the same CA: a nonce is the CA's, not the account's. */
  nonces: NoncePool;
}

function problemType(data: unknown): string | undefined {
  return data && typeof data === 'object' && 'type' in data ? String(data.type) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Routes one acme-client Client's traffic through `patch`; returns the same client. */
export function patchClient(client: acme.Client, patch: ClientPatch): acme.Client {
  patchAcmeClientGlobally();
  const http = httpInternals(client);
  const { nonces } = patch;
  http.accountKey = createPrivateKey(http.accountKey as Buffer);

  const request = http.request.bind(http);
  http.request = async (url, method, opts = {}) => {
    const resp = await patch.send(url, method, opts, request);
    // A HEAD newNonce answer goes straight to the request that asked for it (getNonce returns it).
    if (method !== 'head') nonces.put(resp.headers['replay-nonce']);
    return resp;
  };

  const fetchNonce = http.getNonce.bind(http);
  http.getNonce = async () => nonces.take() ?? fetchNonce();

  // The library's own resend (5 tries, then ours on top) is replaced by the one rule.
  http.maxBadNonceRetries = 0;
  const signedOnce = http.signedRequest.bind(http);
  http.signedRequest = async (url, payload, opts = {}) => {
    let nonce = opts.nonce ?? null;
    for (let attempt = 1; ; attempt++) {
      const resp = await signedOnce(url, payload, { ...opts, nonce });
      const next = badNonceRetry(attempt, resp.status, problemType(resp.data));
      if (!next.retry) return resp;
      // RFC 8555 §6.5: the rejection carries a fresh nonce; use it unless another request already has.
      const fresh = resp.headers['replay-nonce'];
      nonce = fresh && nonces.claim(fresh) ? fresh : null;
      if (next.delayMs > 0) await sleep(next.delayMs);
    }
  };
  return client;
}
