import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { HaPeer } from '../../core/domain/ha-topology.ts';
import type { DeviceView } from '../../core/services/device-service.ts';
import type { CommandKit } from '../command-kit.ts';
import { fields, table } from '../output.ts';

function tlsMode(d: Pick<DeviceView, 'insecure' | 'caPem'>): string {
  return d.insecure ? 'INSECURE (verification off)' : d.caPem ? 'verified (CA file)' : 'verified (system CAs)';
}

/** The device group and this device's failover state, as last read (`device add`, `device test`). */
function haGroup(d: Pick<DeviceView, 'haTopology'>): string | null {
  const t = d.haTopology;
  if (!t?.group) return null;
  return `${t.group.name} (${t.group.type}, ${t.group.autoSync ? 'auto' : 'manual'} sync, ${t.syncStatus ?? 'status unknown'}); this device is ${t.self}, ${t.failoverState ?? 'failover state unknown'}`;
}

function renderDevice(d: DeviceView, peers: HaPeer[] = []): string {
  return fields(
    {
      ...d,
      tls: tlsMode(d),
      lastTest: d.lastTest ? `${d.lastTest.ok ? 'ok' : `failed at ${d.lastTest.stage}`}: ${d.lastTest.message}` : null,
      deviceGroup: haGroup(d),
      peers:
        peers.length > 0
          ? peers
              .map((p) =>
                p.registeredAs ? `${p.name} (registered as ${p.registeredAs})` : `${p.name} (not registered)`,
              )
              .join(', ')
          : null,
    },
    [
      'name',
      'url',
      'username',
      'partition',
      'tls',
      'hostname',
      'version',
      'lastTest',
      'lastTestAt',
      'deviceGroup',
      'peers',
    ],
  );
}

