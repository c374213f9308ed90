import type { CacheHealth } from './challenge-cache.ts';

/**
 * What `GET /readyz` says. `degraded` is still 200: the responder answers every challenge it holds from
 * memory while the database is away, and taking every replica out of the pool at once (they share the
 * database) would turn a database outage into a challenge outage. The body and the
 * `bigip_acme_database_up` gauge tell monitoring; decision 0013.
 */
export type Readiness =
  | { state: 'ready' }
  | { state: 'degraded'; detail: string }
  | { state: 'not_ready'; detail: string };

/** The readiness of a responder whose challenges come from `health`'s cache holding `cached` tokens. */
export function cacheReadiness(health: CacheHealth, cached: number): Readiness {
  if (health.fresh) return { state: 'ready' };
  const challenges = cached === 1 ? '1 cached challenge' : `${cached} cached challenges`;
  return {
    state: 'degraded',
    detail: `database unreachable since ${health.since.toISOString()}; serving ${challenges}`,
  };
}

/** The HTTP answer for a readiness; `true`/`false` are the plain ready / not ready of simple deployments and tests. */
export function readinessResponse(readiness: boolean | Readiness): { status: 200 | 503; body: string } {
  const r: Readiness =
    readiness === true ? { state: 'ready' } : readiness === false ? { state: 'not_ready', detail: '' } : readiness;
  switch (r.state) {
    case 'ready':
      return { status: 200, body: 'ready\n' };
    case 'degraded':
      return { status: 200, body: `degraded: ${r.detail}\n` };
    case 'not_ready':
      return { status: 503, body: r.detail ? `not ready: ${r.detail}\n` : 'not ready\n' };
  }
}
