import { createPrivateKey, randomBytes } from 'node:crypto';
import type { Binding } from '../domain/binding.ts';
import { splitPemChain } from '../domain/x509.ts';
import { versionedObjects } from '../domain/deploy-plan.ts';
import type { Deployment, DeploymentResult, DeployStep } from '../domain/deployment.ts';
import type { Device } from '../domain/device.ts';
import { abandonedDeployment, deployTargetLeaseKey } from '../domain/abandoned-deployment.ts';
import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import { asCoreError, CoreError, seeList } from '../errors.ts';
import { deployRefusal, hasIssuedMaterial } from '../domain/validation/deploy-precheck.ts';
import { emitCertificateEvent } from '../issuance/certificate-events.ts';
import { deployConcurrency, MAX_REQUESTS_IN_FLIGHT_PER_DEVICE } from '../domain/deploy-fan-out.ts';
import { boundedMap } from '../services/bounded-map.ts';
import { type CoreDepsWith, noProgress, type Progress, secretAad } from '../services/core-deps.ts';
import type { DeployMaterial } from '../domain/device-deploy-outcome.ts';
import { runDeviceDeployment } from './device-deployment.ts';
import { DeviceRequestLimit } from './device-request-limit.ts';
import type { DeviceService } from '../services/device-service.ts';
import { type LeaseOptions, withLease } from '../services/with-lease.ts';
import { appendAudit } from '../services/audit-trail.ts';
import { chooseDeployMember, haGroupKey, type MemberState } from '../domain/ha-topology.ts';
import type { ServedCertificateProbe } from '../ports/served-certificate-probe.ts';
import { tlsServedCertificate } from '../net/tls-served-certificate.ts';
import { type SyncResult, type SyncTiming, syncGroup, verifyPeer } from './group-sync.ts';
import { checkServed, type ServedCheck } from './served-check.ts';

export interface DeployOptions {
  /** Only this device's bindings (for a member of a device group: its group's). */
  device?: string | undefined;
  /** A device group: install and switch on this registered member instead of the active one. */
  via?: string | undefined;
  /** Devices deployed at once; one slow device holds up only its own slot. Default: every device, up to 64 (deploy-fan-out.ts). */
  concurrency?: number | undefined;
  /**
   * How long a device waits when another process holds the deploy of this certificate to it: by default one
   * lease length, long enough for the claim of a process that was killed to lapse (decision 0010).
   */
  waitMs?: number | undefined;
}

export interface DeviceDeployReport {
  device: string;
  /** The device group this device was deployed through or checked as a peer of; null for a standalone device. */
  group?: string | null | undefined;
  deploymentId: string;
  result: DeploymentResult;
  step: DeployStep;
  outcome: string;
  error: { code: string; message: string } | null;
}

export interface DeployReport {
  certificate: string;
  serial: string;
  devices: DeviceDeployReport[];
  /** True when every device ended `succeeded` or `unchanged`. */
  ok: boolean;
}

/** The checks after the switch: the group sync and the TLS handshake (`CoreServiceOptions.deployChecks`). */
export interface DeployChecks extends SyncTiming {
  handshakeTimeoutMs: number;
  /**
   * `required`: a deploy ends with a TLS handshake per bound virtual server that must show the new serial.
   * `off` (DEPLOY_HANDSHAKE_CHECK): for hosts that cannot reach the virtual servers' addresses; the deploy
   * then trusts what the device reports, and says so.
   */
  handshake: 'required' | 'off';
  /** How a handshake reads what a virtual server presents; default node:tls. */
  probe: ServedCertificateProbe;
}

export const DEFAULT_DEPLOY_CHECKS: DeployChecks = {
  timeoutMs: 5 * 60_000,
  pollMs: 3_000,
  handshakeTimeoutMs: 10_000,
  handshake: 'required',
  probe: tlsServedCertificate,
};

/** Bindings on registered members of one device group: deployed once, through one member, then synced. */
interface GroupTarget {
  key: string;
  name: string;
  autoSync: boolean;
  /** Every registered member, bound or not. */
  members: Device[];
  /** The real binding rows on any member. */
  bindings: Binding[];
}

