/**
 * Test harness: starts a real Pebble ACME server plus pebble-challtestsrv (mock DNS)
 * for a vitest suite (Pebble 2.4, as packaged by Debian).
 *
 * Every port is free, picked at start-up, so two test runs (or a service on 5002) can share
 * a machine: Pebble's own listeners, challtestsrv's, and the ports Pebble *validates against*
 * (httpPort for http-01, tlsPort for tls-alpn-01), where the app under test runs its challenge
 * responder. Read those from the handle (`pebble().httpPort`) after start, never from a constant.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { freeTcpPort, freeTcpUdpPort, saysAddressInUse } from './free-port.ts';

export interface PebbleOptions {
  /** PEBBLE_WFE_NONCEREJECT: percentage of valid nonces rejected. Default 0. */
  nonceReject?: number;
  /** PEBBLE_AUTHZREUSE: percentage of valid authorizations reused. Default 0. */
  authzReuse?: number;
  /** PEBBLE_VA_NOSLEEP: skip the random 0-15 s pre-validation sleep. Default true. */
  noSleep?: boolean;
  /** Certificate validity in seconds (Pebble default: 5 years). */
  certificateValidityPeriod?: number;
  /** Names (and their subdomains) Pebble refuses to order for (`rejectedIdentifier`): a CA refusal on demand. */
  domainBlocklist?: string[];
  /** Port Pebble connects to for http-01 validation. Default: a free port picked at start. */
  httpPort?: number;
  /** Port Pebble connects to for tls-alpn-01 validation. Default: a free port picked at start. */
  tlsPort?: number;
  /** Require external account binding with these key ids → base64url HMAC keys. */
  eabKeys?: Record<string, string>;
  /**
   * The DNS server Pebble validates dns-01 through, instead of challtestsrv's (a BIND the suite started; a
   * getter, since that server starts in an earlier beforeAll).
   */
  dnsServer?: () => string;
}

export interface PebbleHandle {
  /** https://127.0.0.1:<port>/dir */
  directoryUrl: string;
  /** PEM file of the throwaway CA that signed Pebble's HTTPS certificate. */
  caFile: string;
  /** '127.0.0.1:<port>' of challtestsrv's DNS server. */
  dnsServer: string;
  /** challtestsrv management API, http://127.0.0.1:<port> */
  managementUrl: string;
  /** Pebble's own management API (roots, intermediates), https://127.0.0.1:<port> */
  pebbleManagementUrl: string;
  httpPort: number;
  tlsPort: number;
  /** Temp dir holding certificates, config and `pebble.log`. */
  dir: string;
  logFile: string;
  /** Set the TXT record for `host` (trailing dot added if missing). */
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  /** PEM of Pebble's current issuing root (regenerated at each launch). */
  rootsPem(): Promise<string>;
  /** Last lines of the combined Pebble/challtestsrv log. */
  logTail(lines?: number): string;
  /** Kill both processes (SIGTERM, then SIGKILL after 2 s) and remove the temp dir. */
  stop(): Promise<void>;
}

const PEBBLE_BIN = 'pebble';
const CHALLTESTSRV_BIN = 'pebble-challtestsrv';
const READY_TIMEOUT_MS = 15_000;
const KILL_GRACE_MS = 2_000;

function onPath(bin: string): boolean {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean);
  for (const d of dirs) {
    try {
      fs.accessSync(path.join(d, bin), fs.constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/** True when both `pebble` and `pebble-challtestsrv` are on PATH. */
export function pebbleAvailable(): boolean {
  return onPath(PEBBLE_BIN) && onPath(CHALLTESTSRV_BIN);
}

// ---------------------------------------------------------------------------
// Cleanup of children if the test process exits without calling stop().

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of liveDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  });
}

// ---------------------------------------------------------------------------
// Ports

interface PebblePorts {
  listen: number;
  mgmt: number;
  dns: number;
  chalMgmt: number;
  http: number;
  tls: number;
}

/**
 * Six distinct ports: Pebble's and challtestsrv's listeners, plus the two it validates against (unless the
 * caller fixed those). The validation ports are only picked here; the test binds them later, so a port can
 * in theory be taken in between. The kernel hands out bind(0) ports at random across the ephemeral range,
 * which makes that rare, and a test that loses the race fails with EADDRINUSE naming the port.
 */
