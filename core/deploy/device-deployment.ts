import { keyTypeOf, nextCertKeyChain, sameFingerprint } from '../domain/deploy-plan.ts';
import type { Binding } from '../domain/binding.ts';
import type { Deployment, DeploymentResult, DeployStep, DeviceObject } from '../domain/deployment.ts';
import {
  type DeployMaterial,
  type DeviceDeploymentOutcome,
  failedDeployOutcome,
  type LostCommit,
} from '../domain/device-deploy-outcome.ts';
import type { Device } from '../domain/device.ts';
import type { ManagedCertificate } from '../domain/managed-certificate.ts';
import { CoreError, asCoreError } from '../errors.ts';
import type { BigIpClient, CertKeyChainEntry, ClientSslProfile } from '../ports/bigip-client.ts';
import { failpoint } from '../failpoints.ts';
import { settleAll } from '../services/bounded-map.ts';
import type { CoreDepsWith } from '../services/core-deps.ts';

/** A profile's certKeyChain entry with the type of its key (which decides what ours replaces). */
type TypedEntry = CertKeyChainEntry & { keyType: ReturnType<typeof keyTypeOf> };

interface Context {
  deps: CoreDepsWith<'deployments' | 'deviceObjects'>;
  client: BigIpClient;
  device: Device;
  cert: ManagedCertificate;
  bindings: Binding[];
  material: DeployMaterial;
  record: Deployment;
}

/**
 * One certificate onto one device, in the order that never leaves a profile pointing at a missing or
 * mismatched key: install under new names → switch every bound profile in one transaction → read back and
 * compare fingerprints (switch back on a mismatch) → save → delete the objects this tool installed earlier
 * that nothing references → save again. Each step is persisted on the deployment record before it starts.
 * Re-running after any failure picks up from what the device shows; re-running after success writes nothing.
 */
export async function runDeviceDeployment(ctx: Context): Promise<DeviceDeploymentOutcome> {
  const run = new DeviceDeployment(ctx);
  return run.execute();
}

class DeviceDeployment {
  private step: DeployStep = 'connect';
  private switched = false;
  /** Set when the commit failed without a refusal: what reading the profiles back showed. */
  private lostCommit: LostCommit | null = null;
  private readonly uploads: string[] = [];
  private readonly installedNow: DeviceObject[] = [];
  private before = new Map<string, ClientSslProfile | null>();

  constructor(private readonly ctx: Context) {}

  async execute(): Promise<DeviceDeploymentOutcome> {
    const { objects } = this.ctx.material;
    try {
      await this.enter('inspect');
      const state = await this.inspect();
      if (state.serving && state.settled && state.stale.length === 0) {
        return this.finish(
          'unchanged',
          `already serving serial ${this.ctx.cert.serial} from ${objects.cert}; nothing written`,
        );
      }
      if (!state.serving) {
        await this.install();
        await this.switchProfiles(state.entriesToReplace);
      }
      await this.verifyOrRollBack();
      await this.enter('save');
      await this.ctx.client.saveConfig();
      await this.enter('cleanup');
      const removed = await this.cleanup(state.stale);
      if (removed > 0) await this.ctx.client.saveConfig();
      return this.finish(
        'succeeded',
        `profiles ${this.ctx.bindings.map((b) => b.profilePath).join(', ')} serve ${objects.cert}; saved; ${removed} old object(s) removed`,
      );
    } catch (err) {
      return this.fail(asCoreError(err));
    } finally {
      await this.removeUploads(true);
    }
  }

  private async enter(step: DeployStep) {
    this.step = step;
    await this.ctx.deps.store.deployments.update(this.ctx.record.id, { step });
  }

