import { createHash, createPrivateKey, createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import https from 'node:https';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BigIpSimulator,
  type BigIpSimulatorOptions,
  startBigIpSimulator,
} from '../support/bigip-simulator/index.ts';

// --- fixtures: throwaway keys and certificates made here, never committed ---

interface Pair {
  keyPem: string;
  certPem: string;
}

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

async function selfSigned(
  alg: typeof RSA | typeof EC,
  opts: { name: string; serial: string; notAfter: Date; sans?: x509.JsonGeneralName[] },
): Promise<Pair> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: opts.serial,
      name: opts.name,
      keys,
      signingAlgorithm: alg,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: opts.notAfter,
      extensions: opts.sans ? [new x509.SubjectAlternativeNameExtension(opts.sans)] : [],
    },
    webcrypto,
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), certPem: cert.toString('pem') };
}

const NOT_AFTER = new Date('2031-07-14T05:46:24Z');
let rsaA: Pair;
let rsaB: Pair;
let ecC: Pair;
let encryptedA: string;
const PASSPHRASE = 'correct horse battery staple';

// --- a minimal client ---

interface Answer {
  status: number;
  statusText: string;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  json: any;
}

interface CallOptions {
  json?: unknown;
  body?: Buffer | string;
  headers?: Record<string, string>;
  /** Default basic. */
  auth?: 'basic' | 'none' | { token: string };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function call(sim: BigIpSimulator, method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.auth ?? 'basic';
  if (auth === 'basic') headers['Authorization'] = basic(sim.username, sim.password);
  else if (auth !== 'none') headers['X-F5-Auth-Token'] = auth.token;
  let body: Buffer | string | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${sim.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, statusText: res.statusText, headers: res.headers, text, json };
}

async function login(sim: BigIpSimulator): Promise<string> {
  const res = await call(sim, 'POST', '/mgmt/shared/authn/login', {
    auth: 'none',
    json: { username: sim.username, password: sim.password, loginProviderName: 'tmos' },
  });
  expect(res.status).toBe(200);
  return res.json.token.token as string;
}

async function upload(sim: BigIpSimulator, fileName: string, content: string | Buffer): Promise<string> {
  const bytes = Buffer.from(content);
  const res = await call(sim, 'POST', `/mgmt/shared/file-transfer/uploads/${fileName}`, {
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${bytes.length - 1}/${bytes.length}` },
  });
  expect(res.status).toBe(200);
  return res.json.localFilePath as string;
}

async function installKey(sim: BigIpSimulator, fullPath: string, pem: string, passphrase?: string): Promise<Answer> {
  const file = await upload(sim, `${fullPath.split('/').pop()}.upload`, pem);
  return call(sim, 'POST', '/mgmt/tm/sys/crypto/key', {
    json: {
      command: 'install',
      name: fullPath,
      'from-local-file': file,
      ...(passphrase ? { securityType: 'password', passphrase } : { securityType: 'normal' }),
    },
  });
}

async function installCert(sim: BigIpSimulator, fullPath: string, pem: string): Promise<Answer> {
  const file = await upload(sim, `${fullPath.split('/').pop()}.upload`, pem);
  return call(sim, 'POST', '/mgmt/tm/sys/crypto/cert', {
    json: { command: 'install', name: fullPath, 'from-local-file': file },
  });
}

function expectTmError(res: Answer, status: number, message: string | RegExp, apiError = 3): void {
  expect(res.status).toBe(status);
  expect(Object.keys(res.json).sort()).toEqual(['apiError', 'code', 'errorStack', 'message']);
  expect(res.json.code).toBe(status);
  expect(res.json.errorStack).toEqual([]);
  expect(res.json.apiError).toBe(apiError);
  if (typeof message === 'string') expect(res.json.message).toBe(message);
  else expect(res.json.message).toMatch(message);
}

function expectSharedError(res: Answer, status: number, message: string | RegExp): void {
  expect(res.status).toBe(status);
  expect(res.json.code).toBe(status);
  expect(res.json.kind).toBe(':resterrorresponse');
  expect(typeof res.json.restOperationId).toBe('number');
  expect(res.json.referer).toBe('127.0.0.1');
  if (typeof message === 'string') expect(res.json.message).toBe(message);
  else expect(res.json.message).toMatch(message);
}

const sims: BigIpSimulator[] = [];
async function simulator(options: BigIpSimulatorOptions = {}): Promise<BigIpSimulator> {
  const sim = await startBigIpSimulator({ tls: false, ...options });
  sims.push(sim);
  return sim;
}

let sim: BigIpSimulator;

beforeAll(async () => {
  rsaA = await selfSigned(RSA, {
    name: 'C=US, ST=WA, L=Seattle, O=MyCompany, OU=IT, CN=www.example.test',
    serial: '15b3a3b0',
    notAfter: NOT_AFTER,
    sans: [
      { type: 'dns', value: 'www.example.test' },
      { type: 'dns', value: 'example.test' },
    ],
  });
  rsaB = await selfSigned(RSA, {
    name: 'CN=www.example.test',
    serial: '03a1b2c3d4e5f60718293a4b5c6d7e8f90',
    notAfter: NOT_AFTER,
  });
  ecC = await selfSigned(EC, { name: 'CN=ec.example.test', serial: '0a', notAfter: NOT_AFTER });
  encryptedA = createPrivateKey(rsaA.keyPem)
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE })
    .toString();
  sim = await simulator();
});

afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

beforeEach(() => {
  sim.clearFailures();
});

describe('BIG-IP simulator: seed state', () => {
  it('starts with a matching default.crt/default.key and /Common/clientssl using them', () => {
    const cert = new X509Certificate(sim.state.certs.get('/Common/default.crt')!.pem);
    const key = createPrivateKey(sim.state.keys.get('/Common/default.key')!.pem);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      createPublicKey(key).export({ type: 'spki', format: 'der' }),
    );
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(sim.state.profiles.get('/Common/clientssl')).toEqual({
      defaultsFrom: null,
      certKeyChain: [{ name: 'default', cert: '/Common/default.crt', key: '/Common/default.key', chain: 'none' }],
    });
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('BIG-IP simulator: authentication', () => {
  it('logs in with a token of the documented shape and accepts it', async () => {
    const res = await call(sim, 'POST', '/mgmt/shared/authn/login', {
      auth: 'none',
      json: { username: 'admin', password: 'sim-password-1', loginProviderName: 'tmos' },
    });
    expect(res.status).toBe(200);
    expect(res.json.loginProviderName).toBe('tmos');
    const token = res.json.token;
    expect(token).toMatchObject({ userName: 'admin', timeout: 1200, kind: 'shared:authz:tokens:authtokenitemstate' });
    expect(token.token).toMatch(/^[A-Z2-7]{26}$/);
    expect(token.expirationMicros - token.lastUpdateMicros).toBe(1_200_000_000);
    const version = await call(sim, 'GET', '/mgmt/tm/sys/version', { auth: { token: token.token } });
    expect(version.status).toBe(200);
  });

  it('answers bad credentials with 401 "F5 Authorization Required" and the password stripped', async () => {
    const res = await call(sim, 'POST', '/mgmt/shared/authn/login', {
      auth: 'none',
      json: { username: 'admin', password: 'wrong', loginProviderName: 'tmos' },
    });
    expectSharedError(res, 401, 'Authentication failed.');
    expect(res.statusText).toBe('F5 Authorization Required');
    expect(res.json.originalRequestBody).toBe(
      '{"username":"admin","loginProviderName":"tmos","generation":0,"lastUpdateMicros":0}',
    );
    expect(res.text).not.toContain('wrong');
  });

  it('answers a request without credentials with the "no user authentication header" 401', async () => {
    const res = await call(sim, 'GET', '/mgmt/tm/ltm/virtual', { auth: 'none' });
    expectSharedError(
      res,
      401,
      'Authorization failed: no user authentication header or token detected. Uri:http://localhost:8100/mgmt/tm/ltm/virtual Referrer:127.0.0.1 Sender:127.0.0.1',
    );
    expect(res.statusText).toBe('F5 Authorization Required');
  });

  it('accepts Basic auth (the GET /mgmt/tm/sys probe) and answers bad Basic credentials with an HTML 401', async () => {
    const ok = await call(sim, 'GET', '/mgmt/tm/sys');
    expect(ok.status).toBe(200);
    expect(ok.json.kind).toBe('tm:sys:syscollectionstate');
    expect(ok.json.selfLink).toBe('https://localhost/mgmt/tm/sys?ver=17.1.2.1');
    const bad = await call(sim, 'GET', '/mgmt/tm/sys', {
      auth: 'none',
      headers: { Authorization: basic('admin', 'nope') },
    });
    expect(bad.status).toBe(401);
    expect(bad.statusText).toBe('F5 Authorization Required');
    expect(bad.headers.get('content-type')).toMatch(/^text\/html/);
    expect(bad.text).toContain('<title>401 F5 Authorization Required</title>');
  });

  it('rejects unknown, expired and logged-out tokens', async () => {
    const unknown = await call(sim, 'GET', '/mgmt/tm/sys/version', { auth: { token: 'NOSUCHTOKEN' } });
    expectSharedError(unknown, 401, 'X-F5-Auth-Token does not exist.');

    const token = await login(sim);
    const logout = await call(sim, 'DELETE', `/mgmt/shared/authz/tokens/${token}`, { auth: { token } });
    expect(logout.status).toBe(200);
    const after = await call(sim, 'GET', '/mgmt/tm/sys/version', { auth: { token } });
    expectSharedError(after, 401, 'X-F5-Auth-Token does not exist.');

    const other = await login(sim);
    sim.expireTokens();
    const expired = await call(sim, 'GET', '/mgmt/tm/sys/version', { auth: { token: other } });
    expectSharedError(expired, 401, 'X-F5-Auth-Token has expired.');
    expect(expired.statusText).toBe('F5 Authorization Required');
    // A fresh login works again.
    const fresh = await login(sim);
    expect((await call(sim, 'GET', '/mgmt/tm/sys/version', { auth: { token: fresh } })).status).toBe(200);
  });

  it('expires tokens after tokenTimeoutSeconds and extends them with PATCH', async () => {
    const short = await simulator({ tokenTimeoutSeconds: 0.4 });
    const a = await login(short);
    const b = await login(short);
    const extended = await call(short, 'PATCH', `/mgmt/shared/authz/tokens/${b}`, {
      auth: { token: b },
      json: { timeout: 3600 },
    });
    expect(extended.status).toBe(200);
    expect(extended.json).toMatchObject({ token: b, timeout: 3600, generation: 2 });
    expect(extended.json.expirationMicros - extended.json.lastUpdateMicros).toBe(3_600_000_000);
    const tooLong = await call(short, 'PATCH', `/mgmt/shared/authz/tokens/${b}`, {
      auth: { token: b },
      json: { timeout: 36_001 },
    });
    expectSharedError(tooLong, 400, /timeout/i);
    await new Promise((r) => setTimeout(r, 600));
    expectSharedError(
      await call(short, 'GET', '/mgmt/tm/sys/version', { auth: { token: a } }),
      401,
      'X-F5-Auth-Token has expired.',
    );
    expect((await call(short, 'GET', '/mgmt/tm/sys/version', { auth: { token: b } })).status).toBe(200);
  });

  it('tokenAuth:false refuses login with 401 while Basic still works; basicAuth:false ignores Basic', async () => {
    const noTokens = await simulator({ tokenAuth: false });
    const res = await call(noTokens, 'POST', '/mgmt/shared/authn/login', {
      auth: 'none',
      json: { username: noTokens.username, password: noTokens.password, loginProviderName: 'tmos' },
    });
    expectSharedError(res, 401, 'Authentication failed.');
    expect((await call(noTokens, 'GET', '/mgmt/tm/sys')).status).toBe(200);

    const noBasic = await simulator({ basicAuth: false });
    expectSharedError(
      await call(noBasic, 'GET', '/mgmt/tm/sys'),
      401,
      /^Authorization failed: no user authentication header/,
    );
    expect((await call(noBasic, 'GET', '/mgmt/tm/sys', { auth: { token: await login(noBasic) } })).status).toBe(200);
  });
});

describe('BIG-IP simulator: uploads and unix-rm', () => {
  const chunkUpload = (name: string, range: string, body: Buffer | string) =>
    call(sim, 'POST', `/mgmt/shared/file-transfer/uploads/${name}`, {
      body,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': range },
    });

  it('assembles chunks by Content-Range (end inclusive, no "bytes " prefix)', async () => {
    const content = Buffer.from('0123456789abcdefghij');
    const first = await chunkUpload('chunked.txt', '0-7/20', content.subarray(0, 8));
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ remainingByteCount: 12, totalByteCount: 20, usedChunks: { '0': 8 } });
    expect(sim.state.uploads.has('chunked.txt')).toBe(false);
    await chunkUpload('chunked.txt', '8-15/20', content.subarray(8, 16));
    const last = await chunkUpload('chunked.txt', '16-19/20', content.subarray(16));
    expect(last.json).toMatchObject({
      remainingByteCount: 0,
      totalByteCount: 20,
      usedChunks: { '0': 8, '8': 8, '16': 4 },
      localFilePath: '/var/config/rest/downloads/chunked.txt',
      temporaryFilePath: '/var/config/rest/downloads/tmp/chunked.txt',
    });
    expect(sim.state.uploads.get('chunked.txt')).toEqual(content);
  });

  it('rejects a bad Content-Range and a chunk over 1 MiB with 400', async () => {
    expectSharedError(await chunkUpload('bad.txt', 'bytes 0-3/4', 'abcd'), 400, /Content-Range/);
    expectSharedError(await chunkUpload('bad.txt', '0-4/4', 'abcd'), 400, /Content-Range/);
    expectSharedError(await chunkUpload('bad.txt', '0-2/4', 'abcd'), 400, /Content-Range/);
    expectSharedError(await chunkUpload('bad.txt', '3-1/4', 'abcd'), 400, /Content-Range/);
    const noRange = await call(sim, 'POST', '/mgmt/shared/file-transfer/uploads/bad.txt', { body: 'abcd' });
    expectSharedError(noRange, 400, /Content-Range/);
    const big = Buffer.alloc(1024 * 1024 + 1, 0x41);
    expectSharedError(await chunkUpload('big.bin', `0-${big.length - 1}/${big.length}`, big), 400, /exceeds/);
    const exactly = Buffer.alloc(1024 * 1024, 0x42);
    expect((await chunkUpload('mib.bin', `0-${exactly.length - 1}/${exactly.length}`, exactly)).status).toBe(200);
    expect(sim.state.uploads.has('bad.txt')).toBe(false);
  });

  it('removes an uploaded file with util unix-rm and reports a missing one like rm does', async () => {
    await upload(sim, 'gone.key', 'secret');
    const rm = await call(sim, 'POST', '/mgmt/tm/util/unix-rm', {
      json: { command: 'run', utilCmdArgs: '/var/config/rest/downloads/gone.key' },
    });
    expect(rm.status).toBe(200);
    expect(rm.json.kind).toBe('tm:util:unix-rm:runstate');
    expect(rm.json.commandResult).toBeUndefined();
    expect(sim.state.uploads.has('gone.key')).toBe(false);
    const again = await call(sim, 'POST', '/mgmt/tm/util/unix-rm', {
      json: { command: 'run', utilCmdArgs: '/var/config/rest/downloads/gone.key' },
    });
    expect(again.status).toBe(200);
    expect(again.json.commandResult).toBe(
      "/bin/rm: cannot remove '/var/config/rest/downloads/gone.key': No such file or directory\n",
    );
  });
});

describe('BIG-IP simulator: key and certificate install and file objects', () => {
  it('installs a key and a certificate, overwrites them, and reports computed facts', async () => {
    expect((await installKey(sim, '/Common/www.example.test', rsaA.keyPem)).status).toBe(200);
    const installed = await installCert(sim, '/Common/www.example.test', rsaA.certPem);
    expect(installed.status).toBe(200);
    expect(installed.json).toMatchObject({
      kind: 'tm:sys:crypto:cert:installstate',
      command: 'install',
      name: '/Common/www.example.test',
    });

    const res = await call(sim, 'GET', '/mgmt/tm/sys/file/ssl-cert/~Common~www.example.test');
    expect(res.status).toBe(200);
    const cert = new X509Certificate(rsaA.certPem);
    const pemBytes = Buffer.from(rsaA.certPem);
    expect(res.json).toMatchObject({
      kind: 'tm:sys:file:ssl-cert:ssl-certstate',
      name: 'www.example.test',
      partition: 'Common',
      fullPath: '/Common/www.example.test',
      selfLink: 'https://localhost/mgmt/tm/sys/file/ssl-cert/~Common~www.example.test?ver=17.1.2.1',
      fingerprint: `SHA256/${cert.fingerprint256}`,
      serialNumber: '364094384',
      expirationDate: Math.floor(NOT_AFTER.getTime() / 1000),
      expirationString: 'Jul 14 05:46:24 2031 GMT',
      subject: 'CN=www.example.test,OU=IT,O=MyCompany,L=Seattle,ST=WA,C=US',
      issuer: 'CN=www.example.test,OU=IT,O=MyCompany,L=Seattle,ST=WA,C=US',
      isBundle: 'false',
      keyType: 'rsa-public',
      certificateKeySize: 2048,
      certificateKeyCurveName: 'none',
      subjectAlternativeName: 'DNS:www.example.test, DNS:example.test',
      checksum: `SHA1:${pemBytes.length}:${createHash('sha1').update(pemBytes).digest('hex')}`,
      size: pemBytes.length,
    });
    expect(res.json.fingerprint).toMatch(/^SHA256\/([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(typeof res.json.generation).toBe('number');

    const key = await call(sim, 'GET', '/mgmt/tm/sys/file/ssl-key/~Common~www.example.test');
    expect(key.json).toMatchObject({
      kind: 'tm:sys:file:ssl-key:ssl-keystate',
      fullPath: '/Common/www.example.test',
      keyType: 'rsa-private',
      keySize: 2048,
      curveName: 'none',
      securityType: 'normal',
    });

    // Overwrite with another (unreferenced) pair: allowed.
    expect((await installKey(sim, '/Common/www.example.test', rsaB.keyPem)).status).toBe(200);
    expect((await installCert(sim, '/Common/www.example.test', rsaB.certPem)).status).toBe(200);
    const replaced = await call(sim, 'GET', '/mgmt/tm/sys/file/ssl-cert/~Common~www.example.test');
    expect(replaced.json.serialNumber).toBe('03:a1:b2:c3:d4:e5:f6:07:18:29:3a:4b:5c:6d:7e:8f:90');
    expect(replaced.json.generation).toBeGreaterThan(res.json.generation);
  });

  it('reports EC keys, bundles, and the sys crypto collection quirks', async () => {
    expect((await installKey(sim, '/Common/ec.example.test', ecC.keyPem)).status).toBe(200);
    expect((await installCert(sim, '/Common/bundle.crt', `${rsaA.certPem}${ecC.certPem}`)).status).toBe(200);
    const key = await call(sim, 'GET', '/mgmt/tm/sys/file/ssl-key/~Common~ec.example.test');
    expect(key.json).toMatchObject({ keyType: 'ec-private', keySize: 256, curveName: 'prime256v1' });
    const bundle = await call(sim, 'GET', '/mgmt/tm/sys/file/ssl-cert/~Common~bundle.crt');
    expect(bundle.json.isBundle).toBe('true');
    expect(bundle.json.bundleCertificatesReference).toMatchObject({ isSubcollection: true });
    expect(bundle.json.fingerprint).toBe(`SHA256/${new X509Certificate(rsaA.certPem).fingerprint256}`);

    const list = await call(sim, 'GET', '/mgmt/tm/sys/file/ssl-cert');
    expect(list.json.kind).toBe('tm:sys:file:ssl-cert:ssl-certcollectionstate');
    expect(list.json.items.map((i: { fullPath: string }) => i.fullPath)).toContain('/Common/bundle.crt');
    const crypto = await call(sim, 'GET', '/mgmt/tm/sys/crypto/key');
    const item = crypto.json.items.find((i: { fullPath: string }) => i.fullPath === '/Common/default.key');
    expect(item).toMatchObject({ name: '/Common/default.key', keySize: '2048' });
  });

  it('installs an encrypted key only with its passphrase', async () => {
    const noPass = await installKey(sim, '/Common/enc.key', encryptedA);
    expectTmError(noPass, 400, /^01070712:3: .*encrypted/);
    const wrong = await installKey(sim, '/Common/enc.key', encryptedA, 'wrong');
    expectTmError(wrong, 400, /^01070712:3: .*decrypt/);
    expect(sim.state.keys.has('/Common/enc.key')).toBe(false);
    expect((await installKey(sim, '/Common/enc.key', encryptedA, PASSPHRASE)).status).toBe(200);
    expect(sim.state.keys.get('/Common/enc.key')).toMatchObject({ securityType: 'password', passphrase: PASSPHRASE });
    const read = await call(sim, 'GET', '/mgmt/tm/sys/file/ssl-key/~Common~enc.key');
    expect(read.json).toMatchObject({ securityType: 'password', keyType: 'rsa-private', keySize: 2048 });
  });

  it('rejects garbage and a missing local file', async () => {
    expectTmError(
      await installCert(sim, '/Common/garbage.crt', 'not a pem'),
      400,
      '01070712:3: Certificate/Key has unknown format or security type (/Common/garbage.crt).',
    );
    const missing = await call(sim, 'POST', '/mgmt/tm/sys/crypto/cert', {
      json: {
        command: 'install',
        name: '/Common/x.crt',
        'from-local-file': '/var/config/rest/downloads/nothing-here.crt',
      },
    });
    expectTmError(missing, 400, /^01070712:3: Values \(\/var\/config\/rest\/downloads\/nothing-here.crt\)/);
  });

  it('enforces the key/certificate match for profile-referenced names, changing nothing on failure', async () => {
    sim.addKey('/Common/used.key', rsaA.keyPem);
    sim.addCert('/Common/used.crt', rsaA.certPem);
    sim.addProfile('/Common/used_profile', {
      certKeyChain: [{ name: 'used', cert: '/Common/used.crt', key: '/Common/used.key' }],
    });
    const keyBefore = sim.state.keys.get('/Common/used.key');
    const certBefore = sim.state.certs.get('/Common/used.crt');

    const cert = await installCert(sim, '/Common/used.crt', rsaB.certPem);
    expectTmError(cert, 400, "01070317:3: profile /Common/used_profile's key and certificate do not match");
    const key = await installKey(sim, '/Common/used.key', rsaB.keyPem);
    expectTmError(key, 400, "01070317:3: profile /Common/used_profile's key and certificate do not match");
    expect(sim.state.keys.get('/Common/used.key')).toEqual(keyBefore);
    expect(sim.state.certs.get('/Common/used.crt')).toEqual(certBefore);

    // Reinstalling the same pair (a re-issue with the same key) is fine.
    expect((await installCert(sim, '/Common/used.crt', rsaA.certPem)).status).toBe(200);
  });

  it('creates file objects with sourcePath (409 when it exists) and updates them with PUT/PATCH', async () => {
    const src = await upload(sim, 'file-a.crt', rsaA.certPem);
    const body = { name: 'file-a.crt', partition: 'Common', sourcePath: `file://${src}` };
    const created = await call(sim, 'POST', '/mgmt/tm/sys/file/ssl-cert', { json: body });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ fullPath: '/Common/file-a.crt', sourcePath: `file://${src}` });
    expectTmError(
      await call(sim, 'POST', '/mgmt/tm/sys/file/ssl-cert', { json: body }),
      409,
      '01020066:3: The requested Certificate File (/Common/file-a.crt) already exists in partition Common.',
    );
    const keySrc = await upload(sim, 'file-a.key', rsaA.keyPem);
    const keyBody = { name: 'file-a.key', partition: 'Common', sourcePath: `file://${keySrc}` };
    expect((await call(sim, 'POST', '/mgmt/tm/sys/file/ssl-key', { json: keyBody })).status).toBe(200);
    expectTmError(
      await call(sim, 'POST', '/mgmt/tm/sys/file/ssl-key', { json: keyBody }),
      409,
      '01020066:3: The requested Certificate Key File (/Common/file-a.key) already exists in partition Common.',
    );

    const newSrc = await upload(sim, 'file-a.crt', rsaB.certPem);
    const put = await call(sim, 'PUT', '/mgmt/tm/sys/file/ssl-cert/~Common~file-a.crt', {
      json: { sourcePath: `file://${newSrc}` },
    });
    expect(put.status).toBe(200);
    expect(sim.state.certs.get('/Common/file-a.crt')!.pem).toBe(rsaB.certPem);
    await upload(sim, 'file-a.crt', rsaA.certPem);
    const patch = await call(sim, 'PATCH', '/mgmt/tm/sys/file/ssl-cert/~Common~file-a.crt', {
      json: { sourcePath: `file://${newSrc}` },
    });
    expect(patch.status).toBe(200);
    expect(sim.state.certs.get('/Common/file-a.crt')!.pem).toBe(rsaA.certPem);
    expectTmError(
      await call(sim, 'PATCH', '/mgmt/tm/sys/file/ssl-cert/~Common~nope.crt', {
        json: { sourcePath: `file://${newSrc}` },
      }),
      404,
      '01020036:3: The requested Certificate File (/Common/nope.crt) was not found.',
    );
  });

  it('deletes file objects: 404 when missing, 400 while a profile uses them, 200 with an empty body', async () => {
    expectTmError(
      await call(sim, 'GET', '/mgmt/tm/sys/file/ssl-key/~Common~missing.key'),
      404,
      '01020036:3: The requested Certificate Key File (/Common/missing.key) was not found.',
    );
    expectTmError(
      await call(sim, 'DELETE', '/mgmt/tm/sys/file/ssl-cert/~Common~missing.crt'),
      404,
      '01020036:3: The requested Certificate File (/Common/missing.crt) was not found.',
    );
    const inUse = await call(sim, 'DELETE', '/mgmt/tm/sys/file/ssl-cert/~Common~default.crt');
    expectTmError(inUse, 400, /in use by a ClientSSL Profile \(\/Common\/clientssl\)/);
    const inUseKey = await call(sim, 'DELETE', '/mgmt/tm/sys/file/ssl-key/~Common~default.key');
    expectTmError(inUseKey, 400, /in use/);

    sim.addCert('/Common/delete-me.crt', rsaB.certPem);
    const del = await call(sim, 'DELETE', '/mgmt/tm/sys/file/ssl-cert/~Common~delete-me.crt');
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    expect(sim.state.certs.has('/Common/delete-me.crt')).toBe(false);
  });
});

