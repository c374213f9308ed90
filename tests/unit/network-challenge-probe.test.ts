import crypto from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import acme from 'acme-client';
import type { Authorization } from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetworkChallengeProbe } from '../../core/acme/network-challenge-probe.ts';
import { CoreError } from '../../core/errors.ts';

const KEY_AUTH = 'tok-ok.thumbprint-abcdefghijklmnopqrstuvwxyz0123456789';
const TXT_OK = 'expected-txt-digest_0123456789abcdefghijklmnopqrstu';

// --- a tiny authoritative DNS server: just enough of RFC 1035 for c-ares' A/AAAA/TXT queries ---

const TYPE_A = 1;
const TYPE_TXT = 16;
/** Names that exist; anything else is NXDOMAIN. AAAA queries for these get NOERROR with no answers. */
const A_RECORDS: Record<string, string> = {
  'ok.example.test': '127.0.0.1',
  // Nothing listens on 127.0.0.2, so one of the two addresses refuses.
  'two.example.test': '127.0.0.1,127.0.0.2',
  'other.example.test': '127.0.0.1',
  'nodigest.example.test': '127.0.0.1',
  'wrongdigest.example.test': '127.0.0.1',
  '_acme-challenge.ok.example.test': '',
  '_acme-challenge.mismatch.example.test': '',
  '_acme-challenge.empty.example.test': '',
};
/** Each record is a list of character-strings, as on the wire; the second record of `ok` is split in two. */
const TXT_RECORDS: Record<string, string[][]> = {
  '_acme-challenge.ok.example.test': [['unrelated'], [TXT_OK.slice(0, 20), TXT_OK.slice(20)]],
  '_acme-challenge.mismatch.example.test': [['stale-value']],
};
const SERVFAIL = new Set(['servfail.example.test', '_acme-challenge.servfail.example.test']);
const SILENT = new Set(['silent.example.test', '_acme-challenge.silent.example.test']);

function readQuestion(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let offset = 12;
  for (let len = msg[offset]!; len !== 0; len = msg[offset]!) {
    labels.push(msg.subarray(offset + 1, offset + 1 + len).toString('ascii'));
    offset += 1 + len;
  }
  offset += 1;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(offset), end: offset + 4 };
}

function answerRecord(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // pointer to the question name at offset 12
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // class IN
  head.writeUInt32BE(60, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function dnsAnswer(query: Buffer): Buffer | undefined {
  const { name, type, end } = readQuestion(query);
  if (SILENT.has(name)) return undefined;
  let rcode = 0;
  const answers: Buffer[] = [];
  if (SERVFAIL.has(name)) rcode = 2;
  else if (!(name in A_RECORDS)) rcode = 3;
  else if (type === TYPE_A && A_RECORDS[name]) {
    for (const ip of A_RECORDS[name].split(','))
      answers.push(answerRecord(TYPE_A, Buffer.from(ip.split('.').map(Number))));
  } else if (type === TYPE_TXT) {
    for (const strings of TXT_RECORDS[name] ?? []) {
      const rdata = Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)])));
      answers.push(answerRecord(TYPE_TXT, rdata));
    }
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR=1, opcode 0, AA=1, RD copied from the query, RA=1, rcode.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  // Only the question is echoed back; any EDNS OPT record the client sent is ignored.
  return Buffer.concat([header, query.subarray(12, end), ...answers]);
}

// --- servers ---

let dnsServer: dgram.Socket;
let dnsAddr: string;
let httpServer: http.Server;
let httpPort: number;
let alpnServer: tls.Server;
let alpnPort: number;
let plainTlsServer: tls.Server;
let plainTlsPort: number;
let h2Server: tls.Server;
let h2Port: number;
let closedPort: number;
const seenHosts: string[] = [];
const openSockets = new Set<net.Socket>();