/** What the steps after the switch need for a group, and where the peers' reports go. */
interface GroupRun {
  target: GroupTarget;
  peers: Device[];
  profiles: string[];
  peerReports: DeviceDeployReport[];
}

/**
 * Puts a certificate on every device its bindings name, each device recorded as one deployment. Devices that
 * are registered members of one device group are deployed once, through the active member (or the one the
 * operator chooses), then the group is synced and every peer is read back. The last step of every deploy is
 * a TLS handshake with each virtual server that uses a bound profile.
 */
export class DeployService {
  /** Shared by every deploy in this process, so two certificates going to one device share its two slots. */
  private readonly requestLimit = new DeviceRequestLimit(MAX_REQUESTS_IN_FLIGHT_PER_DEVICE);

  constructor(
    private readonly deps: CoreDepsWith<
      'audit' | 'bindings' | 'certificates' | 'deployments' | 'deviceObjects' | 'devices' | 'events' | 'leases'
    >,
    private readonly devices: DeviceService,
    private readonly lease: LeaseOptions,
    checks: Partial<DeployChecks> = {},
  ) {
    this.checks = { ...DEFAULT_DEPLOY_CHECKS, ...checks };
  }

  private readonly checks: DeployChecks;

  async deploy(
    certName: string,
    opts: DeployOptions,
    actor: string,
    progress: Progress = noProgress,
  ): Promise<DeployReport> {
    const { cert, bindings } = await this.plan(certName, opts);
    const material = await this.material(cert);
    const { byDevice, groups } = await this.deployTargets(bindings);
    const targets: (
      | { kind: 'device'; deviceId: string; bindings: Binding[] }
      | { kind: 'group'; group: GroupTarget }
    )[] = [
      ...[...byDevice].map(([deviceId, b]) => ({ kind: 'device' as const, deviceId, bindings: b })),
      ...[...groups.values()].map((group) => ({ kind: 'group' as const, group })),
    ];

    let done = 0;
    const waitMs = opts.waitMs ?? this.lease.ttlMs;
    const reports = await boundedMap(targets, deployConcurrency(targets.length, opts.concurrency), async (t) => {
      const told =
        t.kind === 'device'
          ? [await this.deployToDevice(cert, t.deviceId, t.bindings, material, actor, waitMs, progress, null)]
          : await this.deployToGroup(cert, t.group, material, actor, waitMs, opts.via, progress);
      done++;
      for (const report of told) {
        progress(
          `[${done}/${targets.length}] ${report.device}${report.group ? ` (group ${report.group})` : ''}: ${report.result}${report.error ? ` at ${report.step}: ${report.error.message}` : ''}`,
        );
        await this.emitOutcome(cert, report);
      }
      return told;
    });
    const devices = reports.flat();
    return {
      certificate: cert.name,
      serial: cert.serial,
      devices,
      ok: devices.every((r) => r.result === 'succeeded' || r.result === 'unchanged'),
    };
  }

  /** Standalone devices' bindings, and bindings on members of a device group gathered per group. */
  private async deployTargets(bindings: Binding[]) {
    const all = await this.deps.store.devices.list();
    const byId = new Map(all.map((d) => [d.id, d]));
    const byDevice = new Map<string, Binding[]>();
    const groups = new Map<string, GroupTarget>();
    for (const b of bindings) {
      const topology = byId.get(b.deviceId)?.haTopology ?? null;
      const key = haGroupKey(topology);
      if (key === null || !topology?.group) {
        byDevice.set(b.deviceId, [...(byDevice.get(b.deviceId) ?? []), b]);
        continue;
      }
      const group = groups.get(key) ?? {
        key,
        name: topology.group.name,
        autoSync: topology.group.autoSync,
        members: all.filter((d) => haGroupKey(d.haTopology) === key),
        bindings: [],
      };
      group.bindings.push(b);
      groups.set(key, group);
    }
    return { byDevice, groups };
  }

