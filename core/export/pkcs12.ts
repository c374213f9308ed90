/**
 * Writes PKCS#12 (RFC 7292) files: Node can read them (`tls.createSecureContext({ pfx })`) but not write
 * them, so the ASN.1 and the MAC key derivation come from node-forge (decision 0031).
 *
 * forge's own `toPkcs12Asn1` cannot be used: its private-key objects are RSA-only (the default key here is
 * EC P-256), and it MACs with SHA-1. So the key bag is Node's own encrypted PKCS#8 (PBES2: PBKDF2 with
 * HMAC-SHA256, AES-256-CBC), which serves RSA and EC alike, and this file assembles the rest around it:
 *
 *   PFX { version 3, authSafe: data { AuthenticatedSafe [
 *           data { SafeContents [ certBag leaf (friendlyName, localKeyId), certBag intermediate … ] },
 *           data { SafeContents [ pkcs8ShroudedKeyBag (friendlyName, localKeyId) ] } ] },
 *         macData: HMAC-SHA256, key from the RFC 7292 B.2 KDF over the passphrase }
 *
 * The certificates are public and are left unencrypted (like `openssl pkcs12 -export -certpbe NONE`); the
 * MAC still covers them. node-forge is imported on first use: only a PKCS#12 export pays for loading it.
 */
import { createHash, createHmac, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { CoreError } from '../errors.ts';

/** What goes into one file. `certificatesPem`: the leaf first, then its intermediates. */
export interface Pkcs12Contents {
  keyPem: string;
  certificatesPem: readonly string[];
  passphrase: string;
  friendlyName: string;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** OpenSSL 3's default MAC iteration count (PKCS12_DEFAULT_ITER), the same count Node uses for the key's PBKDF2. */
export const MAC_ITERATIONS = 2048;
/** RFC 7292 B.3: ID 3 derives a MAC key. */
const MAC_KEY_ID = 3;

/** The DER bytes of a PKCS#12 file holding the key, the certificates and a SHA-256 MAC. */
export async function buildPkcs12(contents: Pkcs12Contents): Promise<Buffer> {
  const { default: forge } = await import('node-forge');
  const { asn1 } = forge;
  type Node = ReturnType<typeof asn1.create>;
  const { UNIVERSAL, CONTEXT_SPECIFIC } = asn1.Class;
  const T = asn1.Type;
  const bin = (bytes: Buffer): string => bytes.toString('binary');
  const sequence = (items: Node[]): Node => asn1.create(UNIVERSAL, T.SEQUENCE, true, items);
  const set = (items: Node[]): Node => asn1.create(UNIVERSAL, T.SET, true, items);
  const oid = (id: string): Node => asn1.create(UNIVERSAL, T.OID, false, asn1.oidToDer(id).getBytes());
  const octets = (bytes: string): Node => asn1.create(UNIVERSAL, T.OCTETSTRING, false, bytes);
  const explicit0 = (inner: Node): Node => asn1.create(CONTEXT_SPECIFIC, 0, true, [inner]);
  const integer = (n: number): Node => asn1.create(UNIVERSAL, T.INTEGER, false, asn1.integerToDer(n).getBytes());
  const der = (node: Node): string => asn1.toDer(node).getBytes();
  const dataContentInfo = (content: string): Node => sequence([oid(OID.data), explicit0(octets(content))]);

  if (contents.certificatesPem.length === 0)
    throw new CoreError('internal', 'a PKCS#12 file needs at least one certificate');
  const certificates = contents.certificatesPem.map((pem) => new X509Certificate(pem).raw);
  // The leaf and its key share an id, so readers pair them without trying each certificate against the key.
  const localKeyId = createHash('sha1').update(certificates[0]!).digest();
  const attributes = set([
    sequence([oid(OID.friendlyName), set([asn1.create(UNIVERSAL, T.BMPSTRING, false, contents.friendlyName)])]),
    sequence([oid(OID.localKeyId), set([octets(bin(localKeyId))])]),
  ]);

  const certBags = certificates.map((raw, i) => {
    const bag = explicit0(sequence([oid(OID.x509Certificate), explicit0(octets(bin(raw)))]));
    return sequence([oid(OID.certBag), bag, ...(i === 0 ? [attributes] : [])]);
  });
  const encryptedKeyInfo = createPrivateKey(contents.keyPem).export({
    type: 'pkcs8',
    format: 'der',
    cipher: 'aes-256-cbc',
    passphrase: contents.passphrase,
  });
  const keyBag = sequence([oid(OID.pkcs8ShroudedKeyBag), explicit0(asn1.fromDer(bin(encryptedKeyInfo))), attributes]);
  const authenticatedSafe = der(
    sequence([dataContentInfo(der(sequence(certBags))), dataContentInfo(der(sequence([keyBag])))]),
  );

  const macSalt = randomBytes(16);
  const macKey = forge.pkcs12.generateKey(
    contents.passphrase,
    forge.util.createBuffer(bin(macSalt)),
    MAC_KEY_ID,
    MAC_ITERATIONS,
    32,
    forge.md.sha256.create(),
  );
  const mac = createHmac('sha256', Buffer.from(macKey.getBytes(), 'binary'))
    .update(Buffer.from(authenticatedSafe, 'binary'))
    .digest();
  const macData = sequence([
    sequence([sequence([oid(OID.sha256), asn1.create(UNIVERSAL, T.NULL, false, '')]), octets(bin(mac))]),
    octets(bin(macSalt)),
    integer(MAC_ITERATIONS),
  ]);
  const pfx = sequence([integer(3), dataContentInfo(authenticatedSafe), macData]);
  return Buffer.from(der(pfx), 'binary');
}
