/**
 * The one classification of TLS failures for every outbound connection (ACME CA, BIG-IP management
 * interface, challenge endpoints): a verification failure needs a settings change (a CA bundle, the right
 * host name, a renewed certificate) and is never worth a retry; a handshake failure is described by its
 * OpenSSL reason rather than its noisy message.
 */

/** Node's and OpenSSL's codes for a peer certificate that was not trusted. */
const TLS_VERIFY_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
]);

/** Whether `code` (see `errnoCode`) says the peer's certificate was not accepted. */
export function isTlsVerifyError(code: string): boolean {
  // The prefixes catch codes newer OpenSSL or Node releases add (CERT_CHAIN_TOO_LONG, ERR_TLS_CERT_ALTNAME_FORMAT).
  return TLS_VERIFY_CODES.has(code) || code.startsWith('CERT_') || code.startsWith('ERR_TLS_CERT_');
}

/**
 * Why the peer's certificate was not accepted, in OpenSSL's words ("self-signed certificate"). Node 24 appends
 * advice for its own command line ("; if the root CA is installed locally, try running Node.js with
 * --use-system-ca"), which names a flag our users never pass: the fix here is a CA file in the settings.
 */
export function tlsVerifyReason(message: string): string {
  return message.replace(/;\s*if the root CA is installed locally.*$/s, '').trim();
}

/**
 * Why a TLS handshake failed, for an `ERR_SSL_*`/`ERR_TLS_*` or `EPROTO` error that is not a verification
 * failure; null for any other error. `peer` names what was dialled (`endpoint`, `management interface`) for
 * the hint on the commonest mistake, an https URL pointing at a plain-http port.
 */
export function tlsHandshakeReason(code: string, message: string, peer: string): string | null {
  if (isTlsVerifyError(code)) return null;
  // The code alone reads as the alert name; the message embeds source paths and error-stack noise.
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))
    return code.slice(8).toLowerCase().replaceAll('_', ' ');
  if (code === 'EPROTO') return openSslReason(message, peer);
  return null;
}

/** OpenSSL's `error:0A00010B:SSL routines:ssl3_get_record:wrong version number:<source path>` → the reason. */
function openSslReason(message: string, peer: string): string {
  const reason = /error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+)/.exec(message)?.[1]?.trim();
  if (reason === undefined) return message;
  return reason === 'wrong version number' ? `${reason} (is the ${peer} plain http?)` : reason;
}