  /**
   * One device group, under the group's lease (two processes never deploy one certificate to one group at
   * once, whichever member each would pick): choose the member, deploy to it, sync, verify the peers.
   */
  private async deployToGroup(
    cert: ManagedCertificate,
    target: GroupTarget,
    material: DeployMaterial,
    actor: string,
    waitMs: number,
    via: string | undefined,
    progress: Progress,
  ): Promise<DeviceDeployReport[]> {
    const claimed = await withLease(
      this.deps.store.leases,
      `deploy-group:${cert.id}:${target.key}`,
      this.lease,
      this.deps.log,
      () => this.deployToGroupClaimed(cert, target, material, actor, waitMs, via, progress),
    );
    if (claimed.ran) return claimed.value;
    const why = `another deploy of ${cert.name} to device group ${target.name} is running (or its process stopped less than ${this.lease.ttlMs / 1000} s ago)`;
    return [this.groupRefusal(target, `not attempted: ${why}; nothing written`, 'conflict', why)];
  }

  private groupRefusal(target: GroupTarget, outcome: string, code: string, message: string): DeviceDeployReport {
    return {
      device: target.members.map((m) => m.name).join(', '),
      group: target.name,
      deploymentId: '-',
      result: 'failed',
      step: 'connect',
      outcome,
      error: { code, message },
    };
  }

  private async deployToGroupClaimed(
    cert: ManagedCertificate,
    target: GroupTarget,
    material: DeployMaterial,
    actor: string,
    waitMs: number,
    via: string | undefined,
    progress: Progress,
  ): Promise<DeviceDeployReport[]> {
    const states: MemberState[] = await Promise.all(
      target.members.map(async (m) => {
        const client = this.devices.connect(m);
        try {
          const self = (await client.listHaDevices()).find((d) => d.self);
          return { device: m.name, failoverState: self?.failoverState ?? null };
        } catch {
          return { device: m.name, failoverState: null };
        } finally {
          await client.close();
        }
      }),
    );
    const choice = chooseDeployMember(target.name, states, via);
    if (!choice.ok)
      return [this.groupRefusal(target, 'not attempted; nothing written', 'deploy_failed', choice.message)];
    const primary = target.members.find((m) => m.name === choice.device)!;
    progress(`device group ${target.name}: deploying through ${primary.name} (${choice.why})`);
    const profiles = [...new Set(target.bindings.map((b) => b.profilePath))];
    // The primary acts on every profile bound on any member: they are one configuration once synced.
    const primaryBindings = profiles.map(
      (p) =>
        target.bindings.find((b) => b.deviceId === primary.id && b.profilePath === p) ?? {
          ...target.bindings.find((b) => b.profilePath === p)!,
          deviceId: primary.id,
        },
    );
    const run: GroupRun = {
      target,
      peers: target.members.filter((m) => m.id !== primary.id),
      profiles,
      peerReports: [],
    };
    const report = await this.deployToDevice(cert, primary.id, primaryBindings, material, actor, waitMs, progress, run);
    return [{ ...report, group: target.name }, ...run.peerReports];
  }

  /**
   * How many devices a deploy of this certificate would reach, after the same pre-checks as {@link deploy}
   * (issued, bound); an edge says it before the deploy starts.
   */
  async targets(
    certName: string,
    opts: Pick<DeployOptions, 'device'> = {},
  ): Promise<{ certificate: string; devices: number }> {
    const { cert, bindings } = await this.plan(certName, opts);
    return { certificate: cert.name, devices: new Set(bindings.map((b) => b.deviceId)).size };
  }

  /** The certificate and the bindings a deploy acts on; refused (deployRefusal) before any device is contacted. */
  private async plan(certName: string, opts: Pick<DeployOptions, 'device'>) {
    const cert = await this.deps.store.certificates.findByName(certName);
    if (!cert) throw new CoreError('not_found', `no certificate named "${certName}"`, { hint: seeList('cert') });
    // Not issued is refused before the bindings are read (as before the rule moved here); the count is then 0.
    if (!hasIssuedMaterial(cert)) throw deployRefusal(cert, 0, opts.device);
    let bindings = await this.deps.store.bindings.list({ certificateId: cert.id });
    if (opts.device) {
      const device = await this.devices.get(opts.device);
      bindings = bindings.filter((b) => b.deviceId === device.id);
    }
    const refusal = deployRefusal(cert, new Set(bindings.map((b) => b.deviceId)).size, opts.device);
    if (refusal) throw refusal;
    return { cert, bindings };
  }

