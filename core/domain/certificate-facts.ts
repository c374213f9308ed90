import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { CoreError } from '../errors.ts';
import { type KeySpec, keySpecOfPublicKey } from './key-spec.ts';
import { dnsAltNames, readLeafCertificate } from './x509.ts';

/** What the tool records about an issued certificate, taken from the leaf. */
export interface CertificateFacts {
  /**
   * Lower-case hex without colons, exactly as Node/OpenSSL (`BN_bn2hex`) give it: whole bytes with leading
   * zero bytes dropped, so a leading "0" nibble stays ("0abc", "01"). This is `openssl x509 -serial`
   * lower-cased; a serial of zero is "0".
   */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** Upper-case hex bytes joined by colons, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprintSha256: string;
  /** RDNs in certificate order joined by ", ", with RFC 4514 escaping: `C=US, O=Let's Encrypt, CN=R11`. */
  subject: string;
  issuer: string;
  /** DNS names only, lower-case, in certificate order. */
  sans: string[];
  keySpec: KeySpec;
}

/** Facts about the first (leaf) certificate of a chain. */
export function parseCertificate(pem: string): CertificateFacts {
  const cert = readLeafCertificate(pem, (block) => new X509Certificate(block));
  return {
    serial: cert.serialNumber.toLowerCase(),
    notBefore: parseOpenSslDate(cert.validFrom),
    notAfter: parseOpenSslDate(cert.validTo),
    fingerprintSha256: cert.fingerprint256,
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    // Parsed on first use: the extension goes through a full ASN.1 decoder (CVE-2021-44532), ~1 ms a
    // certificate, and issuance records every fact but this one.
    get sans() {
      return dnsAltNames(cert);
    },
    keySpec: keySpecOfPublicKey(cert.publicKey),
  };
}

/** Whether the leaf certificate carries the public half of `keyPem`. */
export function certificateMatchesKey(certPem: string, keyPem: string): boolean {
  const cert = readLeafCertificate(certPem, (block) => new X509Certificate(block));
  let keyPublic: Buffer;
  try {
    keyPublic = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw new CoreError('input_invalid', 'not a readable unencrypted private key PEM', { cause: err });
  }
  return cert.publicKey.export({ type: 'spki', format: 'der' }).equals(keyPublic);
}

// Node 20 has no `validFromDate`; its strings look like "Nov  6 07:30:10 2026 GMT", which Date parses.
function parseOpenSslDate(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new CoreError('input_invalid', `unreadable certificate date "${text}"`);
  return date;
}

// Node separates RDNs with newlines and already escapes "," and "+" inside values (RFC 4514).
function oneLineName(multiline: string): string {
  return multiline.split('\n').join(', ');
}
