import { createHash, generateKeyPair, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import type { Authorization } from 'acme-client';
import acme from 'acme-client';
import { CoreError } from '../errors.ts';
import { type SubjectAltName, subjectAltNames } from './x509.ts';
import { normalizeDomainName } from './domain-name.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/** RFC 8737 §3: the acmeIdentifier extension, a critical OCTET STRING holding SHA-256(key authorization). */
export const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';

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
 * Why a certificate is not the TLS-ALPN-01 challenge certificate for a name, as data, so each caller (the
 * challenge-hook refusing a payload, the probe explaining what a server presented) words it for its reader.
 */
export type TlsAlpnCertificateProblem =
  | { reason: 'unreadable' }
  /** The subjectAltName is not exactly one dNSName, `expected` (the normalized domain); `names` is what it holds. */
  | { reason: 'wrong_names'; expected: string; names: SubjectAltName[] }
  | { reason: 'no_acme_identifier' }
  /** The extension is not critical, or does not hold a DER OCTET STRING of a SHA-256 digest. */
  | { reason: 'malformed_acme_identifier' }
  | { reason: 'digest_mismatch' };

/**
 * The one RFC 8737 §3 rule, used wherever a TLS-ALPN-01 certificate is checked: a readable certificate whose
 * subjectAltName is exactly one dNSName, the domain, with a critical acmeIdentifier extension holding a
 * SHA-256 digest; and, when `keyAuthorization` is given, that digest is SHA-256 of it (a web server's payload
 * is checked without it: the responder does not know the key authorization). Returns null when all hold.
 * Throws CoreError when the domain cannot use TLS-ALPN-01 at all (a wildcard, an invalid name).
 */
export function tlsAlpnCertificateProblem(
  certPem: string,
  domain: string,
  keyAuthorization?: string,
): TlsAlpnCertificateProblem | null {
  const name = normalizeDomainName(domain, 'tls-alpn-01');
  let cert: x509.X509Certificate;
  let names: SubjectAltName[];
  try {
    cert = new x509.X509Certificate(certPem);
    names = subjectAltNames(cert);
  } catch {
    return { reason: 'unreadable' };
  }
  const only = names.length === 1 ? names[0]! : undefined;
  if (only?.type !== 'dns' || only.value.toLowerCase() !== name)
    return { reason: 'wrong_names', expected: name, names };

  const acmeIdentifier = cert.getExtension(ACME_IDENTIFIER_OID);
  if (!acmeIdentifier) return { reason: 'no_acme_identifier' };
  const value = Buffer.from(acmeIdentifier.value);
  // DER OCTET STRING (0x04) of 32 bytes (0x20): a SHA-256 digest.
  if (!acmeIdentifier.critical || value.length !== 34 || value[0] !== 0x04 || value[1] !== 0x20) {
    return { reason: 'malformed_acme_identifier' };
  }
  if (keyAuthorization !== undefined) {
    const expected = createHash('sha256').update(keyAuthorization, 'utf8').digest();
    if (!timingSafeEqual(value.subarray(2), expected)) return { reason: 'digest_mismatch' };
  }
  return null;
}

/**
 * Whether `certPem` answers TLS-ALPN-01 for `domain` with `keyAuthorization` (`tlsAlpnCertificateProblem`
 * finds nothing). Unreadable PEM or a domain that cannot use TLS-ALPN-01 (e.g. a wildcard) is an input error.
 */
export function isTlsAlpnCertificateFor(certPem: string, domain: string, keyAuthorization: string): boolean {
  const problem = tlsAlpnCertificateProblem(certPem, domain, keyAuthorization);
  if (problem?.reason === 'unreadable') throw new CoreError('input_invalid', 'not a readable PEM certificate');
  return problem === null;
}
