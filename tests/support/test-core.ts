import { createIControlClient } from '../../core/bigip/icontrol-client.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createAcmeClientGateway } from '../../core/acme/acme-client-gateway.ts';
import { createAuthoritativeDnsPropagation } from '../../core/acme/authoritative-dns-propagation.ts';
import { createHttpEndpointClient } from '../../core/acme/http-endpoint-client.ts';
import { createNetworkChallengeProbe } from '../../core/acme/network-challenge-probe.ts';
import { createAcmeDnsClient } from '../../core/dns/acme-dns-client.ts';
import { createRfc2136Client } from '../../core/dns/rfc2136-client.ts';
import { systemClock } from '../../core/ports/clock.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import type { Store } from '../../core/ports/store.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import type { CoreDeps } from '../../core/services/core-deps.ts';
import { type CoreServices, createCoreServices } from '../../core/services/index.ts';
import type { Database } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { startResponder } from '../../responder/start.ts';
import type { PebbleHandle } from './pebble.ts';

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
  opts: {
    httpResponder?: boolean;
    approvers?: readonly string[];
    /** Replaces the dependencies before the services take theirs (the benchmark's `--trace` times each call). */
    wrapDeps?: (deps: CoreDeps) => CoreDeps;
    /**
     * The DNS server the probe, the propagation check and the CNAME check ask instead of challtestsrv (a BIND
     * started by the test, which Pebble resolves through too), and the port its NS hosts are asked on.
     */
    dns?: { server: string; authoritativePort: number };
  } = {},
): Promise<TestCore> {
  const store = createDrizzleStore(database);
  const secrets = createSecretBox(masterKey);
  const plainDeps: CoreDeps = {
    store,
    acme: createAcmeClientGateway({ caPem: readFileSync(pebble.caFile, 'utf8') }),
    probe: createNetworkChallengeProbe({
      httpPort: pebble.httpPort,
      tlsPort: pebble.tlsPort,
      dnsServers: [opts.dns?.server ?? pebble.dnsServer],
    }),
    endpoints: createHttpEndpointClient({ allow: [] }),
    bigip: (connection) => createIControlClient(connection),
    propagation: createAuthoritativeDnsPropagation({
      resolvers: [opts.dns?.server ?? pebble.dnsServer],
      ...(opts.dns ? { authoritativePort: opts.dns.authoritativePort } : {}),
    }),
    dnsUpdates: createRfc2136Client({ timeoutMs: 2_000 }),
    acmeDns: createAcmeDnsClient({ resolvers: [opts.dns?.server ?? pebble.dnsServer], timeoutMs: 2_000 }),
    secrets,
    clock: systemClock,
    log: silentLogger,
    newId: randomUUID,
  };
  const deps = opts.wrapDeps ? opts.wrapDeps(plainDeps) : plainDeps;
  // The responder as production starts it (responder/start.ts), on Pebble's validation ports. HTTP-01 off
  // when something else (a simulated BIG-IP's port-80 virtual server) answers on that port.
  const responder = await startResponder({
    store,
    database,
    secrets,
    http: opts.httpResponder === false ? null : { host: '127.0.0.1', port: pebble.httpPort },
    tlsAlpn: { host: '127.0.0.1', port: pebble.tlsPort },
  });
  return {
    store,
    services: createCoreServices(deps, {
      approvers: opts.approvers ?? [],
      builtinResponderUrl: `http://127.0.0.1:${pebble.httpPort}`,
    }),
    deps,
    close: () => responder.close(),
  };
}
