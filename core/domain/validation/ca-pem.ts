import { X509Certificate } from 'node:crypto';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * A CA bundle as pasted or read from a file: at least one PEM certificate, every one parseable. The
 * accepted bundle is its certificate blocks only, one per line group, so stray text around them is not kept.
 */
export function checkCaPem(pem: string): { ok: true; pem: string } | { ok: false; problem: string } {
  const blocks = pem.replace(/\r\n?/g, '\n').match(CERTIFICATE_BLOCK);
  if (!blocks) return { ok: false, problem: 'the CA file holds no PEM certificate (-----BEGIN CERTIFICATE----- …)' };
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      return { ok: false, problem: 'the CA file holds a certificate that cannot be parsed' };
    }
  }
  return { ok: true, pem: `${blocks.join('\n')}\n` };
}
