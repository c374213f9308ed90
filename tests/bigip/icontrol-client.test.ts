import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import net from 'node:net';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIControlClient } from '../../core/bigip/icontrol-client.ts';
import { CoreError } from '../../core/errors.ts';
import type { BigIpClient, BigIpConnection, BigIpErrorCode } from '../../core/ports/bigip-client.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';

x509.cryptoProvider.set(webcrypto);

/** Distinctive, so any leak into a message, detail or cause is found by a plain substring search. */
const PASSWORD = 'Quokka-Saffron-7719!pw';
const USERNAME = 'acme-deployer';
const KEY_PASSPHRASE = 'Narwhal-Passphrase-0423-xyz';

interface Material {
  certPem: string;
  keyPem: string;
  fingerprint: string;
}

/** A fresh EC P-256 key and a self-signed certificate for it; nothing is written to disk. */
async function makeMaterial(cn: string): Promise<Material> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${cn}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 90 * 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: cn }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const certPem = cert.toString('pem');
  return { certPem, keyPem, fingerprint: `SHA256/${new X509Certificate(certPem).fingerprint256}` };
}

function encrypt(keyPem: string, passphrase: string): string {
  return createPrivateKey(keyPem)
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    .toString();
}

function connectionTo(sim: BigIpSimulator, over: Partial<BigIpConnection> = {}): BigIpConnection {
  return { url: sim.url, username: sim.username, password: sim.password, caPem: sim.caPem, timeoutMs: 10_000, ...over };
}

async function caught(promise: Promise<unknown>): Promise<CoreError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(CoreError);
    return err as CoreError;
  }
  throw new Error('expected a rejection');
}

/** The error's code, and that nothing about it repeats the password or the Basic credentials. */
function expectBigIpError(err: CoreError, code: BigIpErrorCode): void {
  expect(err.code, err.message).toBe(code);
  const basic = Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64');
  for (const text of [err.message, JSON.stringify(err.detail), String(err.cause)]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(basic);
    expect(text).not.toContain(KEY_PASSPHRASE);
  }
  expect(err.message).not.toMatch(/\n/);
  const status = err.detail?.['status'];
  expect(status === null || typeof status === 'number').toBe(true);
  expect(err.detail?.['request']).toEqual(expect.any(String));
}

const SEED_A = { cert: '/Common/seed-a.crt', key: '/Common/seed-a.key' };
const SEED_B = { cert: '/Common/seed-b.crt', key: '/Common/seed-b.key' };
const SEED_CHAIN = '/Common/seed-chain.crt';

let sim: BigIpSimulator;
let client: BigIpClient;
let a: Material;
let b: Material;

const logins = () => sim.requests.filter((r) => r.step === 'login').length;

async function install(fullPathBase: string, m: Material, passphrase?: string): Promise<void> {
  const keyFile = await client.upload(
    `${fullPathBase.split('/').pop()}.key`,
    passphrase === undefined ? m.keyPem : encrypt(m.keyPem, passphrase),
  );
  const certFile = await client.upload(`${fullPathBase.split('/').pop()}.crt`, m.certPem);
  await client.installKey(`${fullPathBase}.key`, keyFile, passphrase);
  await client.installCert(`${fullPathBase}.crt`, certFile);
  await client.removeUpload(keyFile);
  await client.removeUpload(certFile);
}

beforeAll(async () => {
  [a, b] = await Promise.all([makeMaterial('a.example.test'), makeMaterial('b.example.test')]);
  sim = await startBigIpSimulator({ username: USERNAME, password: PASSWORD });
  // Installed objects the profile and transaction tests build on (installing through the client is tested below).
  sim.addCert(SEED_A.cert, a.certPem);
  sim.addKey(SEED_A.key, a.keyPem);
  sim.addCert(SEED_B.cert, b.certPem);
  sim.addKey(SEED_B.key, b.keyPem);
  sim.addCert(SEED_CHAIN, `${a.certPem}${b.certPem}`);
  client = createIControlClient(connectionTo(sim));
});

afterAll(async () => {
  await client?.close();
  await sim?.close();
});

beforeEach(() => {
  sim.clearFailures();
  sim.resetRequests();
});