  private async inspect() {
    const { client, bindings, material, cert, deps, device } = this.ctx;
    const { objects } = material;
    for (const b of bindings) {
      const profile = await client.getClientSslProfile(b.profilePath);
      if (!profile && !b.createProfile) {
        throw new CoreError(
          'bigip_not_found',
          `${b.profilePath} does not exist on ${device.name} (bind with --create-profile to have it created)`,
        );
      }
      this.before.set(b.profilePath, profile);
    }
    const servingProfile = (p: ClientSslProfile | null | undefined) =>
      !!p?.certKeyChain.some((e) => e.cert === objects.cert && e.key === objects.key);
    const onDevice = await client.getCert(objects.cert);
    const serving =
      bindings.every((b) => servingProfile(this.before.get(b.profilePath))) &&
      sameFingerprint(onDevice?.fingerprint, cert.fingerprintSha256);

    const previous = (
      await deps.store.deployments.list({ certificateId: cert.id, deviceId: device.id, limit: 2 })
    ).find((d) => d.id !== this.ctx.record.id);
    const settled =
      !!previous &&
      previous.serial === cert.serial &&
      (previous.result === 'succeeded' || previous.result === 'unchanged');
    const current = new Set([objects.key, objects.cert, objects.chain].filter((p): p is string => p !== null));
    const live = await deps.store.deviceObjects.listLive(device.id, cert.id);
    const stale = live.filter((o) => !current.has(o.fullPath));

    // What each profile served before, for the record and for a person reading it.
    const oldFingerprints: Record<string, string | null> = {};
    const entriesToReplace = new Map<string, TypedEntry[]>();
    const keyTypes = new Map<string, ReturnType<typeof keyTypeOf>>();
    const certFingerprints = new Map<string, string | null>();
    for (const b of bindings) {
      const profile = this.before.get(b.profilePath);
      const annotated = [];
      for (const entry of profile?.certKeyChain ?? []) {
        if (!keyTypes.has(entry.key)) keyTypes.set(entry.key, keyTypeOf((await client.getKey(entry.key))?.keyType));
        annotated.push({ ...entry, keyType: keyTypes.get(entry.key) ?? null });
      }
      entriesToReplace.set(b.profilePath, annotated);
      const replaced = this.replacedEntry(annotated, live);
      if (replaced && !certFingerprints.has(replaced.cert))
        certFingerprints.set(replaced.cert, (await client.getCert(replaced.cert))?.fingerprint ?? null);
      oldFingerprints[b.profilePath] = replaced ? (certFingerprints.get(replaced.cert) ?? null) : null;
    }
    await deps.store.deployments.update(this.ctx.record.id, { oldFingerprints });
    return { serving, settled, stale, entriesToReplace, live };
  }

  /** The entry ours will take the place of (same rule as nextCertKeyChain), for the old fingerprint. */
  private replacedEntry(entries: TypedEntry[], live: DeviceObject[]) {
    const owned = new Set(live.map((o) => o.fullPath));
    const ours = this.oursEntry();
    const next = nextCertKeyChain(entries, ours, owned);
    const kept = new Set(next.map((e) => `${e.cert}|${e.key}`));
    return entries.find((e) => !kept.has(`${e.cert}|${e.key}`)) ?? null;
  }

  private oursEntry(): TypedEntry {
    const { objects: o, passphrase, keyType } = this.ctx.material;
    return { name: this.ctx.cert.name, cert: o.cert, key: o.key, chain: o.chain ?? 'none', passphrase, keyType };
  }

  private async install() {
    const { client, material, cert, deps } = this.ctx;
    const { objects } = material;
    const nonce = deps.newId().replace(/-/g, '').slice(0, 8);
    const fileBase = `${cert.name}_${nonce}`;
    await this.enter('upload');
    // Independent files, sent side by side (the device's request limit keeps it to two at a time). Every
    // upload settles before a failure is reported, so each one that landed is known and removed.
    const [keyFile, certFile, chainFile] = await settleAll([
      this.upload(`${fileBase}.key`, material.encryptedKeyPem),
      this.upload(`${fileBase}.crt`, material.leafPem),
      material.chainPem ? this.upload(`${fileBase}_chain.crt`, material.chainPem) : Promise.resolve(null),
    ]);

    await this.enter('key_install');
    await this.remember('key', objects.key);
    await client.installKey(objects.key, keyFile, material.passphrase);
    await this.enter('cert_install');
    await this.remember('cert', objects.cert);
    await client.installCert(objects.cert, certFile);
    if (objects.chain && chainFile) {
      await this.remember('chain', objects.chain);
      await client.installCert(objects.chain, chainFile);
    }
  }

