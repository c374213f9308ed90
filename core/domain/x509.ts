/**
 * Reading X.509 certificates: the one place PEM chains are split and subjectAltName is parsed. Names are
 * read from the DER extension (@peculiar/x509), never from Node's `subjectAltName` text, so a name that
 * contains ", " or quotes cannot pose as two entries (CVE-2021-44532).
 */
import type { X509Certificate as NodeX509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CoreError } from '../errors.ts';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** One subjectAltName entry: `dns`, `ip`, `email`, `url`, … and its value as the certificate encodes it. */
export interface SubjectAltName {
  type: x509.GeneralNameType;
  value: string;
}

/**
 * Each certificate block in order, with LF line endings and a final newline. Anything between blocks
 * (bag attributes, comments, keys) is dropped. A text without any certificate block is invalid.
 */
export function splitPemChain(pem: string): string[] {
  const blocks = pem.replace(/\r\n?/g, '\n').match(PEM_CERTIFICATE);
  if (!blocks) throw new CoreError('input_invalid', 'no PEM certificate ("BEGIN CERTIFICATE") found');
  return blocks.map((block) => `${block}\n`);
}

/**
 * The first (leaf) certificate of a PEM chain, read by `read` (Node's or @peculiar/x509's constructor);
 * an unreadable block is an input error.
 */
export function readLeafCertificate<T>(pem: string, read: (block: string) => T): T {
  const [leaf] = splitPemChain(pem);
  try {
    return read(leaf!);
  } catch (err) {
    throw new CoreError('input_invalid', 'the first PEM certificate block is not a readable certificate', {
      cause: err,
    });
  }
}

/** Every subjectAltName entry in certificate order; none when the extension is absent. */
export function subjectAltNames(cert: NodeX509Certificate | x509.X509Certificate): SubjectAltName[] {
  try {
    const parsed = cert instanceof x509.X509Certificate ? cert : new x509.X509Certificate(new Uint8Array(cert.raw));
    const extension = parsed.getExtension(x509.SubjectAlternativeNameExtension);
    return (extension?.names.items ?? []).map((name) => ({ type: name.type, value: name.value }));
  } catch (err) {
    throw new CoreError('input_invalid', 'the certificate has an unreadable subjectAltName extension', { cause: err });
  }
}

/** The DNS names of a certificate's subjectAltName extension, lower-case, in certificate order. */
export function dnsAltNames(cert: NodeX509Certificate | x509.X509Certificate): string[] {
  return subjectAltNames(cert)
    .filter((name) => name.type === 'dns')
    .map((name) => name.value.toLowerCase());
}
