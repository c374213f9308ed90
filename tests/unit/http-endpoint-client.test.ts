import { createPrivateKey, webcrypto } from 'node:crypto';
import dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isRefusedAddress } from '../../core/acme/endpoint-address-policy.ts';
import { createHttpEndpointClient } from '../../core/acme/http-endpoint-client.ts';
import type { ChallengePayload } from '../../core/domain/challenge-payload.ts';
import { CoreError } from '../../core/errors.ts';
import type { EndpointResult } from '../../core/ports/endpoint-client.ts';

x509.cryptoProvider.set(webcrypto);

const USER = 'hook-user';
const PASSWORD = 'hunter2-S3cret!pw';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const TOKEN = 'tok_abcdefghijklmnopqrstuv';
const PAYLOAD: ChallengePayload = {
  challenges: [{ type: 'http', fileName: TOKEN, content: `${TOKEN}.${'t'.repeat(43)}` }],
};
const KEY_PEM_BODY =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
  servername?: string | false | null;
}

const seen: Seen[] = [];
const openSockets = new Set<net.Socket>();
let httpServer: http.Server;
let httpsServer: https.Server;
let httpPort: number;
let httpsPort: number;
let closedPort: number;
let certPem: string;

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const servername = (req.socket as Partial<TLSSocket>).servername;
    seen.push({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body,
      ...(servername === undefined ? {} : { servername }),
    });
    switch (req.url?.split('?')[0]) {
      case '/ok':
        res.writeHead(204).end();
        return;
      case '/created':
        res.writeHead(201, { 'Content-Type': 'application/json' }).end('{"stored":1}');
        return;
      case '/redirect':
        res.writeHead(302, { Location: `http://someone:${PASSWORD}@elsewhere.example/hook` }).end();
        return;
      case '/relative-redirect':
        res.writeHead(307, { Location: '/v2/hook' }).end();
        return;
      case '/unauthorized':
        // An endpoint that carelessly echoes what it got: the detail must still not repeat the credentials.
        res.writeHead(401).end(`bad credentials: Authorization: ${req.headers.authorization}; password=${PASSWORD}`);
        return;
      case '/echo':
        res.writeHead(400, { 'Content-Type': 'application/json' }).end(body);
        return;
      case '/not-found':
        res.writeHead(404).end('no\n  such\thook');
        return;
      case '/busy':
        res.writeHead(429).end('slow down');
        return;
      case '/huge': {
        // 1 MiB of error page; the client must stop reading long before the end.
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        const line = `${'E'.repeat(1023)}\n`;
        for (let i = 0; i < 1024; i += 1) res.write(line);
        res.end();
        return;
      }
      case '/hang':
        return; // never answers
      case '/slow-body':
        res.writeHead(500);
        res.write('partial');
        return; // never finishes
      default:
        res.writeHead(404).end();
    }
  });
}

function listen(server: net.Server): Promise<number> {
  server.on('connection', (s: net.Socket) => {
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function selfSigned(name: string): Promise<{ cert: string; key: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }])],
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' });
  return { cert: cert.toString('pem'), key: String(key) };
}

/** Makes `dns.promises.lookup` answer `name` with `addresses` (and fail for anything else). */
function fakeDns(name: string, addresses: LookupAddress[]) {
  return vi.spyOn(dns.promises, 'lookup').mockImplementation((async (host: string) => {
    if (host === name) return addresses;
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  }) as unknown as typeof dns.promises.lookup);
}

function expectNoSecrets(result: EndpointResult): void {
  expect(result.detail).not.toContain(PASSWORD);
  expect(result.detail).not.toContain(BASIC);
  expect(result.detail).not.toMatch(/\n/);
}

beforeAll(async () => {
  httpServer = http.createServer(handler);
  httpPort = await listen(httpServer);
  const tlsCert = await selfSigned('endpoint.test');
  certPem = tlsCert.cert;
  httpsServer = https.createServer({ key: tlsCert.key, cert: tlsCert.cert }, handler);
  httpsPort = await listen(httpsServer);
  const scratch = net.createServer();
  closedPort = await listen(scratch);
  await new Promise((resolve) => scratch.close(resolve));
});

afterEach(() => {
  vi.restoreAllMocks();
  seen.length = 0;
});

afterAll(async () => {
  for (const s of openSockets) s.destroy();
  await Promise.all([new Promise((r) => httpServer.close(r)), new Promise((r) => httpsServer.close(r))]);
});

