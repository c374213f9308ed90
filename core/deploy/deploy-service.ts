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

export interface DeployOptions {
  /** Only this device's bindings. */
  device?: string | undefined;
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

/** Puts a certificate on every device its bindings name, each device recorded as one deployment. */
export class DeployService {
  /** Shared by every deploy in this process, so two certificates going to one device share its two slots. */
  private readonly requestLimit = new DeviceRequestLimit(MAX_REQUESTS_IN_FLIGHT_PER_DEVICE);

  constructor(
    private readonly deps: CoreDepsWith<
      'audit' | 'bindings' | 'certificates' | 'deployments' | 'deviceObjects' | 'devices' | 'events' | 'leases'
    >,
    private readonly devices: DeviceService,
    private readonly lease: LeaseOptions,
  ) {}

  async deploy(
    certName: string,
    opts: DeployOptions,
    actor: string,
    progress: Progress = noProgress,
  ): Promise<DeployReport> {
    const { cert, bindings } = await this.plan(certName, opts);
    const material = await this.material(cert);
    const byDevice = new Map<string, Binding[]>();
    for (const b of bindings) byDevice.set(b.deviceId, [...(byDevice.get(b.deviceId) ?? []), b]);

    let done = 0;
    const reports = await boundedMap(
      [...byDevice],
      deployConcurrency(byDevice.size, opts.concurrency),
      async ([deviceId, deviceBindings]) => {
        const report = await this.deployToDevice(
          cert,
          deviceId,
          deviceBindings,
          material,
          actor,
          opts.waitMs ?? this.lease.ttlMs,
          progress,
        );
        progress(
          `[${++done}/${byDevice.size}] ${report.device}: ${report.result}${report.error ? ` at ${report.step}: ${report.error.message}` : ''}`,
        );
        await this.emitOutcome(cert, report);
        return report;
      },
    );
    return {
      certificate: cert.name,
      serial: cert.serial,
      devices: reports,
      ok: reports.every((r) => r.result === 'succeeded' || r.result === 'unchanged'),
    };
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
        return this.deployClaimed(id, cert, device, bindings, material, actor);
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
    try {
      client = this.requestLimit.wrap(device.id, this.devices.connect(device));
      outcome = await runDeviceDeployment({ deps: this.deps, client, device, cert, bindings, material, record });
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
      for (const b of bindings) {
        if (b.deployedFingerprint !== cert.fingerprintSha256) {
          await this.deps.store.bindings.update(b.id, {
            deployedFingerprint: cert.fingerprintSha256,
            deployedSerial: cert.serial,
            deployedNotAfter: cert.notAfter,
            deployedAt: now,
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
