import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateMatchesKey, parseCertificate } from '../../core/domain/certificate-facts.ts';
import { dnsAltNames, splitPemChain } from '../../core/domain/x509.ts';
import type { KeySpec } from '../../core/domain/key-spec.ts';
import { CoreError } from '../../core/errors.ts';

x509.cryptoProvider.set(webcrypto);

type Alg = webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;
const ALGS: Record<KeySpec, Alg> = {
  'rsa-2048': {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  },
  'rsa-3072': {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 3072,
  },
  'rsa-4096': {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 4096,
  },
  'ec-p256': { name: 'ECDSA', namedCurve: 'P-256' },
  'ec-p384': { name: 'ECDSA', namedCurve: 'P-384' },
};

interface Issued {
  certPem: string;
  keyPem: string;
  keys: webcrypto.CryptoKeyPair;
  alg: Alg;
}

async function keyPair(spec: KeySpec): Promise<{ keys: webcrypto.CryptoKeyPair; keyPem: string; alg: Alg }> {
  const alg = ALGS[spec];
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keys, alg, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

async function issue(opts: {
  spec: KeySpec;
  subject: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  sans?: x509.JsonGeneralName[];
  issuer?: Issued & { subject: string };
}): Promise<Issued> {
  const own = await keyPair(opts.spec);
  const signer = opts.issuer ?? { ...own, subject: opts.subject };
  const extensions = opts.sans ? [new x509.SubjectAlternativeNameExtension(opts.sans)] : [];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: opts.serial,
    subject: opts.subject,
    issuer: signer.subject,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    publicKey: own.keys.publicKey,
    signingKey: signer.keys.privateKey,
    signingAlgorithm: { ...signer.alg, hash: 'SHA-256' },
    extensions,
  });
  return { ...own, certPem: cert.toString('pem') };
}

const notBefore = new Date('2025-01-02T03:04:05Z');
const notAfter = new Date('2025-04-02T03:04:05Z');
let root: Issued & { subject: string };
let leaf: Issued;
let chainPem: string;

beforeAll(async () => {
  const rootSubject = 'C=US, O=Test CA\\, Inc, CN=Test Root';
  root = {
    ...(await issue({ spec: 'ec-p384', subject: rootSubject, serial: '01', notBefore, notAfter })),
    subject: rootSubject,
  };
  leaf = await issue({
    spec: 'ec-p256',
    subject: 'CN=Example.com',
    serial: '0abc',
    notBefore,
    notAfter,
    issuer: root,
    sans: [
      { type: 'dns', value: 'Example.com' },
      { type: 'ip', value: '192.0.2.1' },
      { type: 'email', value: 'hostmaster@example.com' },
      { type: 'dns', value: '*.Example.com' },
    ],
  });
  chainPem = leaf.certPem + root.certPem;
});

describe('splitPemChain', () => {
  it.each<[string, () => string, () => string[]]>([
    ['a single certificate', () => leaf.certPem, () => [leaf.certPem]],
    ['a chain, in order', () => chainPem, () => [leaf.certPem, root.certPem]],
    ['CRLF line endings', () => chainPem.replace(/\n/g, '\r\n'), () => [leaf.certPem, root.certPem]],
    [
      'text and keys between blocks',
      () => `subject=CN = example.com\n${leaf.certPem}\n\n${leaf.keyPem}junk\n${root.certPem.trimEnd()}`,
      () => [leaf.certPem, root.certPem],
    ],
  ])('%s', (_name, input, expected) => {
    const blocks = splitPemChain(input());
    expect(blocks).toEqual(expected().map((p) => (p.endsWith('\n') ? p : `${p}\n`)));
  });

  it.each([
    '',
    'hello',
    '-----BEGIN CERTIFICATE-----\nAAAA\n',
    '-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----',
  ])('rejects %j', (input) => {
    expect(() => splitPemChain(input)).toThrow(CoreError);
  });
});