  private async upload(fileName: string, content: string): Promise<string> {
    const path = await this.ctx.client.upload(fileName, content);
    this.uploads.push(path);
    return path;
  }

  /** Recorded before the install, so an object a crash leaves behind is still known and cleaned up later. */
  private async remember(kind: DeviceObject['kind'], fullPath: string) {
    const { deps, device, cert } = this.ctx;
    const object: DeviceObject = {
      id: deps.newId(),
      deviceId: device.id,
      certificateId: cert.id,
      kind,
      fullPath,
      serial: cert.serial ?? '',
      installedAt: deps.clock.now(),
      removedAt: null,
    };
    await deps.store.deviceObjects.record(object);
    this.installedNow.push(object);
  }

  private async switchProfiles(entries: Map<string, TypedEntry[]>) {
    const { client, bindings, deps, device, cert } = this.ctx;
    await this.enter('switch');
    const owned = new Set((await deps.store.deviceObjects.listLive(device.id, cert.id)).map((o) => o.fullPath));
    const ours = this.oursEntry();
    failpoint('deploy_before_switch');
    const tx = await client.beginTransaction();
    for (const b of bindings) {
      const profile = this.before.get(b.profilePath);
      if (profile) {
        await client.setCertKeyChain(b.profilePath, nextCertKeyChain(entries.get(b.profilePath) ?? [], ours, owned), {
          transaction: tx,
        });
      } else {
        const { keyType: _k, ...entry } = ours;
        await client.createClientSslProfile(
          { fullPath: b.profilePath, defaultsFrom: b.parentProfile, certKeyChain: [entry] },
          { transaction: tx },
        );
      }
    }
    try {
      await client.commitTransaction(tx);
    } catch (err) {
      const error = asCoreError(err);
      // A refusal means nothing applied. Any other failure (5xx, timeout, reset) may have come after the
      // device applied the commit, so what the profiles serve is read back, never assumed.
      if (error.code === 'bigip_transaction_failed') throw error;
      this.lostCommit = await this.readBackAfterLostCommit();
      if (this.lostCommit === 'unchanged' || this.lostCommit === 'unreadable') throw error;
    }
    this.switched = true;
    failpoint('deploy_after_switch');
  }

  /** Which bound profiles reference our objects now; `partial` is switched back by verify's rollback. */
  private async readBackAfterLostCommit(): Promise<LostCommit> {
    const { client, bindings, material } = this.ctx;
    const { objects } = material;
    let serving = 0;
    try {
      for (const b of bindings) {
        const profile = await client.getClientSslProfile(b.profilePath);
        if (profile?.certKeyChain.some((e) => e.cert === objects.cert && e.key === objects.key)) serving++;
      }
    } catch {
      return 'unreadable';
    }
    if (serving === 0) return 'unchanged';
    return serving === bindings.length ? 'switched' : 'partial';
  }

  private async verifyOrRollBack() {
    await this.enter('verify');
    try {
      await this.verify();
    } catch (err) {
      if (this.switched) await this.rollBack(asCoreError(err));
      throw err;
    }
  }

  private async verify() {
    const { client, bindings, material, cert, device } = this.ctx;
    const { objects } = material;
    for (const b of bindings) {
      const profile = await client.getClientSslProfile(b.profilePath);
      if (!profile?.certKeyChain.some((e) => e.cert === objects.cert && e.key === objects.key)) {
        throw new CoreError(
          'deploy_failed',
          `${b.profilePath} on ${device.name} does not reference ${objects.cert} after the switch`,
        );
      }
    }
    const onDevice = await client.getCert(objects.cert);
    if (!sameFingerprint(onDevice?.fingerprint, cert.fingerprintSha256)) {
      throw new CoreError(
        'deploy_failed',
        `${objects.cert} on ${device.name} has fingerprint ${onDevice?.fingerprint ?? '(missing)'}, expected ${cert.fingerprintSha256}`,
      );
    }
    if (!(await client.getKey(objects.key)))
      throw new CoreError('deploy_failed', `${objects.key} is missing on ${device.name}`);
  }

