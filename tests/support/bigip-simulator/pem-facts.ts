/**
 * What the device computes from installed PEM files (`reference/bigip-icontrol.md` §3.3): fingerprint,
 * serial, expiry, RFC 2253 subject/issuer, key type and size, checksum; plus reading (possibly encrypted)
 * private keys and the key/certificate match MCP enforces for profiles.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/** Every certificate of a PEM file, in order; throws when there is none or one does not parse. */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.replace(/\r\n?/g, '\n').match(CERT_BLOCK);
  if (!blocks) throw new Error('no certificate found');
  return blocks.map((block) => new X509Certificate(block));
}

export function isEncryptedKeyPem(pem: string): boolean {
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem) || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
}

export function looksLikePrivateKey(pem: string): boolean {
  return KEY_BLOCK.test(pem);
}

/** The private key of a PEM file, decrypted with `passphrase` when encrypted; throws when unreadable. */
export function readPrivateKey(pem: string, passphrase?: string): KeyObject {
  const block = pem.match(KEY_BLOCK);
  if (!block) throw new Error('no private key found');
  if (isEncryptedKeyPem(block[0]) && (passphrase === undefined || passphrase === ''))
    throw new Error('passphrase required');
  return createPrivateKey({ key: block[0], format: 'pem', ...(passphrase === undefined ? {} : { passphrase }) });
}

function spki(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}

/** Whether the leaf certificate carries the public half of `privateKey` (RSA, EC, anything Node reads). */
export function keyMatchesCertificate(privateKey: KeyObject, leaf: X509Certificate): boolean {
  return spki(leaf.publicKey).equals(spki(privateKey));
}

/** `SHA1:<bytes>:<sha1 hex>` of the file as stored. */
export function checksum(pem: string): string {
  const bytes = Buffer.from(pem, 'utf8');
  return `SHA1:${bytes.length}:${createHash('sha1').update(bytes).digest('hex')}`;
}

/**
 * The serial as `openssl x509 -text` prints it, which is what TMOS shows: decimal when it fits a signed 64-bit
 * long (`364081584`), otherwise lower-case colon-separated hex bytes (`03:a1:…`).
 */
export function openSslSerial(hexSerial: string): string {
  const hex = hexSerial.length % 2 === 1 ? `0${hexSerial}` : hexSerial;
  const value = BigInt(`0x${hex || '0'}`);
  if (value <= 0x7fffffffffffffffn) return value.toString(10);
  return (hex.toLowerCase().match(/../g) ?? []).join(':');
}

/** Node prints names one RDN per line in certificate order; TMOS shows RFC 2253 order, comma-joined. */
export function rfc2253(name: string): string {
  return name
    .split('\n')
    .filter((line) => line !== '')
    .reverse()
    .join(',');
}

/** `Jul 14 05:46:24 2031 GMT` (OpenSSL's notAfter text) → unix seconds. */
export function unixSeconds(openSslDate: string): number {
  return Math.floor(Date.parse(openSslDate.replace(/\s+/g, ' ')) / 1000);
}

function keyShape(key: KeyObject): { type: string; size: number; curve: string } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    return { type: 'rsa', size: details.modulusLength ?? 0, curve: 'none' };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    const size = { prime256v1: 256, secp384r1: 384, secp521r1: 521 }[curve] ?? 0;
    return { type: 'ec', size, curve };
  }
  if (key.asymmetricKeyType === 'dsa') return { type: 'dsa', size: details.modulusLength ?? 0, curve: 'none' };
  return { type: key.asymmetricKeyType ?? 'unknown', size: 0, curve: 'none' };
}

/** The computed fields of a `sys file ssl-cert` answer. */
export function certFileFacts(pem: string): Record<string, unknown> {
  const certs = parseCertificates(pem);
  const leaf = certs[0]!;
  const shape = keyShape(leaf.publicKey);
  const email = leaf.subject.split('\n').find((line) => line.startsWith('emailAddress='));
  return {
    certificateKeyCurveName: shape.curve,
    certificateKeySize: shape.size,
    checksum: checksum(pem),
    ...(email ? { email: email.slice('emailAddress='.length) } : {}),
    expirationDate: unixSeconds(leaf.validTo),
    expirationString: leaf.validTo,
    fingerprint: `SHA256/${leaf.fingerprint256}`,
    isBundle: certs.length > 1 ? 'true' : 'false',
    issuer: rfc2253(leaf.issuer),
    keyType: `${shape.type}-public`,
    serialNumber: openSslSerial(leaf.serialNumber),
    size: Buffer.byteLength(pem, 'utf8'),
    subject: rfc2253(leaf.subject),
    ...(leaf.subjectAltName === undefined ? {} : { subjectAlternativeName: leaf.subjectAltName }),
    version: 3,
  };
}

/** The computed fields of a `sys file ssl-key` answer; `passphrase` decrypts an encrypted key. */
export function keyFileFacts(pem: string, passphrase?: string): Record<string, unknown> {
  let shape = { type: 'unknown', size: 0, curve: 'none' };
  try {
    shape = keyShape(readPrivateKey(pem, passphrase));
  } catch {
    // An unreadable stored key (seeded by a test) still lists; the size is unknown.
  }
  return {
    checksum: checksum(pem),
    curveName: shape.curve,
    keySize: shape.size,
    keyType: `${shape.type}-private`,
    size: Buffer.byteLength(pem, 'utf8'),
  };
}
