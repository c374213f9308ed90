import { describe, expect, it } from 'vitest';
import { isTlsVerifyError, tlsHandshakeReason, tlsVerifyReason } from '../../core/net/tls-failure.ts';

describe('isTlsVerifyError: the certificate was not accepted, so only a settings change helps', () => {
  it.each<[string, boolean]>([
    ['CERT_HAS_EXPIRED', true],
    ['CERT_NOT_YET_VALID', true],
    ['CERT_CHAIN_TOO_LONG', true],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', true],
    ['SELF_SIGNED_CERT_IN_CHAIN', true],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', true],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', true],
    ['ERR_TLS_CERT_ALTNAME_INVALID', true],
    ['HOSTNAME_MISMATCH', true],
    ['ERR_SSL_WRONG_VERSION_NUMBER', false],
    ['ERR_TLS_HANDSHAKE_TIMEOUT', false],
    ['EPROTO', false],
    ['ECONNREFUSED', false],
    ['EUNKNOWN', false],
  ])('%s → %s', (code, expected) => {
    expect(isTlsVerifyError(code)).toBe(expected);
  });
});

describe('tlsHandshakeReason', () => {
  it.each<[string, string, string, string | null]>([
    [
      'an OpenSSL alert code reads as the alert',
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
      'x',
      'sslv3 alert handshake failure',
    ],
    ['a Node TLS code reads the same way', 'ERR_TLS_HANDSHAKE_TIMEOUT', 'x', 'handshake timeout'],
    [
      'EPROTO: the reason out of the OpenSSL message, with the plain-http hint',
      'EPROTO',
      'C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/ssl/record/ssl3_record.c:354:',
      'wrong version number (is the endpoint plain http?)',
    ],
    [
      'EPROTO with another reason',
      'EPROTO',
      'error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:x.c:1:',
      'sslv3 alert handshake failure',
    ],
    ['EPROTO without an OpenSSL reason: the message', 'EPROTO', 'write EPROTO', 'write EPROTO'],
    ['a verification failure is not a handshake failure', 'ERR_TLS_CERT_ALTNAME_INVALID', 'x', null],
    ['a TCP failure is not a handshake failure', 'ECONNRESET', 'x', null],
  ])('%s', (_case, code, message, expected) => {
    expect(tlsHandshakeReason(code, message, 'endpoint')).toBe(expected);
  });
});

describe("tlsVerifyReason: OpenSSL's words without the Node runtime's advice", () => {
  it.each([
    ['self-signed certificate', 'self-signed certificate'],
    [
      'self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
      'self-signed certificate',
    ],
    [
      'unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
      'unable to verify the first certificate',
    ],
    [
      "Hostname/IP does not match certificate's altnames: Host: a. is not in the cert's altnames: DNS:b",
      "Hostname/IP does not match certificate's altnames: Host: a. is not in the cert's altnames: DNS:b",
    ],
  ])('%s', (message, reason) => {
    expect(tlsVerifyReason(message)).toBe(reason);
  });
});
