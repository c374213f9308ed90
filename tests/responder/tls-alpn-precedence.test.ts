import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTlsAlpnChallengeCertificate } from '../../core/domain/tls-alpn-certificate.ts';
import type { Authorization } from '../../core/domain/managed-domain.ts';
import type { Store } from '../../core/ports/store.ts';
import { hashPassword } from '../../core/secrets/password-verifier.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import type { Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { type Responder, startResponder } from '../../responder/start.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../fixtures/builders.ts';
import { rawRequest } from '../support/raw-http.ts';
import { databaseTargets, freshDatabase, truncateAll } from '../support/test-db.ts';

const DOMAIN = 'www.example.com';
const USER = 'hook-user';
const PASSWORD = 'correct horse battery staple';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

/** The certificate a TLS-ALPN-01 validator is shown for `servername`, as DER; null when the handshake fails. */
function presented(port: number, servername = DOMAIN): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = connect(
      { host: '127.0.0.1', port, servername, ALPNProtocols: ['acme-tls/1'], rejectUnauthorized: false },
      () => {
        const cert = socket.getPeerX509Certificate();
        socket.end();
        resolve(cert ? cert.raw : null);
      },
    );
    socket.on('error', () => resolve(null));
  });
}
const der = (pem: string) => new X509Certificate(pem).raw;

/**
 * The one rule for which TLS-ALPN-01 certificate a name presents (core/domain/tls-alpn-source.ts), seen from
 * outside: what the hook accepts is what the listener then presents. Real store, the production lookup
 * (responder/start.ts), real listeners.
 */
describe('TLS-ALPN-01: the hook refuses what the listener would never present', () => {
  const secrets = createSecretBox(randomBytes(32).toString('base64'));
  let database: Database;
  let store: Store;
  let responder: Responder;
  let httpPort: number;
  let tlsPort: number;
  let core: { certPem: string; keyPem: string };
  let hook: { certPem: string; keyPem: string };
  let authz: Authorization;

  const publish = (c: { certPem: string; keyPem: string }) =>
    rawRequest(httpPort, 'POST', `/challenge-hook/${DOMAIN}`, {
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ challenges: [{ type: 'tls', content: c.certPem, keyContent: c.keyPem }] }),
    });

  beforeAll(async () => {
    [core, hook] = await Promise.all([
      buildTlsAlpnChallengeCertificate(DOMAIN, `core-token.${'c'.repeat(43)}`),
      buildTlsAlpnChallengeCertificate(DOMAIN, `hook-token.${'h'.repeat(43)}`),
    ]);
    database = await freshDatabase(databaseTargets[0]!.open);
    store = createDrizzleStore(database);
    responder = await startResponder({
      store,
      database,
      secrets,
      http: { host: '127.0.0.1', port: 0 },
      tlsAlpn: { host: '127.0.0.1', port: 0 },
    });
    httpPort = (responder.http.address() as AddressInfo).port;
    tlsPort = (responder.tlsAlpn!.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await responder?.close();
    await database?.close();
  });

  beforeEach(async () => {
    await truncateAll(database);
    const profile = makeProfile();
    await store.profiles.insert(profile);
    const domain = makeDomain(profile.id, {
      challengeType: 'tls-alpn-01',
      endpointUsername: USER,
      endpointPasswordVerifier: await hashPassword(PASSWORD),
    });
    const id = randomUUID();
    authz = makeAuthorization(domain.id, {
      id,
      expiresAt: new Date(Date.now() + 86_400_000),
      tlsCertPem: core.certPem,
      tlsKeySealed: secrets.seal(core.keyPem, secretAad('authorizations', id, 'tls_key')),
    });
    await store.domains.insertWithAuthorization(domain, authz);
  });

  it('a pending core authorization: the listener presents the core certificate, and the hook refuses another with 409', async () => {
    expect(await presented(tlsPort)).toEqual(der(core.certPem));

    const res = await publish(hook);
    expect(res.status, res.body).toBe(409);
    const body = JSON.parse(res.body) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('conflict');
    expect(body.error.message).toContain(
      `pending TLS-ALPN-01 authorization for ${DOMAIN} until ${authz.expiresAt!.toISOString()}`,
    );
    expect(res.body).not.toContain('PRIVATE KEY');
    expect(await store.hookChallenges.list(DOMAIN)).toEqual([]);
    expect(await presented(tlsPort)).toEqual(der(core.certPem));
  });

  it('the core publishing its own certificate through the hook (--builtin) is accepted, and it is what is presented', async () => {
    expect((await publish(core)).status).toBe(201);
    expect(await presented(tlsPort)).toEqual(der(core.certPem));
  });

  it('once the core authorization is decided, the hook’s certificate is accepted and presented', async () => {
    await store.authorizations.update(authz.id, { status: 'valid' });
    expect((await publish(hook)).status).toBe(201);
    expect(await presented(tlsPort)).toEqual(der(hook.certPem));
  });

  it('an expired core authorization left pending shadows nothing: the hook’s certificate is accepted and presented', async () => {
    await store.authorizations.update(authz.id, { expiresAt: new Date(Date.now() - 1_000) });
    expect((await publish(hook)).status).toBe(201);
    expect(await presented(tlsPort)).toEqual(der(hook.certPem));
  });

  it('a hook entry stored before the core’s authorization is shadowed by it, then presented again after', async () => {
    await store.authorizations.update(authz.id, { status: 'valid' });
    expect((await publish(hook)).status).toBe(201);
    const second = makeAuthorization(authz.domainId, {
      id: randomUUID(),
      expiresAt: new Date(Date.now() + 86_400_000),
      tlsCertPem: core.certPem,
    });
    second.tlsKeySealed = secrets.seal(core.keyPem, secretAad('authorizations', second.id, 'tls_key'));
    await store.authorizations.upsert(second);
    expect(await presented(tlsPort)).toEqual(der(core.certPem));
    await store.authorizations.update(second.id, { status: 'invalid' });
    expect(await presented(tlsPort)).toEqual(der(hook.certPem));
  });

  it('no candidate at all: the handshake is refused', async () => {
    await store.authorizations.update(authz.id, { status: 'valid' });
    expect(await presented(tlsPort)).toBeNull();
    expect(await presented(tlsPort, 'other.example.com')).toBeNull();
  });
});
