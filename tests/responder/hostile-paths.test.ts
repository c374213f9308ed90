import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/ports/store.ts';
import { hashPassword } from '../../core/secrets/password-verifier.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import type { Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { type Responder, startResponder } from '../../responder/start.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../fixtures/builders.ts';
import { type RawResponse, rawRequest } from '../support/raw-http.ts';
import { databaseTargets, freshDatabase } from '../support/test-db.ts';

const DOMAIN = 'www.example.com';
const USER = 'hook-user';
const PASSWORD = 'correct horse battery staple';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

/** A valid hook payload: if any hostile request reached the hook, this is what it would store. */
function payload(): string {
  const token = `fuzz_${randomUUID().replace(/-/g, '')}`;
  return JSON.stringify({ challenges: [{ type: 'http', content: `${token}.${'t'.repeat(43)}`, fileName: token }] });
}

/** Everything a forwarding rule `starts-with /.well-known/acme-challenge/` lets through, aimed elsewhere. */
function hostileTargets(): string[] {
  const routes = [`challenge-hook/${DOMAIN}`, 'healthz', 'metrics', 'readyz'];
  const ups = ['..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '.%2E', '%2E.'];
  const slashes = ['/', '%2f', '%2F', '%5c', '%5C', '\\'];
  const out: string[] = [];
  const base = '/.well-known/acme-challenge/';
  for (const route of routes) {
    for (const up of ups) for (const slash of slashes) out.push(`${base}${up}${slash}${up}${slash}${route}`);
    out.push(
      `${base}x/../../../${route}`,
      `${base}./../../${route}`,
      `${base}%2e/%2e%2e/%2e%2e/${route}`,
      `${base}%252e%252e/%252e%252e/${route}`,
      `${base}%25%32%65%25%32%65/..%252f${route}`,
      `${base}..%00/../${route}`,
      `${base}..%09/..%09/${route}`,
      `${base}/../../${route}`,
      `${base}..//..//${route}`,
      `${base}%c0%ae%c0%ae/%c0%ae%c0%ae/${route}`,
      `${base}%ef%bc%8e%ef%bc%8e/%ef%bc%8e%ef%bc%8e/${route}`,
      `${base}..%ef%bc%8f..%ef%bc%8f${route}`,
      `${base}../../${route}?x=1`,
      `${base}../../${route}#frag`,
      `http://${DOMAIN}${base}../../${route}`,
      `http://${DOMAIN}/${route}`,
      `//${DOMAIN}/${route}`,
    );
  }
  out.push('*', `${base}%`, `${base}%zz`, `/metrics/../healthz`, `/healthz/.`, `/readyz/%2e`);
  return out;
}

const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'MKCOL',
  'BREW',
];

/** Runs `tasks` with at most `width` in flight (one socket each). */
async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

