import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitPemChain } from '../../core/domain/x509.ts';
import { buildPkcs12 } from '../../core/export/pkcs12.ts';
import { issueTestCertificate } from '../support/test-certificates.ts';

/**
 * The PKCS#12 writer without a CA server: an EC P-256 leaf with its intermediate (the test CA) and a
 * self-signed RSA certificate, read back by OpenSSL and by Node. The end-to-end test
 * (tests/integration/cert-export.test.ts) does the same with certificates Pebble issued.
 */
describe('buildPkcs12', () => {
  let dir: string;
  let rsa: { keyPem: string; certPem: string };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-pkcs12-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=rsa.pkcs12.test', '-days', '2'].concat([
        '-keyout',
        join(dir, 'rsa.key'),
        '-out',
        join(dir, 'rsa.crt'),
      ]),
      { stdio: 'ignore' },
    );
    rsa = { keyPem: readFileSync(join(dir, 'rsa.key'), 'utf8'), certPem: readFileSync(join(dir, 'rsa.crt'), 'utf8') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `openssl pkcs12 -info` on the bytes, with `passphrase` in a file as operators pass it. */
  function openssl(p12: Buffer, passphrase: string, extra: string[] = ['-nokeys']) {
    writeFileSync(join(dir, 'file.p12'), p12);
    writeFileSync(join(dir, 'pass'), `${passphrase}\n`);
    return spawnSync(
      'openssl',
      ['pkcs12', '-info', ...extra, '-in', join(dir, 'file.p12'), '-passin', `file:${join(dir, 'pass')}`],
      { encoding: 'utf8' },
    );
  }

  /** The serial a TLS server built from the file presents to a client that trusts `ca`. */
  async function served(pfx: Buffer, passphrase: string, servername: string, ca: string): Promise<string> {
    const server = tls.createServer({ pfx, passphrase }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      return await new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername, ca }, () => {
          resolve(socket.getPeerCertificate().serialNumber);
          socket.destroy();
        });
        socket.once('error', reject);
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it.each([
    ['an ASCII passphrase', 'correct horse battery'],
    ['a non-ASCII passphrase (UTF-8 for the key, BMPString for the MAC)', 'pässwörd-🔑'],
  ])('EC key and chain with %s: OpenSSL verifies the MAC and lists both certificates', async (_name, passphrase) => {
    const { keyPem, chainPem } = await issueTestCertificate(['ec.pkcs12.test']);
    const chain = splitPemChain(chainPem);
    const p12 = await buildPkcs12({ keyPem, certificatesPem: chain, passphrase, friendlyName: 'ec web' });
    const info = openssl(p12, passphrase);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toContain('friendlyName: ec web');
    expect(info.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(info.stderr).toContain('MAC: sha256, Iteration 2048');
    expect(info.stderr).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256');
    // The key inside is the one given.
    const keys = openssl(p12, passphrase, ['-nocerts', '-nodes']);
    expect(keys.stdout).toContain(keyPem.trim());
    // Node loads it with the passphrase and not without the right one.
    expect(() => tls.createSecureContext({ pfx: p12, passphrase })).not.toThrow();
    expect(() => tls.createSecureContext({ pfx: p12, passphrase: 'wrong passphrase' })).toThrow();
  });

  it('a wrong passphrase fails the MAC check', async () => {
    const { keyPem, chainPem } = await issueTestCertificate(['ec.pkcs12.test']);
    const p12 = await buildPkcs12({
      keyPem,
      certificatesPem: splitPemChain(chainPem),
      passphrase: 'the right one',
      friendlyName: 'x',
    });
    const info = openssl(p12, 'the wrong one');
    expect(info.status).not.toBe(0);
    expect(info.stderr).toContain('Mac verify error');
  });

  it('an RSA key takes the same path; a TLS server built from the file presents the certificate', async () => {
    const p12 = await buildPkcs12({
      keyPem: rsa.keyPem,
      certificatesPem: [rsa.certPem],
      passphrase: 'rsa passphrase',
      friendlyName: 'rsa web',
    });
    const info = openssl(p12, 'rsa passphrase');
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toContain('friendlyName: rsa web');
    const serial = await served(p12, 'rsa passphrase', 'rsa.pkcs12.test', rsa.certPem);
    expect(serial).toBe(new X509Certificate(rsa.certPem).serialNumber);
  });

  it('each file gets its own salts and IVs', async () => {
    const { keyPem, chainPem } = await issueTestCertificate(['ec.pkcs12.test']);
    const contents = { keyPem, certificatesPem: splitPemChain(chainPem), passphrase: 'same', friendlyName: 'same' };
    expect((await buildPkcs12(contents)).equals(await buildPkcs12(contents))).toBe(false);
  });
});