describe('isRefusedAddress', () => {
  it.each<[string, string[], boolean]>([
    // cloud metadata and link-local
    ['169.254.169.254', [], true],
    ['169.254.0.1', [], true],
    ['169.254.255.255', [], true],
    ['100.100.100.200', [], true],
    ['fd00:ec2::254', [], true],
    ['fe80::1', [], true],
    ['FE80::abcd', [], true],
    ['fe80::1%eth0', [], true],
    ['febf:ffff::1', [], true],
    ['[fe80::1]', [], true],
    // IPv4-mapped IPv6 spellings of refused IPv4 addresses
    ['::ffff:169.254.169.254', [], true],
    ['::ffff:a9fe:a9fe', [], true],
    ['::ffff:0.0.0.0', [], true],
    // unspecified, broadcast, multicast
    ['0.0.0.0', [], true],
    ['0.1.2.3', [], true],
    ['::', [], true],
    ['255.255.255.255', [], true],
    ['224.0.0.1', [], true],
    ['239.255.255.250', [], true],
    ['ff02::1', [], true],
    ['ff05::1:3', [], true],
    // not an address at all
    ['endpoint.example', [], true],
    ['', [], true],
    ['169.254.169.254/32', [], true],
    // allowed: loopback, private, shared, unique-local, public, and neighbours of refused ranges
    ['127.0.0.1', [], false],
    ['127.1.2.3', [], false],
    ['::1', [], false],
    ['::ffff:127.0.0.1', [], false],
    ['10.1.2.3', [], false],
    ['172.16.5.4', [], false],
    ['192.168.1.1', [], false],
    ['100.64.0.1', [], false],
    ['100.100.100.201', [], false],
    ['169.253.255.255', [], false],
    ['169.255.0.0', [], false],
    ['223.255.255.255', [], false],
    ['fd00:ec2::253', [], false],
    ['fd12:3456::1', [], false],
    ['fec0::1', [], false],
    ['2001:db8::1', [], false],
    ['8.8.8.8', [], false],
    // the operator's allow list
    ['169.254.169.254', ['169.254.0.0/16'], false],
    ['169.254.169.254', ['169.254.169.254'], false],
    ['169.254.169.254', ['169.254.169.254/32'], false],
    ['169.254.1.1', ['169.254.169.254/32'], true],
    ['::ffff:169.254.169.254', ['169.254.169.254/32'], false],
    ['fe80::1', ['fe80::/64'], false],
    ['fe80:1::1', ['fe80::/64'], true],
    ['fe80::1', ['10.0.0.0/8', ' fe80::1/128 '], false],
    ['0.0.0.0', ['0.0.0.0/0'], false],
    ['ff02::1', ['::/0'], false],
    ['169.254.1.1', ['::ffff:169.254.0.0/112'], false],
    ['169.254.1.1', ['fe80::/10'], true],
  ])('%s with allow %j → %s', (ip, allow, refused) => {
    expect(isRefusedAddress(ip, allow)).toBe(refused);
  });

  it.each([['nope'], ['10.0.0.0/33'], ['10.0.0.0/'], ['10.0.0.0/8x'], ['::/129'], ['10.0.0.0/-1'], ['example.com/8']])(
    'rejects the allow entry %s with config_invalid',
    (entry) => {
      expect(() => isRefusedAddress('127.0.0.1', [entry])).toThrow(
        expect.objectContaining({ name: 'CoreError', code: 'config_invalid' }),
      );
    },
  );
});