describe('responder: hostile request targets over raw sockets (real store, real server)', () => {
  let database: Database;
  let store: Store;
  let responder: Responder;
  let port: number;
  let token: string;
  let keyAuthorization: string;

  /** The domain's hook entries, as ids: a hostile request must neither add nor remove one. */
  const hookRows = async () => (await store.hookChallenges.list(DOMAIN)).map((r) => r.id).sort();

  beforeAll(async () => {
    database = await freshDatabase(databaseTargets[0]!.open);
    store = createDrizzleStore(database);
    const profile = makeProfile();
    await store.profiles.insert(profile);
    const domain = makeDomain(profile.id, {
      endpointUsername: USER,
      endpointPasswordVerifier: await hashPassword(PASSWORD),
    });
    const authz = makeAuthorization(domain.id, { expiresAt: new Date(Date.now() + 86_400_000) });
    token = authz.httpToken!;
    keyAuthorization = authz.httpKeyAuthorization!;
    await store.domains.insertWithAuthorization(domain, authz);
    // Something a stray DELETE or POST would change.
    await store.hookChallenges.replace(DOMAIN, [
      {
        id: randomUUID(),
        domainName: DOMAIN,
        type: 'dns',
        token: null,
        content: 'seeded-txt',
        keySealed: null,
        createdAt: new Date(),
      },
    ]);

    // Started as production starts it (responder/start.ts): cache, metrics, hook on the store, fast path.
    responder = await startResponder({
      store,
      database,
      secrets: createSecretBox(Buffer.alloc(32, 7).toString('base64')),
      http: { host: '127.0.0.1', port: 0 },
      tlsAlpn: null,
    });
    port = (responder.http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await responder?.close();
    await database?.close();
  });

  const hostile = (method: string, target: string, extra: Record<string, string> = {}): Promise<RawResponse> =>
    rawRequest(port, method, target, {
      headers: { authorization: AUTH, 'content-type': 'application/json', ...extra },
      body: ['GET', 'HEAD'].includes(method) ? '' : payload(),
    });

  it("refuses the issue's requests: a POST through ../../ to the challenge hook, literal and encoded", async () => {
    const before = await hookRows();
    for (const target of [
      `/.well-known/acme-challenge/../../challenge-hook/${DOMAIN}`,
      `/.well-known/acme-challenge/%2e%2e/%2e%2e/challenge-hook/${DOMAIN}`,
    ]) {
      const res = await hostile('POST', target);
      expect(res.status, target).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toBe('bad request\n');
    }
    expect(await hookRows()).toEqual(before);
  });

  it('refuses GET /metrics/../healthz instead of answering /healthz', async () => {
    const res = await rawRequest(port, 'GET', '/metrics/../healthz');
    expect(res.status).toBe(400);
    expect(res.body).not.toContain('ok');
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'])(
    'answers %s on the challenge path 405 with Allow: GET, HEAD, for a valid, unknown or malformed token',
    async (method) => {
      for (const t of [token, 'A'.repeat(43), 'not-a-token', `${token}/extra`]) {
        const res = await hostile(method, `/.well-known/acme-challenge/${t}`);
        expect(res.status, `${method} ${t}`).toBe(405);
        expect(res.headers.allow).toBe('GET, HEAD');
        expect(res.body).not.toContain(keyAuthorization);
      }
    },
  );

  it('fuzz: every method × hostile targets is refused (400), nothing stored or cleared, the server stays up', async () => {
    const before = await hookRows();
    const targets = hostileTargets();
    const tasks = METHODS.flatMap((method) =>
      targets.map((target) => async () => ({ method, target, res: await hostile(method, target) })),
    );
    const results = await pool(tasks, 16);
    expect(results.length).toBeGreaterThan(1500);

    const let_through = results.filter(({ res }) => res.status >= 200 && res.status < 300);
    expect(let_through.map(({ method, target, res }) => `${method} ${target} → ${res.status}`)).toEqual([]);
    const notRefused = results.filter(({ res }) => res.status !== 400);
    expect(notRefused.map(({ method, target, res }) => `${method} ${target} → ${res.status}`)).toEqual([]);
    for (const { res } of results) expect(res.body).not.toContain(PASSWORD);

    expect(await hookRows()).toEqual(before);
    expect((await store.hookChallenges.allHttp()).filter((r) => r.token.startsWith('fuzz_'))).toEqual([]);
    expect((await rawRequest(port, 'GET', '/healthz')).status).toBe(200);
    expect((await rawRequest(port, 'GET', `/.well-known/acme-challenge/${token}`)).body).toBe(keyAuthorization);
  });

  it('a Host header carrying a path does not route anywhere else', async () => {
    const before = await hookRows();
    for (const host of [`x/challenge-hook/${DOMAIN}?`, `${DOMAIN}/../challenge-hook/${DOMAIN}#`, `${DOMAIN}@evil`]) {
      for (const method of ['POST', 'DELETE']) {
        const res = await hostile(method, '/healthz', { host });
        expect(res.status, `${method} Host: ${host}`).toBeGreaterThanOrEqual(400);
      }
    }
    expect(await hookRows()).toEqual(before);
  });

  it('keeps legitimate requests working: the hook POSTed directly, a valid token, health and metrics', async () => {
    const posted = await hostile('POST', `/challenge-hook/${DOMAIN}`);
    expect(posted.status, posted.body).toBe(201);
    expect(JSON.parse(posted.body)).toEqual({ stored: 1 });

    const hit = await rawRequest(port, 'GET', `/.well-known/acme-challenge/${token}?probe=1`);
    expect(hit.status).toBe(200);
    expect(hit.body).toBe(keyAuthorization);
    expect((await rawRequest(port, 'HEAD', `/.well-known/acme-challenge/${token}`)).status).toBe(200);
    expect((await rawRequest(port, 'GET', `/.well-known/acme-challenge/${'A'.repeat(43)}`)).status).toBe(404);
    expect((await rawRequest(port, 'GET', '/healthz')).status).toBe(200);
    expect((await rawRequest(port, 'GET', '/readyz')).status).toBe(200);
    const metrics = await rawRequest(port, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('bigip_acme_challenge_requests_total');
  });
});
