import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { dnsAltNames, readLeafCertificate, splitPemChain, subjectAltNames } from '../../core/domain/x509.ts';
import { CoreError } from '../../core/errors.ts';

x509.cryptoProvider.set(webcrypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
let keys: webcrypto.CryptoKeyPair;

async function selfSigned(sans: x509.JsonGeneralName[] | null): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=test.example',
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2025-04-01T00:00:00Z'),
    keys,
    signingAlgorithm: ALG,
    extensions: sans === null ? [] : [new x509.SubjectAlternativeNameExtension(sans)],
  });
  return cert.toString('pem');
}

beforeAll(async () => {
  keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
});

describe('dnsAltNames reads the DER extension, never the text Node prints', () => {
  it.each<[string, x509.JsonGeneralName[] | null, string[]]>([
    ['no subjectAltName extension', null, []],
    [
      'plain names, lower-cased, in certificate order',
      [
        { type: 'dns', value: 'B.Example' },
        { type: 'dns', value: '*.a.example' },
      ],
      ['b.example', '*.a.example'],
    ],
    ['an IP address only', [{ type: 'ip', value: '192.0.2.1' }], []],
    // CVE-2021-44532: Node before 16.13.2 printed this as `DNS:evil.example, DNS:victim.example`, so a split at
    // ", " named victim.example; newer Node prints `DNS:"evil.example\u002c DNS:victim.example"`, which a split
    // garbles instead. The DER has one name.
    [
      'a DNS name that embeds ", DNS:" is one (bogus) name',
      [{ type: 'dns', value: 'evil.example, DNS:victim.example' }],
      ['evil.example, dns:victim.example'],
    ],
    [
      'a URI that embeds ", DNS:" names no DNS name',
      [{ type: 'url', value: 'https://x.example/a, DNS:victim.example' }],
      [],
    ],
    [
      'an email with quotes and ", DNS:" names no DNS name',
      [
        { type: 'email', value: 'a"b, DNS:victim.example@x.example' },
        { type: 'dns', value: 'real.example' },
      ],
      ['real.example'],
    ],
    ['a comma inside a DNS name', [{ type: 'dns', value: 'odd,name.example' }], ['odd,name.example']],
  ])('%s', async (_case, sans, expected) => {
    const pem = await selfSigned(sans);
    expect(dnsAltNames(new X509Certificate(pem))).toEqual(expected);
    expect(dnsAltNames(new x509.X509Certificate(pem))).toEqual(expected);
  });

  it('lists every entry with its type', async () => {
    const pem = await selfSigned([
      { type: 'dns', value: 'a.example' },
      { type: 'ip', value: '192.0.2.1' },
      { type: 'url', value: 'https://x.example/, DNS:b.example' },
    ]);
    expect(subjectAltNames(new X509Certificate(pem))).toEqual([
      { type: 'dns', value: 'a.example' },
      { type: 'ip', value: '192.0.2.1' },
      { type: 'url', value: 'https://x.example/, DNS:b.example' },
    ]);
  });
});

describe('splitPemChain and readLeafCertificate', () => {
  it('splits blocks, normalises line endings and drops what lies between', async () => {
    const a = await selfSigned(null);
    const b = await selfSigned([{ type: 'dns', value: 'b.example' }]);
    const text = `Bag Attributes: x\r\n${a.replace(/\n/g, '\r\n')}\r\ncomment\n${b}`;
    expect(splitPemChain(text)).toEqual([`${a.trim()}\n`, `${b.trim()}\n`]);
  });

  it.each([
    ['no certificate block', 'hello', /no PEM certificate/],
    [
      'an unreadable first block',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      /not a readable certificate/,
    ],
  ])('refuses %s as input_invalid', (_case, pem, message) => {
    let caught: unknown;
    try {
      readLeafCertificate(pem, (block) => new X509Certificate(block));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CoreError);
    expect((caught as CoreError).code).toBe('input_invalid');
    expect((caught as CoreError).message).toMatch(message);
  });

  it('reads the first block of a chain', async () => {
    const leaf = await selfSigned([{ type: 'dns', value: 'leaf.example' }]);
    const other = await selfSigned(null);
    const cert = readLeafCertificate(`${leaf}${other}`, (block) => new X509Certificate(block));
    expect(dnsAltNames(cert)).toEqual(['leaf.example']);
  });
});
