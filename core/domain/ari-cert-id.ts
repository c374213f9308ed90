import * as x509 from '@peculiar/x509';
import { CoreError } from '../errors.ts';
import { readLeafCertificate } from './x509.ts';

/** @peculiar/x509's certificate with the serial's DER INTEGER content as encoded (its getter drops a 0x00 pad). */
class RawSerialCertificate extends x509.X509Certificate {
  get rawSerial(): Uint8Array {
    return new Uint8Array(this.asn.tbsCertificate.serialNumber);
  }
}

/**
 * The ARI CertID of the leaf (first) certificate of `certPem` (RFC 9773 §4.1):
 * base64url(authorityKeyIdentifier.keyIdentifier) "." base64url(serial), unpadded, where the serial is the
 * content octets of its DER INTEGER exactly as in the certificate, so a serial whose top bit is set keeps
 * its leading 0x00. Used both in the renewalInfo URL and as newOrder's `replaces`.
 */
export function ariCertId(certPem: string): string {
  const cert = readLeafCertificate(certPem, (block) => new RawSerialCertificate(block));
  let keyId: string | undefined;
  try {
    keyId = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  } catch (err) {
    throw new CoreError('input_invalid', 'the certificate has an unreadable authority key identifier', { cause: err });
  }
  if (!keyId) {
    throw new CoreError(
      'input_invalid',
      'the certificate has no authority key identifier (keyIdentifier), so it has no ARI CertID',
    );
  }
  const serial = cert.rawSerial;
  if (serial.length === 0) throw new CoreError('input_invalid', 'the certificate has an empty serial number');
  return `${Buffer.from(keyId, 'hex').toString('base64url')}.${Buffer.from(serial).toString('base64url')}`;
}
