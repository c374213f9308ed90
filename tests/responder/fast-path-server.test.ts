import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createResponderApp } from '../../responder/app.ts';
import { createResponderServer } from '../../responder/server.ts';

const TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';
const KEY_AUTHORIZATION = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

/** Raw HTTP so paths reach the server byte for byte (fetch would normalise `..` and `%2e`). */
function get(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('responder: node:http fast path', () => {
  const lookups: string[] = [];
  let port: number;
  const server = createResponderServer(
    createResponderApp({ httpKeyAuthorization: () => null, ready: async () => true }),
    (token) => {
      lookups.push(token);
      return token === TOKEN ? KEY_AUTHORIZATION : null;
    },
  );
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    lookups.length = 0;
  });

  it('answers a pending token with exactly the key authorization, text/plain, no-store', async () => {
    const res = await get(port, `/.well-known/acme-challenge/${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body).toBe(KEY_AUTHORIZATION);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-length']).toBe(String(KEY_AUTHORIZATION.length));
  });

  it('ignores a query string and answers HEAD without a body', async () => {
    expect((await get(port, `/.well-known/acme-challenge/${TOKEN}?x=1`)).body).toBe(KEY_AUTHORIZATION);
    const head = await get(port, `/.well-known/acme-challenge/${TOKEN}`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers an unknown well-formed token 404 after one lookup', async () => {
    const res = await get(port, `/.well-known/acme-challenge/${'A'.repeat(43)}`);
    expect(res.status).toBe(404);
    expect(lookups).toEqual(['A'.repeat(43)]);
  });

  it.each([
    '..',
    '%2e%2e',
    '.%2E',
    '..%2f..%2fetc%2fpasswd',
    `${TOKEN}%2f`,
    `/${TOKEN}`,
    `${TOKEN}%00`,
    `%252e%252e`,
    '',
  ])('refuses the hostile target %j 400 before routing, without a lookup', async (token) => {
    const res = await get(port, `/.well-known/acme-challenge/${token}`);
    expect(res.status).toBe(400);
    expect(res.body).toBe('bad request\n');
    expect(res.body).not.toContain(KEY_AUTHORIZATION);
    expect(lookups).toEqual([]);
  });

  it.each([`${TOKEN}/extra`, 'A'.repeat(21), 'A'.repeat(129), `${TOKEN.slice(0, 30)}%C3%A9`, `${TOKEN}.`])(
    'answers the malformed token %j 404 without a lookup',
    async (token) => {
      const res = await get(port, `/.well-known/acme-challenge/${token}`);
      expect(res.status).toBe(404);
      expect(res.body).not.toContain(KEY_AUTHORIZATION);
      expect(lookups).toEqual([]);
    },
  );

  it('answers other methods on the challenge path 405 itself, and sends other paths to the app', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const path of [
        `/.well-known/acme-challenge/${TOKEN}`,
        '/.well-known/acme-challenge/x',
        '/.well-known/acme-challenge',
      ]) {
        const res = await get(port, path, method);
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.allow).toBe('GET, HEAD');
        expect(res.body).toBe('method not allowed\n');
      }
    }
    expect((await get(port, '/healthz')).status).toBe(200);
    expect((await get(port, '/nothing-here')).status).toBe(404);
    expect(lookups).toEqual([]);
  });
});
