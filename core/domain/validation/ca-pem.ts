import { X509Certificate } from 'node:crypto';
import { isCoreError } from '../../errors.ts';
import { splitPemChain } from '../x509.ts';

/**
 * A CA bundle as pasted or read from a file: at least one PEM certificate, every one parseable. The
 * accepted bundle is its certificate blocks only, so stray text around them is not kept.
 */
export function checkCaPem(pem: string): { ok: true; pem: string } | { ok: false; problem: string } {
  let blocks: string[];
  try {
    blocks = splitPemChain(pem);
  } catch (err) {
    if (!isCoreError(err)) throw err;
    return { ok: false, problem: 'the CA file holds no PEM certificate (-----BEGIN CERTIFICATE----- …)' };
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      return { ok: false, problem: 'the CA file holds a certificate that cannot be parsed' };
    }
  }
  return { ok: true, pem: blocks.join('') };
}