describe('BIG-IP simulator: client-ssl profiles', () => {
  beforeAll(() => {
    sim.addKey('/Common/p.key', rsaA.keyPem);
    sim.addCert('/Common/p.crt', rsaA.certPem);
    sim.addKey('/Common/q.key', rsaB.keyPem);
    sim.addCert('/Common/q.crt', rsaB.certPem);
    sim.addKey('/Common/ec.key', ecC.keyPem);
    sim.addCert('/Common/ec.crt', ecC.certPem);
    sim.addKey('/Common/p-enc.key', encryptedA, PASSPHRASE);
  });

  it('reads one profile and the collection', async () => {
    const one = await call(sim, 'GET', '/mgmt/tm/ltm/profile/client-ssl/~Common~clientssl');
    expect(one.json).toMatchObject({
      kind: 'tm:ltm:profile:client-ssl:client-sslstate',
      fullPath: '/Common/clientssl',
      cert: '/Common/default.crt',
      key: '/Common/default.key',
      chain: 'none',
      certKeyChain: [
        {
          name: 'default',
          cert: '/Common/default.crt',
          key: '/Common/default.key',
          chain: 'none',
          appService: 'none',
          usage: 'SERVER',
        },
      ],
    });
    expect(one.json.defaultsFrom).toBeUndefined();
    const list = await call(sim, 'GET', '/mgmt/tm/ltm/profile/client-ssl');
    expect(list.json.kind).toBe('tm:ltm:profile:client-ssl:client-sslcollectionstate');
    expect(list.json.items.map((p: { fullPath: string }) => p.fullPath)).toContain('/Common/clientssl');
    expectTmError(
      await call(sim, 'GET', '/mgmt/tm/ltm/profile/client-ssl/~Common~nope'),
      404,
      '01020036:3: The requested ClientSSL Profile (/Common/nope) was not found.',
    );
  });

  it('creates a profile inheriting the parent chain, or with its own; 409 when it exists', async () => {
    const inherit = await call(sim, 'POST', '/mgmt/tm/ltm/profile/client-ssl', {
      json: { name: 'inherits', partition: 'Common', defaultsFrom: '/Common/clientssl' },
    });
    expect(inherit.status).toBe(200);
    expect(inherit.json.defaultsFrom).toBe('/Common/clientssl');
    expect(inherit.json.certKeyChain).toMatchObject([{ cert: '/Common/default.crt', key: '/Common/default.key' }]);

    const own = await call(sim, 'POST', '/mgmt/tm/ltm/profile/client-ssl', {
      json: {
        name: 'acme_www',
        partition: 'Common',
        defaultsFrom: '/Common/clientssl',
        certKeyChain: [{ name: 'www', cert: '/Common/p.crt', key: '/Common/p.key' }],
      },
    });
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ cert: '/Common/p.crt', key: '/Common/p.key', chain: 'none' });
    expect(sim.state.profiles.get('/Common/acme_www')).toEqual({
      defaultsFrom: '/Common/clientssl',
      certKeyChain: [{ name: 'www', cert: '/Common/p.crt', key: '/Common/p.key', chain: 'none' }],
    });
    expectTmError(
      await call(sim, 'POST', '/mgmt/tm/ltm/profile/client-ssl', { json: { name: 'acme_www', partition: 'Common' } }),
      409,
      '01020066:3: The requested ClientSSL Profile (/Common/acme_www) already exists in partition Common.',
    );
  });

  it('PATCH replaces certKeyChain wholesale and mirrors the first entry in cert/key/chain', async () => {
    sim.addProfile('/Common/patchme', { certKeyChain: [{ name: 'old', cert: '/Common/p.crt', key: '/Common/p.key' }] });
    const res = await call(sim, 'PATCH', '/mgmt/tm/ltm/profile/client-ssl/~Common~patchme', {
      json: {
        certKeyChain: [
          { name: 'rsa', cert: '/Common/q.crt', key: '/Common/q.key', chain: '/Common/p.crt' },
          { name: 'ecdsa', cert: '/Common/ec.crt', key: '/Common/ec.key' },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ cert: '/Common/q.crt', key: '/Common/q.key', chain: '/Common/p.crt' });
    expect(res.json.certKeyChain.map((e: { name: string }) => e.name)).toEqual(['rsa', 'ecdsa']);

    const legacy = await call(sim, 'PATCH', '/mgmt/tm/ltm/profile/client-ssl/~Common~patchme', {
      json: { cert: '/Common/p.crt', key: '/Common/p.key', chain: 'none' },
    });
    expect(legacy.json.certKeyChain[0]).toMatchObject({
      name: 'rsa',
      cert: '/Common/p.crt',
      key: '/Common/p.key',
      chain: 'none',
    });
    expect(legacy.json.certKeyChain).toHaveLength(2);
  });

  it('PATCH refuses missing objects (404), mismatched pairs (400 01070317) and leaves the profile alone', async () => {
    sim.addProfile('/Common/strict', { certKeyChain: [{ name: 'p', cert: '/Common/p.crt', key: '/Common/p.key' }] });
    const before = structuredClone(sim.state.profiles.get('/Common/strict'));
    const path = '/mgmt/tm/ltm/profile/client-ssl/~Common~strict';
    expectTmError(
      await call(sim, 'PATCH', path, {
        json: { certKeyChain: [{ name: 'x', cert: '/Common/absent.crt', key: '/Common/p.key' }] },
      }),
      404,
      '01020036:3: The requested Certificate File (/Common/absent.crt) was not found.',
    );
    expectTmError(
      await call(sim, 'PATCH', path, {
        json: { certKeyChain: [{ name: 'x', cert: '/Common/p.crt', key: '/Common/absent.key' }] },
      }),
      404,
      '01020036:3: The requested Certificate Key File (/Common/absent.key) was not found.',
    );
    expectTmError(
      await call(sim, 'PATCH', path, {
        json: {
          certKeyChain: [{ name: 'x', cert: '/Common/p.crt', key: '/Common/p.key', chain: '/Common/absent-chain.crt' }],
        },
      }),
      404,
      '01020036:3: The requested Certificate File (/Common/absent-chain.crt) was not found.',
    );
    expectTmError(
      await call(sim, 'PATCH', path, {
        json: { certKeyChain: [{ name: 'x', cert: '/Common/p.crt', key: '/Common/q.key' }] },
      }),
      400,
      "01070317:3: profile /Common/strict's key and certificate do not match",
    );
    expect(sim.state.profiles.get('/Common/strict')).toEqual(before);
  });

  it('needs the right passphrase for an encrypted key', async () => {
    sim.addProfile('/Common/enc_profile', {
      certKeyChain: [{ name: 'p', cert: '/Common/p.crt', key: '/Common/p.key' }],
    });
    const path = '/mgmt/tm/ltm/profile/client-ssl/~Common~enc_profile';
    const none = await call(sim, 'PATCH', path, {
      json: { certKeyChain: [{ name: 'p', cert: '/Common/p.crt', key: '/Common/p-enc.key' }] },
    });
    expectTmError(
      none,
      400,
      /^01070313:3: Error reading key PEM file \/Common\/p-enc.key for profile \/Common\/enc_profile: .*no passphrase/,
    );
    const wrong = await call(sim, 'PATCH', path, {
      json: { certKeyChain: [{ name: 'p', cert: '/Common/p.crt', key: '/Common/p-enc.key', passphrase: 'nope' }] },
    });
    expectTmError(wrong, 400, /passphrase is wrong/);
    const right = await call(sim, 'PATCH', path, {
      json: { certKeyChain: [{ name: 'p', cert: '/Common/p.crt', key: '/Common/p-enc.key', passphrase: PASSPHRASE }] },
    });
    expect(right.status).toBe(200);
    expect(right.json.certKeyChain[0].passphrase).toMatch(/^\$M\$/);
    expect(right.text).not.toContain(PASSPHRASE);
  });
});

