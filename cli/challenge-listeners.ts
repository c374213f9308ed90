import { serve as serveHttp } from '@hono/node-server';
import { secretAad } from '../core/services/core-deps.ts';
import { createResponderApp } from '../responder/app.ts';
import { createTlsAlpnServer } from '../responder/tls-alpn-server.ts';
import type { Runtime } from '../runtime.ts';

/** Starts the HTTP-01 responder and (when TLS_ALPN_PORT is set) the TLS-ALPN-01 listener; returns their closer. */
export async function startChallengeListeners(rt: Runtime): Promise<() => Promise<void>> {
  const { config, log } = rt;
  const closers: (() => Promise<void>)[] = [];
  const app = createResponderApp({
    httpKeyAuthorization: (token) => rt.store.authorizations.httpKeyAuthorization(token),
    ready: () => rt.store.profiles.list().then(() => true, () => false),
  });
  const server = serveHttp({ fetch: app.fetch, hostname: config.RESPONDER_HOST, port: config.RESPONDER_PORT });
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  log.info({ host: config.RESPONDER_HOST, port: config.RESPONDER_PORT }, `responder listening on http://${config.RESPONDER_HOST}:${config.RESPONDER_PORT}`);
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));

  if (config.TLS_ALPN_PORT) {
    const tls = createTlsAlpnServer(async (servername) => {
      const material = await rt.store.authorizations.tlsAlpnMaterial(servername);
      if (!material) return null;
      return { certPem: material.certPem, keyPem: rt.secrets.open(material.keySealed, secretAad('authorizations', material.id, 'tls_key')) };
    });
    await new Promise<void>((resolve, reject) => tls.once('error', reject).listen(config.TLS_ALPN_PORT, config.RESPONDER_HOST, resolve));
    log.info({ port: config.TLS_ALPN_PORT }, `TLS-ALPN-01 listener on ${config.RESPONDER_HOST}:${config.TLS_ALPN_PORT}`);
    closers.push(() => new Promise((resolve) => tls.close(() => resolve())));
  } else {
    log.info({}, 'TLS-ALPN-01 listener off (TLS_ALPN_PORT not set)');
  }
  return async () => {
    for (const close of closers) await close();
  };
}
