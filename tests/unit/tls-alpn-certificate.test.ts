import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateMatchesKey } from '../../core/domain/certificate-facts.ts';
import { buildTlsAlpnChallengeCertificate, isTlsAlpnCertificateFor } from '../../core/domain/tls-alpn-certificate.ts';
import { CoreError } from '../../core/errors.ts';

x509.cryptoProvider.set(webcrypto);

const domain = 'alpn.example.com';
const keyAuthorization = 'token-abc.thumbprint-xyz';
let built: { certPem: string; keyPem: string };

beforeAll(async () => {
  built = await buildTlsAlpnChallengeCertificate(domain, keyAuthorization);
});

describe('buildTlsAlpnChallengeCertificate', () => {
  it('makes a P-256 certificate for exactly the domain, with a critical acmeIdentifier', () => {
    const cert = new X509Certificate(built.certPem);
    expect(cert.subjectAltName).toBe(`DNS:${domain}`);
    expect(createPrivateKey(built.keyPem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(certificateMatchesKey(built.certPem, built.keyPem)).toBe(true);
    const ext = new x509.X509Certificate(built.certPem).getExtension('1.3.6.1.5.5.7.1.31');
    expect(ext?.critical).toBe(true);
  });

  it('normalizes the domain', async () => {
    const { certPem } = await buildTlsAlpnChallengeCertificate('Bücher.Example.', keyAuthorization);
    expect(new X509Certificate(certPem).subjectAltName).toBe('DNS:xn--bcher-kva.example');
    expect(isTlsAlpnCertificateFor(certPem, 'bücher.example', keyAuthorization)).toBe(true);
  });

  it('uses a fresh key each time', async () => {
    const again = await buildTlsAlpnChallengeCertificate(domain, keyAuthorization);
    expect(again.keyPem).not.toBe(built.keyPem);
  });

  it.each<[string, string, string, string]>([
    ['a wildcard', '*.example.com', keyAuthorization, 'domain_invalid'],
    ['an invalid domain', 'not a domain', keyAuthorization, 'domain_invalid'],
    ['an empty key authorization', domain, '', 'input_invalid'],
  ])('rejects %s', async (_name, d, ka, code) => {
    const err = await buildTlsAlpnChallengeCertificate(d, ka).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).code).toBe(code);
  });
});

describe('isTlsAlpnCertificateFor', () => {
  it.each<[string, string, string, boolean]>([
    ['the same domain and key authorization', domain, keyAuthorization, true],
    ['the domain in another case', 'ALPN.Example.COM', keyAuthorization, true],
    ['another domain', 'other.example.com', keyAuthorization, false],
    ['a parent domain', 'example.com', keyAuthorization, false],
    ['another key authorization', domain, 'token-abc.thumbprint-other', false],
  ])('%s → %s', (_name, d, ka, expected) => {
    expect(isTlsAlpnCertificateFor(built.certPem, d, ka)).toBe(expected);
  });

  it.each<[string, x509.JsonGeneralName[]]>([
    ['an ordinary certificate for the domain', [{ type: 'dns', value: domain }]],
    [
      'two SANs',
      [
        { type: 'dns', value: domain },
        { type: 'dns', value: 'www.example.com' },
      ],
    ],
  ])('is false for %s', async (_name, sans) => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: `CN=${domain}`,
      keys,
      signingAlgorithm: alg,
      extensions: [new x509.SubjectAlternativeNameExtension(sans)],
    });
    expect(isTlsAlpnCertificateFor(cert.toString('pem'), domain, keyAuthorization)).toBe(false);
  });

  it('rejects unreadable PEM with input_invalid', () => {
    expect(() => isTlsAlpnCertificateFor('nope', domain, keyAuthorization)).toThrow(CoreError);
  });
});