describe('BIG-IP simulator: transactions', () => {
  const begin = async () => {
    const res = await call(sim, 'POST', '/mgmt/tm/transaction', { json: {} });
    expect(res.status).toBe(200);
    return res.json;
  };

  it('starts a transaction with the documented shape', async () => {
    const tx = await begin();
    expect(tx).toMatchObject({
      state: 'STARTED',
      timeoutSeconds: 120,
      asyncExecution: false,
      validateOnly: false,
      kind: 'tm:transactionstate',
    });
    expect(typeof tx.transId).toBe('number');
    expect(tx.selfLink).toBe(`https://localhost/mgmt/tm/transaction/${tx.transId}?ver=17.1.2.1`);
  });

  it('queues writes unvalidated, refuses GETs and header-carrying commits, and commits atomically', async () => {
    // A profile referencing a pair; replace key and cert under the same names: only possible together.
    sim.addKey('/Common/tx.key', rsaA.keyPem);
    sim.addCert('/Common/tx.crt', rsaA.certPem);
    sim.addProfile('/Common/tx_profile', {
      certKeyChain: [{ name: 'tx', cert: '/Common/tx.crt', key: '/Common/tx.key' }],
    });
    const keySrc = await upload(sim, 'tx-new.key', rsaB.keyPem);
    const certSrc = await upload(sim, 'tx-new.crt', rsaB.certPem);

    // Outside a transaction the key alone fails the match rule.
    expectTmError(
      await call(sim, 'PATCH', '/mgmt/tm/sys/file/ssl-key/~Common~tx.key', {
        json: { sourcePath: `file://${keySrc}` },
      }),
      400,
      "01070317:3: profile /Common/tx_profile's key and certificate do not match",
    );

    const tx = await begin();
    const id = String(tx.transId);
    const coord = { 'X-F5-REST-Coordination-Id': id };
    const q1 = await call(sim, 'PATCH', '/mgmt/tm/sys/file/ssl-key/~Common~tx.key', {
      headers: coord,
      json: { sourcePath: `file://${keySrc}` },
    });
    expect(q1.status).toBe(200);
    expect(q1.json).toMatchObject({
      method: 'PATCH',
      uri: 'https://localhost/mgmt/tm/sys/file/ssl-key/~Common~tx.key',
      body: { sourcePath: `file://${keySrc}` },
      evalOrder: 1,
      commandId: 1,
      kind: 'tm:transaction:commandsstate',
      selfLink: `https://localhost/mgmt/tm/transaction/${id}/commands/1?ver=17.1.2.1`,
    });
    const q2 = await call(sim, 'PATCH', '/mgmt/tm/sys/file/ssl-cert/~Common~tx.crt', {
      headers: coord,
      json: { sourcePath: `file://${certSrc}` },
    });
    expect(q2.json.commandId).toBe(2);
    // Nothing applied yet.
    expect(sim.state.keys.get('/Common/tx.key')!.pem).toBe(rsaA.keyPem);

    const get = await call(sim, 'GET', '/mgmt/tm/sys/file/ssl-key/~Common~tx.key', { headers: coord });
    expectTmError(get, 400, /is not allowed to be added to transaction\.$/, 1);

    const commands = await call(sim, 'GET', `/mgmt/tm/transaction/${id}/commands`);
    expect(commands.json.items).toHaveLength(2);

    const withHeader = await call(sim, 'PATCH', `/mgmt/tm/transaction/${id}`, {
      headers: coord,
      json: { state: 'VALIDATING' },
    });
    expectTmError(
      withHeader,
      400,
      `Transaction ${id} operation PATCH https://localhost/mgmt/tm/transaction/${id} is not allowed to be added to transaction.`,
      1,
    );

    const commit = await call(sim, 'PATCH', `/mgmt/tm/transaction/${id}`, {
      json: { state: 'VALIDATING', validateOnly: false },
    });
    expect(commit.status).toBe(200);
    expect(commit.json).toMatchObject({ transId: tx.transId, state: 'COMPLETED' });
    expect(sim.state.keys.get('/Common/tx.key')!.pem).toBe(rsaB.keyPem);
    expect(sim.state.certs.get('/Common/tx.crt')!.pem).toBe(rsaB.certPem);
  });

  it('rolls everything back when any command fails', async () => {
    sim.addDataGroup('/Common/tx_dg', { keep: 'me' });
    const tx = await begin();
    const coord = { 'X-F5-REST-Coordination-Id': String(tx.transId) };
    await call(
      sim,
      'PATCH',
      '/mgmt/tm/ltm/data-group/internal/~Common~tx_dg?options=records%20add%20%7B%20a%20%7B%20data%20b%20%7D%20%7D',
      {
        headers: coord,
        json: { name: 'tx_dg' },
      },
    );
    await call(sim, 'POST', '/mgmt/tm/ltm/rule', {
      headers: coord,
      json: { name: 'tx_rule', partition: 'Common', apiAnonymous: 'when HTTP_REQUEST { }' },
    });
    // Fails: the certificate does not exist.
    await call(sim, 'POST', '/mgmt/tm/ltm/profile/client-ssl', {
      headers: coord,
      json: {
        name: 'tx_bad',
        partition: 'Common',
        certKeyChain: [{ name: 'x', cert: '/Common/absent.crt', key: '/Common/p.key' }],
      },
    });
    const savesBefore = sim.state.saves;
    const commit = await call(sim, 'PATCH', `/mgmt/tm/transaction/${tx.transId}`, { json: { state: 'VALIDATING' } });
    expectTmError(
      commit,
      400,
      'transaction failed:01020036:3: The requested Certificate File (/Common/absent.crt) was not found.',
      2,
    );
    expect([...sim.state.dataGroups.get('/Common/tx_dg')!.records]).toEqual([['keep', 'me']]);
    expect(sim.state.rules.has('/Common/tx_rule')).toBe(false);
    expect(sim.state.profiles.has('/Common/tx_bad')).toBe(false);
    expect(sim.state.saves).toBe(savesBefore);
    const after = await call(sim, 'GET', `/mgmt/tm/transaction/${tx.transId}`);
    expect(after.json.state).toBe('FAILED');
  });

  it('drops an uncommitted transaction after timeoutSeconds', async () => {
    const short = await simulator({ transactionTimeoutSeconds: 0.3 });
    const tx = (await call(short, 'POST', '/mgmt/tm/transaction', { json: {} })).json;
    expect(tx.timeoutSeconds).toBe(0.3);
    await call(short, 'POST', '/mgmt/tm/ltm/rule', {
      headers: { 'X-F5-REST-Coordination-Id': String(tx.transId) },
      json: { name: 'late', apiAnonymous: '' },
    });
    await new Promise((r) => setTimeout(r, 500));
    const commit = await call(short, 'PATCH', `/mgmt/tm/transaction/${tx.transId}`, { json: { state: 'VALIDATING' } });
    expectTmError(commit, 404, `Transaction ${tx.transId} does not exist or has expired.`, 1);
    expect(short.state.rules.has('/Common/late')).toBe(false);
  });
});

