import { createSecureContext, createServer, type Server, type SecureContext } from 'node:tls';
import type { TlsAlpnMaterial } from '../core/challenges/tls-alpn-presenter.ts';

/**
 * TLS-ALPN-01 (RFC 8737) listener: a handshake that offers `acme-tls/1` for a name with a pending
 * challenge gets that challenge certificate; every other handshake is refused. Which certificate a name
 * presents is the core's decision (`lookup`, core/challenges/tls-alpn-presenter.ts).
 */
export function createTlsAlpnServer(lookup: (servername: string) => Promise<TlsAlpnMaterial | null>): Server {
  const server = createServer({
    ALPNCallback: ({ protocols }) => (protocols.includes('acme-tls/1') ? 'acme-tls/1' : undefined),
    SNICallback: (servername, done) => {
      lookup(servername.toLowerCase())
        .then((material) => {
          if (!material) return done(new Error(`no TLS-ALPN-01 challenge for ${servername}`));
          const context: SecureContext = createSecureContext({ cert: material.certPem, key: material.keyPem });
          done(null, context);
        })
        .catch((err: unknown) => done(err as Error));
    },
  });
  server.on('tlsClientError', () => {});
  return server;
}
