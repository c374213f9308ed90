/**
 * {@link ServedCertificateProbe} over node:tls: connect, complete a handshake (with SNI when asked), read the
 * peer's leaf, close. Verification is off on purpose: the question is which certificate is served, and the
 * answer is compared by serial and fingerprint, never trusted for anything else.
 */
import tls from 'node:tls';
import { CoreError } from '../errors.ts';
import type { ServedCertificate, ServedCertificateProbe } from '../ports/served-certificate-probe.ts';
import { settleOnce } from './settle-once.ts';

export const tlsServedCertificate: ServedCertificateProbe = (target) =>
  new Promise((resolve, reject) => {
    const where = `${target.host}:${target.port}${target.servername ? ` (SNI ${target.servername})` : ''}`;
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      rejectUnauthorized: false,
      ...(target.servername ? { servername: target.servername } : {}),
    });
    const timer = setTimeout(() => done(new Error(`no handshake within ${target.timeoutMs} ms`)), target.timeoutMs);
    const done = settleOnce<ServedCertificate | Error>(
      (outcome) => {
        if (outcome instanceof Error)
          reject(
            new CoreError('deploy_failed', `TLS handshake with ${where} failed: ${outcome.message}`, {
              retryable: true,
              cause: outcome,
              detail: { stage: 'handshake' },
            }),
          );
        else resolve(outcome);
      },
      () => {
        clearTimeout(timer);
        socket.destroy();
      },
    );
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      if (!peer?.serialNumber) return done(new Error('no certificate presented'));
      done({ serial: peer.serialNumber, fingerprint256: peer.fingerprint256 });
    });
    socket.once('error', (err) => done(err));
    socket.once('close', () => done(new Error('connection closed before the handshake completed')));
  });
