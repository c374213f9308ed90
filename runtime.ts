import { createIControlClient } from './core/bigip/icontrol-client.ts';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { createAcmeClientGateway } from './core/acme/acme-client-gateway.ts';
import { createAuthoritativeDnsPropagation } from './core/acme/authoritative-dns-propagation.ts';
import { createHttpEndpointClient } from './core/acme/http-endpoint-client.ts';
import { createNetworkChallengeProbe } from './core/acme/network-challenge-probe.ts';
import { createAcmeDnsClient } from './core/dns/acme-dns-client.ts';
import { createRfc2136Client } from './core/dns/rfc2136-client.ts';
import { builtinResponderUrl, type Config } from './core/config.ts';
import { CoreError } from './core/errors.ts';
import type { Logger } from './core/ports/logger.ts';
import { systemClock } from './core/ports/clock.ts';
import type { Store } from './core/ports/store.ts';
import { loadOrCreateMasterKey, MASTER_KEY_FILE_NAME } from './core/secrets/master-key-file.ts';
import { createKeyRing } from './core/secrets/key-ring.ts';
import type { SecretBox } from './core/secrets/secret-box.ts';
import type { MasterKeys } from './core/ports/master-keys.ts';
import { type CoreServices, createCoreServices } from './core/services/index.ts';
import { jobSchedules } from './core/services/jobs.ts';
import { type Database, openDatabase } from './db/client.ts';
import { isConnectionLoss, reasonOf } from './db/connection-loss.ts';
import { createDrizzleStore } from './db/drizzle-store.ts';
import { approverGroupsOf } from './bot/slack-user-groups.ts';
import type { ApproverGroups } from './core/ports/approver-groups.ts';

/** The composition root: the one place that builds adapters and hands them to the core and the edges. */
export interface Runtime {
  config: Config;
  log: pino.Logger;
  database: Database;
  store: Store;
  secrets: SecretBox;
  /** False for a responder running without MASTER_KEY: every seal/open then fails with a clear error. */
  secretsAvailable: boolean;
  /** The master-key ring behind `secrets` (absent without MASTER_KEY, like secrets). */
  masterKeys: MasterKeys | undefined;
  services: CoreServices;
  /** The Slack user groups among SLACK_APPROVERS, resolved and cached; shared by the core and the bot. */
  approverGroups: ApproverGroups | undefined;
  close(): Promise<void>;
}

