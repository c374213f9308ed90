import { dayKey } from '../domain/core-event.ts';
import { pendingDeploy } from '../domain/deploy-time.ts';
import { certificateNames } from '../domain/managed-certificate.ts';
import { asCoreError, isDatabaseUnavailable } from '../errors.ts';
import type { ApprovalService } from '../approvals/approval-service.ts';
import { boundedMap } from '../services/bounded-map.ts';
import { type CoreDepsWith, noProgress, type Progress } from '../services/core-deps.ts';
import type { DeployService } from './deploy-service.ts';
import { type LeaseOptions, withLease } from '../services/with-lease.ts';

export interface AutoDeployReport {
  candidates: number;
  deployed: string[];
  failed: { name: string; device: string; message: string }[];
  waiting: string[];
  /** Renewed but before the profile's deploy time. */
  notYet: string[];
  skipped: number;
}

const BATCH = 500;
const CONCURRENCY = 2;

/**
 * The seed's *Auto deployment*: certificates whose bindings do not serve the current issue yet are
 * deployed at the profile's deploy time in its time zone (at once when what is served would expire first),
 * one worker per certificate (lease), after an approval when the profile asks for one.
 */
export class AutoDeployService {
  constructor(
    private readonly deps: CoreDepsWith<'bindings' | 'certificates' | 'events' | 'leases' | 'profiles'>,
    private readonly deploys: DeployService,
    private readonly approvals: ApprovalService,
    private readonly lease: LeaseOptions,
  ) {}

  async run(progress: Progress = noProgress): Promise<AutoDeployReport> {
    const report: AutoDeployReport = { candidates: 0, deployed: [], failed: [], waiting: [], notYet: [], skipped: 0 };
    const ids = await this.deps.store.certificates.listDeployCandidates(BATCH);
    report.candidates = ids.length;
    await boundedMap(ids, CONCURRENCY, async (id) => {
      const claimed = await withLease(this.deps.store.leases, `deploy:${id}`, this.lease, this.deps.log, () =>
        this.deployOne(id, report, progress),
      );
      if (!claimed.ran) report.skipped++;
    });
    return report;
  }

  private async deployOne(id: string, report: AutoDeployReport, progress: Progress): Promise<void> {
    const now = this.deps.clock.now();
    const cert = await this.deps.store.certificates.findById(id);
    if (cert?.state !== 'issued' || !cert.issuedAt || !cert.fingerprintSha256) return;
    const profile = (await this.deps.store.profiles.findById(cert.profileId))!;
    if (!profile.autoDeploy) return;
    const bindings = await this.deps.store.bindings.list({ certificateId: id });
    // The same rule `cert show` uses to say when a renewed certificate will be deployed.
    const due = pendingDeploy({ cert, bindings, profile, now });
    if (!due) {
      report.skipped++;
      return;
    }
    if (!due.due) {
      report.notYet.push(cert.name);
      return;
    }
    const behind = bindings.filter((b) => b.deployedFingerprint !== cert.fingerprintSha256);
    if (profile.deployApproval) {
      const approval = await this.approvals.requestForScheduler('deploy', cert, {
        names: certificateNames(cert),
        serial: cert.serial,
        profiles: behind.map((b) => b.profilePath),
        devices: [...new Set(behind.map((b) => b.deviceId))].length,
      });
      if (approval.state !== 'approved' || !(await this.approvals.consume(approval))) {
        report.waiting.push(cert.name);
        return;
      }
    }
    progress(
      `${cert.name}: deploying serial ${cert.serial} (${due.reason === 'expires_first' ? 'what is served expires first' : due.reason === 'served_revoked' ? 'what is served was revoked' : `deploy time ${profile.deployTime} ${profile.deployTimeZone}`})`,
    );
    try {
      const result = await this.deploys.deploy(cert.name, {}, 'scheduler', progress);
      // Each device's outcome is told by the deploy use case.
      for (const d of result.devices) {
        const ok = d.result === 'succeeded' || d.result === 'unchanged';
        if (ok) report.deployed.push(`${cert.name}@${d.device}`);
        else report.failed.push({ name: cert.name, device: d.device, message: d.error?.message ?? d.outcome });
      }
    } catch (err) {
      // A database outage is not a failed deploy to raise: the run ends and the next one deploys.
      if (isDatabaseUnavailable(err)) throw err;
      const e = asCoreError(err);
      report.failed.push({ name: cert.name, device: '*', message: e.message });
      await this.deps.store.events.emit({
        kind: 'deploy_failed',
        certificateId: cert.id,
        subject: cert.name,
        dedupeKey: `${cert.id}:deploy_failed:${dayKey(now)}:${cert.serial}:*`,
        detail: { code: e.code, message: e.message },
        needsPerson: true,
      });
    }
  }
}
