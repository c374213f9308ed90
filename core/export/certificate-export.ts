/**
 * Exporting an issued certificate for servers other than BIG-IP: PEM (leaf or full chain, the key as a
 * separate PEM only when asked) or one PKCS#12 file. Every export is audited with its format and whether
 * it carried the key; nothing is audited for a refused request (decision 0031).
 */
import { type ExportFormat, certificatesForFormat, pkcs12ExportProblems } from '../domain/export-format.ts';
import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import { refuseProblems } from '../domain/validation/field-problems.ts';
import { splitPemChain } from '../domain/x509.ts';
import { CoreError, runCommand } from '../errors.ts';
import { auditCertificate } from '../issuance/certificate-audit.ts';
import { type CoreDeps, secretAad } from '../services/core-deps.ts';
import { buildPkcs12 } from './pkcs12.ts';

type ExportDeps = Pick<CoreDeps, 'store' | 'secrets'>;

export interface PemExport {
  /** The certificates `format` names, PEM: the leaf alone for `pem`, leaf and intermediates for `fullchain`. */
  chainPem: string;
  /** The unencrypted private key, only when asked for. */
  keyPem?: string;
}

export interface Pkcs12Export {
  /** The file's bytes (DER): the key, the leaf and the intermediates, under the passphrase. */
  pkcs12: Buffer;
  friendlyName: string;
  /** How many certificates the file holds (the leaf and its intermediates). */
  certificates: number;
  serial: string | null;
}

/** The issued chain of a certificate, or why it cannot be exported yet. */
function issuedChain(cert: ManagedCertificate): string {
  if (cert.state !== 'issued' || !cert.chainPem)
    throw new CoreError('conflict', `certificate "${cert.name}" is ${cert.state}, not issued`);
  return cert.chainPem;
}

/** The live certificate's private key, opened. */
function openKey(deps: ExportDeps, cert: ManagedCertificate): string {
  if (!cert.keySealed) {
    // Only a renewal in flight from before migration 0007 leaves the live certificate without its key.
    throw new CoreError('conflict', `the key of certificate "${cert.name}" was replaced by a renewal in flight`, {
      hint: runCommand('finish it with', ['cert', 'resume', cert.name]),
    });
  }
  return deps.secrets.open(cert.keySealed, secretAad('certificates', cert.id, 'key'));
}

/** The chain as `format` says; the private key too when `includeKey`. */
export async function exportPem(
  deps: ExportDeps,
  cert: ManagedCertificate,
  opts: { format: Exclude<ExportFormat, 'pkcs12'>; includeKey: boolean },
  actor: string,
): Promise<PemExport> {
  const issued = issuedChain(cert);
  // The full chain is written exactly as stored, as export always has; `pem` takes its first block.
  const chainPem = opts.format === 'fullchain' ? issued : certificatesForFormat(splitPemChain(issued), 'pem').join('');
  const keyPem = opts.includeKey ? openKey(deps, cert) : undefined;
  await auditCertificate(deps, cert, actor, 'certificate.export', 'ok', {
    format: opts.format,
    includeKey: opts.includeKey,
  });
  return keyPem === undefined ? { chainPem } : { chainPem, keyPem };
}

/**
 * One PKCS#12 file with the key, the leaf and the intermediates, protected by `passphrase`; the friendly
 * name defaults to the certificate's name. The passphrase and the name are checked before the key is opened.
 */
export async function exportPkcs12(
  deps: ExportDeps,
  cert: ManagedCertificate,
  opts: { passphrase: string | undefined; friendlyName?: string | undefined },
  actor: string,
): Promise<Pkcs12Export> {
  const friendlyName = opts.friendlyName ?? cert.name;
  refuseProblems(pkcs12ExportProblems({ passphrase: opts.passphrase, friendlyName }));
  const certificatesPem = splitPemChain(issuedChain(cert));
  const pkcs12 = await buildPkcs12({
    keyPem: openKey(deps, cert),
    certificatesPem,
    passphrase: opts.passphrase!,
    friendlyName,
  });
  await auditCertificate(deps, cert, actor, 'certificate.export', 'ok', {
    format: 'pkcs12',
    includeKey: true,
    friendlyName,
  });
  return { pkcs12, friendlyName, certificates: certificatesPem.length, serial: cert.serial };
}
