import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { CoreError } from '../errors.ts';
import { type KeySpec, keySpecOfPublicKey } from './key-spec.ts';

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

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Each certificate block in order, with LF line endings and a final newline. Anything between blocks
 * (bag attributes, comments, keys) is dropped. A text without any certificate block is invalid.
 */
export function splitPemChain(pem: string): string[] {
  const blocks = pem.replace(/\r\n?/g, '\n').match(PEM_CERTIFICATE);
  if (!blocks) throw new CoreError('input_invalid', 'no PEM certificate ("BEGIN CERTIFICATE") found');
  return blocks.map((block) => `${block}\n`);
}

/** Facts about the first (leaf) certificate of a chain. */
export function parseCertificate(pem: string): CertificateFacts {
  const cert = readLeaf(pem);
  return {
    serial: cert.serialNumber.toLowerCase(),
    notBefore: parseOpenSslDate(cert.validFrom),
    notAfter: parseOpenSslDate(cert.validTo),
    fingerprintSha256: cert.fingerprint256,
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    sans: dnsAltNames(cert),
    keySpec: keySpecOfPublicKey(cert.publicKey),
  };
}

/** Whether the leaf certificate carries the public half of `keyPem`. */
export function certificateMatchesKey(certPem: string, keyPem: string): boolean {
  const cert = readLeaf(certPem);
  let keyPublic: Buffer;
  try {
    keyPublic = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw new CoreError('input_invalid', 'not a readable unencrypted private key PEM', { cause: err });
  }
  return cert.publicKey.export({ type: 'spki', format: 'der' }).equals(keyPublic);
}

/** The DNS names of a certificate's subjectAltName extension, lower-case, in certificate order. */
export function dnsAltNames(cert: X509Certificate): string[] {
  const text = cert.subjectAltName;
  if (text === undefined) return [];
  // Node prints "DNS:a, IP Address:1.2.3.4, ..." and JSON-quotes every value that contains ",", quotes or
  // non-printables (CVE-2021-44532), so splitting at ", " is safe only outside quotes.
  const entry = /([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;
  const names: string[] = [];
  for (let match = entry.exec(text); match !== null; match = entry.exec(text)) {
    const [, type, raw = ''] = match;
    if (type === 'DNS') names.push((raw.startsWith('"') ? (JSON.parse(raw) as string) : raw).toLowerCase());
  }
  return names;
}

function readLeaf(pem: string): X509Certificate {
  const [leaf] = splitPemChain(pem);
  try {
    return new X509Certificate(leaf!);
  } catch (err) {
    throw new CoreError('input_invalid', 'the first PEM certificate block is not a readable certificate', {
      cause: err,
    });
  }
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
