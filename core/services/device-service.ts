import {
  acmeResponderRule,
  DEFAULT_DATA_GROUP,
  DEFAULT_RESPONDER_RULE,
  isFullPath,
  mergeRules,
} from '../domain/acme-irule.ts';
import type { Device, DeviceTestResult, DeviceTestStage } from '../domain/device.ts';
import { type PublicView, publicView } from '../domain/public-view.ts';
import { checkDeviceFields } from '../domain/validation/device-input.ts';
import { invalidInput } from '../domain/validation/field-problems.ts';
import { CoreError, isCoreError, runCommand, seeList } from '../errors.ts';
import type { BigIpClient, BigIpConnection } from '../ports/bigip-client.ts';
import { type CoreDeps, type CoreDepsWith, secretAad } from './core-deps.ts';
import { appendAudit } from './audit-trail.ts';
import { type HaPeer, haGroupKey, haPeers } from '../domain/ha-topology.ts';
import { validateDeviceName } from '../domain/device.ts';
import { readHaTopology } from './ha-topology-reader.ts';

export type DeviceView = PublicView<Device>;

export interface AddDeviceInput {
  name: string;
  url: string;
  username: string;
  password: string;
  partition?: string;
  /** PEM CA bundle for the management interface's certificate. */
  caPem?: string;
  /** Explicitly skip TLS verification; recorded and shown. */
  insecure?: boolean;
  /** Store the device even when the connection test fails (the default refuses). */
  skipTest?: boolean;
}

/** Which stage a failed connection stopped at, from the error the client raised. */
const STAGE_OF_CODE: Record<string, DeviceTestStage> = {
  bigip_dns: 'dns',
  bigip_tcp: 'tcp',
  bigip_timeout: 'tcp',
  bigip_tls: 'tls',
  bigip_auth: 'credentials',
  input_invalid: 'url',
};

export class DeviceService {
  constructor(private readonly deps: CoreDepsWith<'audit' | 'bindings' | 'devices'>) {}

  /** Validates everything, runs the connection test (unless skipped), then stores the device. */
  async add(input: AddDeviceInput, actor: string): Promise<{ device: DeviceView; test: DeviceTestResult | null }> {
    const checked = checkDeviceFields(input);
    if (!checked.ok) throw invalidInput(checked.problems);
    const { name, url, username, partition, caPem, insecure } = checked.device;
    if (await this.deps.store.devices.findByName(name))
      throw new CoreError('conflict', `device "${name}" already exists`);

    const now = this.deps.clock.now();
    const id = this.deps.newId();
    const device: Device = {
      id,
      name,
      url,
      username,
      passwordSealed: this.deps.secrets.seal(input.password, secretAad('devices', id, 'password')),
      partition,
      caPem,
      insecure,
      hostname: null,
      version: null,
      lastTest: null,
      lastTestAt: null,
      haTopology: null,
      createdAt: now,
      updatedAt: now,
    };
    let test: DeviceTestResult | null = null;
    if (!input.skipTest) {
      const probed = await this.probe(device);
      test = probed.result;
      if (!test.ok) {
        throw new CoreError(
          'input_invalid',
          `device "${name}" not added: ${test.stage} check failed: ${test.message}`,
          {
            detail: { stage: test.stage },
            hint: { action: 'use-option', option: 'skip-test', purpose: 'to add it anyway' },
          },
        );
      }
      Object.assign(device, {
        hostname: test.hostname ?? null,
        version: test.version ?? null,
        lastTest: test,
        lastTestAt: now,
        haTopology: probed.topology,
      });
    }
    await this.deps.store.devices.insert(device);
    await appendAudit(this.deps.store.audit, 'device', device, actor, 'device.add', 'ok', {
      url,
      insecure: device.insecure,
      tested: !input.skipTest,
    });
    return { device: publicView(device), test };
  }

