import { Counter, Gauge, type Registry } from 'prom-client';
import { READY_CONDITIONS } from '../core/domain/ready-condition.ts';
import type { CachedValue } from '../core/monitoring/cached-read.ts';
import type { MetricsSnapshot } from '../core/monitoring/metrics-snapshot.ts';

const seconds = (at: Date): number => at.getTime() / 1000;

/**
 * The certificate lifecycle on `/metrics`, named as cert-manager's so its alerts and dashboards carry over.
 * Values come from the database at scrape time (`snapshot`, a cached core read), never from this process's
 * memory: every replica serving `/metrics` answers the same, and a restart resets nothing. Each collect()
 * rebuilds its series from the snapshot, so a deleted certificate or device disappears. While the database
 * cannot be read, the last values stay and `bigip_acme_metrics_stale` is 1.
 */
export function registerLifecycleMetrics(
  registry: Registry,
  snapshot: () => Promise<CachedValue<MetricsSnapshot>>,
): void {
  const registers = [registry];
  const current = async () => (await snapshot()).value;

  new Gauge({
    name: 'bigip_acme_certificate_expiration_timestamp_seconds',
    help: 'When the live certificate expires (notAfter), as a Unix timestamp; absent before the first issuance',
    labelNames: ['name', 'profile'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const c of s?.certificates ?? [])
        if (c.expiresAt) this.set({ name: c.name, profile: c.profile }, seconds(c.expiresAt));
    },
  });
  new Gauge({
    name: 'bigip_acme_certificate_renewal_timestamp_seconds',
    help: 'When the renew job renews the certificate (ARI window, 2/3 of lifetime or the profile deadline), as a Unix timestamp',
    labelNames: ['name', 'profile'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const c of s?.certificates ?? [])
        if (c.renewAt) this.set({ name: c.name, profile: c.profile }, seconds(c.renewAt));
    },
  });
  new Gauge({
    name: 'bigip_acme_certificate_ready_status',
    help: 'The Ready condition as cert-manager reports it: 1 for the current condition (True: issued and not expired; False: expired, or the first issuance failed; Unknown: first issuance under way), 0 for the others',
    labelNames: ['name', 'profile', 'condition'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const c of s?.certificates ?? [])
        for (const condition of READY_CONDITIONS)
          this.set({ name: c.name, profile: c.profile, condition }, c.ready === condition ? 1 : 0);
    },
  });
  new Gauge({
    name: 'bigip_acme_certificate_renewal_failed_attempts',
    help: 'Consecutive failed automatic renewal attempts of the certificate; 0 once a renewal succeeds',
    labelNames: ['name', 'profile'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const c of s?.certificates ?? []) this.set({ name: c.name, profile: c.profile }, c.failedAttempts);
    },
  });
  new Counter({
    name: 'bigip_acme_renewals_total',
    help: 'Renewals that ended, by result: succeeded (a new certificate, whoever drove it), failed (a failed automatic attempt); from the audit log',
    labelNames: ['result'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      if (!s) return;
      this.labels('succeeded').inc(s.renewals.succeeded);
      this.labels('failed').inc(s.renewals.failed);
    },
  });
  new Counter({
    name: 'bigip_acme_deploys_total',
    help: 'Finished deploy attempts of a certificate to a device, by result (succeeded, unchanged, failed, rolled_back); from the deploy history',
    labelNames: ['result'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      if (!s) return;
      for (const [result, n] of Object.entries(s.deploys)) this.labels(result).inc(n);
    },
  });
  new Gauge({
    name: 'bigip_acme_device_last_deploy_success_timestamp_seconds',
    help: 'When a deploy to the device last finished succeeded or unchanged, as a Unix timestamp; 0: never',
    labelNames: ['device'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const d of s?.devices ?? []) this.set({ device: d.device }, d.lastSuccessAt ? seconds(d.lastSuccessAt) : 0);
    },
  });
  new Gauge({
    name: 'bigip_acme_device_failing_deploys',
    help: 'Certificates bound to the device whose newest deploy attempt there failed or was rolled back',
    labelNames: ['device'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const d of s?.devices ?? []) this.set({ device: d.device }, d.failingCertificates);
    },
  });
  new Gauge({
    name: 'bigip_acme_job_last_success_timestamp_seconds',
    help: 'When a run of the scheduled job last finished ok (no item failed), as a Unix timestamp; 0: never',
    labelNames: ['job'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const j of s?.jobs ?? []) this.set({ job: j.job }, j.lastSucceededAt ? seconds(j.lastSucceededAt) : 0);
    },
  });
  new Gauge({
    name: 'bigip_acme_job_last_run_timestamp_seconds',
    help: 'When a run of the scheduled job last finished, whatever its result, as a Unix timestamp; 0: never',
    labelNames: ['job'] as const,
    registers,
    async collect() {
      const s = await current();
      this.reset();
      for (const j of s?.jobs ?? []) this.set({ job: j.job }, j.lastFinishedAt ? seconds(j.lastFinishedAt) : 0);
    },
  });
  new Gauge({
    name: 'bigip_acme_metrics_stale',
    help: '1 while the database cannot be read and the certificate, deploy and job metrics show their last values; 0 when they are current',
    registers,
    async collect() {
      this.set((await snapshot()).stale ? 1 : 0);
    },
  });
  new Gauge({
    name: 'bigip_acme_metrics_read_timestamp_seconds',
    help: 'When the certificate, deploy and job metrics were read from the database, as a Unix timestamp; 0: never',
    registers,
    async collect() {
      const s = await current();
      this.set(s ? seconds(s.readAt) : 0);
    },
  });
}