describe('BIG-IP simulator: data groups', () => {
  const dgPath = '/mgmt/tm/ltm/data-group/internal';

  it('creates, reads and replaces records; omits records when empty', async () => {
    const created = await call(sim, 'POST', dgPath, {
      json: { name: 'acme_responder_dg', partition: 'Common', type: 'string', records: [] },
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      kind: 'tm:ltm:data-group:internal:internalstate',
      fullPath: '/Common/acme_responder_dg',
      type: 'string',
    });
    expect(created.json.records).toBeUndefined();
    expectTmError(
      await call(sim, 'POST', dgPath, { json: { name: 'acme_responder_dg', partition: 'Common', type: 'string' } }),
      409,
      '01020066:3: The requested value list (/Common/acme_responder_dg) already exists in partition Common.',
    );
    const put = await call(sim, 'PUT', `${dgPath}/~Common~acme_responder_dg`, {
      json: { records: [{ name: 'a', data: '1' }, { name: 'b' }] },
    });
    expect(put.json.records).toEqual([{ name: 'a', data: '1' }, { name: 'b' }]);
    const patch = await call(sim, 'PATCH', `${dgPath}/~Common~acme_responder_dg`, {
      json: { records: [{ name: 'c', data: '3' }] },
    });
    expect(patch.json.records).toEqual([{ name: 'c', data: '3' }]);
    expectTmError(
      await call(sim, 'GET', `${dgPath}/~Common~my-datagroup2`),
      404,
      '01020036:3: The requested value list (/Common/my-datagroup2) was not found.',
    );
  });

  it('adds and deletes records incrementally with ?options=, with the 409/404 of the reference', async () => {
    sim.addDataGroup('/Common/dg');
    const url = (options: string) => `${dgPath}/~Common~dg?options=${encodeURIComponent(options)}`;
    const add = await call(sim, 'PATCH', url('records add { key1 { data tok.thumb-print_1 } }'), {
      json: { name: 'dg' },
    });
    expect(add.status).toBe(200);
    expect(add.json.records).toEqual([{ name: 'key1', data: 'tok.thumb-print_1' }]);
    // Form-style encoding (+ for spaces) and quoted words decode too.
    const plus = await call(
      sim,
      'PATCH',
      `${dgPath}/~Common~dg?options=records+add+%7B+%22key2%22+%7B+data+%22v2%22+%7D+key3+%7D`,
      { json: { name: 'dg' } },
    );
    expect(plus.json.records).toEqual([
      { name: 'key1', data: 'tok.thumb-print_1' },
      { name: 'key2', data: 'v2' },
      { name: 'key3' },
    ]);

    expectTmError(
      await call(sim, 'PATCH', url('records add { key1 { data other } }'), { json: { name: 'dg' } }),
      409,
      '01020066:3: The requested class string item (/Common/dg key1) already exists in partition Common.',
    );
    const del = await call(sim, 'PATCH', url('records delete { key1 key3 }'), { json: { name: 'dg' } });
    expect(del.json.records).toEqual([{ name: 'key2', data: 'v2' }]);
    expectTmError(
      await call(sim, 'PATCH', url('records delete { key4 }'), { json: { name: 'dg' } }),
      404,
      '01020036:3: The requested class string item (/Common/dg key4) was not found.',
    );
    // A failing multi-record change applies none of it.
    await call(sim, 'PATCH', url('records add { key5 { data x } key2 { data y } }'), { json: { name: 'dg' } });
    expect([...sim.state.dataGroups.get('/Common/dg')!.records.keys()]).toEqual(['key2']);
    expectTmError(
      await call(sim, 'PATCH', url('records add { unterminated'), { json: { name: 'dg' } }),
      400,
      /^Syntax Error/,
      1,
    );
  });
});

