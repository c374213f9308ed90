import { secretAad } from '../core/services/core-deps.ts';
import type { Database } from '../db/client.ts';
import type { Store } from '../core/ports/store.ts';
import { createResponderApp } from '../responder/app.ts';
import { ChallengeCache, type ChallengeSource } from '../responder/challenge-cache.ts';
import { createResponderServer } from '../responder/server.ts';
import { createTlsAlpnServer } from '../responder/tls-alpn-server.ts';
import type { Runtime } from '../runtime.ts';

/** The channel the authorizations trigger notifies (db/migrations/0001_challenge_notify.sql). */
export const CHALLENGE_CHANNEL = 'bigip_acme_challenges';

export function challengeSource(store: Store, database: Database): ChallengeSource {
  return {
    all: () => store.authorizations.pendingHttpChallenges(),
    one: (token) => store.authorizations.httpKeyAuthorization(token),
    listen: (onToken, onResync) => database.listen(CHALLENGE_CHANNEL, onToken, onResync),
  };
}

/** Starts the HTTP-01 responder and (when TLS_ALPN_PORT is set) the TLS-ALPN-01 listener; returns their closer. */
export async function startChallengeListeners(rt: Runtime): Promise<() => Promise<void>> {
  const { config, log } = rt;
  const closers: (() => Promise<void>)[] = [];
  const cache = new ChallengeCache(challengeSource(rt.store, rt.database), {
    onError: (err) => log.warn({ err: (err as Error).message }, 'challenge cache refresh failed; serving what it has'),
  });
  await cache.start();
  closers.push(() => cache.stop());
  const app = createResponderApp({
    httpKeyAuthorization: (token) => cache.get(token),
    ready: () => rt.store.profiles.list().then(() => true, () => false),
  });
  const server = createResponderServer(app, (token) => cache.get(token));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(config.RESPONDER_PORT, config.RESPONDER_HOST, resolve));
  log.info({ host: config.RESPONDER_HOST, port: config.RESPONDER_PORT, cached: cache.size }, `responder listening on http://${config.RESPONDER_HOST}:${config.RESPONDER_PORT}`);
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));

  if (config.TLS_ALPN_PORT && !rt.secretsAvailable) {
    log.warn({}, 'TLS-ALPN-01 listener off: it needs MASTER_KEY to open challenge keys, and this process has none');
  } else if (config.TLS_ALPN_PORT) {
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