describe('iControl client against the simulator', () => {
  it('reads device info (the connection test) with token auth', async () => {
    const info = await client.deviceInfo();
    expect(info).toEqual({
      hostname: 'bigip-sim.example.test',
      version: '17.1.2.1',
      product: 'BIG-IP',
      build: expect.any(String),
    });
    expect(sim.requests.map((r) => [r.step, r.auth])).toEqual([
      ['login', 'none'],
      ['device-info', 'token'],
    ]);
  });

  describe('uploads', () => {
    it('uploads a small file in one chunk and removes it', async () => {
      const path = await client.upload('small.txt', 'hello\n');
      expect(path).toBe('/var/config/rest/downloads/small.txt');
      expect(sim.state.uploads.get('small.txt')?.toString()).toBe('hello\n');
      await client.removeUpload(path);
      expect(sim.state.uploads.has('small.txt')).toBe(false);
      // Already gone: not an error.
      await client.removeUpload(path);
    });

    it('uploads a file over 1 MiB in chunks of at most 512 KiB', async () => {
      const content = randomBytes(1024 * 1024 + 300_000);
      await client.upload('big.bin', content);
      const chunks = sim.requests.filter((r) => r.step === 'upload');
      expect(chunks).toHaveLength(3);
      for (const chunk of chunks) {
        expect(chunk.bytes).toBeLessThanOrEqual(512 * 1024);
        expect(chunk.status).toBe(200);
        expect(chunk.path).toBe('/mgmt/shared/file-transfer/uploads/big.bin');
      }
      expect(chunks.reduce((n, c) => n + c.bytes, 0)).toBe(content.length);
      expect(sim.state.uploads.get('big.bin')?.equals(content)).toBe(true);
      await client.removeUpload('/var/config/rest/downloads/big.bin');
    });

    it('sends the whole file again from offset 0 after a failed chunk', async () => {
      const content = randomBytes(700_000);
      sim.failAt('upload', { status: 500, message: 'disk hiccup' });
      await client.upload('retry.bin', content);
      const chunks = sim.requests.filter((r) => r.step === 'upload');
      expect(chunks.map((c) => [c.status, c.bytes])).toEqual([
        [500, 512 * 1024],
        [200, 512 * 1024],
        [200, 700_000 - 512 * 1024],
      ]);
      expect(sim.state.uploads.get('retry.bin')?.equals(content)).toBe(true);
    });

    it('gives up after the second failed attempt, without quoting the file', async () => {
      sim.failAt('upload', { status: 500, message: 'disk full', times: 2 });
      const err = await caught(client.upload('fail.key', a.keyPem));
      expectBigIpError(err, 'bigip_api');
      expect(err.retryable).toBe(true);
      expect(err.message).not.toContain('PRIVATE KEY');
      expect(err.detail).toMatchObject({ status: 500, request: 'POST /mgmt/shared/file-transfer/uploads/fail.key' });
      expect(sim.requests.filter((r) => r.step === 'upload')).toHaveLength(2);
    });

    it('refuses unsafe file names and paths before sending anything', async () => {
      for (const name of ['../x', 'a/b', 'a b', '', 'x;reboot']) {
        expect((await caught(client.upload(name, 'x'))).code).toBe('input_invalid');
      }
      for (const path of [
        '/etc/passwd',
        '/var/config/rest/downloads/../../etc/passwd',
        '/var/config/rest/downloads/a b',
      ]) {
        expect((await caught(client.removeUpload(path))).code).toBe('input_invalid');
      }
      expect(sim.requests).toHaveLength(0);
    });
  });

  describe('keys and certificates', () => {
    it('installs a key and a certificate and reads them back', async () => {
      await install('/Common/a.example.test', a);
      const cert = await client.getCert('/Common/a.example.test.crt');
      const parsed = new X509Certificate(a.certPem);
      expect(cert).toEqual({
        fullPath: '/Common/a.example.test.crt',
        fingerprint: a.fingerprint,
        serialNumber: expect.any(String),
        expirationDate: Math.floor(Date.parse(parsed.validTo) / 1000),
        subject: 'CN=a.example.test',
        issuer: 'CN=a.example.test',
        isBundle: false,
      });
      expect(await client.getKey('/Common/a.example.test.key')).toEqual({
        fullPath: '/Common/a.example.test.key',
        keyType: expect.stringMatching(/^ec/),
        securityType: 'normal',
      });
      const installs = sim.requests.filter((r) => r.step === 'key-install' || r.step === 'cert-install');
      expect(installs.map((r) => [r.method, r.path, r.status])).toEqual([
        ['POST', '/mgmt/tm/sys/crypto/key', 200],
        ['POST', '/mgmt/tm/sys/crypto/cert', 200],
      ]);
      expect(sim.state.uploads.has('a.example.test.key')).toBe(false);
      expect(sim.state.uploads.has('a.example.test.crt')).toBe(false);
    });

    it('reads a bundle as isBundle true', async () => {
      const file = await client.upload('bundle.crt', `${a.certPem}${b.certPem}`);
      await client.installCert('/Common/bundle.crt', file);
      expect(await client.getCert('/Common/bundle.crt')).toMatchObject({ isBundle: true, fingerprint: a.fingerprint });
    });

    it('installs an encrypted key with its passphrase as securityType password', async () => {
      const file = await client.upload('enc.key', encrypt(b.keyPem, KEY_PASSPHRASE));
      await client.installKey('/Common/enc.key', file, KEY_PASSPHRASE);
      expect(await client.getKey('/Common/enc.key')).toMatchObject({ securityType: 'password' });
      expect(sim.state.keys.get('/Common/enc.key')?.securityType).toBe('password');
    });

    it('refuses malformed full paths as input_invalid, without a request', async () => {
      await expect(client.getCert('Common/x.crt')).rejects.toMatchObject({ code: 'input_invalid' });
      await expect(client.deleteKey('/Common/a b.key')).rejects.toMatchObject({ code: 'input_invalid' });
      await expect(client.installCert('/Common/x~y.crt', '/var/config/rest/downloads/x.crt')).rejects.toMatchObject({
        code: 'input_invalid',
      });
      await expect(client.setVirtualRules('/Common/vs', ['not-a-path'])).rejects.toMatchObject({
        code: 'input_invalid',
      });
      expect(sim.requests).toHaveLength(0);
    });

    it('answers null for objects that do not exist', async () => {
      expect(await client.getCert('/Common/nothing.crt')).toBeNull();
      expect(await client.getKey('/Common/nothing.key')).toBeNull();
      expect(sim.requests.filter((r) => r.status === 404)).toHaveLength(2);
    });

    it('deletes certificates and keys, and treats missing ones as deleted', async () => {
      await install('/Common/gone', b);
      await client.deleteCert('/Common/gone.crt');
      await client.deleteKey('/Common/gone.key');
      expect(sim.state.certs.has('/Common/gone.crt')).toBe(false);
      expect(sim.state.keys.has('/Common/gone.key')).toBe(false);
      await client.deleteCert('/Common/gone.crt');
      await client.deleteKey('/Common/gone.key');
    });

    it('refuses to delete a certificate a profile uses (bigip_in_use)', async () => {
      const err = await caught(client.deleteCert('/Common/default.crt'));
      expectBigIpError(err, 'bigip_in_use');
      expect(err.detail).toMatchObject({
        status: 400,
        request: 'DELETE /mgmt/tm/sys/file/ssl-cert/~Common~default.crt',
      });
      expect(sim.state.certs.has('/Common/default.crt')).toBe(true);
    });

    it('reports a key that does not match the certificate a profile uses (bigip_key_mismatch)', async () => {
      sim.addCert('/Common/mm.crt', a.certPem);
      sim.addKey('/Common/mm.key', a.keyPem);
      sim.addProfile('/Common/mismatch_p', {
        defaultsFrom: '/Common/clientssl',
        certKeyChain: [{ name: 'mm', cert: '/Common/mm.crt', key: '/Common/mm.key', chain: 'none' }],
      });
      const file = await client.upload('b-as-a.key', b.keyPem);
      const err = await caught(client.installKey('/Common/mm.key', file));
      expectBigIpError(err, 'bigip_key_mismatch');
      expect(err.detail).toMatchObject({ status: 400, f5Code: '01070317' });
      expect(err.message).toMatch(/install key \/Common\/mm\.key on BIG-IP .* failed: HTTP 400: 01070317:3: /);
      expect(sim.state.keys.get('/Common/mm.key')?.pem).toBe(a.keyPem);
    });

    it('does not repeat the key passphrase when an install fails', async () => {
      sim.failAt('key-install', { status: 400, message: `01070712:3: bad passphrase ${KEY_PASSPHRASE}` });
      const file = await client.upload('enc2.key', encrypt(a.keyPem, KEY_PASSPHRASE));
      const err = await caught(client.installKey('/Common/enc2.key', file, KEY_PASSPHRASE));
      expectBigIpError(err, 'bigip_api');
      expect(err.message).toContain('[redacted]');
    });
  });

  describe('client-ssl profiles', () => {
    it('reads the seeded profile and answers null for a missing one', async () => {
      const p = await client.getClientSslProfile('/Common/clientssl');
      expect(p).toMatchObject({ fullPath: '/Common/clientssl' });
      expect(p?.certKeyChain).toEqual([
        { name: expect.any(String), cert: '/Common/default.crt', key: '/Common/default.key', chain: 'none' },
      ]);
      expect(await client.getClientSslProfile('/Common/nope')).toBeNull();
    });

    it('creates a profile, refuses a duplicate, lists and re-points it', async () => {
      await client.createClientSslProfile({
        fullPath: '/Common/acme_a',
        defaultsFrom: '/Common/clientssl',
        certKeyChain: [{ name: 'a', cert: SEED_A.cert, key: SEED_A.key, chain: 'none' }],
      });
      expect(await client.getClientSslProfile('/Common/acme_a')).toEqual({
        fullPath: '/Common/acme_a',
        defaultsFrom: '/Common/clientssl',
        certKeyChain: [{ name: 'a', cert: SEED_A.cert, key: SEED_A.key, chain: 'none' }],
      });

      const err = await caught(
        client.createClientSslProfile({
          fullPath: '/Common/acme_a',
          defaultsFrom: '/Common/clientssl',
          certKeyChain: [],
        }),
      );
      expectBigIpError(err, 'bigip_conflict');
      expect(err.detail).toMatchObject({
        status: 409,
        f5Code: '01020066',
        apiError: 3,
        request: 'POST /mgmt/tm/ltm/profile/client-ssl',
      });

      const list = await client.listClientSslProfiles();
      expect(list.map((p) => p.fullPath)).toEqual(expect.arrayContaining(['/Common/clientssl', '/Common/acme_a']));

      await client.setCertKeyChain('/Common/acme_a', [
        { name: 'b', cert: SEED_B.cert, key: SEED_B.key, chain: SEED_CHAIN },
      ]);
      expect(sim.state.profiles.get('/Common/acme_a')?.certKeyChain).toEqual([
        expect.objectContaining({ name: 'b', cert: SEED_B.cert, key: SEED_B.key, chain: SEED_CHAIN }),
      ]);
    });

    it('uses an encrypted key in a profile with its passphrase, and never reads the passphrase back', async () => {
      await install('/Common/encp', a, KEY_PASSPHRASE);
      await client.createClientSslProfile({
        fullPath: '/Common/acme_enc',
        defaultsFrom: '/Common/clientssl',
        certKeyChain: [
          { name: 'enc', cert: '/Common/encp.crt', key: '/Common/encp.key', chain: 'none', passphrase: KEY_PASSPHRASE },
        ],
      });
      const p = await client.getClientSslProfile('/Common/acme_enc');
      expect(p?.certKeyChain[0]).toEqual({
        name: 'enc',
        cert: '/Common/encp.crt',
        key: '/Common/encp.key',
        chain: 'none',
      });
    });
  });

  describe('transactions', () => {
    it('applies queued writes together on commit', async () => {
      sim.addProfile('/Common/tx_ok1', { defaultsFrom: '/Common/clientssl' });
      sim.addProfile('/Common/tx_ok2', { defaultsFrom: '/Common/clientssl' });
      const before = structuredClone(sim.state.profiles.get('/Common/tx_ok1'));
      const tx = await client.beginTransaction();
      expect(tx.id).toMatch(/^\d+$/);
      const chain = [{ name: 'b', cert: SEED_B.cert, key: SEED_B.key, chain: 'none' }];
      await client.setCertKeyChain('/Common/tx_ok1', chain, { transaction: tx });
      await client.setCertKeyChain('/Common/tx_ok2', chain, { transaction: tx });
      // Queued, not applied.
      expect(sim.state.profiles.get('/Common/tx_ok1')).toEqual(before);
      await client.commitTransaction(tx);
      expect(sim.state.profiles.get('/Common/tx_ok1')?.certKeyChain[0]?.cert).toBe(SEED_B.cert);
      expect(sim.state.profiles.get('/Common/tx_ok2')?.certKeyChain[0]?.cert).toBe(SEED_B.cert);

      const patches = sim.requests.filter((r) => r.step === 'profile-patch');
      expect(patches.map((r) => r.transaction)).toEqual([tx.id, tx.id]);
      const commit = sim.requests.find((r) => r.step === 'transaction-commit');
      expect(commit).toMatchObject({
        method: 'PATCH',
        path: `/mgmt/tm/transaction/${tx.id}`,
        transaction: null,
        status: 200,
      });
    });

    it('rolls everything back when one queued write fails (bigip_transaction_failed)', async () => {
      sim.addProfile('/Common/tx_p1', {
        defaultsFrom: '/Common/clientssl',
        certKeyChain: [{ name: 'a', cert: SEED_A.cert, key: SEED_A.key }],
      });
      sim.addProfile('/Common/tx_p2', { defaultsFrom: '/Common/clientssl' });
      const before = structuredClone(sim.state.profiles.get('/Common/tx_p1'));
      const tx = await client.beginTransaction();
      await client.setCertKeyChain(
        '/Common/tx_p1',
        [{ name: 'b', cert: SEED_B.cert, key: SEED_B.key, chain: 'none' }],
        { transaction: tx },
      );
      await client.setCertKeyChain(
        '/Common/tx_p2',
        [{ name: 'x', cert: '/Common/missing.crt', key: SEED_B.key, chain: 'none' }],
        { transaction: tx },
      );
      const err = await caught(client.commitTransaction(tx));
      expectBigIpError(err, 'bigip_transaction_failed');
      expect(err.retryable).toBe(false);
      expect(err.detail).toMatchObject({ status: expect.any(Number), request: `PATCH /mgmt/tm/transaction/${tx.id}` });
      expect(err.message).toMatch(/commit transaction \d+ on BIG-IP .* failed: .*missing\.crt/);
      expect(sim.state.profiles.get('/Common/tx_p1')).toEqual(before);
    });

    it('queues deletes too', async () => {
      await install('/Common/txdel', a);
      const tx = await client.beginTransaction();
      await client.deleteCert('/Common/txdel.crt', { transaction: tx });
      await client.deleteKey('/Common/txdel.key', { transaction: tx });
      expect(sim.state.certs.has('/Common/txdel.crt')).toBe(true);
      await client.commitTransaction(tx);
      expect(sim.state.certs.has('/Common/txdel.crt')).toBe(false);
      expect(sim.state.keys.has('/Common/txdel.key')).toBe(false);
    });

    it('reports an expired transaction as bigip_transaction_failed, at the write and at the commit', async () => {
      const quick = await startBigIpSimulator({
        username: USERNAME,
        password: PASSWORD,
        transactionTimeoutSeconds: 0.2,
      });
      const c = createIControlClient(connectionTo(quick));
      try {
        const tx = await c.beginTransaction();
        await new Promise((r) => setTimeout(r, 400));
        // A 404 here is the transaction, not the certificate: it must not pass for "already deleted".
        expectBigIpError(
          await caught(c.deleteCert('/Common/default.crt', { transaction: tx })),
          'bigip_transaction_failed',
        );
        const err = await caught(c.commitTransaction(tx));
        expectBigIpError(err, 'bigip_transaction_failed');
        expect(err.detail).toMatchObject({ status: 404 });
        expect(quick.state.certs.has('/Common/default.crt')).toBe(true);
      } finally {
        await c.close();
        await quick.close();
      }
    });

    it('creates a profile inside a transaction', async () => {
      const tx = await client.beginTransaction();
      await client.createClientSslProfile(
        {
          fullPath: '/Common/tx_created',
          defaultsFrom: '/Common/clientssl',
          certKeyChain: [{ name: 'a', cert: SEED_A.cert, key: SEED_A.key, chain: 'none' }],
        },
        { transaction: tx },
      );
      expect(sim.state.profiles.has('/Common/tx_created')).toBe(false);
      await client.commitTransaction(tx);
      expect(sim.state.profiles.has('/Common/tx_created')).toBe(true);
    });
  });

  it('saves the configuration', async () => {
    const before = sim.state.saves;
    await client.saveConfig();
    expect(sim.state.saves).toBe(before + 1);
  });

  describe('data groups', () => {
    const DG = '/Common/acme_responder_dg';
    const TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';
    const KEY_AUTH = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

    it('creates a data group, refuses a duplicate', async () => {
      expect(await client.getDataGroup(DG)).toBeNull();
      await client.createDataGroup(DG);
      expect(await client.getDataGroup(DG)).toEqual({ fullPath: DG, type: 'string', records: [] });
      const err = await caught(client.createDataGroup(DG));
      expectBigIpError(err, 'bigip_conflict');
      expect(err.detail).toMatchObject({ f5Code: '01020066' });
    });

    it('adds, replaces and deletes records incrementally', async () => {
      await client.addDataGroupRecord(DG, { name: TOKEN, data: KEY_AUTH });
      await client.addDataGroupRecord(DG, { name: 'other-token', data: 'other.auth' });
      expect(await client.getDataGroup(DG)).toMatchObject({
        records: expect.arrayContaining([
          { name: TOKEN, data: KEY_AUTH },
          { name: 'other-token', data: 'other.auth' },
        ]),
      });
      const add = sim.requests.find((r) => r.step === 'data-group-patch');
      expect(add?.path).toBe(
        `/mgmt/tm/ltm/data-group/internal/~Common~acme_responder_dg?options=records%20add%20%7B%20${TOKEN}%20%7B%20data%20${KEY_AUTH}%20%7D%20%7D`,
      );

      sim.resetRequests();
      await client.addDataGroupRecord(DG, { name: TOKEN, data: 'replaced.value' });
      expect(sim.state.dataGroups.get(DG)?.records.get(TOKEN)).toBe('replaced.value');
      expect(sim.requests.filter((r) => r.step === 'data-group-patch').map((r) => r.status)).toEqual([409, 200, 200]);

      await client.deleteDataGroupRecord(DG, TOKEN);
      expect(sim.state.dataGroups.get(DG)?.records.has(TOKEN)).toBe(false);
      expect(sim.state.dataGroups.get(DG)?.records.get('other-token')).toBe('other.auth');
      // Missing record: not an error.
      await client.deleteDataGroupRecord(DG, TOKEN);
    });

    it('refuses record text that could reach into the tmsh options string', async () => {
      for (const record of [
        { name: 'x } } ; delete', data: 'y' },
        { name: 'ok', data: 'a b' },
        { name: 'ok', data: 'a}' },
        { name: '', data: 'y' },
      ]) {
        expect((await caught(client.addDataGroupRecord(DG, record))).code).toBe('input_invalid');
      }
      expect((await caught(client.deleteDataGroupRecord(DG, 'a { b'))).code).toBe('input_invalid');
      expect(sim.requests).toHaveLength(0);
    });
  });

  describe('iRules and virtual servers', () => {
    const RULE = '/Common/acme_handler_rule';

    it('creates an iRule, then replaces its source', async () => {
      expect(await client.getRule(RULE)).toBeNull();
      await client.putRule(RULE, 'when HTTP_REQUEST { log local0. "v1" }');
      expect(await client.getRule(RULE)).toEqual({ fullPath: RULE, source: 'when HTTP_REQUEST { log local0. "v1" }' });
      sim.resetRequests();
      await client.putRule(RULE, 'when HTTP_REQUEST { log local0. "v2" }');
      expect(sim.state.rules.get(RULE)).toBe('when HTTP_REQUEST { log local0. "v2" }');
      expect(sim.requests.map((r) => [r.method, r.status])).toEqual([
        ['POST', 409],
        ['PATCH', 200],
      ]);
    });

    it('reads a virtual server and replaces its rules', async () => {
      sim.addVirtual('/Common/vs_http', { destination: '/Common/192.0.2.10:80' });
      expect(await client.getVirtual('/Common/vs_http')).toEqual({
        fullPath: '/Common/vs_http',
        destination: '/Common/192.0.2.10:80',
        rules: [],
      });
      await client.setVirtualRules('/Common/vs_http', [RULE]);
      expect(await client.getVirtual('/Common/vs_http')).toMatchObject({ rules: [RULE] });
      expect(sim.state.virtuals.get('/Common/vs_http')?.rules).toEqual([RULE]);
      expect(await client.getVirtual('/Common/vs_none')).toBeNull();
    });
  });

  describe('session', () => {
    it('logs in again transparently after the tokens expire mid-sequence', async () => {
      await client.deviceInfo();
      const first = logins();
      sim.expireTokens();
      await client.getCert('/Common/default.crt');
      await client.saveConfig();
      expect(logins()).toBe(first + 1);
      const cert = sim.requests.filter((r) => r.step === 'cert-read');
      expect(cert.map((r) => r.status)).toEqual([401, 200]);
    });

    it('re-logs in once on a forced 401 and retries the request', async () => {
      await client.deviceInfo();
      sim.resetRequests();
      sim.failAt('device-info', { status: 401, message: 'X-F5-Auth-Token has expired.' });
      await client.deviceInfo();
      expect(sim.requests.map((r) => [r.step, r.status])).toEqual([
        ['device-info', 401],
        ['login', 200],
        ['device-info', 200],
      ]);
    });

    it('renews the token 60 s before it expires', async () => {
      let now = Date.now();
      const c = createIControlClient(connectionTo(sim), { clock: { now: () => new Date(now) } });
      await c.deviceInfo();
      now += 1_139_000;
      await c.deviceInfo();
      expect(logins()).toBe(1);
      now += 2_000;
      await c.deviceInfo();
      expect(logins()).toBe(2);
      await c.close();
    });

    it('shares one login between concurrent calls', async () => {
      const c = createIControlClient(connectionTo(sim));
      await Promise.all([
        c.getCert('/Common/default.crt'),
        c.getKey('/Common/default.key'),
        c.deviceInfo(),
        c.getRule('/Common/x'),
      ]);
      expect(logins()).toBe(1);
      await c.close();
    });

    it('logs out on close, and close never throws', async () => {
      const c = createIControlClient(connectionTo(sim));
      await c.deviceInfo();
      await c.close();
      expect(sim.requests.at(-1)).toMatchObject({ method: 'DELETE', step: 'logout', status: 200 });
      expect(sim.requests.at(-1)?.path).toMatch(/^\/mgmt\/shared\/authz\/tokens\/[A-Z0-9]+$/);
      await expect(c.close()).resolves.toBeUndefined();
      await expect(createIControlClient(connectionTo(sim)).close()).resolves.toBeUndefined();
      sim.failAt('logout', { status: 500 });
      const d = createIControlClient(connectionTo(sim));
      await d.deviceInfo();
      await expect(d.close()).resolves.toBeUndefined();
    });

    it('falls back to Basic auth when the device refuses token login', async () => {
      const basicSim = await startBigIpSimulator({ username: USERNAME, password: PASSWORD, tokenAuth: false });
      const c = createIControlClient(connectionTo(basicSim));
      try {
        await c.deviceInfo();
        await c.saveConfig();
        expect(basicSim.requests.map((r) => [r.step, r.status, r.auth])).toEqual([
          ['login', 401, 'none'],
          ['auth-probe', 200, 'basic'],
          ['device-info', 200, 'basic'],
          ['save', 200, 'basic'],
        ]);
      } finally {
        await c.close();
        await basicSim.close();
      }
    });
  });

  describe('failures, classified and free of the password', () => {
    it('DNS: a host that does not resolve → bigip_dns', async () => {
      const c = createIControlClient({
        url: 'https://bigip.invalid',
        username: USERNAME,
        password: PASSWORD,
        timeoutMs: 10_000,
      });
      const err = await caught(c.deviceInfo());
      expectBigIpError(err, 'bigip_dns');
      expect(err.detail).toEqual({
        status: null,
        f5Code: null,
        apiError: null,
        request: 'POST /mgmt/shared/authn/login',
      });
      expect(err.message).toMatch(/bigip\.invalid/);
      await c.close();
    });

    it('TCP: a closed port → bigip_tcp', async () => {
      const port = await closedPort();
      const c = createIControlClient({ url: `https://127.0.0.1:${port}`, username: USERNAME, password: PASSWORD });
      const err = await caught(c.deviceInfo());
      expectBigIpError(err, 'bigip_tcp');
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/connection refused/);
      await c.close();
    });

    it('TLS: a certificate that is not trusted → bigip_tls', async () => {
      const c = createIControlClient(connectionTo(sim, { caPem: undefined }));
      const err = await caught(c.deviceInfo());
      expectBigIpError(err, 'bigip_tls');
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/TLS certificate not accepted/);
      expect(sim.requests).toHaveLength(0);
      await c.close();
    });

    it('TLS: an explicit insecure choice connects anyway', async () => {
      const c = createIControlClient(connectionTo(sim, { caPem: undefined, insecure: true }));
      await expect(c.deviceInfo()).resolves.toMatchObject({ product: 'BIG-IP' });
      await c.close();
    });

    it('credentials: a wrong password → bigip_auth', async () => {
      const wrong = `${PASSWORD}-wrong`;
      const c = createIControlClient(connectionTo(sim, { password: wrong }));
      const err = await caught(c.deviceInfo());
      expectBigIpError(err, 'bigip_auth');
      expect(err.message).not.toContain(wrong);
      expect(err.message).toMatch(/credentials refused \(HTTP 401\): Authentication failed\./);
      expect(err.detail).toMatchObject({ status: 401, request: 'POST /mgmt/shared/authn/login' });
      // Token login refused, then the Basic probe refused too.
      expect(sim.requests.map((r) => [r.step, r.status])).toEqual([
        ['login', 401],
        ['auth-probe', 401],
      ]);
      await c.close();
    });

    it('a 500 → bigip_api, retryable, with the F5 message', async () => {
      sim.failAt('save', { status: 500, message: '01070711:3: Caught exception while saving' });
      const err = await caught(client.saveConfig());
      expectBigIpError(err, 'bigip_api');
      expect(err.retryable).toBe(true);
      expect(err.detail).toEqual({
        status: 500,
        f5Code: '01070711',
        apiError: expect.anything(),
        request: 'POST /mgmt/tm/sys/config',
      });
      expect(err.message).toMatch(
        /^save the configuration on BIG-IP 127\.0\.0\.1:\d+ failed: HTTP 500: 01070711:3: Caught exception while saving$/,
      );
    });

    it('a 503 → bigip_busy, retryable', async () => {
      sim.failAt('device-info', { status: 503, message: 'Service Unavailable' });
      const err = await caught(client.deviceInfo());
      expectBigIpError(err, 'bigip_busy');
      expect(err.retryable).toBe(true);
    });

    it('a slow device → bigip_timeout', async () => {
      const slow = await startBigIpSimulator({ username: USERNAME, password: PASSWORD, latencyMs: 1000 });
      const c = createIControlClient(connectionTo(slow, { timeoutMs: 300 }));
      try {
        const err = await caught(c.deviceInfo());
        expectBigIpError(err, 'bigip_timeout');
        expect(err.message).toMatch(/300 ms/);
      } finally {
        await c.close();
        await slow.close();
      }
    });

    it('refuses a management URL with a path or credentials', () => {
      expect(() => createIControlClient({ url: `${sim.url}/mgmt`, username: USERNAME, password: PASSWORD })).toThrow(
        expect.objectContaining({ code: 'config_invalid' }),
      );
      expect(() =>
        createIControlClient({ url: `https://u:${PASSWORD}@127.0.0.1`, username: USERNAME, password: PASSWORD }),
      ).toThrow(expect.not.objectContaining({ message: expect.stringContaining(PASSWORD) }));
    });
  });
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}
