import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTlsAlpnChallengeCertificate } from '../../core/domain/tls-alpn-certificate.ts';
import { CoreError } from '../../core/errors.ts';
import type { EndpointClient } from '../../core/ports/endpoint-client.ts';
import type { Store } from '../../core/ports/store.ts';
import { hashPassword } from '../../core/secrets/password-verifier.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { ChallengeHookService, challengeHookDeps } from '../../core/challenges/challenge-hook-service.ts';
import { withInProcessHook } from '../../core/challenges/in-process-endpoint-client.ts';
import type { Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../fixtures/builders.ts';
import { databaseTargets, freshDatabase, truncateAll } from '../support/test-db.ts';

const DOMAIN = 'www.example.com';
const OTHER = 'other.example.com';
const USER = 'hook-user';
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const KEY_AUTHORIZATION = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;
const TXT = 'gfj9Xq-Xp7c2qP4eM8Jv7mR1oQ3nE5tZk0aBcDeFgHi';
const RESPONDER = 'http://127.0.0.1:8080';

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CoreError);
  return { code: (err as CoreError).code, message: (err as CoreError).message };
}

/** The challenge-hook service against the real store on PGlite: what both the route and the core rely on. */
describe('ChallengeHookService', () => {
  const secrets = createSecretBox(randomBytes(32).toString('base64'));
  let database: Database;
  let store: Store;
  let service: ChallengeHookService;
  let tls: { certPem: string; keyPem: string };
  let tlsOther: { certPem: string; keyPem: string };

  beforeAll(async () => {
    database = await freshDatabase(databaseTargets[0]!.open);
    store = createDrizzleStore(database);
    [tls, tlsOther] = await Promise.all([
      buildTlsAlpnChallengeCertificate(DOMAIN, KEY_AUTHORIZATION),
      buildTlsAlpnChallengeCertificate(OTHER, KEY_AUTHORIZATION),
    ]);
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await truncateAll(database);
    const profile = makeProfile();
    await store.profiles.insert(profile);
    const verifier = await hashPassword(PASSWORD);
    for (const name of [DOMAIN, OTHER]) {
      const domain = makeDomain(profile.id, { name, endpointUsername: USER, endpointPasswordVerifier: verifier });
      await store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
    }
    service = new ChallengeHookService(challengeHookDeps(store, secrets, () => new Date(), randomUUID));
  });

  const http = { type: 'http', content: KEY_AUTHORIZATION, fileName: TOKEN } as const;
  const dns = { type: 'dns', content: TXT } as const;
  const tlsEntry = (c = tls) => ({ type: 'tls', content: c.certPem, keyContent: c.keyPem }) as const;

  it('publish → list → clear: every type round-trips in the wire format, the tls key sealed at rest', async () => {
    expect(await service.publish(DOMAIN, { challenges: [http, dns, tlsEntry()] })).toBe(3);
    expect(await service.list(DOMAIN)).toEqual([http, dns, tlsEntry()]);
    const [stored] = (await store.hookChallenges.list(DOMAIN)).filter((r) => r.type === 'tls');
    expect(stored?.keySealed).not.toContain('PRIVATE KEY');
    expect(await service.clear(DOMAIN)).toBe(3);
    expect(await service.list(DOMAIN)).toEqual([]);
  });

  it.each<[string, string, string, boolean]>([
    ['the domain’s credentials', DOMAIN, PASSWORD, true],
    ['a wrong password', DOMAIN, 'wrong password, long enough', false],
    ['a domain without credentials', 'unknown.example.com', PASSWORD, false],
  ])('authenticate with %s', async (_name, domain, password, expected) => {
    expect(await service.authenticate(domain, USER, password)).toBe(expected);
  });

  it('refuses a bad ACME token and a fileName that is not the token, storing nothing', async () => {
    const badToken = await refusal(service.publish(DOMAIN, { challenges: [{ ...http, fileName: 'bad token!' }] }));
    expect(badToken).toMatchObject({ code: 'input_invalid', message: expect.stringMatching(/fileName/) });
    const other = `${'A'.repeat(43)}`;
    expect(await refusal(service.publish(DOMAIN, { challenges: [{ ...http, fileName: other }] }))).toMatchObject({
      code: 'input_invalid',
    });
    expect(await store.hookChallenges.list(DOMAIN)).toEqual([]);
  });

  it('refuses a TLS-ALPN-01 certificate for another domain, naming both', async () => {
    const r = await refusal(service.publish(DOMAIN, { challenges: [tlsEntry(tlsOther)] }));
    expect(r.code).toBe('input_invalid');
    expect(r.message).toMatch(/"www\.example\.com".*other\.example\.com/);
  });

  it('refuses an invalid TLS-ALPN-01 certificate (unreadable) and a key of another certificate', async () => {
    const garbage = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const unreadable = await refusal(service.publish(DOMAIN, { challenges: [{ ...tlsEntry(), content: garbage }] }));
    expect(unreadable).toMatchObject({ code: 'input_invalid', message: expect.stringMatching(/content/) });
    const mismatched = await refusal(
      service.publish(DOMAIN, { challenges: [{ ...tlsEntry(), keyContent: tlsOther.keyPem }] }),
    );
    expect(mismatched.message).toMatch(/keyContent: does not match/);
  });

  it('without MASTER_KEY a tls entry is the responder’s condition (config_invalid), http still works', async () => {
    const keyless = new ChallengeHookService(challengeHookDeps(store, null, () => new Date(), randomUUID));
    expect((await refusal(keyless.publish(DOMAIN, { challenges: [tlsEntry()] }))).code).toBe('config_invalid');
    expect(await keyless.publish(DOMAIN, { challenges: [http] })).toBe(1);
  });

  describe('in-process publishing to the built-in responder', () => {
    const calls: string[] = [];
    const overHttp: EndpointClient = {
      post: async (url) => {
        calls.push(url);
        return { ok: true, status: 204, detail: 'over http' };
      },
    };
    const client = () => withInProcessHook(overHttp, service, RESPONDER);
    beforeEach(() => {
      calls.length = 0;
    });

    it('calls the service for its own challenge-hook URL, not HTTP', async () => {
      const r = await client().post(`${RESPONDER}/challenge-hook/${DOMAIN}`, USER, PASSWORD, { challenges: [dns] });
      expect(r).toMatchObject({ ok: true, status: 201 });
      expect(calls).toEqual([]);
      expect(await service.list(DOMAIN)).toEqual([dns]);
    });

    it('keeps the hook’s contract: one domain’s credentials do not publish to another', async () => {
      await store.domains.update((await store.domains.findByName(OTHER))[0]!.id, {
        endpointPasswordVerifier: await hashPassword('another password entirely'),
      });
      const r = await client().post(`${RESPONDER}/challenge-hook/${OTHER}`, USER, PASSWORD, { challenges: [dns] });
      expect(r).toMatchObject({ ok: false, status: 401, code: 'input_invalid', retryable: false });
      expect(await service.list(OTHER)).toEqual([]);
    });

    it('answers a refused payload as the route would (400 input_invalid), never throwing', async () => {
      const r = await client().post(`${RESPONDER}/challenge-hook/${DOMAIN}`, USER, PASSWORD, {
        challenges: [tlsEntry(tlsOther)],
      });
      expect(r).toMatchObject({ ok: false, status: 400, code: 'input_invalid' });
    });

    it.each([
      'http://127.0.0.1:9090/challenge-hook/www.example.com',
      'https://127.0.0.1:8080/challenge-hook/www.example.com',
      `${RESPONDER}/elsewhere/www.example.com`,
      `${RESPONDER}/challenge-hook/www.example.com?x=1`,
      'https://dns-provider.example/txt',
    ])('leaves any other endpoint to HTTP: %s', async (url) => {
      expect(await client().post(url, USER, PASSWORD, { challenges: [dns] })).toMatchObject({ detail: 'over http' });
      expect(calls).toEqual([url]);
    });
  });
});