async function distinctFreePorts(fixed: { http?: number; tls?: number }): Promise<PebblePorts> {
  const used = new Set<number>([fixed.http, fixed.tls].filter((p): p is number => p !== undefined));
  const pick = async (f: () => Promise<number>): Promise<number> => {
    for (;;) {
      const p = await f();
      if (!used.has(p)) {
        used.add(p);
        return p;
      }
    }
  };
  const dns = await pick(freeTcpUdpPort);
  const listen = await pick(freeTcpPort);
  const mgmt = await pick(freeTcpPort);
  const chalMgmt = await pick(freeTcpPort);
  const http = fixed.http ?? (await pick(freeTcpPort));
  const tls = fixed.tls ?? (await pick(freeTcpPort));
  return { listen, mgmt, dns, chalMgmt, http, tls };
}

// ---------------------------------------------------------------------------
// Certificates

function generateCerts(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const p = (f: string) => path.join(dir, f);
  const run = (args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? e.message}`);
    }
  };
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=bigip-acme test CA',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
  ]);
  run([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    p('key.pem'),
    '-out',
    p('server.csr'),
  ]);
  fs.writeFileSync(
    p('ext.cnf'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n',
  );
  run([
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '825',
    '-extfile',
    p('ext.cnf'),
    '-out',
    p('cert.pem'),
  ]);
  return { caFile: p('ca.pem'), certFile: p('cert.pem'), keyFile: p('key.pem') };
}

// ---------------------------------------------------------------------------
// HTTP helpers

interface SimpleResponse {
  status: number;
  body: string;
}

function httpsGet(url: string, ca: string, timeoutMs = 2_000): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'GET', ca, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout GET ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function httpPostJson(url: string, payload: unknown, timeoutMs = 5_000): Promise<SimpleResponse> {
  const data = Buffer.from(JSON.stringify(payload));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        timeout: timeoutMs,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': data.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout POST ${url}`)));
    req.on('error', reject);
    req.end(data);
  });
}

function httpReachable(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'GET', timeout: 1_000, agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Process management

class Log {
  private readonly stream: fs.WriteStream;
  private readonly tail: string[] = [];

  constructor(readonly file: string) {
    this.stream = fs.createWriteStream(file, { flags: 'a' });
    this.stream.on('error', () => {
      // the temp dir may be removed while a child is still flushing
    });
  }

  attach(name: string, child: ChildProcess): void {
    for (const s of [child.stdout, child.stderr]) {
      if (!s) continue;
      let partial = '';
      s.setEncoding('utf8');
      s.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) this.line(name, line);
      });
      s.on('end', () => {
        if (partial) this.line(name, partial);
        partial = '';
      });
    }
  }

  line(name: string, text: string): void {
    const l = `[${name}] ${text}`;
    this.tail.push(l);
    if (this.tail.length > 500) this.tail.shift();
    if (!this.stream.destroyed) this.stream.write(l + '\n');
  }

  lastLines(n = 40): string {
    return this.tail.slice(-n).join('\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.destroyed || this.stream.writableEnded) return resolve();
      this.stream.end(() => resolve());
    });
  }
}

function startChild(name: string, bin: string, args: string[], env: NodeJS.ProcessEnv, log: Log): ChildProcess {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  log.attach(name, child);
  child.on('error', (err) => log.line(name, `spawn error: ${err.message}`));
  child.on('exit', (code, signal) => {
    liveChildren.delete(child);
    log.line(name, `exited code=${code} signal=${signal}`);
  });
  return child;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function killChild(child: ChildProcess): Promise<void> {
  if (hasExited(child) || child.pid === undefined) {
    liveChildren.delete(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    child.kill('SIGTERM');
  } catch {
    // already gone
  }
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), KILL_GRACE_MS));
  if ((await Promise.race([exited, timer])) === 'timeout' && !hasExited(child)) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
    await Promise.race([exited, sleep(KILL_GRACE_MS)]);
  }
  liveChildren.delete(child);
}

function withDot(host: string): string {
  return host.endsWith('.') ? host : `${host}.`;
}

// ---------------------------------------------------------------------------

/** Start Pebble and challtestsrv; resolves once Pebble's /dir answers. */
export async function startPebble(opts: PebbleOptions = {}): Promise<PebbleHandle> {
  if (!pebbleAvailable()) {
    throw new Error(`${PEBBLE_BIN} and ${CHALLTESTSRV_BIN} must be on PATH (apt-get install pebble)`);
  }
  installExitHook();
  // A picked port can be grabbed by someone else before the child binds it; retry then.
  let lastErr: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastErr = err;
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw lastErr;
}

