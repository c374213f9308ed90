import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CachedRead } from '../../core/monitoring/cached-read.ts';
import type { MetricsSnapshot } from '../../core/monitoring/metrics-snapshot.ts';
import { registerLifecycleMetrics } from '../../responder/lifecycle-metrics.ts';
import { parsePrometheusText, samples, sampleValue } from '../support/prometheus-text.ts';

const EXPIRES = new Date('2026-09-01T00:00:00Z');
const RENEW = new Date('2026-08-01T00:00:00Z');
const DEPLOYED = new Date('2026-06-02T03:04:05Z');
const READ = new Date('2026-06-03T00:00:00Z');

function snapshot(overrides: Partial<MetricsSnapshot> = {}): MetricsSnapshot {
  return {
    readAt: READ,
    certificates: [
      { name: 'www', profile: 'le', expiresAt: EXPIRES, renewAt: RENEW, ready: 'True', failedAttempts: 0 },
      { name: 'new', profile: 'le', expiresAt: null, renewAt: null, ready: 'Unknown', failedAttempts: 0 },
    ],
    renewals: { succeeded: 3, failed: 1 },
    deploys: { succeeded: 4, unchanged: 1, failed: 2, rolled_back: 0 },
    devices: [
      { device: 'bigip-a', lastSuccessAt: DEPLOYED, failingCertificates: 1 },
      { device: 'bigip-b', lastSuccessAt: null, failingCertificates: 0 },
    ],
    jobs: [
      { job: 'renew', lastSucceededAt: RENEW, lastFinishedAt: READ },
      { job: 'deploy', lastSucceededAt: null, lastFinishedAt: null },
    ],
    ...overrides,
  };
}

async function scrape(registry: Registry) {
  return parsePrometheusText(await registry.metrics());
}

describe('lifecycle metrics: the certificate, deploy and job series on /metrics', () => {
  it('renders a snapshot as cert-manager-style series', async () => {
    const registry = new Registry();
    registerLifecycleMetrics(registry, async () => ({ value: snapshot(), stale: false }));
    const all = await scrape(registry);
    const www = { name: 'www', profile: 'le' };
    expect(sampleValue(all, 'bigip_acme_certificate_expiration_timestamp_seconds', www)).toBe(EXPIRES.getTime() / 1000);
    expect(sampleValue(all, 'bigip_acme_certificate_renewal_timestamp_seconds', www)).toBe(RENEW.getTime() / 1000);
    // Before its first issuance a certificate has no expiry or renewal time, but does have a Ready condition.
    expect(samples(all, 'bigip_acme_certificate_expiration_timestamp_seconds', { name: 'new' })).toEqual([]);
    expect(samples(all, 'bigip_acme_certificate_renewal_timestamp_seconds', { name: 'new' })).toEqual([]);
    expect(samples(all, 'bigip_acme_certificate_ready_status', www).map((s) => [s.labels.condition, s.value])).toEqual([
      ['True', 1],
      ['False', 0],
      ['Unknown', 0],
    ]);
    expect(sampleValue(all, 'bigip_acme_certificate_ready_status', { name: 'new', condition: 'Unknown' })).toBe(1);
    expect(sampleValue(all, 'bigip_acme_certificate_renewal_failed_attempts', www)).toBe(0);
    expect(sampleValue(all, 'bigip_acme_renewals_total', { result: 'succeeded' })).toBe(3);
    expect(sampleValue(all, 'bigip_acme_renewals_total', { result: 'failed' })).toBe(1);
    expect(samples(all, 'bigip_acme_deploys_total').map((s) => [s.labels.result, s.value])).toEqual([
      ['succeeded', 4],
      ['unchanged', 1],
      ['failed', 2],
      ['rolled_back', 0],
    ]);
    expect(sampleValue(all, 'bigip_acme_device_last_deploy_success_timestamp_seconds', { device: 'bigip-a' })).toBe(
      DEPLOYED.getTime() / 1000,
    );
    expect(sampleValue(all, 'bigip_acme_device_last_deploy_success_timestamp_seconds', { device: 'bigip-b' })).toBe(0);
    expect(sampleValue(all, 'bigip_acme_device_failing_deploys', { device: 'bigip-a' })).toBe(1);
    expect(sampleValue(all, 'bigip_acme_job_last_success_timestamp_seconds', { job: 'renew' })).toBe(
      RENEW.getTime() / 1000,
    );
    expect(sampleValue(all, 'bigip_acme_job_last_success_timestamp_seconds', { job: 'deploy' })).toBe(0);
    expect(sampleValue(all, 'bigip_acme_job_last_run_timestamp_seconds', { job: 'renew' })).toBe(READ.getTime() / 1000);
    expect(sampleValue(all, 'bigip_acme_metrics_stale')).toBe(0);
    expect(sampleValue(all, 'bigip_acme_metrics_read_timestamp_seconds')).toBe(READ.getTime() / 1000);
  });

  it('a certificate or device that is gone disappears from the next scrape', async () => {
    const registry = new Registry();
    let current = snapshot();
    registerLifecycleMetrics(registry, async () => ({ value: current, stale: false }));
    expect(samples(await scrape(registry), 'bigip_acme_certificate_ready_status', { name: 'new' })).toHaveLength(3);
    current = snapshot({ certificates: current.certificates.slice(0, 1), devices: current.devices.slice(0, 1) });
    const all = await scrape(registry);
    expect(samples(all, 'bigip_acme_certificate_ready_status', { name: 'new' })).toEqual([]);
    expect(samples(all, 'bigip_acme_device_failing_deploys', { device: 'bigip-b' })).toEqual([]);
    expect(samples(all, 'bigip_acme_certificate_ready_status', { name: 'www' })).toHaveLength(3);
  });

  it('while the database cannot be read, the last values stay and bigip_acme_metrics_stale is 1; the scrape still answers', async () => {
    let now = 0;
    let down = false;
    const cached = new CachedRead(
      async () => {
        if (down) throw new Error('database unreachable');
        return snapshot();
      },
      { maxAgeMs: 1_000, timeoutMs: 1_000, clock: { now: () => new Date(now) } },
    );
    const registry = new Registry();
    registerLifecycleMetrics(registry, () => cached.get());
    const before = await scrape(registry);
    down = true;
    now += 1_000;
    const during = await scrape(registry);
    expect(sampleValue(during, 'bigip_acme_metrics_stale')).toBe(1);
    const lifecycle = (all: typeof before) => all.filter((s) => s.name !== 'bigip_acme_metrics_stale');
    expect(lifecycle(during)).toEqual(lifecycle(before));
    down = false;
    now += 1_000;
    expect(sampleValue(await scrape(registry), 'bigip_acme_metrics_stale')).toBe(0);
  });

  it('with nothing ever read (the database down since start), the scrape answers: no lifecycle series, stale 1', async () => {
    const registry = new Registry();
    registerLifecycleMetrics(registry, async () => ({ value: null, stale: true }));
    const all = await scrape(registry);
    expect(sampleValue(all, 'bigip_acme_metrics_stale')).toBe(1);
    expect(samples(all, 'bigip_acme_certificate_ready_status')).toEqual([]);
    expect(samples(all, 'bigip_acme_renewals_total')).toEqual([]);
  });
});