  /** Each device's outcome is told to the notifier, whoever deployed (a person or the deploy job). */
  private async emitOutcome(cert: ManagedCertificate, d: DeviceDeployReport): Promise<void> {
    const ok = d.result === 'succeeded' || d.result === 'unchanged';
    await emitCertificateEvent(
      this.deps,
      cert,
      ok ? 'deployed' : 'deploy_failed',
      {
        device: d.device,
        serial: cert.serial,
        result: d.result,
        step: d.step,
        outcome: d.outcome,
        ...(d.error ? { error: d.error.code } : {}),
      },
      !ok,
      `${cert.serial}:${d.device}`,
    );
  }

  async history(certName: string, limit = 20): Promise<(Deployment & { deviceName: string })[]> {
    const cert = await this.deps.store.certificates.findByName(certName);
    if (!cert) throw new CoreError('not_found', `no certificate named "${certName}"`);
    const names = new Map((await this.deps.store.devices.list()).map((d) => [d.id, d.name]));
    return (await this.deps.store.deployments.list({ certificateId: cert.id, limit })).map((d) => ({
      ...d,
      deviceName: names.get(d.deviceId) ?? '?',
    }));
  }

  /**
   * The cleanup job's half of "a deploy whose process stopped does not read as running forever": every
   * `running` record whose target lease nobody holds is settled (a deploy of that target settles them too).
   */
  async settleAbandoned(progress: Progress = noProgress): Promise<number> {
    let settled = 0;
    const targets = new Map<string, Deployment>();
    for (const d of await this.deps.store.deployments.list({ result: 'running', limit: 1000 }))
      targets.set(deployTargetLeaseKey(d.certificateId, d.deviceId), d);
    for (const [key, d] of targets) {
      const claimed = await withLease(this.deps.store.leases, key, this.lease, this.deps.log, () =>
        this.settleTarget(d.certificateId, d.deviceId, null),
      );
      if (claimed.ran && claimed.value > 0)
        progress(
          `settled ${claimed.value} deploy(s) of certificate ${d.certificateId} to device ${d.deviceId} whose process stopped`,
        );
      if (claimed.ran) settled += claimed.value;
    }
    return settled;
  }

  /** Only while holding the target's lease: then no live process is running a deploy of it. */
  private async settleTarget(certificateId: string, deviceId: string, supersededBy: string | null): Promise<number> {
    let settled = 0;
    for (const d of await this.deps.store.deployments.list({ certificateId, deviceId, result: 'running' })) {
      const patch = abandonedDeployment(d, { now: this.deps.clock.now(), supersededBy });
      if (!patch) continue;
      await this.deps.store.deployments.update(d.id, patch);
      settled++;
    }
    return settled;
  }

