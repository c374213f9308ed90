import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import acme from 'acme-client';
import { describe, expect, it } from 'vitest';
import {
  acmeSettings,
  apiInternals,
  httpInternals,
  isPatchedAcmeClientVersion,
  PATCHED_ACME_CLIENT_VERSION,
  patchClient,
  type RawResponse,
  responseInterceptors,
} from '../../core/acme/acme-client-patches.ts';
import { BAD_NONCE_TYPE } from '../../core/acme/bad-nonce-retry.ts';
import { NoncePool } from '../../core/acme/nonce-pool.ts';

const packageJson = createRequire(import.meta.url).resolve('acme-client/package.json');
const installed = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
const accountKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const DIR = 'https://ca.test/dir';

function newClient(): acme.Client {
  return new acme.Client({ directoryUrl: DIR, accountKey, accountUrl: 'https://ca.test/acct/1' });
}

describe('acme-client internals the patches rely on (pinned to the version they were written for)', () => {
  it(`node_modules has acme-client ${PATCHED_ACME_CLIENT_VERSION}`, () => {
    expect(
      isPatchedAcmeClientVersion(installed.version),
      `acme-client ${installed.version} is installed, but core/acme/acme-client-patches.ts was written for ` +
        `${PATCHED_ACME_CLIENT_VERSION}: read the new src/http.js, src/api.js and src/axios.js, adapt the patches, ` +
        'then update PATCHED_ACME_CLIENT_VERSION',
    ).toBe(true);
  });

  it('HttpClient: request, getNonce, signedRequest (calling getNonce, request and maxBadNonceRetries)', () => {
    const http = httpInternals(newClient());
    expect(typeof http.request).toBe('function');
    expect(typeof http.getNonce).toBe('function');
    expect(typeof http.signedRequest).toBe('function');
    expect(http.maxBadNonceRetries).toBe(5);
    const source = String(Object.getPrototypeOf(http).signedRequest);
    expect(source).toContain('this.getNonce()');
    expect(source).toContain("this.request(url, 'post'");
    expect(source).toContain('attempts < this.maxBadNonceRetries');
    expect(String(Object.getPrototypeOf(http).getNonce)).toContain("this.request(url, 'head')");
    // The account key is only read to sign and to derive the JWK; both accept a parsed KeyObject.
    expect(Buffer.isBuffer(http.accountKey)).toBe(true);
    expect(String(Object.getPrototypeOf(http).createSignedBody)).toContain('key: this.accountKey');
    expect(String(Object.getPrototypeOf(http).getJwk)).toContain('getJwk(this.accountKey)');
  });

  it('AcmeApi: apiRequest and apiResourceRequest', () => {
    const api = apiInternals(newClient());
    expect(typeof api.apiRequest).toBe('function');
    expect(typeof api.apiResourceRequest).toBe('function');
  });

  it('axios: acmeSettings.retryMaxAttempts and a rejected response interceptor', () => {
    expect(typeof acmeSettings().retryMaxAttempts).toBe('number');
    expect(responseInterceptors().some((h) => typeof h?.rejected === 'function')).toBe(true);
  });
});

/** A CA in a function: answers acme-client's requests, records them, rejects the nonces it is told to. */
function fakeCa(rejectNonce: (nonce: string) => boolean) {
  const sent: { method: string; url: string; nonce?: string }[] = [];
  let counter = 0;
  const answer = (status: number, data: unknown): RawResponse => ({
    status,
    headers: { 'replay-nonce': `n${++counter}` },
    data,
  });
  const send = async (url: string, method: string, opts: Record<string, unknown>): Promise<RawResponse> => {
    if (method === 'get') return { status: 200, headers: {}, data: { newNonce: 'https://ca.test/nonce' } };
    if (method === 'head') {
      sent.push({ method, url });
      return answer(200, '');
    }
    const header = (opts.data as { protected: string }).protected;
    const { nonce } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { nonce: string };
    sent.push({ method, url, nonce });
    if (rejectNonce(nonce)) return answer(400, { type: BAD_NONCE_TYPE, detail: 'stale' });
    return answer(200, { ok: true });
  };
  return { sent, send };
}

describe('patchClient: pooled nonces and the one bad-nonce rule', () => {
  it('asks newNonce only when the pool is empty; every answer refills it', async () => {
    const ca = fakeCa(() => false);
    const client = patchClient(newClient(), { nonces: new NoncePool(), send: ca.send });
    const api = apiInternals(client);
    await api.apiRequest('https://ca.test/order/1', null, []);
    await api.apiRequest('https://ca.test/order/1', null, []);
    await api.apiRequest('https://ca.test/order/1', null, []);
    expect(ca.sent.map((s) => `${s.method} ${s.nonce ?? ''}`)).toEqual(['head ', 'post n1', 'post n2', 'post n3']);
  });

  it('signs with the account key parsed once, and the JWK is the same as from the PEM', async () => {
    const plain = httpInternals(newClient());
    const patched = httpInternals(
      patchClient(newClient(), { nonces: new NoncePool(), send: fakeCa(() => false).send }),
    );
    expect(Buffer.isBuffer(patched.accountKey)).toBe(false);
    const jwk = (h: object) => (h as { getJwk(): unknown }).getJwk();
    expect(jwk(patched)).toEqual(jwk(plain));
  });

  it('clients sharing a pool share nonces', async () => {
    const ca = fakeCa(() => false);
    const nonces = new NoncePool();
    await apiInternals(patchClient(newClient(), { nonces, send: ca.send })).apiRequest('https://ca.test/a', null, []);
    await apiInternals(patchClient(newClient(), { nonces, send: ca.send })).apiRequest('https://ca.test/b', null, []);
    expect(ca.sent.filter((s) => s.method === 'head')).toHaveLength(1);
  });

  it('on badNonce resends with the fresh nonce the rejection carried', async () => {
    const ca = fakeCa((nonce) => nonce === 'n1' || nonce === 'n2');
    const client = patchClient(newClient(), { nonces: new NoncePool(), send: ca.send });
    const resp = await apiInternals(client).apiRequest('https://ca.test/order/1', null, []);
    expect(resp.status).toBe(200);
    expect(ca.sent.map((s) => `${s.method} ${s.nonce ?? ''}`)).toEqual(['head ', 'post n1', 'post n2', 'post n3']);
  });

  it('stops after 10 sends and returns the badNonce answer (the library no longer resends on its own)', async () => {
    const ca = fakeCa(() => true);
    const client = patchClient(newClient(), { nonces: new NoncePool(), send: ca.send });
    const resp = await apiInternals(client).apiRequest('https://ca.test/order/1', null, []);
    expect(resp.status).toBe(400);
    expect(ca.sent.filter((s) => s.method === 'post')).toHaveLength(10);
    expect(ca.sent.filter((s) => s.method === 'head')).toHaveLength(1);
  });
});
