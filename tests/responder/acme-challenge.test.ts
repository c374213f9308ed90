import { beforeEach, describe, expect, it } from 'vitest';
import { createResponderApp } from '../../responder/app.ts';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const KEY_AUTHORIZATION = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

describe('responder: GET /.well-known/acme-challenge/{token}', () => {
  let keyAuthorizations: Map<string, string>;
  let lookups: string[];
  let isReady: boolean;
  let failWith: Error | null;
  let app: ReturnType<typeof createResponderApp>;

  beforeEach(() => {
    keyAuthorizations = new Map([[TOKEN, KEY_AUTHORIZATION]]);
    lookups = [];
    isReady = true;
    failWith = null;
    app = createResponderApp({
      httpKeyAuthorization: (token) => {
        lookups.push(token);
        if (failWith) throw failWith;
        return keyAuthorizations.get(token) ?? null;
      },
      ready: async () => isReady,
    });
  });

  const challenge = (token: string, init?: RequestInit) => app.request(`/.well-known/acme-challenge/${token}`, init);

  it('serves the key authorization as uncached text/plain, exactly', async () => {
    const res = await challenge(TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain\b/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe(KEY_AUTHORIZATION);
    expect(lookups).toEqual([TOKEN]);
  });

  it('accepts tokens of exactly 22 and 128 base64url characters', async () => {
    const short = 'A'.repeat(21) + '_';
    const long = `${'-'.repeat(64)}${'z9'.repeat(32)}`;
    keyAuthorizations.set(short, 'short.thumb');
    keyAuthorizations.set(long, 'long.thumb');
    expect(await (await challenge(short)).text()).toBe('short.thumb');
    expect(await (await challenge(long)).text()).toBe('long.thumb');
    expect(lookups).toEqual([short, long]);
  });

  it('ignores a query string', async () => {
    const res = await challenge(`${TOKEN}?x=1`);
    expect(res.status).toBe(200);
    expect(lookups).toEqual([TOKEN]);
  });

  it('answers 404 for a well-formed but unknown token, after looking it up', async () => {
    const unknown = 'u'.repeat(43);
    const res = await challenge(unknown);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain(KEY_AUTHORIZATION);
    expect(lookups).toEqual([unknown]);
  });

  it('answers 404 when the stored key authorization is empty', async () => {
    keyAuthorizations.set('e'.repeat(22), '');
    expect((await challenge('e'.repeat(22))).status).toBe(404);
  });

  const pad = 'a'.repeat(22);
  // app.request() goes through the WHATWG URL parser first, which resolves `..` and `%2e%2e` (here into a
  // trailing `/`); what is left is refused by the raw-path middleware (400) or is a malformed token (404).
  // The raw targets themselves are tested over sockets in fast-path-server and hostile-paths.
  it.each([
    ['dot-dot', '..', 400],
    ['dot-dot after a valid prefix', `${pad}/..`, 400],
    ['encoded dot-dot', '%2e%2e', 400],
    ['encoded dot-dot appended', `${pad}%2e%2e`, 404],
    ['encoded slash', `${pad}%2f${pad}`, 400],
    ['encoded slash to a parent', `%2e%2e%2f${pad}`, 400],
    ['double slash', `${pad}//${pad}`, 400],
    ['a dot inside', `${pad}.${pad}`, 404],
    ['21 characters', 'a'.repeat(21), 404],
    ['129 characters', 'a'.repeat(129), 404],
    ['non-ASCII', `${pad}é`, 404],
    ['encoded non-ASCII', `${pad}%C3%A9`, 404],
    ['NUL', `${pad}%00`, 400],
    ['double-encoded dots', `%252e%252e`, 400],
    ['space', `${pad}%20`, 404],
    ['plus', `${pad}+`, 404],
    ['base64 padding', `${pad}=`, 404],
    ['empty', '', 400],
  ])('answers a malformed token (%s) %i without calling the lookup', async (_label, token, status) => {
    keyAuthorizations.set(decodeURIComponent(token), 'must-not-be-served');
    const res = await challenge(token);
    expect(res.status).toBe(status);
    expect(await res.text()).not.toContain('must-not-be-served');
    expect(lookups).toEqual([]);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('does not serve the key authorization to %s', async (method) => {
    const res = await challenge(TOKEN, { method, body: method === 'DELETE' ? null : 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.text()).not.toContain(KEY_AUTHORIZATION);
  });

  it('answers 500 without leaking the error when the lookup throws', async () => {
    failWith = new Error('connection to db.internal:5432 refused: password hunter2');
    const res = await challenge(TOKEN);
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).not.toContain('hunter2');
    expect(body).not.toContain('db.internal');
    expect(body).not.toContain(failWith.message);
    expect(lookups).toEqual([TOKEN]);
  });
});

describe('responder: health endpoints', () => {
  let isReady: boolean;
  let app: ReturnType<typeof createResponderApp>;

  beforeEach(() => {
    isReady = true;
    app = createResponderApp({
      httpKeyAuthorization: () => {
        throw new Error('health checks must not look up tokens');
      },
      ready: async () => isReady,
    });
  });

  it('GET /healthz is 200', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('GET /healthz stays 200 when not ready (liveness is not readiness)', async () => {
    isReady = false;
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('GET /readyz follows ready()', async () => {
    expect((await app.request('/readyz')).status).toBe(200);
    isReady = false;
    expect((await app.request('/readyz')).status).toBe(503);
    isReady = true;
    expect((await app.request('/readyz')).status).toBe(200);
  });

  it('unknown paths are 404', async () => {
    expect((await app.request('/nope')).status).toBe(404);
    expect((await app.request('/.well-known/acme-challenge')).status).toBe(404);
  });
});