/** `device`: managed BIG-IPs, their connection test and the on-box HTTP-01 responder. */
export function registerDeviceCommands(program: Command, kit: CommandKit): void {
  const { action, actor, path } = kit;
  const device = program.command('device').description('managed BIG-IP devices');

  device
    .command('add <name>')
    .description('register a BIG-IP: tests the connection (login, device-info) before storing it')
    .requiredOption('--url <url>', 'management URL, e.g. https://10.0.0.5 or https://bigip:8443')
    .requiredOption('--username <user>', 'iControl REST user')
    .requiredOption('--password-file <file>', 'file holding the password (kept off the command line; stored encrypted)')
    .option('--partition <name>', 'default partition for objects and profiles', 'Common')
    .option('--ca-file <file>', 'PEM CA bundle that signed the management certificate')
    .option('--insecure', 'do not verify the management TLS certificate (recorded and shown)')
    .option('--skip-test', 'store the device even if the connection test fails')
    .action(
      action(
        async (
          rt,
          out,
          name: string,
          o: {
            url: string;
            username: string;
            passwordFile: string;
            partition: string;
            caFile?: string;
            insecure?: boolean;
            skipTest?: boolean;
          },
        ) => {
          const password = readFileSync(path(o.passwordFile), 'utf8').replace(/\r?\n$/, '');
          const { device: d, test } = await rt.services.devices.add(
            {
              name,
              url: o.url,
              username: o.username,
              password,
              partition: o.partition,
              ...(o.caFile ? { caPem: readFileSync(path(o.caFile), 'utf8') } : {}),
              insecure: Boolean(o.insecure),
              skipTest: Boolean(o.skipTest),
            },
            actor(),
          );
          const peers = await rt.services.devices.peers(await rt.services.devices.get(d.name));
          const unregistered = peers.filter((p) => !p.registeredAs).map((p) => p.name);
          out.result(
            { device: d, test, peers },
            () =>
              `${renderDevice(d, peers)}${test ? '' : '\n(not tested: --skip-test)'}${unregistered.length > 0 ? `\nregister the other members (${unregistered.join(', ')}) with device add too: a group is deployed once, through its active member, then synced and every peer checked` : ''}`,
          );
        },
      ),
    );

  device
    .command('add-group <group>')
    .description(
      'register every member of a device group at once, each named after its device name; all URLs must be members of <group>, else nothing is stored',
    )
    .requiredOption('--url <url...>', 'management URL of each member')
    .requiredOption('--username <user>', 'iControl REST user (the same on every member)')
    .requiredOption('--password-file <file>', 'file holding the password (kept off the command line; stored encrypted)')
    .option('--partition <name>', 'default partition for objects and profiles', 'Common')
    .option('--ca-file <file>', 'PEM CA bundle that signed the management certificates')
    .option('--insecure', 'do not verify the management TLS certificates (recorded and shown)')
    .action(
      action(
        async (
          rt,
          out,
          group: string,
          o: {
            url: string[];
            username: string;
            passwordFile: string;
            partition: string;
            caFile?: string;
            insecure?: boolean;
          },
        ) => {
          const password = readFileSync(path(o.passwordFile), 'utf8').replace(/\r?\n$/, '');
          const r = await rt.services.devices.addGroup(
            {
              group,
              urls: o.url,
              username: o.username,
              password,
              partition: o.partition,
              ...(o.caFile ? { caPem: readFileSync(path(o.caFile), 'utf8') } : {}),
              insecure: Boolean(o.insecure),
            },
            actor(),
          );
          out.result(r, () =>
            [
              ...r.added.map((d) => `added ${d.name} (${d.url}): ${haGroup(d) ?? 'standalone'}`),
              ...r.alreadyRegistered.map((n) => `${n}: already registered, left as it is`),
              ...(r.missing.length > 0 ? [`members not given: ${r.missing.join(', ')} (add them with --url)`] : []),
            ].join('\n'),
          );
        },
      ),
    );

  device
    .command('list')
    .description('list devices')
    .action(
      action(async (rt, out) => {
        const rows = await rt.services.devices.list();
        out.result(rows, () =>
          table(
            rows.map((d) => ({
              ...d,
              tls: tlsMode(d),
              test: d.lastTest ? (d.lastTest.ok ? 'ok' : `failed: ${d.lastTest.stage}`) : '-',
              group: d.haTopology?.group?.name ?? null,
              failover: d.haTopology?.group ? d.haTopology.failoverState : null,
            })),
            ['name', 'url', 'partition', 'tls', 'hostname', 'version', 'test', 'group', 'failover'],
          ),
        );
      }),
    );

  device
    .command('show <name>')
    .description('settings and the last connection test')
    .action(
      action(async (rt, out, name: string) => {
        const d = await rt.services.devices.show(name);
        const peers = await rt.services.devices.peers(await rt.services.devices.get(name));
        out.result(d, () => renderDevice(d, peers));
      }),
    );

  device
    .command('test <name>')
    .description('connection test: DNS, TCP, TLS, credentials, API; says which failed')
    .action(
      action(async (rt, out, name: string) => {
        const r = await rt.services.devices.test(name, actor());
        out.result(r, () => (r.ok ? `${name}: ok — ${r.message}` : `${name}: ${r.stage} check failed — ${r.message}`));
        if (!r.ok) kit.setExitCode(1);
      }),
    );

  device
    .command('remove <name>')
    .description('forget a device (refused while bindings use it); nothing on the device changes')
    .action(
      action(async (rt, out, name: string) => {
        await rt.services.devices.remove(name, actor());
        out.result({ removed: name }, () => `removed device ${name}`);
      }),
    );

  device
    .command('install-responder <name>')
    .description('answer HTTP-01 on the BIG-IP itself: data-group + iRule attached to the port-80 virtual server')
    .requiredOption('--virtual <vs>', 'the port-80 virtual server (name or /Partition/name)')
    .option('--data-group <path>', 'string data-group for challenge records', '/Common/acme_responder_dg')
    .option('--rule <path>', 'iRule name', '/Common/bigip_acme_responder')
    .action(
      action(async (rt, out, name: string, o: { virtual: string; dataGroup: string; rule: string }) => {
        const r = await rt.services.devices.installResponder(
          name,
          { virtual: o.virtual, dataGroup: o.dataGroup, rule: o.rule },
          actor(),
        );
        out.result(r, () =>
          [...r.created.map((c) => `created ${c}`), ...r.unchanged.map((u) => `already in place: ${u}`)].join('\n'),
        );
      }),
    );
}
