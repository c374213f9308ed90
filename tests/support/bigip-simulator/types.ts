/**
 * The public surface of the BIG-IP iControl REST simulator (`reference/bigip-icontrol.md`): options, the steps
 * failures can be injected at, the request log and the handle a test gets back. The state the handle exposes
 * is described in `state.ts`.
 */
import type { HaMemberLink } from './routes-ha.ts';
import type { SimulatorState } from './state.ts';

export interface BigIpSimulatorOptions {
  /** Default 'admin'. */
  username?: string;
  /** Default 'sim-password-1'. */
  password?: string;
  /** Default true: HTTPS with a fresh self-signed certificate for 127.0.0.1 and localhost (see `caPem`). */
  tls?: boolean;
  /** Delay added before answering every request (default 0). */
  latencyMs?: number;
  /** Lifetime of a login token (default 1200); fractions are allowed, for tests. */
  tokenTimeoutSeconds?: number;
  /** `timeoutSeconds` of a new transaction (default 120); fractions are allowed, for tests. */
  transactionTimeoutSeconds?: number;
  /** device-info `hostname`, default 'bigip-sim.example.test'. */
  hostname?: string;
  /** TMOS version, default '17.1.2.1'. */
  version?: string;
  /** Default true: `Authorization: Basic` accepted on /mgmt/tm/* and /mgmt/shared/*. */
  basicAuth?: boolean;
  /** Default true; false → login answers 401 like a box without the token provider. */
  tokenAuth?: boolean;
  /** A member of a device group (`ha-cluster.ts` sets it): serves the `cm/*` routes. */
  ha?: HaMemberLink;
}

export type SimulatorStep =
  | 'login'
  | 'token-extend'
  | 'device-info'
  | 'version'
  | 'upload'
  | 'unix-rm'
  | 'key-install'
  | 'cert-install'
  | 'cert-read'
  | 'key-read'
  | 'cert-delete'
  | 'key-delete'
  | 'file-create'
  | 'file-update'
  | 'profile-read'
  | 'profile-list'
  | 'profile-create'
  | 'profile-patch'
  | 'transaction-begin'
  | 'transaction-commit'
  | 'save'
  | 'data-group-read'
  | 'data-group-create'
  | 'data-group-patch'
  | 'rule-read'
  | 'rule-write'
  | 'virtual-read'
  | 'virtual-patch'
  // Additions beyond the brief.
  /** `DELETE /mgmt/shared/authz/tokens/<token>`. */
  | 'logout'
  /** `GET /mgmt/tm/sys`: the Basic-auth probe. */
  | 'auth-probe'
  | 'profile-delete'
  | 'data-group-delete'
  | 'rule-delete'
  /** `GET cm/device`, `cm/device-group…`, `cm/failover-status`. */
  | 'ha-read'
  | 'sync-status'
  /** `POST /mgmt/tm/cm[/config-sync]` `to-group`. */
  | 'config-sync';

export interface SimulatorFailure {
  /** Default 500. */
  status?: number;
  /** Default an F5-looking message naming the step. */
  message?: string;
  /** How many matching requests fail, default 1 (Infinity for all). */
  times?: number;
  /** Apply the change first, then answer the error (a lost response). */
  afterApply?: boolean;
  /**
   * Only requests for which this returns true fail (and use up `times`); others pass. Lets a test fail, say,
   * the read-back after a switch but not the reads before it, or act (expire tokens) at a chosen moment.
   */
  when?: (request: { method: string; path: string }) => boolean;
}

export interface SimulatorRequest {
  method: string;
  /** Pathname and query as received. */
  path: string;
  step: SimulatorStep | null;
  status: number;
  /** The `X-F5-REST-Coordination-Id` a write was queued under, else null. */
  transaction: string | null;
  auth: 'token' | 'basic' | 'none';
  /** Request body length in bytes. */
  bytes: number;
}

export interface CertKeyChainSeed {
  name: string;
  cert: string;
  key: string;
  chain?: string;
  passphrase?: string;
}

export interface BigIpSimulator {
  /** e.g. https://127.0.0.1:PORT (no trailing slash). */
  url: string;
  /** PEM of the self-signed certificate to trust, when tls. */
  caPem: string | undefined;
  username: string;
  password: string;
  /** Live: tests inspect and seed it directly. */
  state: SimulatorState;
  /** Arms a failure for `step`. Several failures armed for one step are used in the order they were armed. */
  failAt(step: SimulatorStep, failure?: SimulatorFailure): void;
  clearFailures(): void;
  /** Every token issued so far now answers 401 "X-F5-Auth-Token has expired.". */
  expireTokens(): void;
  requests: SimulatorRequest[];
  /** Also restarts the count of `maxConcurrentRequests`. */
  resetRequests(): void;
  /** The most requests this device had in flight at once (arrived, not yet answered). */
  maxConcurrentRequests(): number;
  addProfile(
    fullPath: string,
    opts?: { defaultsFrom?: string; certKeyChain?: CertKeyChainSeed[]; serverName?: string },
  ): void;
  /** `profiles`: full paths of attached profiles (client-ssl ones decide what a TLS listener serves). */
  addVirtual(fullPath: string, opts?: { destination?: string; rules?: string[]; profiles?: string[] }): void;
  /**
   * Addition: a real TLS listener on loopback for virtual server `fullPath`, presenting what its client-ssl
   * profile holds at each handshake (`tls-virtual.ts`); its `destination` becomes the address listened on.
   * Returns the port.
   */
  serveVirtualTls(fullPath: string): Promise<number>;
  /** Addition: stores a certificate (or bundle) PEM as if installed. */
  addCert(fullPath: string, pem: string): void;
  /** Addition: stores a private key PEM as if installed; a passphrase marks it `securityType: password`. */
  addKey(fullPath: string, pem: string, passphrase?: string): void;
  /** Addition: stores an iRule. */
  addRule(fullPath: string, source: string): void;
  /** Addition: stores an internal data group (type 'string' unless given). */
  addDataGroup(fullPath: string, records?: Record<string, string>, type?: string): void;
  /**
   * Starts a plain-HTTP listener playing virtual server `virtualFullPath`: the attached iRules' ACME logic
   * answers from their data group as the kojot-acme iRule does; anything else gets 404. Returns the port
   * (0 = pick one).
   */
  listenVirtual(virtualFullPath: string, port?: number, host?: string): Promise<number>;
  close(): Promise<void>;
}