  /**
   * One device, under the lease of this certificate on this device: two processes never deploy the same
   * certificate to the same device at once, and a record left `running` by a process that stopped (its lease
   * ran out) is settled before the new attempt starts.
   */
  private async deployToDevice(
    cert: ManagedCertificate,
    deviceId: string,
    bindings: Binding[],
    material: DeployMaterial,
    actor: string,
    waitMs: number,
    progress: Progress,
    group: GroupRun | null,
  ): Promise<DeviceDeployReport> {
    const device = await this.deps.store.devices.findById(deviceId);
    if (!device) throw new CoreError('not_found', `device ${deviceId} vanished`);
    const id = this.deps.newId();
    const key = deployTargetLeaseKey(cert.id, deviceId);
    const holdFor = this.lease.ttlMs / 1000;
    const deadline = Date.now() + waitMs;
    for (let waited = false; ; waited = true) {
      const claimed = await withLease(this.deps.store.leases, key, this.lease, this.deps.log, async () => {
        await this.settleTarget(cert.id, deviceId, id);
        return this.deployClaimed(id, cert, device, bindings, material, actor, group, progress);
      });
      if (claimed.ran) return claimed.value;
      const [running] = await this.deps.store.deployments.list({
        certificateId: cert.id,
        deviceId,
        result: 'running',
        limit: 1,
      });
      const other = running ? `deployment ${running.id}` : 'another deploy';
      if (Date.now() < deadline) {
        if (!waited)
          progress(
            `${device.name}: waiting up to ${Math.ceil(waitMs / 1000)} s for ${other} (running in another process, or that process stopped less than ${holdFor} s ago)`,
          );
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(10, deadline - Date.now()))));
        continue;
      }
      // Both are possible: the claim says a process deployed here less than one lease length ago.
      const why = `${other} of ${cert.name} to ${device.name} holds its claim: it is running in another process, or that process stopped less than ${holdFor} s ago`;
      return {
        device: device.name,
        deploymentId: running?.id ?? id,
        result: 'failed',
        step: 'connect',
        outcome: `not attempted: ${why}; nothing written`,
        error: { code: 'conflict', message: `${why}; try again in ${holdFor} s` },
      };
    }
  }

  private async deployClaimed(
    id: string,
    cert: ManagedCertificate,
    device: Device,
    bindings: Binding[],
    material: DeployMaterial,
    actor: string,
    group: GroupRun | null,
    progress: Progress,
  ): Promise<DeviceDeployReport> {
    const deviceId = device.id;
    const record: Deployment = {
      id,
      certificateId: cert.id,
      deviceId,
      serial: cert.serial!,
      objects: material.objects,
      profiles: bindings.map((b) => b.profilePath),
      oldFingerprints: {},
      newFingerprint: cert.fingerprintSha256!,
      result: 'running',
      step: 'connect',
      error: null,
      outcome: null,
      actor,
      startedAt: this.deps.clock.now(),
      finishedAt: null,
    };
    await this.deps.store.deployments.insert(record);
    let client: ReturnType<DeviceService['connect']> | null = null;
    let outcome: Awaited<ReturnType<typeof runDeviceDeployment>>;
    let served: ServedCheck | null = null;
    try {
      client = this.requestLimit.wrap(device.id, this.devices.connect(device));
      outcome = await runDeviceDeployment({ deps: this.deps, client, device, cert, bindings, material, record });
      if (outcome.result === 'succeeded' || outcome.result === 'unchanged') {
        const after = await this.afterSwitch(record, client, device, cert, material, group, actor, progress);
        served = after.served;
        outcome = after.ok
          ? { ...outcome, outcome: `${outcome.outcome}; ${after.message}` }
          : { result: 'failed', step: after.step, outcome: `${outcome.outcome}; ${after.message}`, error: after.error };
      }
    } catch (err) {
      // Only store failures reach here (the run turns device failures into outcomes).
      outcome = { result: 'failed', step: 'connect', outcome: 'not attempted', error: asCoreError(err) };
    } finally {
      await client?.close();
    }
    const now = this.deps.clock.now();
    const error = outcome.error
      ? {
          code: outcome.error.code,
          message: outcome.error.message,
          ...(outcome.error.detail ? { detail: outcome.error.detail } : {}),
        }
      : null;
    await this.deps.store.deployments.update(record.id, {
      result: outcome.result,
      step: outcome.step,
      outcome: outcome.outcome,
      error,
      finishedAt: now,
    });
    if (outcome.result === 'succeeded' || outcome.result === 'unchanged') {
      // A group's bindings on every member are one configuration: all of them are now served.
      for (const b of group ? group.target.bindings : bindings) {
        const verified = served?.verified.some((v) => v.profile === b.profilePath) ?? false;
        if (b.deployedFingerprint !== cert.fingerprintSha256 || verified) {
          await this.deps.store.bindings.update(b.id, {
            deployedFingerprint: cert.fingerprintSha256,
            deployedSerial: cert.serial,
            deployedNotAfter: cert.notAfter,
            deployedAt: b.deployedFingerprint === cert.fingerprintSha256 ? b.deployedAt : now,
            ...(verified ? { servedSerial: cert.serial, servedVerifiedAt: now } : {}),
          });
        }
      }
    }
    await appendAudit(this.deps.store.audit, 'certificate', cert, actor, 'certificate.deploy', error ? 'error' : 'ok', {
      device: device.name,
      serial: cert.serial,
      sha256: cert.fingerprintSha256,
      profiles: record.profiles,
      result: outcome.result,
      step: outcome.step,
      ...(error ? { error: error.code } : {}),
    });
    return {
      device: device.name,
      deploymentId: record.id,
      result: outcome.result,
      step: outcome.step,
      outcome: outcome.outcome,
      error: error && { code: error.code, message: error.message },
    };
  }

  /**
   * The steps after the device serves the new certificate: for a group, sync and read every peer back (each
   * peer recorded as its own deployment); then the TLS handshake with each virtual server using a bound
   * profile. Any failure here leaves the bindings as they were, so the next deploy run retries.
   */
  private async afterSwitch(
    record: Deployment,
    client: ReturnType<DeviceService['connect']>,
    device: Device,
    cert: ManagedCertificate,
    material: DeployMaterial,
    group: GroupRun | null,
    actor: string,
    progress: Progress,
  ): Promise<{ ok: boolean; step: DeployStep; message: string; error: CoreError | null; served: ServedCheck | null }> {
    const parts: string[] = [];
    const enter = (step: DeployStep) => this.deps.store.deployments.update(record.id, { step });
    const failed = (step: DeployStep, err: unknown, served: ServedCheck | null = null) => {
      const error = asCoreError(err);
      return { ok: false, step, message: [...parts, error.message].join('; '), error, served };
    };
    const profiles = group ? group.profiles : record.profiles;
    if (group) {
      const { target } = group;
      await enter('sync');
      let sync: SyncResult;
      try {
        sync = await syncGroup(client, target, device.name, this.checks, progress);
      } catch (err) {
        return failed('sync', err);
      }
      parts.push(
        sync.timedOut
          ? `device group ${target.name} not in sync after ${Math.round(sync.waitedMs / 1000)} s (${sync.status?.status ?? 'unknown'})`
          : `device group ${target.name} in sync${sync.posted ? ' (config-sync to-group)' : target.autoSync ? ' (auto-sync)' : ''}`,
      );
      await enter('peer_verify');
      const problems: string[] = [];
      for (const peer of group.peers) {
        let verdict: { ok: boolean; message: string };
        const peerClient = this.requestLimit.wrap(peer.id, this.devices.connect(peer));
        try {
          verdict = await verifyPeer(peerClient, peer, target.name, sync, {
            objects: material.objects,
            fingerprint: cert.fingerprintSha256!,
            profiles,
          });
        } finally {
          await peerClient.close();
        }
        if (!verdict.ok) problems.push(verdict.message);
        group.peerReports.push(await this.recordPeer(cert, peer, target.name, material, profiles, verdict, actor));
      }
      if (problems.length > 0) {
        return failed(
          'peer_verify',
          new CoreError(
            'deploy_failed',
            `${problems.length} of ${group.peers.length} peer(s) of device group ${target.name} do not hold the new certificate: ${problems.join('; ')}`,
            { retryable: true, detail: { stage: 'peer_verify' } },
          ),
        );
      }
      parts.push(`every peer (${group.peers.map((p) => p.name).join(', ')}) holds it`);
    }
    if (this.checks.handshake === 'off') {
      parts.push('what clients see was not checked (DEPLOY_HANDSHAKE_CHECK=off)');
      return { ok: true, step: 'done', message: parts.join('; '), error: null, served: null };
    }
    await enter('handshake');
    let served: ServedCheck;
    try {
      served = await checkServed(client, profiles, cert.serial!, this.checks.probe, this.checks.handshakeTimeoutMs);
    } catch (err) {
      return failed('handshake', err);
    }
    if (served.problems.length > 0) {
      return failed(
        'handshake',
        new CoreError('deploy_failed', `clients are not shown the new certificate: ${served.problems.join('; ')}`, {
          retryable: true,
          detail: { stage: 'handshake' },
        }),
        served,
      );
    }
    parts.push(
      served.verified.length > 0
        ? `clients see serial ${cert.serial} at ${served.verified.map((v) => `${v.virtual} ${v.address}`).join(', ')}`
        : 'no virtual server uses the bound profiles: what clients see was not checked',
    );
    if (served.skipped.length > 0) parts.push(`not checked (no address): ${served.skipped.join(', ')}`);
    return { ok: true, step: 'done', message: parts.join('; '), error: null, served };
  }

  /** A peer's own deployment record: what reading it back after the sync showed. */
  private async recordPeer(
    cert: ManagedCertificate,
    peer: Device,
    group: string,
    material: DeployMaterial,
    profiles: string[],
    verdict: { ok: boolean; message: string },
    actor: string,
  ): Promise<DeviceDeployReport> {
    const now = this.deps.clock.now();
    const error = verdict.ok ? null : { code: 'deploy_failed' as const, message: verdict.message };
    const record: Deployment = {
      id: this.deps.newId(),
      certificateId: cert.id,
      deviceId: peer.id,
      serial: cert.serial!,
      objects: material.objects,
      profiles,
      oldFingerprints: {},
      newFingerprint: cert.fingerprintSha256!,
      result: verdict.ok ? 'succeeded' : 'failed',
      step: verdict.ok ? 'done' : 'peer_verify',
      error,
      outcome: verdict.ok ? `received by config-sync of device group ${group}: ${verdict.message}` : verdict.message,
      actor,
      startedAt: now,
      finishedAt: now,
    };
    await this.deps.store.deployments.insert(record);
    if (verdict.ok) {
      // The peer holds our objects now: recorded for it too, so a later deploy through it (after a failover)
      // removes them once nothing references them, and the sync carries the removal to the others.
      const objects = material.objects;
      for (const [kind, fullPath] of [
        ['key', objects.key],
        ['cert', objects.cert],
        ['chain', objects.chain],
      ] as const) {
        if (fullPath === null) continue;
        await this.deps.store.deviceObjects.record({
          id: this.deps.newId(),
          deviceId: peer.id,
          certificateId: cert.id,
          kind,
          fullPath,
          serial: cert.serial!,
          installedAt: now,
          removedAt: null,
        });
      }
    }
    await appendAudit(this.deps.store.audit, 'certificate', cert, actor, 'certificate.deploy', error ? 'error' : 'ok', {
      device: peer.name,
      group,
      serial: cert.serial,
      sha256: cert.fingerprintSha256,
      profiles,
      result: record.result,
      step: record.step,
      ...(error ? { error: error.code } : {}),
    });
    return {
      device: peer.name,
      group,
      deploymentId: record.id,
      result: record.result,
      step: record.step,
      outcome: record.outcome!,
      error,
    };
  }

  /**
   * Key, leaf and intermediates as they are uploaded. The key travels and rests on the device encrypted with
   * the certificate's passphrase (`securityType: password`); without one a random 32-byte passphrase is made
   * once per certificate and kept sealed, so BIG-IP never stores the key in the clear.
   */
  private async material(cert: ManagedCertificate): Promise<DeployMaterial> {
    let passphraseSealed = cert.passphraseSealed;
    const aad = secretAad('certificates', cert.id, 'passphrase');
    if (!passphraseSealed) {
      passphraseSealed = this.deps.secrets.seal(randomBytes(32).toString('base64url'), aad);
      await this.deps.store.certificates.update(cert.id, { passphraseSealed });
    }
    const passphrase = this.deps.secrets.open(passphraseSealed, aad);
    const keyPem = this.deps.secrets.open(cert.keySealed!, secretAad('certificates', cert.id, 'key'));
    const key = createPrivateKey(keyPem);
    const encryptedKeyPem = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
    const [leafPem, ...intermediates] = splitPemChain(cert.chainPem!);
    return {
      encryptedKeyPem,
      passphrase,
      leafPem: leafPem!,
      chainPem: intermediates.length > 0 ? intermediates.join('') : null,
      keyType: key.asymmetricKeyType === 'rsa' ? 'rsa' : 'ec',
      objects: versionedObjects(cert.name, cert.partition, cert.notAfter!, cert.serial!, intermediates.length > 0),
    };
  }
}
