import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { ariCertId } from '../../core/domain/ari-cert-id.ts';
import { CoreError } from '../../core/errors.ts';

x509.cryptoProvider.set(webcrypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
let keys: webcrypto.CryptoKeyPair;

beforeAll(async () => {
  keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
});

/** A certificate with this serial (hex, as the generator takes it) and, unless null, this AKI keyIdentifier. */
async function cert(serialHex: string, akiHex: string | null): Promise<string> {
  const now = Date.now();
  return (
    await x509.X509CertificateGenerator.create({
      serialNumber: serialHex,
      subject: 'CN=ari.example.test',
      issuer: 'CN=ari test issuer',
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 86_400_000),
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: EC,
      extensions: akiHex === null ? [] : [new x509.AuthorityKeyIdentifierExtension(akiHex)],
    })
  ).toString('pem');
}

const RFC_AKI = '69885b6b87464041e1b37b847ba0ae2cde01c8d4';

describe('ariCertId', () => {
  it.each([
    // RFC 9773 §4.1: serial 00:87:65:43:21 is the DER content of 0x87654321 (high bit set → 0x00 pad).
    {
      scenario: 'the RFC 9773 §4.1 example',
      serial: '87654321',
      aki: RFC_AKI,
      expected: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
    },
    {
      scenario: 'a one-byte serial with the top bit set keeps its 0x00 pad',
      serial: 'ff',
      aki: RFC_AKI,
      expected: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AP8',
    },
    {
      scenario: 'a 16-byte random-looking serial with the top bit set',
      serial: 'c0ffee00112233445566778899aabbcc',
      aki: '0102030405060708090a0b0c0d0e0f1011121314',
      expected: `AQIDBAUGBwgJCgsMDQ4PEBESExQ.${Buffer.from('00c0ffee00112233445566778899aabbcc', 'hex').toString('base64url')}`,
    },
    {
      scenario: 'a serial without the top bit gets no pad',
      serial: '7fffffff',
      aki: RFC_AKI,
      expected: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.f____w',
    },
    { scenario: 'a serial of 1', serial: '01', aki: RFC_AKI, expected: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AQ' },
    { scenario: 'a short AKI (not SHA-1 length) is taken as is', serial: '1234', aki: 'abcd', expected: 'q80.EjQ' },
  ])('$scenario', async ({ serial, aki, expected }) => {
    expect(ariCertId(await cert(serial, aki))).toBe(expected);
  });

  it('is unpadded base64url (no "=", "+" or "/")', async () => {
    const id = ariCertId(await cert('fbffbf', 'fbffbffbff'));
    expect(id).toBe('-_-_-_8.APv_vw');
    expect(id).not.toMatch(/[=+/]/);
  });

  it('uses the leaf, the first certificate of a chain', async () => {
    const chain = (await cert('87654321', RFC_AKI)) + (await cert('05', '0a0b'));
    expect(ariCertId(chain)).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it('refuses a certificate without an authority key identifier', async () => {
    const pem = await cert('87654321', null);
    expect(() => ariCertId(pem)).toThrow(CoreError);
    expect(() => ariCertId(pem)).toThrow(expect.objectContaining({ code: 'input_invalid' }));
  });

  it('refuses text that is not a certificate', () => {
    expect(() => ariCertId('hello')).toThrow(expect.objectContaining({ code: 'input_invalid' }));
    expect(() => ariCertId('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow(
      expect.objectContaining({ code: 'input_invalid' }),
    );
  });
});
