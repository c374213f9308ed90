import { createPublicKey, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { createIControlClient } from '../../core/bigip/icontrol-client.ts';
import type { ManagedCertificate } from '../../core/domain/managed-certificate.ts';
import { silentLogger } from '../../core/ports/logger.ts';
import { systemClock } from '../../core/ports/clock.ts';
import type { Store } from '../../core/ports/store.ts';
import { createSecretBox, type SecretBox } from '../../core/secrets/secret-box.ts';
import type { CoreDeps } from '../../core/services/core-deps.ts';
import { type CoreServiceOptions, type CoreServices, createCoreServices } from '../../core/services/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import {
  type BigIpSimulator,
  type BigIpSimulatorOptions,
  startBigIpSimulator,
} from '../support/bigip-simulator/index.ts';
import { readPrivateKey } from '../support/bigip-simulator/pem-facts.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';
import { freshDatabase, truncateAll } from '../support/test-db.ts';

/** A port this suite must never touch: any use throws, so a test cannot pass by accident through it. */
export function unused<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get(_t, prop) {
      throw new Error(`${name}.${String(prop)} is not used by deploy tests`);
    },
  });
}

/** Core dependencies for deploying only: the real iControl client; the ACME side must not be touched. */
export function deployCoreDeps(store: Store, secrets: SecretBox): CoreDeps {
  return {
    store,
    acme: unused('acme'),
    probe: unused('probe'),
    endpoints: unused('endpoints'),
    propagation: unused('propagation'),
    dnsUpdates: unused('dnsUpdates'),
    acmeDns: unused('acmeDns'),
    bigip: (connection) => createIControlClient(connection),
    secrets,
    clock: systemClock,
    log: silentLogger,
    newId: randomUUID,
  };
}

export interface DeployHarness {
  database: Database;
  store: Store;
  secrets: SecretBox;
  services: CoreServices;
  deps: CoreDeps;
  simulators: BigIpSimulator[];
  /** Starts a simulator and registers it as a device named `name` (connection test included). */
  addDevice(name: string, options?: BigIpSimulatorOptions): Promise<BigIpSimulator>;
  seedCertificate(names?: string[], name?: string): Promise<ManagedCertificate>;
  /** Stops every simulator and empties the database, for the next test. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startDeployHarness(
  serviceOptions: CoreServiceOptions = {},
  open: () => Promise<Database> = () => openDatabase({ memory: true }),
): Promise<DeployHarness> {
  const database = await freshDatabase(open);
  const store = createDrizzleStore(database);
  const secrets = createSecretBox(randomBytes(32).toString('base64'));
  const deps = deployCoreDeps(store, secrets);
  const services = createCoreServices(deps, serviceOptions);
  const simulators: BigIpSimulator[] = [];
  return {
    database,
    store,
    secrets,
    services,
    deps,
    simulators,
    async addDevice(name, options = {}) {
      const sim = await startBigIpSimulator({ password: `device-password-${name}-7Q`, ...options });
      simulators.push(sim);
      await services.devices.add(
        {
          name,
          url: sim.url,
          username: sim.username,
          password: sim.password,
          ...(sim.caPem ? { caPem: sim.caPem } : { insecure: true }),
        },
        'test',
      );
      return sim;
    },
    seedCertificate(names = ['www.example.com'], name) {
      return seedIssuedCertificate(store, secrets, { names, ...(name ? { name } : {}) });
    },
    async reset() {
      await Promise.all(simulators.splice(0).map((s) => s.close()));
      await truncateAll(database);
    },
    async close() {
      await Promise.all(simulators.splice(0).map((s) => s.close()));
      await database.close();
    },
  };
}

/**
 * The invariant every deploy step must keep: each listed profile exists and every certKeyChain entry names
 * a certificate and a key that exist on the device and belong together. Returns the leaf serial each profile
 * serves (first entry).
 */
export function assertProfilesConsistent(sim: BigIpSimulator, profiles: string[]): Record<string, string> {
  const serving: Record<string, string> = {};
  for (const path of profiles) {
    const profile = sim.state.profiles.get(path);
    if (!profile) throw new Error(`${path} is missing`);
    for (const entry of profile.certKeyChain) {
      const cert = sim.state.certs.get(entry.cert);
      const key = sim.state.keys.get(entry.key);
      if (!cert) throw new Error(`${path} references missing certificate ${entry.cert}`);
      if (!key) throw new Error(`${path} references missing key ${entry.key}`);
      if (entry.chain !== 'none' && !sim.state.certs.has(entry.chain))
        throw new Error(`${path} references missing chain ${entry.chain}`);
      const leaf = new X509Certificate(cert.pem);
      const privateKey = readPrivateKey(key.pem, key.passphrase);
      const same = createPublicKey(privateKey)
        .export({ type: 'spki', format: 'der' })
        .equals(leaf.publicKey.export({ type: 'spki', format: 'der' }));
      if (!same) throw new Error(`${path}: ${entry.key} does not match ${entry.cert}`);
      serving[path] ??= leaf.serialNumber.toLowerCase();
    }
  }
  return serving;
}

/** Writes the device saw (anything but GETs, login and logout). */
export function writesSeen(sim: BigIpSimulator): string[] {
  return sim.requests
    .filter((r) => r.method !== 'GET' && r.step !== 'login' && r.step !== 'logout')
    .map((r) => `${r.method} ${r.path}`);
}