class PortInUseError extends Error {}

async function startOnce(opts: PebbleOptions): Promise<PebbleHandle> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pebble-'));
  liveDirs.add(dir);
  const logFile = path.join(dir, 'pebble.log');
  const log = new Log(logFile);
  const children: ChildProcess[] = [];

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map(killChild));
    await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };

  try {
    const { caFile, certFile, keyFile } = generateCerts(dir);
    const ca = fs.readFileSync(caFile, 'utf8');
    const ports = await distinctFreePorts({ http: opts.httpPort, tls: opts.tlsPort });
    const httpPort = ports.http;
    const tlsPort = ports.tls;

    const pebbleConfig: Record<string, unknown> = {
      listenAddress: `127.0.0.1:${ports.listen}`,
      managementListenAddress: `127.0.0.1:${ports.mgmt}`,
      certificate: certFile,
      privateKey: keyFile,
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: opts.eabKeys !== undefined,
      ...(opts.eabKeys ? { externalAccountMACKeys: opts.eabKeys } : {}),
      ...(opts.domainBlocklist ? { domainBlocklist: opts.domainBlocklist } : {}),
    };
    if (opts.certificateValidityPeriod !== undefined) {
      pebbleConfig['certificateValidityPeriod'] = opts.certificateValidityPeriod;
    }
    const configFile = path.join(dir, 'pebble-config.json');
    fs.writeFileSync(configFile, JSON.stringify({ pebble: pebbleConfig }, null, 2));

    const dnsServer = `127.0.0.1:${ports.dns}`;
    const managementUrl = `http://127.0.0.1:${ports.chalMgmt}`;
    const directoryUrl = `https://127.0.0.1:${ports.listen}/dir`;
    const pebbleManagementUrl = `https://127.0.0.1:${ports.mgmt}`;

    const chal = startChild(
      'challtestsrv',
      CHALLTESTSRV_BIN,
      [
        '-defaultIPv6',
        '',
        '-dns01',
        dnsServer,
        '-http01',
        '',
        '-https01',
        '',
        '-tlsalpn01',
        '',
        '-management',
        `127.0.0.1:${ports.chalMgmt}`,
      ],
      process.env,
      log,
    );
    children.push(chal);

    const pebbleEnvVars: NodeJS.ProcessEnv = {
      ...process.env,
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: String(opts.nonceReject ?? 0),
      PEBBLE_AUTHZREUSE: String(opts.authzReuse ?? 0),
    };
    if (opts.noSleep === false) delete pebbleEnvVars['PEBBLE_VA_NOSLEEP'];
    const pebble = startChild(
      'pebble',
      PEBBLE_BIN,
      ['-config', configFile, '-dnsserver', opts.dnsServer?.() ?? dnsServer, '-strict=false'],
      pebbleEnvVars,
      log,
    );
    children.push(pebble);

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let pebbleReady = false;
    let chalReady = false;
    let lastProbeError = '';
    while (!(pebbleReady && chalReady)) {
      for (const [name, child] of [
        ['pebble', pebble],
        ['challtestsrv', chal],
      ] as const) {
        if (hasExited(child)) {
          await sleep(50); // let the last output arrive
          const tail = log.lastLines();
          const msg = `${name} exited during start-up (code=${child.exitCode} signal=${child.signalCode}); log ${logFile}:\n${tail}`;
          throw saysAddressInUse(tail) ? new PortInUseError(msg) : new Error(msg);
        }
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Pebble not ready after ${READY_TIMEOUT_MS} ms (pebble=${pebbleReady} challtestsrv=${chalReady}, last error: ${lastProbeError}); log ${logFile}:\n${log.lastLines()}`,
        );
      }
      if (!pebbleReady) {
        try {
          const res = await httpsGet(directoryUrl, ca, 1_000);
          if (res.status === 200 && res.body.includes('newNonce')) pebbleReady = true;
          else lastProbeError = `GET /dir -> ${res.status}`;
        } catch (err) {
          lastProbeError = (err as Error).message;
        }
      }
      if (!chalReady) chalReady = await httpReachable(`${managementUrl}/`);
      if (!(pebbleReady && chalReady)) await sleep(25);
    }

    const mgmtPost = async (endpoint: string, body: unknown): Promise<void> => {
      const res = await httpPostJson(`${managementUrl}${endpoint}`, body);
      if (res.status < 200 || res.status >= 300) {
        throw new Error(`challtestsrv ${endpoint} -> HTTP ${res.status}: ${res.body}`);
      }
    };

    return {
      directoryUrl,
      caFile,
      dnsServer,
      managementUrl,
      pebbleManagementUrl,
      httpPort,
      tlsPort,
      dir,
      logFile,
      setTxt: (host, value) => mgmtPost('/set-txt', { host: withDot(host), value }),
      clearTxt: (host) => mgmtPost('/clear-txt', { host: withDot(host) }),
      rootsPem: async () => {
        const res = await httpsGet(`${pebbleManagementUrl}/roots/0`, ca, 5_000);
        if (res.status !== 200) throw new Error(`GET /roots/0 -> HTTP ${res.status}: ${res.body}`);
        return res.body;
      },
      logTail: (lines) => log.lastLines(lines),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Env vars an app child process needs to talk to this Pebble and its mock DNS. */
export function pebbleEnv(handle: PebbleHandle): {
  NODE_EXTRA_CA_CERTS: string;
  CHALLENGE_DNS_SERVERS: string;
  CHALLENGE_HTTP_PORT: string;
  CHALLENGE_TLS_PORT: string;
} {
  return {
    NODE_EXTRA_CA_CERTS: handle.caFile,
    CHALLENGE_DNS_SERVERS: handle.dnsServer,
    CHALLENGE_HTTP_PORT: String(handle.httpPort),
    CHALLENGE_TLS_PORT: String(handle.tlsPort),
  };
}

// ---------------------------------------------------------------------------
// vitest integration

let skipNoticeShown = false;

/**
 * `describe` when Pebble is installed, otherwise `describe.skip` with a visible
 * console.warn. With REQUIRE_PEBBLE=1 a missing Pebble throws instead of skipping.
 */
export function describeWithPebble(name: string, fn: () => void): void {
  if (pebbleAvailable()) {
    describe(name, fn);
    return;
  }
  const msg = `${PEBBLE_BIN}/${CHALLTESTSRV_BIN} not found on PATH (apt-get install pebble)`;
  if (process.env['REQUIRE_PEBBLE'] === '1') {
    throw new Error(`REQUIRE_PEBBLE=1 but ${msg}`);
  }
  if (!skipNoticeShown) {
    skipNoticeShown = true;
    console.warn(`\n*** SKIPPING Pebble suites: ${msg}. Set REQUIRE_PEBBLE=1 to make this an error. ***\n`);
  }
  describe.skip(`${name} (skipped: Pebble not installed)`, fn);
}

/**
 * Inside a describe block: start Pebble in beforeAll, stop it in afterAll.
 * Returns a getter for the handle (valid inside tests and later hooks).
 *
 *   describeWithPebble('issuance', () => {
 *     const pebble = usePebble({ nonceReject: 0 });
 *     it('works', async () => { const { directoryUrl } = pebble(); ... });
 *   });
 */
export function usePebble(opts: PebbleOptions = {}): () => PebbleHandle {
  let handle: PebbleHandle | undefined;
  beforeAll(async () => {
    handle = await startPebble(opts);
  });
  afterAll(async () => {
    await handle?.stop();
    handle = undefined;
  });
  return () => {
    if (!handle) throw new Error('Pebble is not running (usePebble handle used outside a test?)');
    return handle;
  };
}

/**
 * Pebble's own record of a certificate (management API `/cert-status-by-serial/<hex serial>`): `Status` is
 * `Valid` or `Revoked`, `Reason` the RFC 5280 code once revoked. The witness of what the CA did.
 */
export async function pebbleCertStatus(
  pebble: PebbleHandle,
  serial: string,
): Promise<{ Status: string; Reason?: number }> {
  const ca = fs.readFileSync(pebble.caFile);
  return new Promise((resolve, reject) => {
    https
      .get(`${pebble.pebbleManagementUrl}/cert-status-by-serial/${serial}`, { ca }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`Pebble answered ${res.statusCode}: ${body}`));
          else resolve(JSON.parse(body));
        });
      })
      .on('error', reject);
  });
}
