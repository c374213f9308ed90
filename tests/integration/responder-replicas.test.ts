import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/ports/store.ts';
import { hashPassword } from '../../core/secrets/password-verifier.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { makeAuthorization, makeDomain, makeProfile } from '../fixtures/builders.ts';
import { type CliService, runCli, startCliService, stepsBudget } from '../support/cli-process.ts';
import { freeTcpPort, retryOnPortClash } from '../support/free-port.ts';
import { freshDatabase, postgresUrl } from '../support/test-db.ts';

const HOOK_PASSWORD = 'correct horse battery staple';

/** The CA's request: the Host is the name being validated (the builders' authorizations are for www.example.com). */
function status(port: number, token: string, host = 'www.example.com'): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: `/.well-known/acme-challenge/${token}`, headers: { host } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Polls until the replica answers `want`; a generous bound, since the latency itself is measured in bench/. */
async function until(port: number, token: string, want: number, boundMs = 5_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if ((await status(port, token)) === want) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`replica on ${port} did not answer ${want} for ${token} within ${boundMs} ms`);
}

describe.skipIf(!postgresUrl)(
  'two responder replicas on PostgreSQL, without MASTER_KEY (needs TEST_DATABASE_URL)',
  () => {
    let database: Database;
    let store: Store;
    const replicas: CliService[] = [];
    /** Each replica's HTTP port: a free one, picked at start (a replica that loses its port meanwhile retries). */
    const ports: number[] = [];
    const logs = () => replicas.map((r) => r.log());
    let domainId: string;

    beforeAll(async () => {
      database = await freshDatabase(() => openDatabase({ url: postgresUrl! }));
      store = createDrizzleStore(database);
      const profile = makeProfile();
      await store.profiles.insert(profile);
      const domain = makeDomain(profile.id, {
        endpointUsername: 'hook-user',
        endpointPasswordVerifier: await hashPassword(HOOK_PASSWORD),
      });
      domainId = domain.id;
      await store.domains.insertWithAuthorization(domain, makeAuthorization(domain.id));
      await Promise.all(
        [0, 1].map(async (i) => {
          // TLS_ALPN_PORT is set only to show the listener stays off without MASTER_KEY; nothing binds it.
          const tlsAlpnPort = String(await freeTcpPort());
          replicas[i] = await retryOnPortClash(async (port) => {
            ports[i] = port;
            const env = {
              DATABASE_URL: postgresUrl!,
              RESPONDER_HOST: '127.0.0.1',
              RESPONDER_PORT: String(port),
              TLS_ALPN_PORT: tlsAlpnPort,
              LOG_LEVEL: 'info',
            };
            // The TLS-ALPN-01 line is the last one a responder logs at start.
            return startCliService(['serve', '--role', 'responder'], env, [
              'responder listening',
              'TLS-ALPN-01 listener',
            ]);
          });
        }),
      );
    }, stepsBudget(3));
    afterAll(async () => {
      await Promise.all(replicas.map((r) => r?.stop()));
      await database?.close();
    }, stepsBudget(1));

    it('start without MASTER_KEY, and say why the TLS-ALPN-01 listener stays off', () => {
      for (const log of logs()) {
        expect(log).toContain('TLS-ALPN-01 listener off: it needs MASTER_KEY');
        expect(log).not.toContain('master key');
      }
    });

    it('serve a challenge written by another process from both replicas, and stop serving it once valid', async () => {
      const authz = makeAuthorization(domainId);
      const token = authz.httpToken!;
      for (const port of ports) expect(await status(port, token)).toBe(404);

      await store.authorizations.upsert(authz);
      for (const port of ports) await until(port, token, 200);
      // Bound to the name: the same token asked for under another Host is not answered.
      for (const port of ports) expect(await status(port, token, 'other.example.com')).toBe(404);

      await store.authorizations.update(authz.id, { status: 'valid' });
      for (const port of ports) await until(port, token, 404);
    });

    it('serve from replica B a challenge POSTed to replica A through the challenge-hook', async () => {
      const token = `hook_${randomUUID().replace(/-/g, '')}`;
      const keyAuthorization = `${token}.${'t'.repeat(43)}`;
      const res = await fetch(`http://127.0.0.1:${ports[0]}/challenge-hook/www.example.com`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`hook-user:${HOOK_PASSWORD}`).toString('base64')}`,
        },
        body: JSON.stringify({ challenges: [{ type: 'http', content: keyAuthorization, fileName: token }] }),
      });
      expect(res.status, await res.text()).toBe(201);
      await until(ports[1]!, token, 200);

      const cleared = await fetch(`http://127.0.0.1:${ports[1]}/challenge-hook/www.example.com`, {
        method: 'DELETE',
        headers: { authorization: `Basic ${Buffer.from(`hook-user:${HOOK_PASSWORD}`).toString('base64')}` },
      });
      expect(await cleared.json()).toEqual({ cleared: 1 });
      await until(ports[0]!, token, 404);
    });

    it(
      'refuse to run any other role without MASTER_KEY',
      async () => {
        // It must refuse before binding anything; a free port keeps a mistake from hitting another service.
        const out = await runCli(['serve', '--role', 'all'], {
          DATABASE_URL: postgresUrl!,
          RESPONDER_PORT: String(await freeTcpPort()),
        });
        expect(out.code).toBe(2);
        expect(out.stderr).toContain('MASTER_KEY is required with DATABASE_URL');
      },
      stepsBudget(1),
    );
  },
);
