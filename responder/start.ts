import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Server as TlsServer } from 'node:tls';
import { CoreError, isCoreError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/ports/logger.ts';
import type { Store } from '../core/ports/store.ts';
import type { SecretBox } from '../core/secrets/secret-box.ts';
import { ChallengeHookService, challengeHookDeps } from '../core/challenges/challenge-hook-service.ts';
import { httpChallengePresenter } from '../core/challenges/http-challenge-presenter.ts';
import { tlsAlpnPresenter } from '../core/challenges/tls-alpn-presenter.ts';
import { CachedRead } from '../core/monitoring/cached-read.ts';
import { readMetricsSnapshot } from '../core/monitoring/metrics-snapshot.ts';
import { systemClock } from '../core/ports/clock.ts';
import type { Database } from '../db/client.ts';
import type { Runtime } from '../runtime.ts';
import { createResponderApp } from './app.ts';
import { ChallengeCache, type ChallengeSource } from './challenge-cache.ts';
import { createResponderMetrics } from './metrics.ts';
import { registerLifecycleMetrics } from './lifecycle-metrics.ts';
import { cacheReadiness, type Readiness } from './readiness.ts';
import { createResponderServer } from './server.ts';
import { createTlsAlpnServer } from './tls-alpn-server.ts';

/** The channel the authorizations trigger notifies (db/migrations/0001_challenge_notify.sql). */
export const CHALLENGE_CHANNEL = 'bigip_acme_challenges';

/** The cache's source: what to serve is the core's answer (challenge presenter); the responder only listens. */
export function challengeSource(store: Store, database: Pick<Database, 'listen'>): ChallengeSource {
  return {
    ...httpChallengePresenter(store),
    listen: (onToken, onResync, onLost) => database.listen(CHALLENGE_CHANNEL, onToken, onResync, onLost),
  };
}

/** A readiness probe that does not answer in this time counts as an unreachable database. */
const READY_PROBE_MS = 2_000;

/**
 * `/readyz`: one cheap query proves the database answers now (the cache alone would notice an outage only
 * at its next read); a lost connection or a probe without answer marks the cache stale, which then reports
 * degraded until a full reload has caught up. Any other failure (a broken schema, say) is not ready.
 */
async function probeReadiness(store: Store, cache: ChallengeCache): Promise<Readiness> {
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
    await Promise.race([store.profiles.list(), timeout]);
  } catch (err) {
    if (!isCoreError(err) || err.code !== 'db_unavailable')
      return { state: 'not_ready', detail: isCoreError(err) ? err.code : 'internal' };
    cache.markStale(err);
  } finally {
    clearTimeout(timer);
  }
  return cacheReadiness(cache.health(), cache.size);
}

export interface ResponderOptions {
  store: Store;
  database: Pick<Database, 'listen'>;
  /** Opens challenge keys and seals hook tls entries; null without MASTER_KEY (then no TLS-ALPN-01 at all). */
  secrets: SecretBox | null;
  /** Where the HTTP-01 responder and challenge-hook listen; null: built but not listening. Port 0: any. */
  http: { host: string; port: number } | null;
  /** Where the TLS-ALPN-01 listener listens; null: off. */
  tlsAlpn: { host: string; port: number } | null;
  log?: Logger;
  /** How long certificate, deploy and job metrics read from the database are reused; default METRICS_CACHE_MS. */
  metricsCacheMs?: number;
}

/** Scrapes within this time share one database read (several Prometheus servers, or a scrape storm). */
export const METRICS_CACHE_MS = 10_000;

export interface Responder {
  /** The HTTP listener (listening unless `http` was null), e.g. for its address. */
  http: Server;
  /** The TLS-ALPN-01 listener, or null when off. */
  tlsAlpn: TlsServer | null;
  cache: ChallengeCache;
  close(): Promise<void>;
}

