import { createIControlClient } from '../../core/bigip/icontrol-client.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { createAcmeClientGateway } from '../../core/acme/acme-client-gateway.ts';
import { createAuthoritativeDnsPropagation } from '../../core/acme/authoritative-dns-propagation.ts';
import { createHttpEndpointClient } from '../../core/acme/http-endpoint-client.ts';
import { createNetworkChallengeProbe } from '../../core/acme/network-challenge-probe.ts';
import { systemClock } from '../../core/ports/clock.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import type { Store } from '../../core/ports/store.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import type { CoreDeps } from '../../core/services/core-deps.ts';
import { type CoreServices, createCoreServices } from '../../core/services/index.ts';
import type { Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { challengeSource, tlsAlpnLookup } from '../../cli/challenge-listeners.ts';
import { createResponderApp } from '../../responder/app.ts';
import { ChallengeCache } from '../../responder/challenge-cache.ts';
import { createResponderServer } from '../../responder/server.ts';
import { createTlsAlpnServer } from '../../responder/tls-alpn-server.ts';
import type { PebbleHandle } from './pebble.ts';

/**
 * Listens on a port Pebble validates against. It was free when Pebble started; if something took it since,
 * fail the suite's beforeAll with the port's name instead of an unhandled 'error' event that leaves the hook
 * hanging until its timeout.
 */
function listenOn(server: Server, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new Error(`${what} cannot listen on 127.0.0.1:${port}: ${err.message}`, { cause: err }));
    server.once('error', onError).listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export interface TestCore {
  store: Store;
  services: CoreServices;
  deps: CoreDeps;
  close(): Promise<void>;
}

/**
 * The core services wired as in production (real acme-client gateway, real probe, real store), trusting
 * Pebble's CA, with the HTTP-01 responder and TLS-ALPN-01 listener on Pebble's validation ports.
 */
export async function startTestCore(
  database: Database,
  pebble: PebbleHandle,
  masterKey = randomBytes(32).toString('base64'),
  opts: { httpResponder?: boolean; approvers?: readonly string[] } = {},
): Promise<TestCore> {
  const store = createDrizzleStore(database);
  const secrets = createSecretBox(masterKey);
  const deps: CoreDeps = {
    store,
    acme: createAcmeClientGateway({ caPem: readFileSync(pebble.caFile, 'utf8') }),
    probe: createNetworkChallengeProbe({
      httpPort: pebble.httpPort,
      tlsPort: pebble.tlsPort,
      dnsServers: [pebble.dnsServer],
    }),
    endpoints: createHttpEndpointClient({ allow: [] }),
    bigip: (connection) => createIControlClient(connection),
    propagation: createAuthoritativeDnsPropagation({ resolvers: [pebble.dnsServer] }),
    secrets,
    clock: systemClock,
    log: silentLogger,
    newId: randomUUID,
  };
  // The responder as production runs it: in-memory cache fed by notifications, node:http fast path.
  const cache = new ChallengeCache(challengeSource(store, database));
  await cache.start();
  const app = createResponderApp({
    httpKeyAuthorization: (t, host) => cache.answer(t, host),
    ready: async () => true,
    hook: {
      hookChallenges: store.hookChallenges,
      endpointVerifiers: (name) => store.domains.endpointVerifiers(name),
      secrets,
      newId: randomUUID,
      now: () => new Date(),
      coreTlsAlpnChallenge: (name) => store.authorizations.tlsAlpnMaterial(name),
    },
  });
  const http = createResponderServer(app, (t, host) => cache.answer(t, host));
  // Off when something else (a simulated BIG-IP's port-80 virtual server) answers HTTP-01 on that port.
  if (opts.httpResponder !== false) await listenOn(http, pebble.httpPort, 'HTTP-01 responder');
  // The production lookup: the one rule for which TLS-ALPN-01 certificate a name presents.
  const tls = createTlsAlpnServer(tlsAlpnLookup(store, secrets, () => new Date()));
  try {
    await listenOn(tls, pebble.tlsPort, 'TLS-ALPN-01 listener');
  } catch (err) {
    if (http.listening) await new Promise((r) => http.close(r));
    await cache.stop();
    throw err;
  }
  return {
    store,
    services: createCoreServices(deps, { approvers: opts.approvers ?? [] }),
    deps,
    close: async () => {
      if (http.listening) await new Promise((r) => http.close(r));
      await cache.stop();
      await new Promise((r) => tls.close(r));
    },
  };
}