function listen(server: net.Server): Promise<number> {
  server.on('connection', (s: net.Socket) => {
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function alpnContext(name: string, keyAuthorization: string, keyPem: string): Promise<tls.SecureContext> {
  const authz = { identifier: { type: 'dns', value: name }, status: 'pending', challenges: [], url: '' };
  const [, cert] = await acme.crypto.createAlpnCertificate(authz as Authorization, keyAuthorization, keyPem);
  return tls.createSecureContext({ key: keyPem, cert });
}

beforeAll(async () => {
  dnsServer = dgram.createSocket('udp4');
  dnsServer.on('message', (msg, rinfo) => {
    const reply = dnsAnswer(msg);
    if (reply) dnsServer.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => dnsServer.bind(0, '127.0.0.1', resolve));
  dnsAddr = `127.0.0.1:${dnsServer.address().port}`;

  httpServer = http.createServer((req, res) => {
    seenHosts.push(req.headers.host ?? '');
    const token = req.url?.replace('/.well-known/acme-challenge/', '');
    switch (token) {
      case 'tok-ok':
        res.end(`${KEY_AUTH}\r\n`);
        return;
      case 'tok-wrong':
        res.end('<html>default page</html>');
        return;
      case 'tok-redirect':
        res.writeHead(302, { Location: 'https://ok.example.test/elsewhere' }).end();
        return;
      case 'tok-big':
        res.end(KEY_AUTH + 'x'.repeat(20_000));
        return;
      case 'tok-hang':
        return; // never answers
      default:
        res.writeHead(404).end('not found');
    }
  });
  httpPort = await listen(httpServer);

  const { privateKey: keyPem } = crypto.generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const contexts: Record<string, tls.SecureContext> = {
    'ok.example.test': await alpnContext('ok.example.test', KEY_AUTH, keyPem),
    'wrongdigest.example.test': await alpnContext('wrongdigest.example.test', 'some.other-key-authorization', keyPem),
    // A challenge certificate for a different name, as a misrouted virtual server would present.
    'other.example.test': await alpnContext('elsewhere.example.test', KEY_AUTH, keyPem),
  };
  const ordinary = ordinaryCert('nodigest.example.test', keyPem);
  contexts['nodigest.example.test'] = tls.createSecureContext({ key: keyPem, cert: ordinary });
  alpnServer = tls.createServer({
    ALPNProtocols: ['acme-tls/1'],
    SNICallback: (servername, cb) => cb(null, contexts[servername] ?? contexts['ok.example.test']),
  });
  alpnPort = await listen(alpnServer);

  // A TLS server that knows nothing of ALPN, like a BIG-IP virtual server without the challenge iRule.
  plainTlsServer = tls.createServer({ key: keyPem, cert: ordinary });
  plainTlsPort = await listen(plainTlsServer);
  h2Server = tls.createServer({ key: keyPem, cert: ordinary, ALPNProtocols: ['h2', 'http/1.1'] });
  h2Port = await listen(h2Server);

  const scratch = net.createServer();
  closedPort = await listen(scratch);
  await new Promise((resolve) => scratch.close(resolve));
});

afterAll(async () => {
  for (const s of openSockets) s.destroy();
  await Promise.all([
    new Promise((r) => httpServer.close(r)),
    new Promise((r) => alpnServer.close(r)),
    new Promise((r) => plainTlsServer.close(r)),
    new Promise((r) => h2Server.close(r)),
    new Promise<void>((r) => dnsServer.close(() => r())),
  ]);
});

/**
 * A self-signed certificate with a SAN but no acmeIdentifier extension, as an ordinary site would serve.
 * acme-client only builds challenge certificates and node:crypto has no builder, so the DER is assembled here.
 */
function ordinaryCert(name: string, keyPem: string): string {
  const der = (tag: number, ...parts: Buffer[]): Buffer => {
    const body = Buffer.concat(parts);
    const len =
      body.length < 0x80
        ? Buffer.from([body.length])
        : body.length < 0x100
          ? Buffer.from([0x81, body.length])
          : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
    return Buffer.concat([Buffer.from([tag]), len, body]);
  };
  const oid = (hex: string): Buffer => der(0x06, Buffer.from(hex, 'hex'));
  const seq = (...p: Buffer[]): Buffer => der(0x30, ...p);
  const utc = (d: Date): Buffer =>
    der(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`, 'ascii'));
  const ecdsaWithSha256 = seq(oid('2a8648ce3d040302'));
  const subject = seq(der(0x31, seq(oid('550403'), der(0x0c, Buffer.from(name)))));
  const spki = crypto.createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  const san = seq(oid('551d11'), der(0x04, seq(der(0x82, Buffer.from(name)))));
  const now = Date.now();
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.from([1])),
    ecdsaWithSha256,
    subject,
    seq(utc(new Date(now - 3_600_000)), utc(new Date(now + 86_400_000))),
    subject,
    spki,
    der(0xa3, seq(san)),
  );
  const signature = crypto.sign('sha256', tbs, keyPem);
  const cert = seq(tbs, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  return `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

const probe = (over: Parameters<typeof createNetworkChallengeProbe>[0] = {}) =>
  createNetworkChallengeProbe({ httpPort, tlsPort: alpnPort, dnsServers: [dnsAddr], timeoutMs: 1500, ...over });

describe('createNetworkChallengeProbe', () => {
  it('rejects bad configuration up front', () => {
    expect(() => createNetworkChallengeProbe({ httpPort: 0 })).toThrow(CoreError);
    expect(() => createNetworkChallengeProbe({ timeoutMs: -1 })).toThrow(CoreError);
    expect(() => createNetworkChallengeProbe({ dnsServers: ['not an address'] })).toThrow(CoreError);
  });
});

describe('http-01 probe', () => {
  it('passes when the key authorization is served (trailing whitespace ignored) and sends the CA-style Host', async () => {
    seenHosts.length = 0;
    const r = await probe().http('ok.example.test', 'tok-ok', KEY_AUTH);
    expect(r.ok).toBe(true);
    expect(r.detail).toContain(`http://ok.example.test:${httpPort}/.well-known/acme-challenge/tok-ok at 127.0.0.1`);
    expect(r.observed).toBe(`${KEY_AUTH}\r\n`);
    expect(seenHosts).toEqual([`ok.example.test:${httpPort}`]);
  });

  it('reports a wrong body', async () => {
    const r = await probe().http('ok.example.test', 'tok-wrong', KEY_AUTH);
    expect(r).toMatchObject({ ok: false, observed: '<html>default page</html>' });
    expect(r.detail).toContain('HTTP 200 but body "<html>default page</html>" is not the expected key authorization');
  });

  it('reports a 404 with its body', async () => {
    const r = await probe().http('ok.example.test', 'tok-missing', KEY_AUTH);
    expect(r).toMatchObject({ ok: false, observed: 'not found' });
    expect(r.detail).toContain('HTTP 404, body "not found"');
  });

  it('reports a redirect without following it', async () => {
    const r = await probe().http('ok.example.test', 'tok-redirect', KEY_AUTH);
    expect(r).toMatchObject({ ok: false, observed: 'https://ok.example.test/elsewhere' });
    expect(r.detail).toContain('HTTP 302 redirected to https://ok.example.test/elsewhere');
  });

  it('caps the body and truncates what it reports', async () => {
    const r = await probe().http('ok.example.test', 'tok-big', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.observed!.length).toBeLessThanOrEqual(200);
    expect(r.observed!.startsWith(KEY_AUTH)).toBe(true);
  });

  it('reports a timeout', async () => {
    const r = await probe({ timeoutMs: 300 }).http('ok.example.test', 'tok-hang', KEY_AUTH);
    expect(r).toEqual({ ok: false, detail: expect.stringContaining('timed out after 300 ms') });
  });

  it('reports a refused connection', async () => {
    const r = await probe({ httpPort: closedPort }).http('ok.example.test', 'tok-ok', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('connection refused');
  });

  it('fails when any of several addresses fails, naming it', async () => {
    const r = await probe().http('two.example.test', 'tok-ok', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('at 127.0.0.2: connection refused [1 of 2 addresses failed]');
  });

  it('reports a name with no address', async () => {
    const r = await probe().http('missing.example.test', 'tok-ok', KEY_AUTH);
    expect(r).toEqual({ ok: false, detail: `no A/AAAA record for missing.example.test (asked ${dnsAddr})` });
  });

  it('reports a DNS failure while looking up the address', async () => {
    const r = await probe().http('servfail.example.test', 'tok-ok', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('could not resolve servfail.example.test: SERVFAIL');
  });

  it('refuses wildcards', async () => {
    const r = await probe().http('*.example.test', 'tok-ok', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('use dns-01');
  });
});

describe('dns-01 probe', () => {
  it('passes when one record, joined from its strings, matches', async () => {
    const r = await probe().dns('ok.example.test', TXT_OK);
    expect(r.ok).toBe(true);
    expect(r.detail).toBe('TXT _acme-challenge.ok.example.test has the expected value among 2 records');
    expect(r.observed).toBe(`"unrelated", "${TXT_OK}"`);
  });

  it('checks the base name for a wildcard', async () => {
    const r = await probe().dns('*.ok.example.test', TXT_OK);
    expect(r.ok).toBe(true);
  });

  it('reports the values seen on mismatch', async () => {
    const r = await probe().dns('mismatch.example.test', TXT_OK);
    expect(r).toMatchObject({ ok: false, observed: '"stale-value"' });
    expect(r.detail).toContain('saw "stale-value"');
  });

  it('reports NXDOMAIN', async () => {
    const r = await probe().dns('missing.example.test', TXT_OK);
    expect(r.ok).toBe(false);
    expect(r.detail).toBe(`TXT _acme-challenge.missing.example.test: NXDOMAIN (no such name) (asked ${dnsAddr})`);
  });

  it('reports a name without TXT records', async () => {
    const r = await probe().dns('empty.example.test', TXT_OK);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('ENODATA');
  });

  it('reports SERVFAIL', async () => {
    const r = await probe().dns('servfail.example.test', TXT_OK);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('SERVFAIL');
  });

  it('reports a DNS timeout', async () => {
    const started = Date.now();
    const r = await probe({ timeoutMs: 400 }).dns('silent.example.test', TXT_OK);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('timed out after 400 ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('tls-alpn-01 probe', () => {
  it('passes for the right challenge certificate', async () => {
    const r = await probe().tlsAlpn('ok.example.test', KEY_AUTH);
    expect(r.ok).toBe(true);
    expect(r.observed).toBe('ALPN acme-tls/1; SAN DNS:ok.example.test');
  });

  it('reports a wrong digest', async () => {
    const r = await probe().tlsAlpn('wrongdigest.example.test', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('digest does not match');
  });

  it('reports a certificate for another name', async () => {
    const r = await probe().tlsAlpn('other.example.test', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('certificate is for elsewhere.example.test, not other.example.test');
  });

  it('reports a certificate that is not a challenge certificate', async () => {
    const r = await probe().tlsAlpn('nodigest.example.test', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('no acmeIdentifier extension');
  });

  it('reports a server that does not negotiate acme-tls/1', async () => {
    const r = await probe({ tlsPort: plainTlsPort }).tlsAlpn('ok.example.test', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('no ALPN protocol negotiated');
    expect(r.observed).toBe('ALPN none; SAN DNS:nodigest.example.test');
  });

  it('reports a server that speaks other ALPN protocols only', async () => {
    const r = await probe({ tlsPort: h2Port }).tlsAlpn('ok.example.test', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('no application protocol');
  });

  it('reports a handshake error', async () => {
    const r = await probe({ tlsPort: httpPort }).tlsAlpn('ok.example.test', KEY_AUTH);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/TLS handshake failed|connection reset|closed/);
  });

  it('times out on a listener that accepts and never starts the handshake', async () => {
    const silent = net.createServer(() => {}); // accepts, then says nothing
    const silentPort = await listen(silent);
    try {
      const r = await probe({ tlsPort: silentPort, timeoutMs: 300 }).tlsAlpn('ok.example.test', KEY_AUTH);
      expect(r).toMatchObject({ ok: false, detail: expect.stringContaining('timed out after 300 ms') });
    } finally {
      for (const sock of openSockets) if (sock.localPort === silentPort) sock.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('reports a refused connection and a missing name', async () => {
    const refused = await probe({ tlsPort: closedPort }).tlsAlpn('ok.example.test', KEY_AUTH);
    expect(refused.detail).toContain('connection refused');
    const missing = await probe().tlsAlpn('missing.example.test', KEY_AUTH);
    expect(missing).toEqual({ ok: false, detail: `no A/AAAA record for missing.example.test (asked ${dnsAddr})` });
  });
});
