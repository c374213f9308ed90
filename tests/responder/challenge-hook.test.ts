import { KeyObject, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildTlsAlpnChallengeCertificate } from '../../core/domain/tls-alpn-certificate.ts';
import type { HookChallenge, HookChallengeRepository } from '../../core/ports/store.ts';
import { hashPassword, verifyPassword } from '../../core/secrets/password-verifier.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { createResponderApp } from '../../responder/app.ts';
import { type ChallengeHookDeps, ChallengeHookService } from '../../core/challenges/challenge-hook-service.ts';
import type { CoreTlsAlpnChallenge } from '../../core/domain/tls-alpn-source.ts';

// The real scrypt check, observed: a request for an unknown domain or user must still pay for one.
vi.mock('../../core/secrets/password-verifier.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../core/secrets/password-verifier.ts')>();
  return { ...actual, verifyPassword: vi.fn(actual.verifyPassword) };
});

const DOMAIN = 'example.com';
const USER = 'hook-user';
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const THUMBPRINT = '9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI';
const KEY_AUTHORIZATION = `${TOKEN}.${THUMBPRINT}`;
const TOKEN_2 = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';
const KEY_AUTHORIZATION_2 = `${TOKEN_2}.${THUMBPRINT}`;
const TXT = 'gfj9Xq-Xp7c2qP4eM8Jv7mR1oQ3nE5tZk0aBcDeFgHi';

/** Same semantics as the drizzle adapter: replace drops the domain's rows of each type present, then inserts. */
class FakeHookChallenges implements HookChallengeRepository {
  rows: HookChallenge[] = [];
  failWith: Error | null = null;

  private check(): void {
    if (this.failWith) throw this.failWith;
  }
  async replace(domainName: string, entries: HookChallenge[]): Promise<void> {
    this.check();
    const types = new Set(entries.map((e) => e.type));
    this.rows = this.rows.filter((r) => r.domainName !== domainName || !types.has(r.type));
    this.rows.push(...entries.map((e) => ({ ...e })));
  }
  async list(domainName: string): Promise<HookChallenge[]> {
    this.check();
    return this.rows.filter((r) => r.domainName === domainName).map((r) => ({ ...r }));
  }
  async clear(domainName: string): Promise<number> {
    this.check();
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => r.domainName !== domainName);
    return before - this.rows.length;
  }
  async httpChallenge(token: string): Promise<{ keyAuthorization: string; domain: string } | null> {
    const row = this.rows.find((r) => r.type === 'http' && r.token === token);
    return row ? { keyAuthorization: row.content, domain: row.domainName } : null;
  }
  async allHttp(): Promise<{ token: string; keyAuthorization: string; domain: string }[]> {
    return this.rows.flatMap((r) =>
      r.type === 'http' && r.token ? [{ token: r.token, keyAuthorization: r.content, domain: r.domainName }] : [],
    );
  }
  async tlsMaterial(domainName: string): Promise<{ id: string; certPem: string; keySealed: string } | null> {
    const row = this.rows.findLast((r) => r.domainName === domainName && r.type === 'tls');
    return row?.keySealed ? { id: row.id, certPem: row.content, keySealed: row.keySealed } : null;
  }
  async purgeOlderThan(before: Date): Promise<number> {
    const kept = this.rows.filter((r) => r.createdAt >= before);
    const removed = this.rows.length - kept.length;
    this.rows = kept;
    return removed;
  }
}

/** An ordinary self-signed certificate for `name`: right SAN, no acmeIdentifier extension. */
async function plainSelfSigned(name: string): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: alg,
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }])],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certPem: cert.toString('pem'), keyPem };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const AUTH = basic(USER, PASSWORD);