  /**
   * Registers every member of a device group at once: each management URL is read first (its HA topology),
   * each device is named after its own device name in the trust domain, and all of them must report the
   * group `group` with the same members; otherwise nothing is stored. Members already registered are left
   * alone. The connection test runs for each, as `add` does.
   */
  async addGroup(
    input: Omit<AddDeviceInput, 'name' | 'url' | 'skipTest'> & { group: string; urls: string[] },
    actor: string,
  ): Promise<{ added: DeviceView[]; alreadyRegistered: string[]; missing: string[] }> {
    if (input.urls.length === 0) throw new CoreError('input_invalid', 'give the management URL of each member (--url)');
    const found: { url: string; name: string; key: string | null; members: string[] }[] = [];
    for (const url of input.urls) {
      const checked = checkDeviceFields({ ...input, name: 'probe', url });
      if (!checked.ok) throw invalidInput(checked.problems);
      const id = this.deps.newId();
      const probe: Device = {
        ...checked.device,
        id,
        passwordSealed: this.deps.secrets.seal(input.password, secretAad('devices', id, 'password')),
        hostname: null,
        version: null,
        lastTest: null,
        lastTestAt: null,
        haTopology: null,
        createdAt: this.deps.clock.now(),
        updatedAt: this.deps.clock.now(),
      };
      const client = this.connect(probe);
      let topology: Device['haTopology'];
      try {
        topology = await readHaTopology(client, this.deps.clock.now());
      } catch (err) {
        const e = isCoreError(err) ? err : new CoreError('bigip_api', (err as Error).message);
        throw new CoreError(
          'input_invalid',
          `${checked.device.url}: could not read its device group: ${e.message}; nothing stored`,
        );
      } finally {
        await client.close();
      }
      if (topology?.group?.name !== input.group)
        throw new CoreError(
          'input_invalid',
          `${checked.device.url} (${topology?.self ?? 'standalone'}) is not a member of device group ${input.group}${topology?.group ? ` (it is in ${topology.group.name})` : ''}; nothing stored`,
        );
      found.push({
        url: checked.device.url,
        name: validateDeviceName(topology.self),
        key: haGroupKey(topology),
        members: topology.group.members,
      });
    }
    const keys = new Set(found.map((f) => f.key));
    if (keys.size !== 1)
      throw new CoreError(
        'input_invalid',
        `the URLs belong to different clusters that each have a group ${input.group}; nothing stored`,
      );
    const added: DeviceView[] = [];
    const alreadyRegistered: string[] = [];
    for (const f of found) {
      if (await this.deps.store.devices.findByName(f.name)) {
        alreadyRegistered.push(f.name);
        continue;
      }
      const { group: _group, urls: _urls, ...connection } = input;
      added.push((await this.add({ ...connection, name: f.name, url: f.url }, actor)).device);
    }
    const given = new Set(found.map((f) => f.name));
    return { added, alreadyRegistered, missing: found[0]!.members.filter((m) => !given.has(m)) };
  }

  async get(name: string): Promise<Device> {
    const device = await this.deps.store.devices.findByName(name);
    if (!device) throw new CoreError('not_found', `no device named "${name}"`, { hint: seeList('device') });
    return device;
  }

  async show(name: string): Promise<DeviceView> {
    return publicView(await this.get(name));
  }

  async list(): Promise<DeviceView[]> {
    return (await this.deps.store.devices.list()).map((d) => publicView(d));
  }

  /**
   * The full paths of the device's client-ssl profiles, sorted, for a form that binds one (nothing is
   * changed on the device). Connection failures are thrown as the client classifies them.
   */
  async clientSslProfiles(name: string): Promise<string[]> {
    const client = this.connect(await this.get(name));
    try {
      return (await client.listClientSslProfiles()).map((p) => p.fullPath).sort();
    } finally {
      await client.close();
    }
  }

  /** The seed's device connection test: login, device-info; records what it found. */
  async test(name: string, actor: string): Promise<DeviceTestResult> {
    const device = await this.get(name);
    const { result, topology } = await this.probe(device);
    await this.deps.store.devices.update(device.id, {
      lastTest: result,
      lastTestAt: this.deps.clock.now(),
      ...(result.ok
        ? { hostname: result.hostname ?? null, version: result.version ?? null, haTopology: topology }
        : {}),
    });
    await appendAudit(this.deps.store.audit, 'device', device, actor, 'device.test', result.ok ? 'ok' : 'error', {
      stage: result.stage,
    });
    return result;
  }

  async remove(name: string, actor: string): Promise<void> {
    const device = await this.get(name);
    const bound = await this.deps.store.bindings.list({ deviceId: device.id });
    if (bound.length > 0) {
      throw new CoreError('conflict', `device "${name}" still carries ${bound.length} binding(s); remove them first`, {
        hint: runCommand('see them with', ['binding', 'list', '--device', name]),
      });
    }
    await this.deps.store.devices.remove(device.id);
    await appendAudit(this.deps.store.audit, 'device', device, actor, 'device.remove', 'ok', {});
  }

