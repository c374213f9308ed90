import { randomUUID } from 'node:crypto';
import { presentedTlsAlpnSource } from '../core/domain/tls-alpn-source.ts';
import type { SecretBox } from '../core/secrets/secret-box.ts';
import { CoreError, isCoreError } from '../core/errors.ts';
import { secretAad } from '../core/services/core-deps.ts';
import type { Database } from '../db/client.ts';
import type { Store } from '../core/ports/store.ts';
import { createResponderApp } from '../responder/app.ts';
import { ChallengeCache, type ChallengeSource } from '../responder/challenge-cache.ts';
import { cacheReadiness, type Readiness } from '../responder/readiness.ts';
import { createResponderMetrics } from '../responder/metrics.ts';
import { createResponderServer } from '../responder/server.ts';
import { createTlsAlpnServer, type TlsAlpnMaterial } from '../responder/tls-alpn-server.ts';
import type { Runtime } from '../runtime.ts';

/** The channel the authorizations trigger notifies (db/migrations/0001_challenge_notify.sql). */
export const CHALLENGE_CHANNEL = 'bigip_acme_challenges';

export function challengeSource(store: Store, database: Database): ChallengeSource {
  return {
    // The core's own authorizations win over hook-published content for the same token, in both lookups.
    all: async () => [
      ...(await store.hookChallenges.allHttp()),
      ...(await store.authorizations.pendingHttpChallenges()),
    ],
    one: async (token) =>
      (await store.authorizations.httpChallenge(token)) ?? (await store.hookChallenges.httpChallenge(token)),
    listen: (onToken, onResync, onLost) => database.listen(CHALLENGE_CHANNEL, onToken, onResync, onLost),
  };
}

/**
 * What the TLS-ALPN-01 listener presents for a name: the core's pending challenge or the hook's entry, chosen
 * by the one rule the challenge-hook also applies when it accepts an entry (core/domain/tls-alpn-source.ts).
 */
export function tlsAlpnLookup(
  store: Store,
  secrets: Pick<SecretBox, 'open'>,
  now: () => Date,
): (servername: string) => Promise<TlsAlpnMaterial | null> {
  return async (servername) => {
    const [own, hooked] = await Promise.all([
      store.authorizations.tlsAlpnMaterial(servername),
      store.hookChallenges.tlsMaterial(servername),
    ]);
    const source = presentedTlsAlpnSource(own, hooked, now());
    if (source === 'core' && own) {
      return {
        certPem: own.certPem,
        keyPem: secrets.open(own.keySealed, secretAad('authorizations', own.id, 'tls_key')),
      };
    }
    if (source === 'hook' && hooked) {
      return {
        certPem: hooked.certPem,
        keyPem: secrets.open(hooked.keySealed, secretAad('hook_challenges', hooked.id, 'key')),
      };
    }
    return null;
  };
}

/** A readiness probe that does not answer in this time counts as an unreachable database. */
const READY_PROBE_MS = 2_000;

/**
 * `/readyz`: one cheap query proves the database answers now (the cache alone would notice an outage only
 * at its next read); a lost connection or a probe without answer marks the cache stale, which then reports
 * degraded until a full reload has caught up. Any other failure (a broken schema, say) is not ready.
 */
async function probeReadiness(rt: Runtime, cache: ChallengeCache): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CoreError('db_unavailable', `the database did not answer within ${READY_PROBE_MS} ms`, {
            retryable: true,
          }),
        ),
      READY_PROBE_MS,
    );
  });
  try {
    await Promise.race([rt.store.profiles.list(), timeout]);
  } catch (err) {
    if (!isCoreError(err) || err.code !== 'db_unavailable')
      return { state: 'not_ready', detail: isCoreError(err) ? err.code : 'internal' };
    cache.markStale(err);
  } finally {
    clearTimeout(timer);
  }
  return cacheReadiness(cache.health(), cache.size);
}

/** Starts the HTTP-01 responder and (when TLS_ALPN_PORT is set) the TLS-ALPN-01 listener; returns their closer. */
export async function startChallengeListeners(rt: Runtime): Promise<() => Promise<void>> {
  const { config, log } = rt;
  const closers: (() => Promise<void>)[] = [];
  const cache: ChallengeCache = new ChallengeCache(challengeSource(rt.store, rt.database), {
    onError: (err) => log.debug({ err: (err as Error).message }, 'challenge cache refresh failed; serving what it has'),
    // One line when the outage starts and one when it ends, however many reads fail in between.
    onHealth: (health) =>
      health.fresh
        ? log.info({ cached: cache.size }, 'database reachable again: challenge cache reloaded, /readyz says ready')
        : log.warn(
            { since: health.since.toISOString(), reason: health.reason, cached: cache.size },
            `database unreachable: serving ${cache.size} cached challenge(s) from memory until it is back; /readyz says degraded`,
          ),
  });
  await cache.start();
  closers.push(() => cache.stop());
  const metrics = createResponderMetrics(
    () => cache.size,
    () => cache.health().fresh,
  );
  const app = createResponderApp({
    httpKeyAuthorization: (token, host) => cache.answer(token, host),
    ready: () => probeReadiness(rt, cache),
    metrics: metrics.registry,
    hook: {
      hookChallenges: rt.store.hookChallenges,
      endpointVerifiers: (name) => rt.store.domains.endpointVerifiers(name),
      secrets: rt.secretsAvailable ? rt.secrets : null,
      newId: randomUUID,
      now: () => new Date(),
      coreTlsAlpnChallenge: (name) => rt.store.authorizations.tlsAlpnMaterial(name),
    },
  });
  const server = createResponderServer(
    app,
    (token, host) => cache.answer(token, host),
    (result) => metrics.challenge[result].inc(),
  );
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(config.RESPONDER_PORT, config.RESPONDER_HOST, resolve),
  );
  log.info(
    { host: config.RESPONDER_HOST, port: config.RESPONDER_PORT, cached: cache.size },
    `responder listening on http://${config.RESPONDER_HOST}:${config.RESPONDER_PORT}`,
  );
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));

  if (config.TLS_ALPN_PORT && !rt.secretsAvailable) {
    log.warn({}, 'TLS-ALPN-01 listener off: it needs MASTER_KEY to open challenge keys, and this process has none');
  } else if (config.TLS_ALPN_PORT) {
    const tls = createTlsAlpnServer(tlsAlpnLookup(rt.store, rt.secrets, () => new Date()));
    await new Promise<void>((resolve, reject) =>
      tls.once('error', reject).listen(config.TLS_ALPN_PORT, config.RESPONDER_HOST, resolve),
    );
    log.info(
      { port: config.TLS_ALPN_PORT },
      `TLS-ALPN-01 listener on ${config.RESPONDER_HOST}:${config.TLS_ALPN_PORT}`,
    );
    closers.push(() => new Promise((resolve) => tls.close(() => resolve())));
  } else {
    log.info({}, 'TLS-ALPN-01 listener off (TLS_ALPN_PORT not set)');
  }
  return async () => {
    for (const close of closers) await close();
  };
}