describe('responder: /challenge-hook/{domain}', () => {
  let verifier: string;
  let otherVerifier: string;
  let tls: { certPem: string; keyPem: string };
  let tlsOther: { certPem: string; keyPem: string };
  let tlsSecond: { certPem: string; keyPem: string };
  let plain: { certPem: string; keyPem: string };

  let repo: FakeHookChallenges;
  let verifiers: Map<string, { username: string; verifier: string }[]>;
  let verifierLookups: string[];
  /** The core's own pending TLS-ALPN-01 challenge per name (what the listener would present first). */
  let coreTls: Map<string, CoreTlsAlpnChallenge>;
  let deps: ChallengeHookDeps;
  let app: ReturnType<typeof createResponderApp>;

  beforeAll(async () => {
    [verifier, otherVerifier, tls, tlsOther, tlsSecond, plain] = await Promise.all([
      hashPassword(PASSWORD),
      hashPassword('another password'),
      buildTlsAlpnChallengeCertificate(DOMAIN, KEY_AUTHORIZATION),
      buildTlsAlpnChallengeCertificate('other.example.com', KEY_AUTHORIZATION),
      buildTlsAlpnChallengeCertificate(DOMAIN, KEY_AUTHORIZATION_2),
      plainSelfSigned(DOMAIN),
    ]);
  });

  const makeApp = (secrets: ChallengeHookDeps['secrets']) => {
    deps = {
      hookChallenges: repo,
      endpointVerifiers: async (domain) => {
        verifierLookups.push(domain);
        return verifiers.get(domain) ?? [];
      },
      secrets,
      newId: () => randomUUID(),
      now: () => new Date('2026-01-02T03:04:05Z'),
      coreTlsAlpnChallenge: async (domain) => coreTls.get(domain) ?? null,
    };
    app = createResponderApp({
      httpKeyAuthorization: () => null,
      ready: async () => true,
      hook: new ChallengeHookService(deps),
    });
  };

  beforeEach(() => {
    repo = new FakeHookChallenges();
    verifierLookups = [];
    coreTls = new Map();
    verifiers = new Map([
      [
        DOMAIN,
        [
          { username: 'someone-else', verifier: otherVerifier },
          { username: USER, verifier },
        ],
      ],
      ['*.example.com', [{ username: USER, verifier }]],
    ]);
    makeApp(createSecretBox(randomBytes(32).toString('base64')));
  });

  const post = (body: unknown, opts: { domain?: string; auth?: string | null; contentType?: string } = {}) => {
    const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
    if (opts.auth !== null) headers['authorization'] = opts.auth ?? AUTH;
    return app.request(`/challenge-hook/${opts.domain ?? DOMAIN}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  };
  const get = (domain = DOMAIN, auth = AUTH) =>
    app.request(`/challenge-hook/${domain}`, { headers: { authorization: auth } });
  const del = (domain = DOMAIN, auth = AUTH) =>
    app.request(`/challenge-hook/${domain}`, { method: 'DELETE', headers: { authorization: auth } });

  const httpEntry = { type: 'http', content: KEY_AUTHORIZATION, fileName: TOKEN };
  const dnsEntry = { type: 'dns', content: TXT };
  const tlsEntry = () => ({ type: 'tls', content: tls.certPem, keyContent: tls.keyPem });

  async function expectError(res: Response, status: number, code: string, message?: string | RegExp) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe(code);
    if (typeof message === 'string') expect(body.error.message).toBe(message);
    else if (message) expect(body.error.message).toMatch(message);
    const text = JSON.stringify(body);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('PRIVATE KEY');
    return body.error;
  }

  describe('POST, GET and DELETE with every payload type', () => {
    it('stores an http entry with token = fileName and answers 201 {stored}', async () => {
      const res = await post({ challenges: [httpEntry] });
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ stored: 1 });
      expect(repo.rows).toEqual([
        {
          id: expect.any(String),
          domainName: DOMAIN,
          type: 'http',
          token: TOKEN,
          content: KEY_AUTHORIZATION,
          keySealed: null,
          createdAt: new Date('2026-01-02T03:04:05Z'),
        },
      ]);
      expect((await repo.httpChallenge(TOKEN))?.keyAuthorization).toBe(KEY_AUTHORIZATION);
    });

    it('stores a dns entry as is', async () => {
      const res = await post({ challenges: [dnsEntry] });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ stored: 1 });
      expect(repo.rows).toMatchObject([
        { domainName: DOMAIN, type: 'dns', token: null, content: TXT, keySealed: null },
      ]);
    });

    it('stores a tls entry with the key sealed under hook_challenges:<id>:key, never in plaintext', async () => {
      const secrets = createSecretBox(randomBytes(32).toString('base64'));
      makeApp(secrets);
      const res = await post({ challenges: [tlsEntry()] });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ stored: 1 });
      const [row] = repo.rows;
      expect(row).toMatchObject({ type: 'tls', token: null, content: tls.certPem });
      expect(JSON.stringify(repo.rows)).not.toContain('PRIVATE KEY');
      expect(row!.keySealed).not.toContain(tls.keyPem.split('\n')[1]!);
      expect(secrets.open(row!.keySealed!, `hook_challenges:${row!.id}:key`)).toBe(tls.keyPem);
      // What the TLS-ALPN-01 listener reads.
      expect(await repo.tlsMaterial(DOMAIN)).toEqual({ id: row!.id, certPem: tls.certPem, keySealed: row!.keySealed });
    });

    it('stores all three types from one payload', async () => {
      const res = await post({ challenges: [httpEntry, dnsEntry, tlsEntry()] });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ stored: 3 });
      expect(repo.rows.map((r) => r.type)).toEqual(['http', 'dns', 'tls']);
    });

    it('GET returns what was posted, in the same wire format (tls with its keyContent)', async () => {
      const payload = { challenges: [httpEntry, dnsEntry, tlsEntry()] };
      expect((await post(payload)).status).toBe(201);
      const res = await get();
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual(payload);
    });

    it('GET of a domain without entries is an empty list', async () => {
      const res = await get();
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ challenges: [] });
    });

    it('HEAD is answered like GET, without a body', async () => {
      const res = await app.request(`/challenge-hook/${DOMAIN}`, { method: 'HEAD', headers: { authorization: AUTH } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
    });

    it('DELETE clears every entry of the domain and says how many', async () => {
      await post({ challenges: [httpEntry, dnsEntry, tlsEntry()] });
      repo.rows.push({ ...repo.rows[0]!, id: randomUUID(), domainName: 'other.example.com' });
      const res = await del();
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ cleared: 3 });
      expect(await (await get()).json()).toEqual({ challenges: [] });
      expect(repo.rows.map((r) => r.domainName)).toEqual(['other.example.com']);
      expect(await (await del()).json()).toEqual({ cleared: 0 });
    });

    it('a second http POST replaces the first; other types stay', async () => {
      await post({ challenges: [httpEntry, dnsEntry] });
      const res = await post({ challenges: [{ type: 'http', content: KEY_AUTHORIZATION_2, fileName: TOKEN_2 }] });
      expect(res.status).toBe(201);
      expect(await (await get()).json()).toEqual({
        challenges: [dnsEntry, { type: 'http', content: KEY_AUTHORIZATION_2, fileName: TOKEN_2 }],
      });
      expect(await repo.httpChallenge(TOKEN)).toBeNull();
    });

    it('a second tls POST replaces the first', async () => {
      await post({ challenges: [tlsEntry()] });
      await post({ challenges: [{ type: 'tls', content: tlsSecond.certPem, keyContent: tlsSecond.keyPem }] });
      expect(await (await get()).json()).toEqual({
        challenges: [{ type: 'tls', content: tlsSecond.certPem, keyContent: tlsSecond.keyPem }],
      });
    });

    it('normalizes the domain in the path: upper case and a trailing dot', async () => {
      const res = await post({ challenges: [dnsEntry] }, { domain: 'Example.COM.' });
      expect(res.status).toBe(201);
      expect(verifierLookups).toEqual([DOMAIN]);
      expect(repo.rows[0]!.domainName).toBe(DOMAIN);
    });

    it('accepts a wildcard domain (dns)', async () => {
      const res = await post({ challenges: [dnsEntry] }, { domain: '*.example.com' });
      expect(res.status).toBe(201);
      expect(repo.rows[0]!.domainName).toBe('*.example.com');
      const encoded = await get('%2A.example.com');
      expect(await encoded.json()).toEqual({ challenges: [dnsEntry] });
    });

    it('accepts application/json with a utf-8 charset', async () => {
      const res = await post({ challenges: [dnsEntry] }, { contentType: 'Application/JSON; charset=UTF-8' });
      expect(res.status).toBe(201);
    });
  });

  describe('authentication', () => {
    const unauthorizedShape = async (res: Response) => {
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="bigip-acme challenge-hook"');
      return expectError(res, 401, 'unauthorized');
    };

    it('rejects a wrong password with 401', async () => {
      await unauthorizedShape(await post({ challenges: [dnsEntry] }, { auth: basic(USER, 'wrong') }));
      expect(repo.rows).toEqual([]);
    });

    it('rejects a wrong username with 401, even with a password valid for another user', async () => {
      await unauthorizedShape(await post({ challenges: [dnsEntry] }, { auth: basic('nobody', PASSWORD) }));
      await unauthorizedShape(await post({ challenges: [dnsEntry] }, { auth: basic('someone-else', PASSWORD) }));
      expect(repo.rows).toEqual([]);
    });

    it('accepts the other credential pair of the domain (several profiles)', async () => {
      const res = await post({ challenges: [dnsEntry] }, { auth: basic('someone-else', 'another password') });
      expect(res.status).toBe(201);
    });

    it('rejects missing credentials with 401 on every method', async () => {
      await unauthorizedShape(await post({ challenges: [dnsEntry] }, { auth: null }));
      await unauthorizedShape(await app.request(`/challenge-hook/${DOMAIN}`));
      await unauthorizedShape(await app.request(`/challenge-hook/${DOMAIN}`, { method: 'DELETE' }));
      expect(repo.rows).toEqual([]);
    });

    it.each([
      ['another scheme', `Bearer ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`],
      ['no credentials', 'Basic '],
      ['not base64', 'Basic %%%not-base64%%%'],
      ['no colon', `Basic ${Buffer.from(USER).toString('base64')}`],
      ['invalid UTF-8', `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x61]).toString('base64')}`],
      ['trailing garbage', `${AUTH} extra`],
    ])('rejects a malformed Authorization header (%s) with 401', async (_what, header) => {
      await unauthorizedShape(await post({ challenges: [dnsEntry] }, { auth: header }));
      expect(repo.rows).toEqual([]);
    });

    it('accepts a lower-case scheme name (RFC 7617)', async () => {
      const res = await post({ challenges: [dnsEntry] }, { auth: AUTH.replace('Basic', 'basic') });
      expect(res.status).toBe(201);
    });

    it('answers a domain without endpoint credentials exactly like a wrong password', async () => {
      const unknown = await post({ challenges: [dnsEntry] }, { domain: 'no-endpoint.example.com' });
      const wrong = await post({ challenges: [dnsEntry] }, { auth: basic(USER, 'wrong') });
      expect(unknown.status).toBe(401);
      expect([...unknown.headers]).toEqual([...wrong.headers]);
      expect(await unknown.text()).toBe(await wrong.text());
      expect(verifierLookups).toContain('no-endpoint.example.com');
      expect(repo.rows).toEqual([]);
    });

    it('runs exactly one scrypt check for an unknown domain, an unknown user and a wrong password alike', async () => {
      const scrypts = vi.mocked(verifyPassword);
      for (const [domain, auth] of [
        ['no-endpoint.example.com', AUTH],
        [DOMAIN, basic('nobody', PASSWORD)],
        [DOMAIN, basic(USER, 'wrong')],
      ] as const) {
        scrypts.mockClear();
        expect((await post({ challenges: [dnsEntry] }, { domain, auth })).status).toBe(401);
        expect(scrypts).toHaveBeenCalledTimes(1);
        expect(await scrypts.mock.results[0]!.value).toBe(false);
      }
    });

    it('does not let one domain’s credentials write to another domain', async () => {
      verifiers.set('other.example.com', [{ username: USER, verifier: otherVerifier }]);
      const res = await post({ challenges: [dnsEntry] }, { domain: 'other.example.com' });
      await unauthorizedShape(res);
    });

    it('GET and DELETE need credentials too', async () => {
      await post({ challenges: [dnsEntry] });
      await unauthorizedShape(await get(DOMAIN, basic(USER, 'wrong')));
      await unauthorizedShape(await del(DOMAIN, basic(USER, 'wrong')));
      expect(repo.rows).toHaveLength(1);
    });
  });

  describe('request validation', () => {
    it('rejects malformed JSON with 400 input_invalid', async () => {
      await expectError(await post('{"challenges": ['), 400, 'input_invalid', 'body: not valid JSON');
      await expectError(await post(''), 400, 'input_invalid', 'body: not valid JSON');
    });

    it('rejects a body that is not UTF-8 as invalid JSON', async () => {
      const res = await app.request(`/challenge-hook/${DOMAIN}`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: new Uint8Array([0x7b, 0xff, 0x7d]),
      });
      await expectError(res, 400, 'input_invalid', 'body: not valid JSON');
    });

    it.each([
      ['text/plain'],
      ['application/x-www-form-urlencoded'],
      ['application/json; charset=latin1'],
      ['application/jsonx'],
    ])('rejects Content-Type %s with 415', async (contentType) => {
      await expectError(await post({ challenges: [dnsEntry] }, { contentType }), 415, 'unsupported_media_type');
      expect(repo.rows).toEqual([]);
    });

    it('rejects a missing Content-Type with 415', async () => {
      const res = await app.request(`/challenge-hook/${DOMAIN}`, {
        method: 'POST',
        headers: { authorization: AUTH },
        body: new Blob([JSON.stringify({ challenges: [dnsEntry] })]),
      });
      await expectError(res, 415, 'unsupported_media_type');
    });

    it('rejects an unknown type, naming the field', async () => {
      const err = await expectError(await post({ challenges: [{ type: 'ftp', content: TXT }] }), 400, 'input_invalid');
      expect(err.message).toMatch(/^challenges\[0\]\.type: /);
    });

    it('rejects an extra field', async () => {
      const err = await expectError(await post({ challenges: [{ ...dnsEntry, ttl: 60 }] }), 400, 'input_invalid');
      expect(err.message).toMatch(/^challenges\[0\]: .*ttl/);
      await expectError(await post({ challenges: [dnsEntry], extra: true }), 400, 'input_invalid', /extra/);
    });

    it('rejects an empty challenges array and a body that is no object', async () => {
      await expectError(await post({ challenges: [] }), 400, 'input_invalid', /^challenges: /);
      await expectError(await post([]), 400, 'input_invalid', /^body: /);
      await expectError(await post('null'), 400, 'input_invalid', /^body: /);
    });

    it('rejects an oversized body with 413, with or without Content-Length', async () => {
      const big = JSON.stringify({ challenges: [{ ...dnsEntry, pad: 'x'.repeat(70 * 1024) }] });
      await expectError(await post(big), 413, 'payload_too_large');
      const chunked = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big));
          controller.close();
        },
      });
      const res = await app.request(`/challenge-hook/${DOMAIN}`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: chunked,
        duplex: 'half',
      } as RequestInit);
      await expectError(res, 413, 'payload_too_large');
      expect(repo.rows).toEqual([]);
    });

    it('rejects an http fileName that is not the token of content', async () => {
      const res = await post({ challenges: [{ ...httpEntry, fileName: TOKEN_2 }] });
      await expectError(res, 400, 'input_invalid', /fileName/);
      expect(repo.rows).toEqual([]);
    });

    it('rejects bad token characters', async () => {
      const bad = `${TOKEN.slice(0, -2)}/.`;
      await expectError(
        await post({ challenges: [{ ...httpEntry, fileName: bad }] }),
        400,
        'input_invalid',
        /^challenges\[0\]\.fileName: /,
      );
      await expectError(
        await post({ challenges: [{ ...httpEntry, content: `${bad}.${THUMBPRINT}`, fileName: bad }] }),
        400,
        'input_invalid',
        /^challenges\[0\]\.(content|fileName): /,
      );
    });

    it('rejects a dns value that is not a TXT challenge value', async () => {
      await expectError(
        await post({ challenges: [{ type: 'dns', content: 'short' }] }),
        400,
        'input_invalid',
        /^challenges\[0\]\.content: /,
      );
    });

    it.each([
      ['an empty name', '%20'],
      ['an IP address', '192.0.2.1'],
      ['a single label', 'localhost'],
      ['a misplaced wildcard', 'a.*.example.com'],
      ['an underscore', 'a_b.example.com'],
    ])('rejects %s in the path with 400, without looking up credentials', async (_what, domain) => {
      await expectError(await post({ challenges: [dnsEntry] }, { domain }), 400, 'domain_invalid');
      expect(verifierLookups).toEqual([]);
    });

    it.each([
      ['an encoded slash', 'a%2Fb.example.com'],
      ['a broken escape', '%E0%A4%A'],
      ['double encoding', 'www%252eexample.com'],
      ['a NUL', 'www.example.com%00'],
    ])(
      'refuses %s in the path before routing (raw-path rule: plain 400), without looking up credentials',
      async (_what, domain) => {
        const res = await post({ challenges: [dnsEntry] }, { domain });
        expect(res.status).toBe(400);
        expect(await res.text()).toBe('bad request\n');
        expect(verifierLookups).toEqual([]);
        expect(repo.rows).toEqual([]);
      },
    );

    it('answers other methods with 405 and Allow', async () => {
      for (const method of ['PUT', 'PATCH']) {
        const res = await app.request(`/challenge-hook/${DOMAIN}`, { method, headers: { authorization: AUTH } });
        await expectError(res, 405, 'method_not_allowed');
        expect(res.headers.get('allow')).toBe('GET, HEAD, POST, DELETE');
      }
    });
  });

  describe('TLS-ALPN-01 payloads', () => {
    describe('a name the core has a pending TLS-ALPN-01 authorization for (the listener presents the core’s)', () => {
      const until = new Date('2026-01-09T03:04:05Z');

      it('refuses another certificate with 409 conflict, naming why and until when, and stores nothing', async () => {
        coreTls.set(DOMAIN, { certPem: tlsSecond.certPem, expiresAt: until });
        const res = await post({ challenges: [httpEntry, dnsEntry, tlsEntry()] });
        const err = await expectError(res, 409, 'conflict');
        expect(err.message).toBe(
          'challenges[2]: the core has a pending TLS-ALPN-01 authorization for example.com until 2026-01-09T03:04:05.000Z, ' +
            'and the TLS-ALPN-01 listener presents its certificate for that name, so this one would never be presented; ' +
            'publish it again once that authorization is decided or has expired',
        );
        expect(repo.rows).toEqual([]);
      });

      it('says so when the CA gave the authorization no expiry', async () => {
        coreTls.set(DOMAIN, { certPem: tlsSecond.certPem, expiresAt: null });
        const err = await expectError(await post({ challenges: [tlsEntry()] }), 409, 'conflict');
        expect(err.message).toContain('for example.com (no expiry given by the CA)');
      });

      it('accepts the core’s own certificate (the core publishing its challenge through --builtin)', async () => {
        coreTls.set(DOMAIN, { certPem: tls.certPem, expiresAt: until });
        expect((await post({ challenges: [tlsEntry()] })).status).toBe(201);
        expect(repo.rows.map((r) => r.type)).toEqual(['tls']);
      });

      it('accepts a certificate once the core authorization has expired', async () => {
        coreTls.set(DOMAIN, { certPem: tlsSecond.certPem, expiresAt: new Date('2026-01-02T03:04:05Z') });
        expect((await post({ challenges: [tlsEntry()] })).status).toBe(201);
      });

      it('leaves http and dns entries alone: they do not compete for the handshake', async () => {
        coreTls.set(DOMAIN, { certPem: tlsSecond.certPem, expiresAt: until });
        expect((await post({ challenges: [httpEntry, dnsEntry] })).status).toBe(201);
      });
    });

    it('rejects a certificate for another name', async () => {
      const res = await post({ challenges: [{ type: 'tls', content: tlsOther.certPem, keyContent: tlsOther.keyPem }] });
      await expectError(res, 400, 'input_invalid', /^challenges\[0\]\.content: .*"example\.com".*other\.example\.com/);
      expect(repo.rows).toEqual([]);
    });

    it('rejects a certificate without the acmeIdentifier extension', async () => {
      const res = await post({ challenges: [{ type: 'tls', content: plain.certPem, keyContent: plain.keyPem }] });
      await expectError(res, 400, 'input_invalid', /^challenges\[0\]\.content: .*acmeIdentifier/);
    });

    it('rejects a key that does not match the certificate', async () => {
      const res = await post({ challenges: [{ type: 'tls', content: tls.certPem, keyContent: tlsSecond.keyPem }] });
      await expectError(res, 400, 'input_invalid', /^challenges\[0\]\.keyContent: does not match/);
      expect(repo.rows).toEqual([]);
    });

    it('rejects an unreadable certificate and an unreadable key', async () => {
      const garbageCert = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
      await expectError(
        await post({ challenges: [{ type: 'tls', content: garbageCert, keyContent: tls.keyPem }] }),
        400,
        'input_invalid',
        /^challenges\[0\]\.content: /,
      );
      const garbageKey = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
      await expectError(
        await post({ challenges: [{ type: 'tls', content: tls.certPem, keyContent: garbageKey }] }),
        400,
        'input_invalid',
        /^challenges\[0\]\.keyContent: /,
      );
    });

    it('rejects a chain instead of the one challenge certificate', async () => {
      const res = await post({
        challenges: [{ type: 'tls', content: tls.certPem + tlsOther.certPem, keyContent: tls.keyPem }],
      });
      await expectError(res, 400, 'input_invalid', /exactly one PEM certificate/);
    });

    it('rejects two tls entries in one payload', async () => {
      const second = { type: 'tls', content: tlsSecond.certPem, keyContent: tlsSecond.keyPem };
      await expectError(await post({ challenges: [tlsEntry(), second] }), 400, 'input_invalid', /at most one tls/);
    });

    it('rejects tls for a wildcard domain', async () => {
      await expectError(
        await post({ challenges: [tlsEntry()] }, { domain: '*.example.com' }),
        400,
        'input_invalid',
        /wildcard/,
      );
    });

    it('answers 503 config_invalid when the responder has no MASTER_KEY, storing nothing', async () => {
      makeApp(null);
      const res = await post({ challenges: [dnsEntry, tlsEntry()] });
      await expectError(res, 503, 'config_invalid', 'TLS-ALPN-01 payloads need MASTER_KEY on the responder');
      expect(repo.rows).toEqual([]);
    });

    it('still validates the certificate first without MASTER_KEY (bad input stays a 400)', async () => {
      makeApp(null);
      const res = await post({ challenges: [{ type: 'tls', content: plain.certPem, keyContent: plain.keyPem }] });
      await expectError(res, 400, 'input_invalid');
    });

    it('without MASTER_KEY, http and dns still work and GET omits tls entries', async () => {
      await post({ challenges: [httpEntry, tlsEntry()] });
      makeApp(null);
      expect((await post({ challenges: [dnsEntry] })).status).toBe(201);
      expect(await (await get()).json()).toEqual({ challenges: [httpEntry, dnsEntry] });
    });
  });

  describe('failures', () => {
    it('answers a store error with a generic JSON 500', async () => {
      repo.failWith = new Error('connection refused to db.internal:5432 password=hunter2');
      for (const res of [await post({ challenges: [dnsEntry] }), await get(), await del()]) {
        const err = await expectError(res, 500, 'internal', 'internal error');
        expect(JSON.stringify(err)).not.toContain('hunter2');
      }
    });

    it('answers a failing credentials lookup with a generic JSON 500', async () => {
      deps.endpointVerifiers = async () => {
        throw new Error('db down');
      };
      await expectError(await post({ challenges: [dnsEntry] }), 500, 'internal', 'internal error');
    });

    it('never answers bad input with a 5xx', async () => {
      const bad: [unknown, { domain?: string; auth?: string | null; contentType?: string }][] = [
        ['{', {}],
        ['"just a string"', {}],
        [{ challenges: 'nope' }, {}],
        [{ challenges: [null] }, {}],
        [{ challenges: [{}] }, {}],
        [{ challenges: [{ type: 'http' }] }, {}],
        [{ challenges: [{ type: 'tls', content: 'x'.repeat(20_000), keyContent: 'y' }] }, {}],
        [
          {
            challenges: [
              { type: 'tls', content: '-----BEGIN CERTIFICATE-----', keyContent: '-----BEGIN PRIVATE KEY-----' },
            ],
          },
          {},
        ],
        [
          {
            challenges: [
              { type: 'tls', content: tls.certPem, keyContent: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA\n' },
            ],
          },
          {},
        ],
        [{ challenges: Array.from({ length: 11 }, () => dnsEntry) }, {}],
        [{ challenges: [dnsEntry] }, { domain: 'a..example.com' }],
        [{ challenges: [dnsEntry] }, { domain: `${'a'.repeat(64)}.com` }],
        [{ challenges: [dnsEntry] }, { auth: 'Basic' }],
        [{ challenges: [dnsEntry] }, { auth: `Basic ${'A'.repeat(10_000)}` }],
        [{ challenges: [dnsEntry] }, { contentType: ';;;' }],
      ];
      for (const [body, opts] of bad) {
        const res = await post(body, opts);
        expect(res.status, JSON.stringify({ body, opts }).slice(0, 200)).toBeLessThan(500);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.headers.get('content-type'), JSON.stringify({ body, opts }).slice(0, 200)).toMatch(
          /^application\/json/,
        );
      }
      expect(repo.rows).toEqual([]);
    });
  });

  it('without hook deps the routes do not exist', async () => {
    const bare = createResponderApp({ httpKeyAuthorization: () => null, ready: async () => true });
    const res = await bare.request(`/challenge-hook/${DOMAIN}`, { method: 'POST', headers: { authorization: AUTH } });
    expect(res.status).toBe(404);
  });
});
