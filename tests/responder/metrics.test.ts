import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponderApp } from '../../responder/app.ts';
import { createResponderMetrics } from '../../responder/metrics.ts';
import { createResponderServer } from '../../responder/server.ts';

const TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';

describe('responder: GET /metrics', () => {
  const metrics = createResponderMetrics(() => 7);
  const app = createResponderApp({
    httpKeyAuthorization: () => null,
    ready: async () => true,
    metrics: metrics.registry,
  });
  const server = createResponderServer(
    app,
    (token) => (token === TOKEN ? `${TOKEN}.thumb` : null),
    (result) => metrics.challenge[result].inc(),
  );
  let base: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('counts hits, misses and malformed tokens and reports the cache size in Prometheus text', async () => {
    await fetch(`${base}/.well-known/acme-challenge/${TOKEN}`);
    await fetch(`${base}/.well-known/acme-challenge/${'B'.repeat(43)}`);
    await fetch(`${base}/.well-known/acme-challenge/${'B'.repeat(43)}`);
    await fetch(`${base}/.well-known/acme-challenge/short`);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('bigip_acme_challenge_requests_total{result="hit"} 1');
    expect(text).toContain('bigip_acme_challenge_requests_total{result="miss"} 2');
    expect(text).toContain('bigip_acme_challenge_requests_total{result="malformed"} 1');
    expect(text).toContain('bigip_acme_challenge_cache_tokens 7');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('is a 404 when no registry is given', async () => {
    const bare = createResponderApp({ httpKeyAuthorization: () => null, ready: async () => true });
    expect((await bare.request('/metrics')).status).toBe(404);
  });
});
