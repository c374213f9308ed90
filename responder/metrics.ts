import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ChallengeResult } from './challenge-answer.ts';

/** Prometheus metrics of one responder process, served at GET /metrics. */
export interface ResponderMetrics {
  registry: Registry;
  /** Children bound once, so the hot path pays one increment, not a label lookup. */
  challenge: Record<ChallengeResult, Counter.Internal>;
}

/**
 * `databaseUp` answers whether the challenge cache is in step with the database (false while it is
 * unreachable and the responder serves from memory); without it the gauge is not exported.
 */
export function createResponderMetrics(cacheSize: () => number, databaseUp?: () => boolean): ResponderMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'bigip_acme_challenge_requests_total',
    help: 'HTTP-01 challenge requests by result: hit (answered), miss (well-formed, unknown), malformed (never looked up)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'bigip_acme_challenge_cache_tokens',
    help: 'Pending HTTP-01 tokens held in memory',
    registers: [registry],
    collect() {
      this.set(cacheSize());
    },
  });
  if (databaseUp) {
    new Gauge({
      name: 'bigip_acme_database_up',
      help: '1 while the database answers and the challenge cache is in step with it; 0 while it is unreachable (challenges are served from memory)',
      registers: [registry],
      collect() {
        this.set(databaseUp() ? 1 : 0);
      },
    });
  }
  return {
    registry,
    challenge: { hit: requests.labels('hit'), miss: requests.labels('miss'), malformed: requests.labels('malformed') },
  };
}
