import { describe, expect, it } from 'vitest';
import type { HookChallengeRepository } from '../../core/ports/store.ts';
import { hashPassword } from '../../core/secrets/password-verifier.ts';
import { DB_UNAVAILABLE_MESSAGE, databaseUnavailable } from '../../db/connection-loss.ts';
import { ChallengeHookService } from '../../core/challenges/challenge-hook-service.ts';
import { createResponderApp } from '../../responder/app.ts';

const lost = () => Promise.reject(databaseUnavailable(new Error('Connection terminated unexpectedly')));
const AUTH = `Basic ${Buffer.from('hook-user:correct horse battery staple').toString('base64')}`;

/** While the database is away the hook cannot store or read anything: it says so with 503 and Retry-After, not 500. */
describe('challenge-hook during a database outage', () => {
  const down: HookChallengeRepository = {
    replace: lost,
    list: lost,
    clear: lost,
    httpChallenge: lost,
    allHttp: lost,
    tlsMaterial: lost,
    purgeOlderThan: lost,
  };

  it.each([
    ['the credential lookup', true],
    ['the write', false],
  ])('when %s fails: 503 db_unavailable, Retry-After, nothing else said', async (_what, lookupFails) => {
    const verifier = await hashPassword('correct horse battery staple');
    const app = createResponderApp({
      httpKeyAuthorization: () => null,
      ready: async () => true,
      hook: new ChallengeHookService({
        hookChallenges: down,
        endpointVerifiers: lookupFails ? lost : async () => [{ username: 'hook-user', verifier }],
        coreTlsAlpnChallenge: lost,
        secrets: null,
        newId: () => 'id',
        now: () => new Date(),
      }),
    });
    const res = await app.request('/challenge-hook/www.example.com', {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({
        challenges: [{ type: 'http', content: `${'t'.repeat(43)}.${'k'.repeat(43)}`, fileName: 't'.repeat(43) }],
      }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(await res.json()).toEqual({ error: { code: 'db_unavailable', message: DB_UNAVAILABLE_MESSAGE } });
  });
});
