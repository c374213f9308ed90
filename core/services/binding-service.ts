import type { Binding } from '../domain/binding.ts';
import { OBJECT_NAME_PATTERN } from '../domain/managed-certificate.ts';
import { isPartitionName } from '../domain/partition-name.ts';
import { CoreError, seeList } from '../errors.ts';
import type { CoreDepsWith } from './core-deps.ts';
import type { DeviceService } from './device-service.ts';
import { type AuditedObject, appendAudit } from './audit-trail.ts';

export interface AddBindingInput {
  certificate: string;
  device: string;
  /** A profile name (put in the device's partition) or a full path `/Partition/name`. */
  profile: string;
  /** Create the profile from `parent` at the first deploy when the device does not have it. */
  createProfile?: boolean;
  parent?: string;
  /** Skip asking the device whether the profile exists (e.g. the device is down right now). */
  skipCheck?: boolean;
}

export interface BindingView extends Binding {
  certificateName: string;
  deviceName: string;
}

/** `name` → `/<partition>/name`; `/P/name` and `/P/folder/name` as given. Refuses anything else. */
export function profileFullPath(input: string, partition: string): string {
  const parts = input.startsWith('/') ? input.slice(1).split('/') : [partition, input];
  const name = parts.at(-1) ?? '';
  const folders = parts.slice(0, -1);
  if (parts.length < 2 || parts.length > 3 || !folders.every(isPartitionName) || !OBJECT_NAME_PATTERN.test(name)) {
    throw new CoreError(
      'input_invalid',
      `profile "${input}" is not a client-ssl profile name or full path like /Common/acme_www`,
    );
  }
  return `/${parts.join('/')}`;
}

export class BindingService {
  constructor(
    private readonly deps: CoreDepsWith<'audit' | 'bindings' | 'certificates' | 'devices'>,
    private readonly devices: DeviceService,
  ) {}

  /**
   * Everything `add` checks except the certificate: the device, the profile path, that nobody is bound there
   * yet, and (unless skipped) that the device has the profile or its parent. Nothing is written.
   */
  async precheck(input: Omit<AddBindingInput, 'certificate'>): Promise<{
    device: Awaited<ReturnType<DeviceService['get']>>;
    profilePath: string;
    parentProfile: string;
  }> {
    const device = await this.devices.get(input.device);
    const profilePath = profileFullPath(input.profile.trim(), device.partition);
    const parentProfile = profileFullPath(input.parent?.trim() || '/Common/clientssl', 'Common');
    const taken = (await this.deps.store.bindings.list({ deviceId: device.id })).find(
      (b) => b.profilePath === profilePath,
    );
    if (taken) {
      const owner = await this.deps.store.certificates.findById(taken.certificateId);
      throw new CoreError(
        'conflict',
        `${profilePath} on ${device.name} is already bound to certificate "${owner?.name ?? taken.certificateId}"`,
      );
    }
    if (!input.skipCheck) {
      const client = this.devices.connect(device);
      try {
        const existing = await client.getClientSslProfile(profilePath);
        if (!existing && !input.createProfile) {
          throw new CoreError(
            'not_found',
            `${device.name} has no client-ssl profile ${profilePath}; pass --create-profile to create it from ${parentProfile} at the first deploy`,
          );
        }
        if (!existing && !(await client.getClientSslProfile(parentProfile))) {
          throw new CoreError(
            'not_found',
            `${device.name} has no parent profile ${parentProfile} to create ${profilePath} from`,
          );
        }
      } finally {
        await client.close();
      }
    }
    return { device, profilePath, parentProfile };
  }

  /** The device's client-ssl profiles, read live over iControl (for a picker); full paths, sorted. */
  async clientSslProfiles(deviceName: string): Promise<string[]> {
    const device = await this.devices.get(deviceName);
    const client = this.devices.connect(device);
    try {
      return (await client.listClientSslProfiles()).map((p) => p.fullPath).sort();
    } finally {
      await client.close();
    }
  }

  async add(input: AddBindingInput, actor: string): Promise<BindingView> {
    const cert = await this.deps.store.certificates.findByName(input.certificate);
    if (!cert)
      throw new CoreError('not_found', `no certificate named "${input.certificate}"`, { hint: seeList('cert') });
    const { device, profilePath, parentProfile } = await this.precheck(input);
    const now = this.deps.clock.now();
    const binding: Binding = {
      id: this.deps.newId(),
      certificateId: cert.id,
      deviceId: device.id,
      profilePath,
      createProfile: input.createProfile ?? false,
      parentProfile,
      deployedFingerprint: null,
      deployedSerial: null,
      deployedNotAfter: null,
      servedSerial: null,
      servedVerifiedAt: null,
      deployedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.store.bindings.insert(binding);
    await appendAudit(
      this.deps.store.audit,
      'binding',
      auditedBinding(binding.id, cert.name, device.name, profilePath),
      actor,
      'binding.add',
      'ok',
      {
        certificate: cert.name,
        device: device.name,
        profile: profilePath,
        createProfile: binding.createProfile,
      },
    );
    return { ...binding, certificateName: cert.name, deviceName: device.name };
  }

  async list(filter: { certificate?: string; device?: string } = {}): Promise<BindingView[]> {
    const certificateId = filter.certificate ? await this.certificateId(filter.certificate) : undefined;
    const deviceId = filter.device ? (await this.devices.get(filter.device)).id : undefined;
    const rows = await this.deps.store.bindings.list({
      ...(certificateId ? { certificateId } : {}),
      ...(deviceId ? { deviceId } : {}),
    });
    const certNames = new Map((await this.deps.store.certificates.list()).map((c) => [c.id, c.name]));
    const deviceNames = new Map((await this.deps.store.devices.list()).map((d) => [d.id, d.name]));
    return rows.map((b) => ({
      ...b,
      certificateName: certNames.get(b.certificateId) ?? '?',
      deviceName: deviceNames.get(b.deviceId) ?? '?',
    }));
  }

  /** Forgets the binding. The device is not touched: the profile keeps serving what it has. */
  async remove(input: { certificate: string; device: string; profile: string }, actor: string): Promise<void> {
    const device = await this.devices.get(input.device);
    const certificateId = await this.certificateId(input.certificate);
    const profilePath = profileFullPath(input.profile.trim(), device.partition);
    const binding = (await this.deps.store.bindings.list({ certificateId, deviceId: device.id })).find(
      (b) => b.profilePath === profilePath,
    );
    if (!binding)
      throw new CoreError(
        'not_found',
        `certificate "${input.certificate}" is not bound to ${profilePath} on ${device.name}`,
      );
    await this.deps.store.bindings.remove(binding.id);
    const audited = auditedBinding(binding.id, input.certificate, device.name, profilePath);
    await appendAudit(this.deps.store.audit, 'binding', audited, actor, 'binding.remove', 'ok', {});
  }

  private async certificateId(name: string): Promise<string> {
    const cert = await this.deps.store.certificates.findByName(name);
    if (!cert) throw new CoreError('not_found', `no certificate named "${name}"`, { hint: seeList('cert') });
    return cert.id;
  }
}

/** A binding as the audit log names it: `certificate → device:/Partition/profile`. */
function auditedBinding(id: string, certificate: string, device: string, profilePath: string): AuditedObject {
  return { id, name: `${certificate} → ${device}:${profilePath}` };
}