/** The production logger; `destination` lets a test read exactly what would be logged. */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'>,
  destination: pino.DestinationStream = pino.destination(2),
): pino.Logger {
  // Logs go to stderr so `--json` output on stdout stays machine-readable.
  return pino(
    {
      level: config.LOG_LEVEL,
      redact: {
        paths: [
          '*.password',
          '*.passphrase',
          '*.hmacKey',
          '*.keyPem',
          '*.accountKeyPem',
          '*.MASTER_KEY',
          '*.MASTER_KEY_PREVIOUS',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export function masterKeyFor(config: Config, log: Logger): string {
  if (config.MASTER_KEY) return config.MASTER_KEY;
  if (config.DATABASE_URL) {
    throw new CoreError(
      'config_invalid',
      'MASTER_KEY is required with DATABASE_URL (generate one: openssl rand -base64 32)',
    );
  }
  const dataDir = resolve(config.DATA_DIR);
  if (existsSync(join(dataDir, 'pglite')) && !existsSync(join(dataDir, MASTER_KEY_FILE_NAME))) {
    // A new key would make every sealed secret in the existing database unreadable.
    throw new CoreError(
      'config_invalid',
      `${join(dataDir, MASTER_KEY_FILE_NAME)} is missing but ${dataDir} holds a database; restore master.key from your backup or set MASTER_KEY`,
    );
  }
  const file = loadOrCreateMasterKey(dataDir);
  if (file.created) {
    log.warn(
      { path: file.path },
      `generated a master key at ${file.path} (mode 0600); back it up: without it stored keys cannot be read`,
    );
  }
  return file.key;
}

/**
 * The master keys: MASTER_KEY and MASTER_KEY_PREVIOUS from the environment, or in embedded mode without
 * MASTER_KEY the key files in DATA_DIR (master.key, master.key.previous), which rotation may replace.
 */
function keyRingFor(config: Config, log: Logger) {
  const primary = masterKeyFor(config, log);
  return createKeyRing(
    config.MASTER_KEY
      ? { kind: 'environment', primary, previous: config.MASTER_KEY_PREVIOUS }
      : { kind: 'file', dataDir: resolve(config.DATA_DIR), primary, previous: config.MASTER_KEY_PREVIOUS },
  );
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CoreError(
      'config_invalid',
      `ACME_CA_FILE cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)} (${path})`,
    );
  }
}

/** Stands in for the secret box where no MASTER_KEY is given (a DMZ responder): any use says why it fails. */
const noSecrets: SecretBox = {
  keyId: 'none',
  seal: () => {
    throw new CoreError('config_invalid', 'this process has no MASTER_KEY (responder role), so it cannot seal secrets');
  },
  open: () => {
    throw new CoreError('config_invalid', 'this process has no MASTER_KEY (responder role), so it cannot open secrets');
  },
};

/**
 * Who may decide approvals, as the actor ids the edges use: `slack:<user id>` (the bot) and `cli:<os user>`
 * (the CLI, named by the process's uid). The core checks every decision against this one list.
 */
export function approversOf(config: Pick<Config, 'SLACK_APPROVERS' | 'CLI_APPROVERS'>): string[] {
  return [...config.SLACK_APPROVERS.map((id) => `slack:${id}`), ...config.CLI_APPROVERS.map((name) => `cli:${name}`)];
}

export interface RuntimeOptions {
  /** A responder serving HTTP-01 from PostgreSQL needs no secret; everything else does. */
  secretsOptional?: boolean;
}

export async function openRuntime(
  config: Config,
  log: pino.Logger = createLogger(config),
  opts: RuntimeOptions = {},
): Promise<Runtime> {
  const secretsAvailable = !(opts.secretsOptional && config.DATABASE_URL && !config.MASTER_KEY);
  const ring = secretsAvailable ? keyRingFor(config, log) : undefined;
  const secrets = ring?.box ?? noSecrets;
  const database = await openDatabase(
    config.DATABASE_URL ? { url: config.DATABASE_URL } : { dataDir: resolve(config.DATA_DIR) },
    { log },
  );
  try {
    await database.migrate();
  } catch (err) {
    await database.close().catch(() => undefined);
    // The first query of every process: an unreachable server is said plainly, with the driver's reason
    // (host and port, never the URL's password), and as db_unavailable so `--json` callers can retry.
    if (isConnectionLoss(err)) {
      throw new CoreError(
        'db_unavailable',
        `cannot reach the database (${reasonOf(err)}); nothing changed. Try again once it is back`,
        { cause: err, retryable: true },
      );
    }
    throw new CoreError('db_error', `cannot prepare the database: ${(err as Error).message}`, { cause: err });
  }
  const store = createDrizzleStore(database);
  const approverGroups = approverGroupsOf(config, log);
  const services = createCoreServices(
    {
      store,
      acme: createAcmeClientGateway({
        timeoutMs: config.ACME_TIMEOUT_SECONDS * 1000,
        ...(config.ACME_CA_FILE ? { caPem: readCaFile(config.ACME_CA_FILE) } : {}),
      }),
      probe: createNetworkChallengeProbe({
        httpPort: config.CHALLENGE_HTTP_PORT,
        tlsPort: config.CHALLENGE_TLS_PORT,
        dnsServers: config.CHALLENGE_DNS_SERVERS,
      }),
      endpoints: createHttpEndpointClient({ allow: config.ENDPOINT_ALLOW_CIDRS }),
      bigip: (connection) => createIControlClient(connection),
      propagation: createAuthoritativeDnsPropagation({ resolvers: config.CHALLENGE_DNS_SERVERS }),
      dnsUpdates: createRfc2136Client(),
      acmeDns: createAcmeDnsClient({ resolvers: config.CHALLENGE_DNS_SERVERS }),
      secrets,
      clock: systemClock,
      log,
      newId: randomUUID,
    },
    {
      leaseMs: config.JOBS_LEASE_SECONDS * 1000,
      allowSelfApproval: config.APPROVAL_ALLOW_SELF,
      approvers: approversOf(config),
      approverGroups,
      builtinResponderUrl: builtinResponderUrl(config),
      ...(ring ? { masterKeys: ring.keys } : {}),
      jobs: { schedules: jobSchedules(config), startDelayMaxMs: config.JOBS_START_DELAY_MAX_SECONDS * 1000 },
      deployChecks: { handshake: config.DEPLOY_HANDSHAKE_CHECK },
    },
  );
  return {
    config,
    log,
    database,
    store,
    secrets,
    secretsAvailable,
    masterKeys: ring?.keys,
    services,
    approverGroups,
    close: () => database.close(),
  };
}