describe('parseCertificate', () => {
  it('reads the leaf of a chain', () => {
    const facts = parseCertificate(chainPem);
    const native = new X509Certificate(leaf.certPem);
    expect(facts).toEqual({
      serial: '0abc',
      notBefore,
      notAfter,
      fingerprintSha256: native.fingerprint256,
      subject: 'CN=Example.com',
      issuer: 'C=US, O=Test CA\\, Inc, CN=Test Root',
      sans: ['example.com', '*.example.com'],
      keySpec: 'ec-p256',
    });
    expect(facts.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it.each<[string, KeySpec, string]>([
    ['01', 'rsa-2048', '01'],
    ['7fffffff', 'ec-p384', '7fffffff'],
    ['00ff', 'ec-p256', 'ff'],
    ['0123456789abcdef0123456789abcdef012345', 'ec-p256', '0123456789abcdef0123456789abcdef012345'],
  ])('serial %s and key %s', async (serial, spec, expectedSerial) => {
    const cert = await issue({ spec, subject: 'CN=a.example', serial, notBefore, notAfter });
    const facts = parseCertificate(cert.certPem);
    expect(facts.serial).toBe(expectedSerial);
    expect(facts.keySpec).toBe(spec);
    expect(facts.sans).toEqual([]);
    expect(facts.subject).toBe(facts.issuer);
  });

  it.each(['', 'garbage', '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n'])(
    'rejects %j with input_invalid',
    (input) => {
      let caught: unknown;
      try {
        parseCertificate(input);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(CoreError);
      expect((caught as CoreError).code).toBe('input_invalid');
    },
  );

  it('rejects a certificate whose key is not a supported key spec', async () => {
    const alg = {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: 1024,
    };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=a.example',
      keys,
      signingAlgorithm: alg,
    });
    expect(() => parseCertificate(cert.toString('pem'))).toThrow(/RSA 1024/);
  });
});

describe('dnsAltNames', () => {
  it('decodes values Node had to quote', async () => {
    const cert = await issue({
      spec: 'ec-p256',
      subject: 'CN=a.example',
      serial: '02',
      notBefore,
      notAfter,
      sans: [
        { type: 'dns', value: 'odd,name.example' },
        { type: 'url', value: 'https://x.example/a, DNS:fake.example' },
        { type: 'dns', value: 'B.example' },
      ],
    });
    expect(dnsAltNames(new X509Certificate(cert.certPem))).toEqual(['odd,name.example', 'b.example']);
  });
});

describe('certificateMatchesKey', () => {
  it.each<[string, () => string, () => string, boolean]>([
    ['leaf with its key', () => leaf.certPem, () => leaf.keyPem, true],
    ['chain with the leaf key', () => chainPem, () => leaf.keyPem, true],
    ['chain with the issuer key', () => chainPem, () => root.keyPem, false],
    ['root with its key', () => root.certPem, () => root.keyPem, true],
  ])('%s → %s', (_name, cert, key, expected) => {
    expect(certificateMatchesKey(cert(), key())).toBe(expected);
  });

  it('matches an RSA key in PKCS#1 form', async () => {
    const rsa = await issue({ spec: 'rsa-2048', subject: 'CN=a.example', serial: '03', notBefore, notAfter });
    const pkcs1 = createPrivateKey(rsa.keyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(certificateMatchesKey(rsa.certPem, pkcs1)).toBe(true);
    expect(certificateMatchesKey(leaf.certPem, pkcs1)).toBe(false);
  });

  it.each<[string, () => string, () => string]>([
    ['garbage certificate', () => 'nope', () => leaf.keyPem],
    ['garbage key', () => leaf.certPem, () => 'nope'],
  ])('rejects a %s with input_invalid', (_name, cert, key) => {
    expect(() => certificateMatchesKey(cert(), key())).toThrow(CoreError);
  });
});