function listen(server: Server | TlsServer, at: { host: string; port: number }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new Error(`${what} cannot listen on ${at.host}:${at.port}: ${err.message}`, { cause: err }));
    server.once('error', onError).listen(at.port, at.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * The responder as production runs it and the tests start it: the in-memory challenge cache fed by the
 * database's notifications, the node:http fast path for HTTP-01, the Hono app with the challenge-hook (a core
 * service), metrics and readiness, and the TLS-ALPN-01 listener asking the core which certificate to present.
 * If a listener cannot start, what was started is stopped again and the error says which port.
 */
export async function startResponder(opts: ResponderOptions): Promise<Responder> {
  const log = opts.log ?? silentLogger;
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close();
  };
  const cache: ChallengeCache = new ChallengeCache(challengeSource(opts.store, opts.database), {
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
  const lifecycle = new CachedRead(() => readMetricsSnapshot({ store: opts.store, clock: systemClock }), {
    maxAgeMs: opts.metricsCacheMs ?? METRICS_CACHE_MS,
    timeoutMs: READY_PROBE_MS,
    clock: systemClock,
    onError: (err) =>
      log.debug({ err: (err as Error).message }, 'metrics: database read failed; serving the last values as stale'),
  });
  registerLifecycleMetrics(metrics.registry, () => lifecycle.get());
  const app = createResponderApp({
    httpKeyAuthorization: (token, host) => cache.answer(token, host),
    ready: () => probeReadiness(opts.store, cache),
    metrics: metrics.registry,
    hook: new ChallengeHookService(challengeHookDeps(opts.store, opts.secrets, () => new Date(), randomUUID)),
  });
  const http = createResponderServer(
    app,
    (token, host) => cache.answer(token, host),
    (result) => metrics.challenge[result].inc(),
  );
  let tlsAlpn: TlsServer | null = null;
  try {
    if (opts.http) {
      await listen(http, opts.http, 'HTTP-01 responder');
      closers.push(() => new Promise((resolve) => http.close(() => resolve())));
    }
    if (opts.tlsAlpn && opts.secrets) {
      const tls = createTlsAlpnServer(tlsAlpnPresenter(opts.store, opts.secrets, () => new Date()));
      await listen(tls, opts.tlsAlpn, 'TLS-ALPN-01 listener');
      closers.push(() => new Promise((resolve) => tls.close(() => resolve())));
      tlsAlpn = tls;
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { http, tlsAlpn, cache, close: closeAll };
}

/** Starts the HTTP-01 responder and (when TLS_ALPN_PORT is set) the TLS-ALPN-01 listener; returns their closer. */
export async function startChallengeListeners(rt: Runtime): Promise<() => Promise<void>> {
  const { config, log } = rt;
  const secrets = rt.secretsAvailable ? rt.secrets : null;
  if (config.TLS_ALPN_PORT && !secrets) {
    log.warn({}, 'TLS-ALPN-01 listener off: it needs MASTER_KEY to open challenge keys, and this process has none');
  }
  const responder = await startResponder({
    store: rt.store,
    database: rt.database,
    secrets,
    http: { host: config.RESPONDER_HOST, port: config.RESPONDER_PORT },
    tlsAlpn: config.TLS_ALPN_PORT ? { host: config.RESPONDER_HOST, port: config.TLS_ALPN_PORT } : null,
    log,
  });
  log.info(
    { host: config.RESPONDER_HOST, port: config.RESPONDER_PORT, cached: responder.cache.size },
    `responder listening on http://${config.RESPONDER_HOST}:${config.RESPONDER_PORT}`,
  );
  if (responder.tlsAlpn) {
    log.info(
      { port: config.TLS_ALPN_PORT },
      `TLS-ALPN-01 listener on ${config.RESPONDER_HOST}:${config.TLS_ALPN_PORT}`,
    );
  } else if (!config.TLS_ALPN_PORT) {
    log.info({}, 'TLS-ALPN-01 listener off (TLS_ALPN_PORT not set)');
  }
  return responder.close;
}