describe('BIG-IP simulator: iRules and virtual servers', () => {
  it('creates, reads and replaces iRules; 409 when it exists', async () => {
    const tcl = 'when HTTP_REQUEST { log local0. "hi" }';
    const created = await call(sim, 'POST', '/mgmt/tm/ltm/rule', {
      json: { name: 'r1', partition: 'Common', apiAnonymous: tcl },
    });
    expect(created.json).toMatchObject({ kind: 'tm:ltm:rule:rulestate', fullPath: '/Common/r1', apiAnonymous: tcl });
    expectTmError(
      await call(sim, 'POST', '/mgmt/tm/ltm/rule', { json: { name: 'r1', partition: 'Common', apiAnonymous: tcl } }),
      409,
      '01020066:3: The requested iRule (/Common/r1) already exists in partition Common.',
    );
    const put = await call(sim, 'PUT', '/mgmt/tm/ltm/rule/~Common~r1', {
      json: { apiAnonymous: 'when HTTP_REQUEST { }' },
    });
    expect(put.json.apiAnonymous).toBe('when HTTP_REQUEST { }');
    const patch = await call(sim, 'PATCH', '/mgmt/tm/ltm/rule/~Common~r1', {
      json: { apiAnonymous: 'when CLIENT_ACCEPTED { }' },
    });
    expect(sim.state.rules.get('/Common/r1')).toBe('when CLIENT_ACCEPTED { }');
    expect(patch.status).toBe(200);
    expectTmError(
      await call(sim, 'PATCH', '/mgmt/tm/ltm/rule/~Common~r1', { json: { apiAnonymous: 'when HTTP_REQUEST {' } }),
      400,
      /^01070151:3: Rule \[\/Common\/r1\]/,
    );
    expectTmError(
      await call(sim, 'GET', '/mgmt/tm/ltm/rule/~Common~r9'),
      404,
      '01020036:3: The requested iRule (/Common/r9) was not found.',
    );
  });

  it('replaces a virtual server rules list; every rule must exist', async () => {
    sim.addVirtual('/Common/vs_http', { destination: '/Common/10.0.0.10:80' });
    const read = await call(sim, 'GET', '/mgmt/tm/ltm/virtual/~Common~vs_http');
    expect(read.json).toMatchObject({ kind: 'tm:ltm:virtual:virtualstate', destination: '/Common/10.0.0.10:80' });
    expect(read.json.rules).toBeUndefined();
    sim.addRule('/Common/r2', 'when HTTP_REQUEST { }');
    const patch = await call(sim, 'PATCH', '/mgmt/tm/ltm/virtual/~Common~vs_http', {
      json: { rules: ['/Common/r1', '/Common/r2'] },
    });
    expect(patch.json.rules).toEqual(['/Common/r1', '/Common/r2']);
    expectTmError(
      await call(sim, 'PATCH', '/mgmt/tm/ltm/virtual/~Common~vs_http', {
        json: { rules: ['/Common/r1', '/Common/ghost'] },
      }),
      404,
      '01020036:3: The requested iRule (/Common/ghost) was not found.',
    );
    expect(sim.state.virtuals.get('/Common/vs_http')!.rules).toEqual(['/Common/r1', '/Common/r2']);
    expectTmError(
      await call(sim, 'DELETE', '/mgmt/tm/ltm/rule/~Common~r1'),
      400,
      /in use by a virtual server \(\/Common\/vs_http\)/,
    );
  });

  it('understands subfolder paths (~Common~folder~name)', async () => {
    sim.addRule('/Common/apps/r3', 'when HTTP_REQUEST { }');
    const res = await call(sim, 'GET', '/mgmt/tm/ltm/rule/~Common~apps~r3');
    expect(res.json).toMatchObject({ name: 'r3', partition: 'Common', subPath: 'apps', fullPath: '/Common/apps/r3' });
    expect(res.json.selfLink).toBe('https://localhost/mgmt/tm/ltm/rule/~Common~apps~r3?ver=17.1.2.1');
  });
});

