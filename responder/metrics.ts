import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ChallengeResult } from './challenge-answer.ts';

/** Prometheus metrics of one responder process, served at GET /metrics. */
export interface ResponderMetrics {
  registry: Registry;
  /** Children bound once, so the hot path pays one increment, not a label lookup. */
  challenge: Record<ChallengeResult, Counter.Internal>;
}

export function createResponderMetrics(cacheSize: () => number): ResponderMetrics {
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
  return {
    registry,
    challenge: { hit: requests.labels('hit'), miss: requests.labels('miss'), malformed: requests.labels('malformed') },
  };
}
