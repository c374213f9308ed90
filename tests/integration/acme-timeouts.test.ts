import { generateKeyPairSync, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import acme from 'acme-client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/cli-io.ts';
import { runCli } from '../../cli/program.ts';
import { createAcmeClientGateway, DEFAULT_ACME_TIMEOUT_MS } from '../../core/acme/acme-client-gateway.ts';
import { createHttpEndpointClient } from '../../core/acme/http-endpoint-client.ts';
import { loadConfig } from '../../core/config.ts';
import { CoreError } from '../../core/errors.ts';
import type { AcmeAccount } from '../../core/ports/acme-gateway.ts';
import { createSecretBox } from '../../core/secrets/secret-box.ts';
import { secretAad } from '../../core/services/core-deps.ts';
import { createCoreServices } from '../../core/services/index.ts';
import { openDatabase } from '../../db/client.ts';
import { createDrizzleStore } from '../../db/drizzle-store.ts';
import { openRuntime, type Runtime } from '../../runtime.ts';
import { deployCoreDeps } from '../bigip/deploy-harness.ts';
import { makeProfile } from '../fixtures/builders.ts';
import { managementCertificate } from '../support/bigip-simulator/self-signed.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';

/**
 * A CA that accepts connections and never answers must fail fast and say so: `acme_timeout`, retryable,
 * "timed out". Servers: a TCP listener that reads and never writes, a TLS listener that completes the
 * handshake and never answers, and a CA that answers the directory and nonces but hangs on everything else.
 */

const sockets = new Set<net.Socket>();
function track(server: net.Server): net.Server {
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return server;
}
const listen = (server: net.Server) =>
  new Promise<number>((resolve) =>
    track(server).listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
const close = (server: net.Server | undefined) =>
  new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

let dir: string;
let tcpHang: net.Server;
let tcpUrl: string;
let tlsHang: tls.Server;
let tlsUrl: string;
let caFile: string;
let tlsCertPem: string;
/** Answers GET /dir and HEAD /nonce; every other request is read and left hanging (and counted). */
let partialCa: http.Server;
let partialUrl: string;
const hung: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bigip-acme-timeouts-'));
  tcpHang = net.createServer((s) => s.resume());
  tcpUrl = `http://127.0.0.1:${await listen(tcpHang)}/dir`;

  const pair = await managementCertificate(); // SANs 127.0.0.1 and localhost
  tlsCertPem = pair.certPem;
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pair.certPem);
  tlsHang = tls.createServer({ key: pair.keyPem, cert: pair.certPem }, (s) => s.resume());
  tlsUrl = `https://127.0.0.1:${await listen(tlsHang)}/dir`;

  partialCa = http.createServer((req, res) => {
    req.resume();
    const base = `http://${req.headers.host}`;
    if (req.method === 'GET' && req.url === '/dir') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          newNonce: `${base}/nonce`,
          newAccount: `${base}/new-acct`,
          newOrder: `${base}/new-order`,
          renewalInfo: `${base}/ari`,
          meta: {},
        }),
      );
      return;
    }
    if (req.method === 'HEAD' && req.url === '/nonce') {
      res.writeHead(200, { 'replay-nonce': randomBytes(16).toString('base64url'), 'cache-control': 'no-store' });
      res.end();
      return;
    }
    hung.push(`${req.method} ${req.url}`);
  });
  partialUrl = `http://127.0.0.1:${await listen(partialCa)}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([close(tcpHang), close(tlsHang), close(partialCa)]);
  rmSync(dir, { recursive: true, force: true });
});

/** One runtime per environment, kept open as a running service keeps its own (the forwarded-CLI path). */
const runtimes = new Map<string, Promise<Runtime>>();
afterAll(async () => {
  for (const rt of runtimes.values()) await (await rt).close();
});

/** Runs one CLI invocation in this process through runCli, as bin/bigip-acme does, on an embedded database. */
async function cli(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const key = JSON.stringify(env);
  if (!runtimes.has(key)) {
    const config = loadConfig({ DATA_DIR: join(dir, `data-${runtimes.size}`), LOG_LEVEL: 'silent', ...env });
    runtimes.set(key, openRuntime(config, pino({ level: 'silent' })));
  }
  const runtime = runtimes.get(key)!;
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    cwd: dir,
    user: 'tester',
    servesChallenges: false,
    withRuntime: async (fn) => fn(await runtime),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

describe('profile validate and create against a CA that never answers', () => {
  // One environment for all the fast cases (the CA file only matters to the https one): one runtime to open.
  const fast = () => ({ ACME_TIMEOUT_SECONDS: '1', ACME_CA_FILE: caFile });

  it('a TCP listener that accepts and never answers: exit 1, "timed out", acme_timeout in --json', async () => {
    const text = await cli(['profile', 'validate', tcpUrl], fast());
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(
      /^error: the CA at 127\.0\.0\.1:\d+ did not answer GET \/dir within 1 s \(timed out\)\n$/,
    );

    const json = await cli(['--json', 'profile', 'validate', tcpUrl], fast());
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: 'acme_timeout', message: expect.stringContaining('(timed out)') },
    });
  });

  it('a TLS listener that completes the handshake and never answers: the same', async () => {
    const json = await cli(['--json', 'profile', 'validate', tlsUrl], fast());
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        code: 'acme_timeout',
        message: expect.stringMatching(/did not answer GET \/dir within 1 s \(timed out\)$/),
      },
    });
  });

  it('profile create against a CA that hangs after its directory fails the same way and stores nothing', async () => {
    const json = await cli(
      ['--json', 'profile', 'create', 'hangs', '--server', `${partialUrl}/dir`, '--accept-tos'],
      fast(),
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        code: 'acme_timeout',
        message: expect.stringMatching(/did not answer POST \/new-acct within 1 s \(timed out\)$/),
      },
    });
    const list = await cli(['--json', 'profile', 'list'], fast());
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('by default every request to the CA carries a 10 s bound (connect and silence) and a 10 s deadline for the whole exchange', async () => {
    const seen: { url: string; timeout: unknown; signal: unknown }[] = [];
    const id = acme.axios.interceptors.request.use((config) => {
      seen.push({ url: String(config.url), timeout: config.timeout, signal: config.signal });
      return config;
    });
    try {
      const ok = await cli(['--json', 'profile', 'validate', `${partialUrl}/dir`]);
      expect(ok.code, ok.stdout).toBe(0);
    } finally {
      acme.axios.interceptors.request.eject(id);
    }
    expect(DEFAULT_ACME_TIMEOUT_MS).toBe(10_000);
    expect(seen).toEqual([{ url: `${partialUrl}/dir`, timeout: 10_000, signal: expect.any(AbortSignal) }]);
  });
});

describe('ACME steps against a CA that stops answering', () => {
  const accountKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const account = (): AcmeAccount => ({
    directoryUrl: `${partialUrl}/dir`,
    accountUrl: `${partialUrl}/acct/1`,
    accountKeyPem,
  });

  async function timedOut(promise: Promise<unknown>): Promise<CoreError> {
    const err = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CoreError);
    expect(err).toMatchObject({ code: 'acme_timeout', retryable: true, detail: { timeoutMs: 500 } });
    expect((err as CoreError).message).toContain('(timed out)');
    return err as CoreError;
  }

  it('newOrder, order and authorization polling, and newAccount time out once each, retryable; acme-client does not resend', async () => {
    const gateway = createAcmeClientGateway({ timeoutMs: 500 });
    hung.length = 0;
    expect((await timedOut(gateway.newOrder(account(), ['a.example.com']))).message).toMatch(
      /did not answer POST \/new-order within 0\.5 s/,
    );
    expect((await timedOut(gateway.getOrder(account(), `${partialUrl}/order/1`))).message).toMatch(/POST \/order\/1/);
    await timedOut(gateway.getAuthorization(account(), `${partialUrl}/authz/1`));
    await timedOut(
      gateway.createAccount({
        directoryUrl: `${partialUrl}/dir`,
        accountKeyPem,
        contact: [],
        termsOfServiceAgreed: true,
      }),
    );
    expect(hung).toEqual(['POST /new-order', 'POST /order/1', 'POST /authz/1', 'POST /new-acct']);
  });

  it('an ARI poll (renewalInfo GET) times out too', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: '0a0b0c',
        name: 'CN=ari.example.com',
        keys,
        signingAlgorithm: alg,
        extensions: [await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey)],
      },
      webcrypto,
    );
    const gateway = createAcmeClientGateway({ timeoutMs: 500 });
    const err = await timedOut(gateway.renewalInfo(`${partialUrl}/dir`, cert.toString('pem')));
    expect(err.message).toMatch(/did not answer GET \/ari\//);
  });

  it('a renewal during the hang fails as retryable: backed off, the served certificate kept, announced without needing a person', async () => {
    const database = await openDatabase({ memory: true });
    await database.migrate();
    try {
      const store = createDrizzleStore(database);
      const secrets = createSecretBox(randomBytes(32).toString('base64'));
      const services = createCoreServices({
        ...deployCoreDeps(store, secrets),
        acme: createAcmeClientGateway({ timeoutMs: 500 }),
      });
      const id = randomUUID();
      const profile = makeProfile({
        id,
        directoryUrl: `${partialUrl}/dir`,
        accountUrl: `${partialUrl}/acct/1`,
        accountKeySealed: secrets.seal(accountKeyPem, secretAad('profiles', id, 'account_key')),
      });
      await store.profiles.insert(profile);
      const cert = await seedIssuedCertificate(store, secrets, { profileId: id, names: ['renew.example.com'] });
      await store.certificates.update(cert.id, {
        renewAt: new Date(Date.now() - 60_000),
        ariNextPollAt: new Date(Date.now() + 3_600_000),
      });

      const report = await services.renewals.sweep();
      expect(report.failed).toEqual([
        { name: cert.name, code: 'acme_timeout', message: expect.stringContaining('(timed out)') },
      ]);
      const after = (await store.certificates.findById(cert.id))!;
      expect(after).toMatchObject({ serial: cert.serial, failedAttempts: 1 });
      expect(after.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
      const [failed] = (await store.events.list({ certificateId: cert.id })).filter((e) => e.kind === 'renewal_failed');
      expect(failed).toMatchObject({ needsPerson: false, detail: { code: 'acme_timeout' } });
    } finally {
      await database.close();
    }
  });
});

describe('endpoint calls to a server that never answers', () => {
  const payload = { challenges: [{ type: 'http' as const, content: 'token.thumbprint', fileName: 'token' }] };

  it('plain TCP: "timed out", retryable', async () => {
    const client = createHttpEndpointClient({ allow: [], timeoutMs: 500 });
    const port = new URL(tcpUrl).port;
    const result = await client.post(`http://127.0.0.1:${port}/hook`, 'user', 'pass', payload);
    expect(result).toEqual({
      ok: false,
      status: null,
      detail: `POST http://127.0.0.1:${port}/hook: timed out after 500 ms`,
      code: 'challenge_unreachable',
      retryable: true,
    });
  });

  it('TLS handshake done, no answer: "timed out", retryable', async () => {
    const client = createHttpEndpointClient({ allow: [], timeoutMs: 500, ca: [tlsCertPem] });
    const port = new URL(tlsUrl).port;
    const result = await client.post(`https://127.0.0.1:${port}/hook`, 'user', 'pass', payload);
    expect(result).toMatchObject({
      ok: false,
      detail: `POST https://127.0.0.1:${port}/hook: timed out after 500 ms`,
      retryable: true,
    });
  });
});
