import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import acme from 'acme-client';
import { describe, expect, it } from 'vitest';
import { createCsr } from '../../core/domain/csr.ts';
import { generatePrivateKey, type KeySpec } from '../../core/domain/key-spec.ts';
import { CoreError } from '../../core/errors.ts';

const longName = `${'a'.repeat(60)}.example.com`;

describe('createCsr', () => {
  it.each<[string, KeySpec, string, string[], string | null, string[]]>([
    ['RSA, CN only', 'rsa-2048', 'example.com', [], 'example.com', ['example.com']],
    [
      'EC P-256 with SANs',
      'ec-p256',
      'example.com',
      ['www.example.com'],
      'example.com',
      ['example.com', 'www.example.com'],
    ],
    [
      'EC P-384, CN repeated in SANs',
      'ec-p384',
      'example.com',
      ['www.example.com', 'example.com'],
      'example.com',
      ['example.com', 'www.example.com'],
    ],
    [
      'duplicate SANs',
      'ec-p256',
      'a.example.com',
      ['b.example.com', 'b.example.com'],
      'a.example.com',
      ['a.example.com', 'b.example.com'],
    ],
    ['wildcard', 'ec-p256', '*.example.com', ['example.com'], '*.example.com', ['*.example.com', 'example.com']],
    [
      'CN over 64 characters goes only into the SANs',
      'ec-p256',
      longName,
      ['example.com'],
      null,
      [longName, 'example.com'],
    ],
  ])('%s', async (_name, spec, commonName, altNames, expectedCn, expectedSans) => {
    const key = await generatePrivateKey(spec);
    const csr = await createCsr(key, commonName, altNames);
    expect(csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    const domains = acme.crypto.readCsrDomains(csr);
    expect(domains.commonName).toBe(expectedCn);
    expect(domains.altNames).toEqual(expectedSans);
  });

  it('does not change the caller’s altNames', async () => {
    const altNames = ['www.example.com'];
    await createCsr(await generatePrivateKey('ec-p256'), 'example.com', altNames);
    expect(altNames).toEqual(['www.example.com']);
  });

  it.each<[string, string]>([
    [
      'PKCS#1 RSA',
      generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs1', format: 'pem' })
        .toString(),
    ],
    [
      'SEC1 EC',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    ],
  ])('accepts a %s key and signs with it', async (_name, key) => {
    const csr = await createCsr(key, 'example.com', []);
    const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    // The CSR's SubjectPublicKeyInfo is embedded verbatim.
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    expect(der.includes(spki)).toBe(true);
  });

  it.each<[string, string, string]>([
    ['garbage key', 'not a key', 'example.com'],
    [
      'Ed25519 key',
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      'example.com',
    ],
    ['empty common name', '', ''],
  ])('rejects a %s with input_invalid', async (_name, key, commonName) => {
    const keyPem = key === '' ? await generatePrivateKey('ec-p256') : key;
    const err = await createCsr(keyPem, commonName, []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).code).toBe('input_invalid');
  });
});
