import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { DeviceView } from '../../core/services/device-service.ts';
import type { CommandKit } from '../command-kit.ts';
import { fields, table } from '../output.ts';

function tlsMode(d: Pick<DeviceView, 'insecure' | 'caPem'>): string {
  return d.insecure ? 'INSECURE (verification off)' : d.caPem ? 'verified (CA file)' : 'verified (system CAs)';
}

function renderDevice(d: DeviceView): string {
  return fields(
    {
      ...d,
      tls: tlsMode(d),
      lastTest: d.lastTest ? `${d.lastTest.ok ? 'ok' : `failed at ${d.lastTest.stage}`}: ${d.lastTest.message}` : null,
    },
    ['name', 'url', 'username', 'partition', 'tls', 'hostname', 'version', 'lastTest', 'lastTestAt'],
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
          out.result({ device: d, test }, () => `${renderDevice(d)}${test ? '' : '\n(not tested: --skip-test)'}`);
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
            })),
            ['name', 'url', 'partition', 'tls', 'hostname', 'version', 'test'],
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
        out.result(d, () => renderDevice(d));
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
