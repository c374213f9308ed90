/**
 * Scenario "hostile paths": what the internet can send through the BIG-IP's `/.well-known/acme-challenge/*`
 * forwarding. Against a running `serve --role responder` (PostgreSQL, no MASTER_KEY, as in a DMZ), every
 * method is sent over a raw socket to paths whose dot segments (plain, percent-encoded, mixed) would resolve
 * to the challenge-hook or another route, with the domain's valid hook credentials, so a routing leak shows
 * as a write and not as a 401. Each request must be refused (a 4xx other than 401, before routing); the
 * hook's rows are compared after every request, and a challenge published legitimately must survive.
 */
import { randomBytes } from 'node:crypto';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { hashPassword } from '../../core/secrets/password-verifier.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import { openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../../tests/fixtures/builders.ts';
import { chaosDatabaseUrl, freshChaosDatabase } from './databases.ts';
import { freePort, rawHttp, sleep, waitForHttp } from './net.ts';
import { Service } from './processes.ts';
import { emptyResult, type ScenarioResult } from './result.ts';
import type { ScenarioContext } from './scenario.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'];
const WRITE_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/** Paths that must never reach a route other than the token lookup, for a domain `d` and a live token `t`. */
export function hostileTargets(d: string, t: string): string[] {
  const acme = '/.well-known/acme-challenge';
  return [
    `${acme}/../../challenge-hook/${d}`,
    `${acme}/%2e%2e/%2e%2e/challenge-hook/${d}`,
    `${acme}/%2E%2E/%2E%2E/challenge-hook/${d}`,
    `${acme}/.%2e/%2e./challenge-hook/${d}`,
    `${acme}/..%2f..%2fchallenge-hook/${d}`,
    `${acme}/..%2F..%2Fchallenge-hook%2F${d}`,
    `${acme}/./../../challenge-hook/${d}`,
    `${acme}/${t}/../../../challenge-hook/${d}`,
    `${acme}/..%5c..%5cchallenge-hook/${d}`,
    `${acme}//../../challenge-hook/${d}`,
    `${acme}/../../challenge-hook/${d}?x=1`,
    `${acme}/../../readyz`,
    `${acme}/../../metrics`,
    `/metrics/../healthz`,
    `/metrics/%2e%2e/healthz`,
    `/healthz/../challenge-hook/${d}`,
    `/x/../challenge-hook/${d}`,
  ];
}

/** Refused before routing: a client error that is not the hook asking for credentials. */
function refused(status: number): boolean {
  return status >= 400 && status < 500 && status !== 401;
}

export async function hostilePaths(ctx: ScenarioContext): Promise<ScenarioResult> {
  const result = emptyResult('hostile paths');
  const url = chaosDatabaseUrl('paths');
  await freshChaosDatabase(url);
  const database = await openDatabase({ url });
  const store = createDrizzleStore(database);
  const port = await freePort();
  const responder = new Service(
    'responder',
    ['serve', '--role', 'responder'],
    { DATABASE_URL: url, RESPONDER_HOST: '127.0.0.1', RESPONDER_PORT: String(port) },
    {
      ready: () => waitForHttp(port, '/healthz', 500),
    },
  );
  try {
    // A domain whose challenge-hook accepts these credentials (what `domain endpoint set` stores).
    const domainName = 'hook.example.test';
    const username = 'hook-user';
    const password = randomBytes(18).toString('base64url');
    const profile = makeProfile({ name: 'paths' });
    await store.profiles.insert(profile);
    const domain = makeDomain(profile.id, { name: domainName });
    await store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
    await store.domains.update(domain.id, {
      endpointUrl: 'https://hooks.example.test/acme',
      endpointUsername: username,
      endpointPasswordSealed: createSecretBox(randomBytes(32).toString('base64')).seal(
        password,
        secretAad('domains', domain.id, 'endpoint_password'),
      ),
      endpointPasswordVerifier: await hashPassword(password),
    });
    await responder.start();
    const auth = {
      Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      'Content-Type': 'application/json',
    };
    const token = randomBytes(24).toString('base64url');
    // A key authorization is `token.thumbprint` (RFC 8555 §8.1); the thumbprint is a base64url SHA-256.
    const keyAuthorization = `${token}.${randomBytes(32).toString('base64url')}`;
    const legit = JSON.stringify({ challenges: [{ type: 'http', fileName: token, content: keyAuthorization }] });
    const publish = () =>
      rawHttp(port, { method: 'POST', target: `/challenge-hook/${domainName}`, headers: auth, body: legit });
    const published = await publish();
    if (published.status !== 201)
      throw new Error(`the legitimate hook POST answered ${published.status}: ${published.body.slice(0, 200)}`);
    const answers = async () =>
      (await rawHttp(port, { method: 'GET', target: `/.well-known/acme-challenge/${token}`, host: domainName }))
        .body === keyAuthorization;
    for (let i = 0; i < 50 && !(await answers()); i++) await sleep(100);
    if (!(await answers()))
      throw new Error(
        'the responder does not answer the legitimately published token; the scenario cannot tell a leak from a broken set-up',
      );
    const snapshot = async () =>
      JSON.stringify((await store.hookChallenges.list(domainName)).map((r) => [r.type, r.token, r.content]).sort());
    const seeded = await snapshot();

    const hostileToken = randomBytes(24).toString('base64url');
    const hostileBody = JSON.stringify({
      challenges: [
        { type: 'http', fileName: hostileToken, content: `${hostileToken}.${randomBytes(32).toString('base64url')}` },
      ],
    });
    const breaches: string[] = [];
    const statuses = new Map<number, number>();
    for (const target of hostileTargets(domainName, token)) {
      for (const method of METHODS) {
        result.faults++;
        result.expected++;
        const res = await rawHttp(port, {
          method,
          target,
          headers: auth,
          ...(['POST', 'PUT', 'PATCH'].includes(method) ? { body: hostileBody } : {}),
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const changed = WRITE_METHODS.has(method) && (await snapshot()) !== seeded;
        if (changed || !(refused(res.status) || res.status === 0)) {
          result.breached++;
          breaches.push(`${method} ${target} → ${res.status}${changed ? ' and changed the hook entries' : ''}`);
          if (changed) {
            if (!(await store.hookChallenges.list(domainName)).some((r) => r.token === token)) result.lost++;
            await publish();
          }
        } else {
          result.survived++;
        }
      }
    }
    result.expected++;
    if (await answers()) result.survived++;
    else {
      result.lost++;
      breaches.push('the legitimately published token no longer answers');
    }
    result.notes.push(
      `${result.faults} hostile requests (${hostileTargets(domainName, token).length} paths × ${METHODS.length} methods); statuses: ${[
        ...statuses,
      ]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s}×${n}`)
        .join(', ')}`,
    );
    for (const b of breaches.slice(0, 25)) result.notes.push(`not refused: ${b}`);
    if (breaches.length > 25) result.notes.push(`… and ${breaches.length - 25} more`);
    ctx.progress(`hostile paths: ${result.breached} of ${result.faults} not refused`);
  } finally {
    result.exits += responder.exits.length;
    result.notes.push(...responder.exitNotes());
    await responder.stop();
    await database.close();
  }
  return result;
}