describe('BIG-IP simulator: save, version, device-info, errors', () => {
  it('saves and counts saves', async () => {
    const before = sim.state.saves;
    const res = await call(sim, 'POST', '/mgmt/tm/sys/config', { json: { command: 'save' } });
    expect(res.json).toEqual({ kind: 'tm:sys:config:savestate', command: 'save' });
    expect(sim.state.saves).toBe(before + 1);
  });

  it('reports version and device-info', async () => {
    const custom = await simulator({ version: '16.1.4', hostname: 'lb1.example.test' });
    const version = await call(custom, 'GET', '/mgmt/tm/sys/version');
    expect(version.json.kind).toBe('tm:sys:version:versionstats');
    expect(
      version.json.entries['https://localhost/mgmt/tm/sys/version/0'].nestedStats.entries.Version.description,
    ).toBe('16.1.4');
    const info = await call(custom, 'GET', '/mgmt/shared/identified-devices/config/device-info');
    expect(info.json).toMatchObject({
      hostname: 'lb1.example.test',
      version: '16.1.4',
      product: 'BIG-IP',
      kind: 'shared:resolver:device-groups:deviceinfostate',
      selfLink: 'https://localhost/mgmt/shared/identified-devices/config/device-info',
      generation: 0,
      lastUpdateMicros: 0,
    });
    expect(typeof info.json.build).toBe('string');
  });

  it('answers invalid JSON and unknown URIs like the device', async () => {
    const bad = await call(sim, 'POST', '/mgmt/tm/ltm/rule', {
      body: '{"name": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expectTmError(bad, 400, 'Found invalid JSON body in the request.', 1);
    const unknown = await call(sim, 'GET', '/mgmt/tm/ltm/pool/~Common~p');
    expectSharedError(unknown, 404, /^URI path \/mgmt\/tm\/ltm\/pool\/~Common~p not registered\./);
  });
});

describe('BIG-IP simulator: failure injection and the request log', () => {
  it('fails the armed step without applying, `times` times, then recovers', async () => {
    sim.failAt('cert-install', { status: 503, times: 2 });
    const first = await installCert(sim, '/Common/flaky.crt', rsaA.certPem);
    expectTmError(first, 503, /cert-install/);
    expect((await installCert(sim, '/Common/flaky.crt', rsaA.certPem)).status).toBe(503);
    expect(sim.state.certs.has('/Common/flaky.crt')).toBe(false);
    expect((await installCert(sim, '/Common/flaky.crt', rsaA.certPem)).status).toBe(200);
  });

  it('afterApply applies the change and still answers the error (a lost response)', async () => {
    sim.failAt('rule-write', { status: 500, message: 'connection reset', afterApply: true });
    const res = await call(sim, 'POST', '/mgmt/tm/ltm/rule', {
      json: { name: 'lost', apiAnonymous: 'when HTTP_REQUEST { }' },
    });
    expectTmError(res, 500, 'connection reset');
    expect(sim.state.rules.has('/Common/lost')).toBe(true);
  });

  it('uses /mgmt/shared shapes for shared steps and fails queued commands at commit', async () => {
    sim.failAt('upload', { status: 500 });
    const up = await call(sim, 'POST', '/mgmt/shared/file-transfer/uploads/x.bin', {
      body: 'ab',
      headers: { 'Content-Range': '0-1/2' },
    });
    expectSharedError(up, 500, /upload/);

    sim.failAt('rule-write', { message: '01070151:3: busy' });
    const tx = (await call(sim, 'POST', '/mgmt/tm/transaction', { json: {} })).json;
    await call(sim, 'POST', '/mgmt/tm/ltm/rule', {
      headers: { 'X-F5-REST-Coordination-Id': String(tx.transId) },
      json: { name: 'in_tx', apiAnonymous: '' },
    });
    const commit = await call(sim, 'PATCH', `/mgmt/tm/transaction/${tx.transId}`, { json: { state: 'VALIDATING' } });
    expectTmError(commit, 400, 'transaction failed:01070151:3: busy', 2);
    expect(sim.state.rules.has('/Common/in_tx')).toBe(false);
  });

  it('logs method, path, step, status, auth, transaction and bytes', async () => {
    sim.resetRequests();
    const token = await login(sim);
    await call(sim, 'GET', '/mgmt/tm/sys/version?ver=1', { auth: { token } });
    const tx = (await call(sim, 'POST', '/mgmt/tm/transaction', { json: {} })).json;
    await call(sim, 'POST', '/mgmt/tm/sys/config', {
      headers: { 'X-F5-REST-Coordination-Id': String(tx.transId) },
      json: { command: 'save' },
    });
    expect(sim.requests.map((r) => [r.method, r.step, r.status, r.auth, r.transaction])).toEqual([
      ['POST', 'login', 200, 'none', null],
      ['GET', 'version', 200, 'token', null],
      ['POST', 'transaction-begin', 200, 'basic', null],
      ['POST', 'save', 200, 'basic', String(tx.transId)],
    ]);
    expect(sim.requests[1]!.path).toBe('/mgmt/tm/sys/version?ver=1');
    expect(sim.requests[3]!.bytes).toBe(JSON.stringify({ command: 'save' }).length);
  });

  it('delays answers by latencyMs', async () => {
    const slow = await simulator({ latencyMs: 150 });
    const started = Date.now();
    await call(slow, 'GET', '/mgmt/tm/sys');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('BIG-IP simulator: a virtual server with the ACME iRule', () => {
  const KOJOT_RULE = `when HTTP_REQUEST priority 2 {
    if { [string tolower [HTTP::uri]] starts_with "/.well-known/acme-challenge/" } {
        set token [string range [HTTP::uri] 28 end]
        set response [class lookup $token acme_responder_dg]
        if { $response ne "" } {
            HTTP::respond 200 -version auto content $response noserver Content-Type {text/plain} Cache-Control {no-store}
        } else {
            HTTP::respond 503 -version auto content "<html><body><h1>503 - Error</h1><p>Content not found.</p></body></html>" noserver Content-Type {text/html} Cache-Control {no-store}
        }
        event disable all
        return
    }
}`;

  it('answers challenges from the data group through the attached rule, 503 for unknown tokens, 404 otherwise', async () => {
    const v = await simulator();
    v.addRule('/Common/acme_handler_rule', KOJOT_RULE);
    v.addDataGroup('/Common/acme_responder_dg', { 'tok-ABC_123': 'tok-ABC_123.thumbprint' });
    v.addVirtual('/Common/vs_acme', { rules: [] });
    const port = await v.listenVirtual('/Common/vs_acme');
    const base = `http://127.0.0.1:${port}`;

    // Not attached yet: the pool answers.
    expect((await fetch(`${base}/.well-known/acme-challenge/tok-ABC_123`)).status).toBe(404);

    const attach = await call(v, 'PATCH', '/mgmt/tm/ltm/virtual/~Common~vs_acme', {
      json: { rules: ['/Common/acme_handler_rule'] },
    });
    expect(attach.status).toBe(200);

    const found = await fetch(`${base}/.well-known/acme-challenge/tok-ABC_123`);
    expect(found.status).toBe(200);
    expect(await found.text()).toBe('tok-ABC_123.thumbprint');
    expect(found.headers.get('content-type')).toBe('text/plain');
    expect(found.headers.get('cache-control')).toBe('no-store');
    expect(found.headers.get('content-length')).toBe(String('tok-ABC_123.thumbprint'.length));
    expect(found.headers.get('server')).toBeNull();

    // The prefix matches case-insensitively; the token keeps its case.
    expect((await fetch(`${base}/.WELL-KNOWN/ACME-CHALLENGE/tok-ABC_123`)).status).toBe(200);
    expect((await fetch(`${base}/.well-known/acme-challenge/TOK-abc_123`)).status).toBe(503);

    const missing = await fetch(`${base}/.well-known/acme-challenge/unknown`);
    expect(missing.status).toBe(503);
    expect(missing.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await missing.text()).toContain('<html>');

    expect((await fetch(`${base}/index.html`)).status).toBe(404);

    // Records added over REST are served at once.
    await call(
      v,
      'PATCH',
      `/mgmt/tm/ltm/data-group/internal/~Common~acme_responder_dg?options=${encodeURIComponent('records add { t2 { data t2.k } }')}`,
      {
        json: { name: 'acme_responder_dg' },
      },
    );
    const second = await fetch(`${base}/.well-known/acme-challenge/t2`);
    expect(await second.text()).toBe('t2.k');
  });
  it('takes the token from [HTTP::path] when the rule does (query ignored) and resets on a missing data group', async () => {
    const v = await simulator();
    const pathRule = `when HTTP_REQUEST priority 2 {
  if { [string tolower [HTTP::path]] starts_with "/.well-known/acme-challenge/" } {
    set acme_token [string range [HTTP::path] 28 end]
    set acme_response [class lookup $acme_token /Common/acme_dg_path]
    if { $acme_response ne "" } { HTTP::respond 200 content $acme_response noserver Content-Type "text/plain" Cache-Control "no-store" }
    event disable
    return
  }
}`;
    v.addRule('/Common/path_rule', 'when HTTP_REQUEST { HTTP::redirect https://[HTTP::host][HTTP::uri] }');
    v.addRule('/Common/acme_path_rule', pathRule);
    v.addDataGroup('/Common/acme_dg_path', { tok: 'tok.key' });
    v.addVirtual('/Common/vs_path', { rules: ['/Common/path_rule', '/Common/acme_path_rule'] });
    const base = `http://127.0.0.1:${await v.listenVirtual('/Common/vs_path')}`;
    const res = await fetch(`${base}/.well-known/acme-challenge/tok?probe=1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('tok.key');
    v.state.dataGroups.delete('/Common/acme_dg_path');
    await expect(fetch(`${base}/.well-known/acme-challenge/tok`)).rejects.toThrow();
  });
});

describe('BIG-IP simulator: HTTPS', () => {
  it('serves HTTPS with a self-signed certificate trusted through caPem', async () => {
    const secure = await startBigIpSimulator();
    sims.push(secure);
    expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(secure.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const agent = new https.Agent({ ca: secure.caPem, keepAlive: true });
    const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(
        `${secure.url}/mgmt/shared/identified-devices/config/device-info`,
        { agent, headers: { Authorization: basic(secure.username, secure.password) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    agent.destroy();
    expect(body.status).toBe(200);
    expect(JSON.parse(body.text).hostname).toBe('bigip-sim.example.test');
  });
});