  /** Puts every switched profile back on the chain it had; profiles created by this attempt are reported. */
  private async rollBack(cause: CoreError) {
    const { client, bindings, material, deps, device, cert } = this.ctx;
    // Every object of this certificate shares its passphrase, and the device never returns passphrases.
    const owned = new Set((await deps.store.deviceObjects.listLive(device.id, cert.id)).map((o) => o.fullPath));
    try {
      const tx = await client.beginTransaction();
      for (const b of bindings) {
        const before = this.before.get(b.profilePath);
        if (!before) continue;
        const chain = before.certKeyChain.map((e) =>
          owned.has(e.key) ? { ...e, passphrase: material.passphrase } : e,
        );
        await client.setCertKeyChain(b.profilePath, chain, { transaction: tx });
      }
      await client.commitTransaction(tx);
      this.switched = false;
      throw new CoreError('deploy_failed', `verification failed, switched back: ${cause.message}`, {
        cause,
        detail: { rolledBack: true },
      });
    } catch (err) {
      if (err instanceof CoreError && err.detail?.rolledBack) throw err;
      throw new CoreError(
        'deploy_failed',
        `verification failed (${cause.message}) and switching back failed too: ${asCoreError(err).message}`,
        { cause },
      );
    }
  }

  /** Deletes this certificate's earlier objects that no profile on the device references. */
  private async cleanup(stale: DeviceObject[]): Promise<number> {
    const { client, deps } = this.ctx;
    await this.removeUploads(false);
    if (stale.length === 0) return 0;
    const referenced = new Set(
      (await client.listClientSslProfiles()).flatMap((p) => p.certKeyChain.flatMap((e) => [e.cert, e.key, e.chain])),
    );
    let removed = 0;
    // Certificates before keys, so a half-finished cleanup never leaves a certificate whose key is gone.
    const order = { cert: 0, chain: 1, key: 2 } as const;
    for (const object of [...stale].sort((a, b) => order[a.kind] - order[b.kind])) {
      if (referenced.has(object.fullPath)) continue;
      try {
        if (object.kind === 'key') await client.deleteKey(object.fullPath);
        else await client.deleteCert(object.fullPath);
      } catch (err) {
        if ((err as CoreError).code === 'bigip_in_use') continue;
        throw err;
      }
      await deps.store.deviceObjects.markRemoved(object.id, deps.clock.now());
      removed++;
    }
    return removed;
  }

  /** Side by side, like the uploads; a path stays listed until its removal succeeded (or is given up). */
  private async removeUploads(bestEffort: boolean) {
    const paths = [...this.uploads];
    const removed = await Promise.allSettled(paths.map((path) => this.ctx.client.removeUpload(path)));
    for (const [i, r] of removed.entries()) {
      if (r.status === 'fulfilled' || bestEffort) this.uploads.splice(this.uploads.indexOf(paths[i] as string), 1);
    }
    const failed = removed.find((r) => r.status === 'rejected');
    if (failed && !bestEffort) throw failed.reason;
  }

  /** Before the switch: removes what this attempt installed, so the device is as it was. */
  private async undoInstall() {
    const { client, deps } = this.ctx;
    for (const object of [...this.installedNow].reverse()) {
      try {
        if (object.kind === 'key') await client.deleteKey(object.fullPath);
        else await client.deleteCert(object.fullPath);
        await deps.store.deviceObjects.markRemoved(object.id, deps.clock.now());
      } catch {
        // Left recorded as live: the next deploy's cleanup removes it.
      }
    }
  }

  private async finish(result: DeploymentResult, outcome: string): Promise<DeviceDeploymentOutcome> {
    this.step = 'done';
    const lost =
      this.lostCommit === 'switched'
        ? `the commit's answer was lost; read back: the profiles serve the new certificate; then `
        : '';
    return { result, step: 'done', outcome: lost + outcome, error: null };
  }

  private async fail(error: CoreError): Promise<DeviceDeploymentOutcome> {
    const { step, switched, lostCommit } = this;
    const rolledBack = error.detail?.rolledBack === true;
    const failed = failedDeployOutcome({
      step,
      switched,
      rolledBack,
      lostCommit,
      cert: this.ctx.material.objects.cert,
    });
    if (failed.undoInstall) await this.undoInstall();
    return { result: rolledBack ? 'rolled_back' : 'failed', step, outcome: failed.outcome, error };
  }
}