  /**
   * Sets a device up to answer HTTP-01 itself (the on-box method): the string data-group, the iRule that
   * answers from it, attached to the port-80 virtual server after the rules already there, then saved.
   * Idempotent: what is already in place is left alone.
   */
  async installResponder(
    name: string,
    input: { virtual: string; dataGroup?: string | undefined; rule?: string | undefined },
    actor: string,
  ): Promise<{ created: string[]; unchanged: string[] }> {
    const device = await this.get(name);
    const dataGroup = input.dataGroup?.trim() || DEFAULT_DATA_GROUP;
    const rule = input.rule?.trim() || DEFAULT_RESPONDER_RULE;
    const virtual = input.virtual.startsWith('/')
      ? input.virtual.trim()
      : `/${device.partition}/${input.virtual.trim()}`;
    for (const [what, path] of [
      ['data-group', dataGroup],
      ['iRule', rule],
      ['virtual server', virtual],
    ] as const) {
      if (!isFullPath(path))
        throw new CoreError('input_invalid', `${what} "${path}" is not a BIG-IP name or full path`);
    }
    const created: string[] = [];
    const unchanged: string[] = [];
    const client = this.connect(device);
    try {
      const vs = await client.getVirtual(virtual);
      if (!vs) throw new CoreError('not_found', `${device.name} has no virtual server ${virtual}`);
      if (await client.getDataGroup(dataGroup)) unchanged.push(dataGroup);
      else {
        await client.createDataGroup(dataGroup);
        created.push(dataGroup);
      }
      const source = acmeResponderRule(dataGroup);
      if ((await client.getRule(rule))?.source === source) unchanged.push(rule);
      else {
        await client.putRule(rule, source);
        created.push(rule);
      }
      const rules = mergeRules(vs.rules, rule);
      if (rules.length === vs.rules.length) unchanged.push(`${virtual} rules`);
      else {
        await client.setVirtualRules(virtual, rules);
        created.push(`${virtual} rules: ${rules.join(', ')}`);
      }
      if (created.length > 0) await client.saveConfig();
    } finally {
      await client.close();
    }
    await appendAudit(this.deps.store.audit, 'device', device, actor, 'device.install_responder', 'ok', {
      virtual,
      dataGroup,
      rule,
      created,
    });
    return { created, unchanged };
  }

  /** An iControl session for the device; callers close it. */
  connect(device: Device): BigIpClient {
    return this.deps.bigip(this.connection(device));
  }

  connection(device: Device): BigIpConnection {
    return deviceConnection(this.deps, device);
  }

  /**
   * The peers of a device's group, each with the registered device it is (or null: not registered yet), from
   * the topology read at the last add or test.
   */
  async peers(device: Pick<Device, 'id' | 'haTopology'>): Promise<HaPeer[]> {
    if (!device.haTopology?.group) return [];
    const registered = (await this.deps.store.devices.list()).filter((d) => d.id !== device.id);
    return haPeers(device.haTopology, registered);
  }

  private async probe(device: Device): Promise<{ result: DeviceTestResult; topology: Device['haTopology'] }> {
    const client = this.connect(device);
    try {
      const info = await client.deviceInfo();
      // The topology is extra: a device whose cm module cannot be read still passes its connection test.
      const topology = await readHaTopology(client, this.deps.clock.now()).catch(() => device.haTopology);
      const group = topology?.group;
      const ha = group
        ? `; ${topology.self} (${topology.failoverState ?? 'failover state unknown'}) in device group ${group.name} (${group.type}, ${group.autoSync ? 'auto' : 'manual'} sync, ${topology.syncStatus ?? 'status unknown'})`
        : '';
      return {
        result: {
          ok: true,
          stage: 'ok',
          message: `${info.product} ${info.version} on ${info.hostname}${ha}`,
          hostname: info.hostname,
          version: info.version,
        },
        topology,
      };
    } catch (err) {
      const e = isCoreError(err) ? err : new CoreError('bigip_api', (err as Error).message);
      return { result: { ok: false, stage: STAGE_OF_CODE[e.code] ?? 'api', message: e.message }, topology: null };
    } finally {
      await client.close();
    }
  }
}

/** How to reach a device; the password is opened only here, for the session. */
export function deviceConnection(deps: Pick<CoreDeps, 'secrets'>, device: Device): BigIpConnection {
  return {
    url: device.url,
    username: device.username,
    password: deps.secrets.open(device.passwordSealed, secretAad('devices', device.id, 'password')),
    caPem: device.caPem ?? undefined,
    insecure: device.insecure,
  };
}