describe('createHttpEndpointClient', () => {
  it('rejects a bad policy at construction', () => {
    expect(() => createHttpEndpointClient({ allow: ['10.0.0.0/99'] })).toThrow(CoreError);
    expect(() => createHttpEndpointClient({ allow: [], timeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
  });
});

describe('HttpEndpointClient.post', () => {
  const client = createHttpEndpointClient({ allow: [], timeoutMs: 3000 });

  it('POSTs the payload as JSON with Basic auth and treats 2xx as ok', async () => {
    const result = await client.post(`http://127.0.0.1:${httpPort}/ok?tenant=a`, USER, PASSWORD, PAYLOAD);
    expect(result).toEqual({ ok: true, status: 204, detail: `POST http://127.0.0.1:${httpPort}/ok?…: HTTP 204` });
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/ok?tenant=a');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe(`Basic ${BASIC}`);
    expect(req.headers.host).toBe(`127.0.0.1:${httpPort}`);
    expect(JSON.parse(req.body)).toEqual(PAYLOAD);
    expect(req.headers['content-length']).toBe(String(Buffer.byteLength(req.body)));
  });

  it('accepts any 2xx', async () => {
    const result = await client.post(`http://127.0.0.1:${httpPort}/created`, USER, PASSWORD, PAYLOAD);
    expect(result.ok).toBe(true);
    expect(result.status).toBe(201);
  });

  it('encodes non-ASCII credentials as UTF-8', async () => {
    await client.post(`http://127.0.0.1:${httpPort}/ok`, 'usér', 'pässwörd', PAYLOAD);
    expect(Buffer.from(seen[0]!.headers.authorization!.slice(6), 'base64').toString('utf8')).toBe('usér:pässwörd');
  });

  it('dials the address it vetted, keeping the host name in the Host header (no DNS rebinding)', async () => {
    const lookup = fakeDns('hook.internal.test', [{ address: '127.0.0.1', family: 4 }]);
    const result = await client.post(`http://hook.internal.test:${httpPort}/ok`, USER, PASSWORD, PAYLOAD);
    // A second resolution by the HTTP stack would go to the system resolver, which does not know the name.
    expect(result).toEqual({
      ok: true,
      status: 204,
      detail: `POST http://hook.internal.test:${httpPort}/ok at 127.0.0.1: HTTP 204`,
    });
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(seen[0]!.headers.host).toBe(`hook.internal.test:${httpPort}`);
  });

  it('refuses a name if ANY of its addresses is refused, without connecting', async () => {
    fakeDns('mixed.test', [
      { address: '127.0.0.1', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ]);
    const result = await client.post(`http://mixed.test:${httpPort}/ok`, USER, PASSWORD, PAYLOAD);
    expect(result).toMatchObject({ ok: false, status: null, code: 'input_invalid', retryable: false });
    expect(result.detail).toBe(
      `POST http://mixed.test:${httpPort}/ok: refused: mixed.test resolves to 169.254.169.254, which is a cloud metadata address; add it to the endpoint allow list if this is intended`,
    );
    expect(seen).toHaveLength(0);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254, which is a cloud metadata address'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254, which is a cloud metadata address'],
    ['http://100.100.100.200/', '100.100.100.200, which is a cloud metadata address'],
    ['http://169.254.10.10:8080/hook', '169.254.10.10, which is link-local'],
    ['https://[fe80::1]/', 'fe80::1, which is link-local'],
    ['http://0.0.0.0/', '0.0.0.0, which is unspecified ("this network")'],
    ['http://[::]/', '::, which is unspecified'],
    ['http://224.0.0.251/', '224.0.0.251, which is multicast'],
    ['http://[ff02::1]/', 'ff02::1, which is multicast'],
    // WHATWG URL parsing normalizes odd IPv4 spellings before the check.
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254, which is a cloud metadata address'],
    ['http://2852039166/', '169.254.169.254, which is a cloud metadata address'],
    ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe, which is a cloud metadata address'],
  ])('refuses %s', async (url, why) => {
    const result = await client.post(url, USER, PASSWORD, PAYLOAD);
    expect(result).toMatchObject({ ok: false, status: null, code: 'input_invalid', retryable: false });
    expect(result.detail).toContain(`refused: ${why}`);
  });

  it('dials a refused address the allow list covers', async () => {
    // Connecting to 0.0.0.0 reaches this host on Linux, so an allowed unspecified address can be exercised for real.
    const url = `http://0.0.0.0:${httpPort}/ok`;
    expect((await client.post(url, USER, PASSWORD, PAYLOAD)).detail).toContain('refused');
    const allowing = createHttpEndpointClient({ allow: ['0.0.0.0/32'], timeoutMs: 3000 });
    expect(await allowing.post(url, USER, PASSWORD, PAYLOAD)).toMatchObject({ ok: true, status: 204 });
  });

  it.each([
    ['ftp://127.0.0.1/hook', 'the API endpoint must be an http or https URL, not ftp'],
    ['file:///etc/passwd', 'the API endpoint must be an http or https URL, not file'],
    ['not a url', 'the API endpoint is not a valid URL'],
    [`not a url ${PASSWORD}`, 'the API endpoint is not a valid URL'],
    [
      `http://${USER}:${PASSWORD}@127.0.0.1:1/hook`,
      'the API endpoint URL must not carry credentials; use the user name and password fields',
    ],
  ])('rejects %s with input_invalid', async (url, detail) => {
    const result = await client.post(url, USER, PASSWORD, PAYLOAD);
    expect(result).toEqual({ ok: false, status: null, detail, code: 'input_invalid', retryable: false });
  });

  it('rejects a user name with a colon, which Basic auth cannot carry', async () => {
    const result = await client.post(`http://127.0.0.1:${httpPort}/ok`, 'a:b', PASSWORD, PAYLOAD);
    expect(result).toMatchObject({ ok: false, code: 'input_invalid' });
    expect(result.detail).toContain('must not contain ":"');
    expect(seen).toHaveLength(0);
  });

  it('does not follow a redirect, and strips credentials from the Location it reports', async () => {
    const result = await client.post(`http://127.0.0.1:${httpPort}/redirect`, USER, PASSWORD, PAYLOAD);
    expect(result).toEqual({
      ok: false,
      status: 302,
      detail: `POST http://127.0.0.1:${httpPort}/redirect: HTTP 302 redirected to http://elsewhere.example/hook, not followed; set the API endpoint to the final URL`,
      code: 'input_invalid',
      retryable: false,
    });
    expect(seen).toHaveLength(1);
  });

  it('reports a relative redirect as an absolute URL', async () => {
    const result = await client.post(`http://127.0.0.1:${httpPort}/relative-redirect`, USER, PASSWORD, PAYLOAD);
    expect(result.status).toBe(307);
    expect(result.detail).toContain(`redirected to http://127.0.0.1:${httpPort}/v2/hook, not followed`);
    expect(seen).toHaveLength(1);
  });

  it('shows the body of a failure on one line without the credentials the endpoint echoed', async () => {
    const result = await client.post(`http://127.0.0.1:${httpPort}/unauthorized`, USER, PASSWORD, PAYLOAD);
    expect(result).toEqual({
      ok: false,
      status: 401,
      detail: `POST http://127.0.0.1:${httpPort}/unauthorized: HTTP 401, body "bad credentials: Authorization: Basic [redacted]; password=[redacted]"`,
      code: 'input_invalid',
      retryable: false,
    });
    expectNoSecrets(result);
  });

  it('does not repeat a challenge private key the endpoint echoed', async () => {
    const tlsPayload: ChallengePayload = {
      challenges: [
        {
          type: 'tls',
          content: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
          keyContent: KEY_PEM_BODY,
        },
      ],
    };
    const result = await client.post(`http://127.0.0.1:${httpPort}/echo`, USER, PASSWORD, tlsPayload);
    expect(result.status).toBe(400);
    expect(result.detail).toContain('[private key]');
    expect(result.detail).not.toContain('MIGHAgEAMBMGByqGSM49');
    expect(JSON.parse(seen[0]!.body)).toEqual(tlsPayload);
  });

  it('collapses whitespace in the body and classifies 4xx as a settings problem', async () => {
    const result = await client.post(`http://127.0.0.1:${httpPort}/not-found`, USER, PASSWORD, PAYLOAD);
    expect(result).toEqual({
      ok: false,
      status: 404,
      detail: `POST http://127.0.0.1:${httpPort}/not-found: HTTP 404, body "no such hook"`,
      code: 'input_invalid',
      retryable: false,
    });
  });

  it('classifies 429 as retryable', async () => {
    const result = await client.post(`http://127.0.0.1:${httpPort}/busy`, USER, PASSWORD, PAYLOAD);
    expect(result).toMatchObject({ ok: false, status: 429, code: 'challenge_unreachable', retryable: true });
  });

  it('reads at most 4 KiB of a huge error body and shows it truncated', async () => {
    const result = await client.post(`http://127.0.0.1:${httpPort}/huge`, USER, PASSWORD, PAYLOAD);
    expect(result).toMatchObject({ ok: false, status: 500, code: 'challenge_unreachable', retryable: true });
    expect(result.detail).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/huge: HTTP 500, body "E+…"$/);
    expect(result.detail.length).toBeLessThan(400);
  });

  it('gives up after the total timeout when no answer comes', async () => {
    const quick = createHttpEndpointClient({ allow: [], timeoutMs: 300 });
    const started = Date.now();
    const result = await quick.post(`http://127.0.0.1:${httpPort}/hang`, USER, PASSWORD, PAYLOAD);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toEqual({
      ok: false,
      status: null,
      detail: `POST http://127.0.0.1:${httpPort}/hang: timed out after 300 ms`,
      code: 'challenge_unreachable',
      retryable: true,
    });
  });

  it('times out a body that never ends, too', async () => {
    const quick = createHttpEndpointClient({ allow: [], timeoutMs: 300 });
    const result = await quick.post(`http://127.0.0.1:${httpPort}/slow-body`, USER, PASSWORD, PAYLOAD);
    expect(result.detail).toBe(`POST http://127.0.0.1:${httpPort}/slow-body: timed out after 300 ms`);
  });

  it('reports a refused connection', async () => {
    const result = await client.post(`http://127.0.0.1:${closedPort}/ok`, USER, PASSWORD, PAYLOAD);
    expect(result).toEqual({
      ok: false,
      status: null,
      detail: `POST http://127.0.0.1:${closedPort}/ok: connection refused`,
      code: 'challenge_unreachable',
      retryable: true,
    });
  });

  it('reports a name that does not resolve', async () => {
    fakeDns('other.test', []);
    const result = await client.post('http://missing.test/ok', USER, PASSWORD, PAYLOAD);
    expect(result).toEqual({
      ok: false,
      status: null,
      detail: 'POST http://missing.test/ok: could not resolve missing.test: no such host (ENOTFOUND)',
      code: 'challenge_unreachable',
      retryable: true,
    });
  });

  it('resolves localhost through the system and posts to it', async () => {
    const result = await client.post(`http://localhost:${httpPort}/ok`, USER, PASSWORD, PAYLOAD);
    // localhost may also resolve to ::1, where nothing listens; connection racing still finds 127.0.0.1.
    expect(result).toMatchObject({ ok: true, status: 204 });
    expect(seen[0]!.headers.host).toBe(`localhost:${httpPort}`);
  });

  describe('over https', () => {
    it('verifies the certificate against the URL host name and sends SNI for it', async () => {
      fakeDns('endpoint.test', [{ address: '127.0.0.1', family: 4 }]);
      const trusting = createHttpEndpointClient({ allow: [], timeoutMs: 3000, ca: [certPem] });
      const result = await trusting.post(`https://endpoint.test:${httpsPort}/ok`, USER, PASSWORD, PAYLOAD);
      expect(result).toEqual({
        ok: true,
        status: 204,
        detail: `POST https://endpoint.test:${httpsPort}/ok at 127.0.0.1: HTTP 204`,
      });
      expect(seen[0]!.servername).toBe('endpoint.test');
      expect(seen[0]!.headers.host).toBe(`endpoint.test:${httpsPort}`);
      expect(seen[0]!.headers.authorization).toBe(`Basic ${BASIC}`);
    });

    it('refuses a certificate it does not trust, without sending the credentials', async () => {
      fakeDns('endpoint.test', [{ address: '127.0.0.1', family: 4 }]);
      const result = await client.post(`https://endpoint.test:${httpsPort}/ok`, USER, PASSWORD, PAYLOAD);
      expect(result).toMatchObject({ ok: false, status: null, code: 'challenge_unreachable', retryable: false });
      expect(result.detail).toBe(
        `POST https://endpoint.test:${httpsPort}/ok: TLS certificate not accepted: self-signed certificate`,
      );
      expect(seen).toHaveLength(0);
    });

    it('refuses a trusted certificate for another name', async () => {
      fakeDns('wrong-name.test', [{ address: '127.0.0.1', family: 4 }]);
      const trusting = createHttpEndpointClient({ allow: [], timeoutMs: 3000, ca: [certPem] });
      const result = await trusting.post(`https://wrong-name.test:${httpsPort}/ok`, USER, PASSWORD, PAYLOAD);
      expect(result).toMatchObject({ ok: false, status: null, retryable: false });
      expect(result.detail).toContain(
        "TLS certificate not accepted: Hostname/IP does not match certificate's altnames",
      );
      expect(seen).toHaveLength(0);
    });

    it('fails a TLS handshake with a plain-HTTP server', async () => {
      const result = await client.post(`https://127.0.0.1:${httpPort}/ok`, USER, PASSWORD, PAYLOAD);
      expect(result).toMatchObject({ ok: false, status: null, code: 'challenge_unreachable' });
      expect(result.detail).toBe(
        `POST https://127.0.0.1:${httpPort}/ok: TLS handshake failed: wrong version number (is the endpoint plain http?)`,
      );
    });
  });
});
