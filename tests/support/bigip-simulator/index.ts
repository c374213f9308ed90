/**
 * A BIG-IP iControl REST simulator for tests and benchmarks, faithful to `reference/bigip-icontrol.md`
 * (see its "Simulator checklist"). One HTTPS (or HTTP) listener on 127.0.0.1 plays the management interface;
 * `listenVirtual` adds plain-HTTP listeners playing virtual servers with the ACME iRule attached.
 *
 * Files, one concept each: `state.ts` (the configuration tests read and seed), `pem-facts.ts`, `auth.ts`,
 * `uploads.ts`, `routes-*.ts` (one per module), `consistency.ts` (profile checks), `transactions.ts`,
 * `failures.ts`, `pipeline.ts` (the request path), `irule-listener.ts`, `self-signed.ts`.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { TokenStore, authRoutes } from './auth.ts';
import type { SimConfig, SimCore } from './context.ts';
import { Dispatcher } from './dispatch.ts';
import { Failures } from './failures.ts';
import { listenVirtualServer } from './irule-listener.ts';
import { commandContext, createPipeline } from './pipeline.ts';
import { acceptCert, acceptKey, cryptoRoutes } from './routes-crypto.ts';
import { dataGroupRoutes } from './routes-data-groups.ts';
import { chainFromBody, profileRoutes } from './routes-profiles.ts';
import { haRoutes } from './routes-ha.ts';
import { ruleRoutes } from './routes-rules.ts';
import { sysRoutes } from './routes-sys.ts';
import { virtualRoutes } from './routes-virtuals.ts';
import { factoryDefaultPair, managementCertificate } from './self-signed.ts';
import { createState, touchMeta } from './state.ts';
import { listenTlsVirtual } from './tls-virtual.ts';
import { Transactions } from './transactions.ts';
import type { BigIpSimulator, BigIpSimulatorOptions, SimulatorRequest } from './types.ts';
import { Uploads } from './uploads.ts';

export type {
  CertObject,
  DataGroupObject,
  KeyObject,
  ObjectMeta,
  ProfileChainEntry,
  ProfileObject,
  SimulatorState,
  VirtualObject,
} from './state.ts';
export type {
  BigIpSimulator,
  BigIpSimulatorOptions,
  CertKeyChainSeed,
  SimulatorFailure,
  SimulatorRequest,
  SimulatorStep,
} from './types.ts';
export { acmeDataGroupOf } from './irule-listener.ts';
export type { BigIpCluster, BigIpClusterOptions, SyncRecord } from './ha-cluster.ts';
export { MAX_CHUNK_BYTES } from './uploads.ts';

function configOf(options: BigIpSimulatorOptions): SimConfig {
  return {
    username: options.username ?? 'admin',
    password: options.password ?? 'sim-password-1',
    tls: options.tls ?? true,
    latencyMs: options.latencyMs ?? 0,
    tokenTimeoutSeconds: options.tokenTimeoutSeconds ?? 1200,
    transactionTimeoutSeconds: options.transactionTimeoutSeconds ?? 120,
    hostname: options.hostname ?? 'bigip-sim.example.test',
    version: options.version ?? '17.1.2.1',
    basicAuth: options.basicAuth ?? true,
    tokenAuth: options.tokenAuth ?? true,
  };
}

function listen(server: http.Server | https.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startBigIpSimulator(options: BigIpSimulatorOptions = {}): Promise<BigIpSimulator> {
  const config = configOf(options);
  const state = createState();
  let operationId = 6_229_400 + Math.floor(Math.random() * 1000);
  const core: SimCore = {
    config,
    state,
    startedAt: new Date(),
    now: () => new Date(),
    nextOperationId: () => {
      operationId += 1;
      return operationId;
    },
  };

  const factory = await factoryDefaultPair();
  state.certs.set('/Common/default.crt', { pem: factory.certPem });
  state.keys.set('/Common/default.key', { pem: factory.keyPem, securityType: 'normal' });
  state.profiles.set('/Common/clientssl', {
    defaultsFrom: null,
    certKeyChain: [{ name: 'default', cert: '/Common/default.crt', key: '/Common/default.key', chain: 'none' }],
  });

  const tokens = new TokenStore(core);
  const failures = new Failures();
  const uploads = new Uploads(core);
  const dispatcher = new Dispatcher();
  const transactions = new Transactions(core, failures, {
    resolve: (method, path) => dispatcher.resolve(method, path),
    run: (match, cmd, touched) => {
      match.method!.handle(commandContext(core, match, cmd, touched));
    },
  });
  dispatcher.add([
    ...authRoutes(core, tokens),
    ...uploads.routes(),
    ...sysRoutes(core),
    ...cryptoRoutes(core),
    ...profileRoutes(core),
    ...dataGroupRoutes(core),
    ...ruleRoutes(core),
    ...virtualRoutes(core),
    ...transactions.routes(),
    ...(options.ha ? haRoutes(core, options.ha) : []),
  ]);

  const requests: SimulatorRequest[] = [];
  const pipeline = createPipeline({ core, tokens, failures, dispatcher, transactions: () => transactions, requests });
  // Requests between arrival and the answer (or a dropped connection), and the most seen at once.
  const inFlight = { now: 0, max: 0 };
  const handler: http.RequestListener = (req, res) => {
    inFlight.max = Math.max(inFlight.max, ++inFlight.now);
    res.once('close', () => inFlight.now--);
    pipeline(req, res);
  };

  let caPem: string | undefined;
  let server: http.Server;
  if (config.tls) {
    const tlsPair = await managementCertificate();
    caPem = tlsPair.certPem;
    server = https.createServer({ key: tlsPair.keyPem, cert: tlsPair.certPem, keepAlive: true }, handler);
  } else {
    server = http.createServer({ keepAlive: true }, handler);
  }
  server.keepAliveTimeout = 30_000;
  const port = await listen(server);
  const virtualServers: http.Server[] = [];
  const tlsListeners: import('node:net').Server[] = [];

  const now = () => core.now();

  const sim: BigIpSimulator = {
    url: `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    caPem,
    username: config.username,
    password: config.password,
    state,
    requests,
    failAt: (step, failure) => failures.arm(step, failure),
    clearFailures: () => failures.clear(),
    expireTokens: () => tokens.expireAll(),
    resetRequests: () => {
      requests.length = 0;
      inFlight.max = inFlight.now;
    },
    maxConcurrentRequests: () => inFlight.max,
    addProfile(fullPath, opts = {}) {
      const defaultsFrom = opts.defaultsFrom ?? '/Common/clientssl';
      const certKeyChain = opts.certKeyChain
        ? chainFromBody(opts.certKeyChain, fullPath)
        : (state.profiles.get(defaultsFrom)?.certKeyChain.map((e) => ({ ...e })) ?? []);
      state.profiles.set(fullPath, {
        defaultsFrom,
        certKeyChain,
        ...(opts.serverName === undefined ? {} : { serverName: opts.serverName }),
      });
      touchMeta(state, 'profile', fullPath, now());
    },
    addVirtual(fullPath, opts = {}) {
      state.virtuals.set(fullPath, {
        destination: opts.destination ?? '/Common/192.0.2.10:80',
        rules: [...(opts.rules ?? [])],
        ...(opts.profiles ? { profiles: [...opts.profiles] } : {}),
      });
      touchMeta(state, 'virtual', fullPath, now());
    },
    addCert(fullPath, pem) {
      state.certs.set(fullPath, acceptCert(fullPath, pem));
      touchMeta(state, 'cert', fullPath, now());
    },
    addKey(fullPath, pem, passphrase) {
      state.keys.set(fullPath, acceptKey(fullPath, pem, passphrase));
      touchMeta(state, 'key', fullPath, now());
    },
    addRule(fullPath, source) {
      state.rules.set(fullPath, source);
      touchMeta(state, 'rule', fullPath, now());
    },
    addDataGroup(fullPath, records = {}, type = 'string') {
      state.dataGroups.set(fullPath, { type, records: new Map(Object.entries(records)) });
      touchMeta(state, 'data-group', fullPath, now());
    },
    async listenVirtual(virtualFullPath, listenPort = 0, host = '127.0.0.1') {
      const started = await listenVirtualServer(state, virtualFullPath, listenPort, host);
      virtualServers.push(started.server);
      return started.port;
    },
    async serveVirtualTls(fullPath) {
      const started = await listenTlsVirtual(() => state, fullPath);
      tlsListeners.push(started.server);
      const vs = state.virtuals.get(fullPath);
      if (vs) vs.destination = `/Common/127.0.0.1:${started.port}`;
      return started.port;
    },
    async close() {
      await Promise.all(tlsListeners.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await Promise.all([closeServer(server), ...virtualServers.map(closeServer)]);
    },
  };
  return sim;
}
