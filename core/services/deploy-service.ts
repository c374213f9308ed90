import { createPrivateKey, randomBytes } from 'node:crypto';
import type { Binding } from '../domain/binding.ts';
import { splitPemChain } from '../domain/certificate-facts.ts';
import { versionedObjects } from '../domain/deploy-plan.ts';
import type { Deployment, DeploymentResult, DeployStep } from '../domain/deployment.ts';
import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import { CoreError, asCoreError } from '../errors.ts';
import { boundedMap } from './bounded-map.ts';
import { type CoreDeps, noProgress, type Progress, secretAad } from './core-deps.ts';
import { type DeployMaterial, runDeviceDeployment } from './device-deployment.ts';
import type { DeviceService } from './device-service.ts';

export interface DeployOptions {
  /** Only this device's bindings. */
  device?: string | undefined;
  /** Devices deployed at once; one slow device holds up only its own slot. Default 16 (bench/RESULTS.md: 50 devices at 20 ms per request take 2.6 s at 16, 4.0 s at 8). */
  concurrency?: number | undefined;
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

const DEFAULT_CONCURRENCY = 16;

/** Puts a certificate on every device its bindings name, each device recorded as one deployment. */
export class DeployService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly devices: DeviceService,
  ) {}

  async deploy(certName: string, opts: DeployOptions, actor: string, progress: Progress = noProgress): Promise<DeployReport> {
    const cert = await this.deps.store.certificates.findByName(certName);
    if (!cert) throw new CoreError('not_found', `no certificate named "${certName}" (see: bigip-acme cert list)`);
    if (cert.state !== 'issued' || !cert.chainPem || !cert.keySealed || !cert.serial || !cert.notAfter || !cert.fingerprintSha256) {
      throw new CoreError('conflict', `certificate "${certName}" is ${cert.state}, not issued; nothing to deploy`);
    }
    let bindings = await this.deps.store.bindings.list({ certificateId: cert.id });
    if (opts.device) {
      const device = await this.devices.get(opts.device);
      bindings = bindings.filter((b) => b.deviceId === device.id);
    }
    if (bindings.length === 0) {
      throw new CoreError('input_invalid', `certificate "${certName}" has no binding${opts.device ? ` on ${opts.device}` : ''} (add one: bigip-acme binding add)`);
    }
    const material = await this.material(cert);
    const byDevice = new Map<string, Binding[]>();
    for (const b of bindings) byDevice.set(b.deviceId, [...(byDevice.get(b.deviceId) ?? []), b]);

    let done = 0;
    const reports = await boundedMap([...byDevice], opts.concurrency ?? DEFAULT_CONCURRENCY, async ([deviceId, deviceBindings]) => {
      const report = await this.deployToDevice(cert, deviceId, deviceBindings, material, actor);
      progress(`[${++done}/${byDevice.size}] ${report.device}: ${report.result}${report.error ? ` at ${report.step}: ${report.error.message}` : ''}`);
      return report;
    });
    return { certificate: cert.name, serial: cert.serial, devices: reports, ok: reports.every((r) => r.result === 'succeeded' || r.result === 'unchanged') };
  }

  async history(certName: string, limit = 20): Promise<(Deployment & { deviceName: string })[]> {
    const cert = await this.deps.store.certificates.findByName(certName);
    if (!cert) throw new CoreError('not_found', `no certificate named "${certName}"`);
    const names = new Map((await this.deps.store.devices.list()).map((d) => [d.id, d.name]));
    return (await this.deps.store.deployments.list({ certificateId: cert.id, limit })).map((d) => ({ ...d, deviceName: names.get(d.deviceId) ?? '?' }));
  }

  private async deployToDevice(cert: ManagedCertificate, deviceId: string, bindings: Binding[], material: DeployMaterial, actor: string): Promise<DeviceDeployReport> {
    const device = await this.deps.store.devices.findById(deviceId);
    if (!device) throw new CoreError('not_found', `device ${deviceId} vanished`);
    const record: Deployment = {
      id: this.deps.newId(),
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
      client = this.devices.connect(device);
      outcome = await runDeviceDeployment({ deps: this.deps, client, device, cert, bindings, material, record });
    } catch (err) {
      // Only store failures reach here (the run turns device failures into outcomes).
      outcome = { result: 'failed', step: 'connect', outcome: 'not attempted', error: asCoreError(err) };
    } finally {
      await client?.close();
    }
    const now = this.deps.clock.now();
    const error = outcome.error ? { code: outcome.error.code, message: outcome.error.message, ...(outcome.error.detail ? { detail: outcome.error.detail } : {}) } : null;
    await this.deps.store.deployments.update(record.id, { result: outcome.result, step: outcome.step, outcome: outcome.outcome, error, finishedAt: now });
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
    await this.deps.store.audit.append({
      actor,
      action: 'certificate.deploy',
      objectType: 'certificate',
      objectId: cert.id,
      objectName: cert.name,
      result: error ? 'error' : 'ok',
      detail: {
        device: device.name,
        serial: cert.serial,
        sha256: cert.fingerprintSha256,
        profiles: record.profiles,
        result: outcome.result,
        step: outcome.step,
        ...(error ? { error: error.code } : {}),
      },
    });
    return { device: device.name, deploymentId: record.id, result: outcome.result, step: outcome.step, outcome: outcome.outcome, error: error && { code: error.code, message: error.message } };
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
