import { generateKeyPair, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import type { Authorization } from 'acme-client';
import acme from 'acme-client';
import { CoreError } from '../errors.ts';
import { dnsAltNames } from './x509.ts';
import { normalizeDomainName } from './domain-name.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * The self-signed certificate a TLS-ALPN-01 responder presents for `acme-tls/1` (RFC 8737 §3): SAN = the
 * domain, critical acmeIdentifier = SHA-256 of the key authorization. The key is throwaway; P-256 because it
 * is fast to make and every validator accepts it.
 *
 * acme-client makes the certificate valid from and until the moment of creation, and marks it as a CA;
 * validators ignore both (RFC 8737 checks only the SAN and the extension).
 */
export async function buildTlsAlpnChallengeCertificate(
  domain: string,
  keyAuthorization: string,
): Promise<{ certPem: string; keyPem: string }> {
  const name = normalizeDomainName(domain, 'tls-alpn-01');
  if (keyAuthorization === '') throw new CoreError('input_invalid', 'the key authorization is empty');
  const { privateKey: keyPem } = await generateKeyPairAsync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  // Only `identifier.value` is read; the rest of an Authorization does not matter here.
  const authz = { identifier: { type: 'dns', value: name } } as unknown as Authorization;
  const [, cert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization, keyPem);
  return { certPem: cert.toString(), keyPem };
}

/**
 * Whether `certPem` answers TLS-ALPN-01 for `domain` with `keyAuthorization`: exactly one SAN, equal to the
 * domain, and a matching acmeIdentifier. A certificate without the extension is simply not one; unreadable
 * PEM or a domain that cannot use TLS-ALPN-01 (e.g. a wildcard) is an input error.
 */
export function isTlsAlpnCertificateFor(certPem: string, domain: string, keyAuthorization: string): boolean {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new CoreError('input_invalid', 'not a readable PEM certificate', { cause: err });
  }
  const sans = dnsAltNames(cert);
  if (sans.length !== 1 || sans[0] !== normalizeDomainName(domain, 'tls-alpn-01')) return false;
  try {
    return acme.crypto.isAlpnCertificateAuthorizationValid(certPem, keyAuthorization);
  } catch {
    // acme-client throws when the certificate has no acmeIdentifier extension at all.
    return false;
  }
}
