import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { CoreError } from '../core/errors.ts';
import type { DeviceView } from '../core/services/device-service.ts';
import type { Runtime } from '../runtime.ts';
import { fields, type Output, table } from './output.ts';

/** What the device, binding and deploy commands borrow from the program that registers them. */
export interface CommandKit {
  action<A extends unknown[]>(
    fn: (rt: Runtime, out: Output, ...args: A) => Promise<void>,
  ): (...args: A) => Promise<void>;
  actor(): string;
  path(p: string): string;
  setExitCode(code: number): void;
}

const repeat = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];
const positive = (value: string) => {
  if (!/^[1-9]\d{0,2}$/.test(value)) throw new InvalidArgumentError('must be a whole number from 1 to 999');
  return Number(value);
};

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

export function registerDeviceCommands(program: Command, cert: Command, domain: Command, kit: CommandKit): void {
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

  // ---- bindings -------------------------------------------------------------------------------------------
  const binding = program
    .command('binding')
    .description('which client-ssl profile on which device carries which certificate');

  binding
    .command('add')
    .description('bind a certificate to a client-ssl profile on a device')
    .requiredOption('--cert <name>', 'certificate')
    .requiredOption('--device <name>', 'device')
    .requiredOption('--profile <name>', 'client-ssl profile (name in the device partition, or /Partition/name)')
    .option('--create-profile', 'create the profile at the first deploy if the device lacks it')
    .option('--parent <profile>', 'parent for a created profile', '/Common/clientssl')
    .option('--skip-check', 'do not ask the device whether the profile exists')
    .action(
      action(
        async (
          rt,
          out,
          o: {
            cert: string;
            device: string;
            profile: string;
            createProfile?: boolean;
            parent: string;
            skipCheck?: boolean;
          },
        ) => {
          const b = await rt.services.bindings.add(
            {
              certificate: o.cert,
              device: o.device,
              profile: o.profile,
              createProfile: Boolean(o.createProfile),
              parent: o.parent,
              skipCheck: Boolean(o.skipCheck),
            },
            actor(),
          );
          out.result(
            b,
            () =>
              `${b.certificateName} → ${b.deviceName}:${b.profilePath}${b.createProfile ? ` (created from ${b.parentProfile} if missing)` : ''}`,
          );
        },
      ),
    );

  binding
    .command('list')
    .description('list bindings and what each profile was last verified to serve')
    .option('--cert <name>', 'only this certificate')
    .option('--device <name>', 'only this device')
    .action(
      action(async (rt, out, o: { cert?: string; device?: string }) => {
        const rows = await rt.services.bindings.list({
          ...(o.cert ? { certificate: o.cert } : {}),
          ...(o.device ? { device: o.device } : {}),
        });
        out.result(rows, () =>
          table(
            rows.map((b) => ({ ...b })),
            ['certificateName', 'deviceName', 'profilePath', 'createProfile', 'deployedSerial', 'deployedAt'],
          ),
        );
      }),
    );

  binding
    .command('remove')
    .description('unbind; the profile on the device keeps what it serves')
    .requiredOption('--cert <name>', 'certificate')
    .requiredOption('--device <name>', 'device')
    .requiredOption('--profile <name>', 'client-ssl profile')
    .action(
      action(async (rt, out, o: { cert: string; device: string; profile: string }) => {
        await rt.services.bindings.remove({ certificate: o.cert, device: o.device, profile: o.profile }, actor());
        out.result({ removed: o }, () => `unbound ${o.cert} from ${o.device}:${o.profile}`);
      }),
    );

  // ---- deploy ---------------------------------------------------------------------------------------------
  cert
    .command('deploy <name>')
    .description('install on every bound device and switch the profiles to it, without downtime')
    .option('--device <name>', 'only this device')
    .option('--concurrency <n>', 'devices deployed at once (default: every device, up to 64)', positive)
    .action(
      action(async (rt, out, name: string, o: { device?: string; concurrency?: number }) => {
        const r = await rt.services.deploys.deploy(
          name,
          { device: o.device, concurrency: o.concurrency },
          actor(),
          out.progress,
        );
        out.result(r, () =>
          [
            `${r.certificate} (serial ${r.serial})`,
            ...r.devices.map(
              (d) =>
                `  ${d.device}: ${d.result}${d.error ? ` at ${d.step} — ${d.error.message}` : ''}\n    ${d.outcome}`,
            ),
          ].join('\n'),
        );
        if (!r.ok) kit.setExitCode(1);
      }),
    );

  cert
    .command('deployments <name>')
    .description('deploy history: device, objects, fingerprints, result')
    .option('--limit <n>', 'how many', positive, 20)
    .action(
      action(async (rt, out, name: string, o: { limit: number }) => {
        const rows = await rt.services.deploys.history(name, o.limit);
        out.result(rows, () =>
          table(
            rows.map((d) => ({ ...d, cert: d.objects.cert, error: d.error?.message ?? null })),
            ['startedAt', 'deviceName', 'serial', 'result', 'step', 'cert', 'error'],
          ),
        );
      }),
    );

  // ---- on-box HTTP-01 -------------------------------------------------------------------------------------
  const datagroup = domain
    .command('datagroup')
    .description('answer HTTP-01 from a BIG-IP data-group (see device install-responder)');

  datagroup
    .command('set <name>')
    .description("publish this domain's HTTP-01 records into the data-group on these devices")
    .requiredOption('--device <name>', 'device (repeatable or comma-separated)', repeat)
    .option('--profile <name>', 'profile, when several have the name')
    .option('--data-group <path>', 'data-group full path', '/Common/acme_responder_dg')
    .action(
      action(async (rt, out, name: string, o: { device: string[]; profile?: string; dataGroup: string }) => {
        if (o.device.length === 0) throw new CoreError('input_invalid', 'name at least one --device');
        const v = await rt.services.domains.setDataGroup(
          { name, profile: o.profile },
          { devices: o.device, dataGroup: o.dataGroup },
          actor(),
        );
        out.result(v, () => `${v.name}: HTTP-01 answered from ${v.dataGroupPath} on ${o.device.join(', ')}`);
      }),
    );

  datagroup
    .command('clear <name>')
    .description('stop using data-groups for this domain')
    .option('--profile <name>', 'profile, when several have the name')
    .action(
      action(async (rt, out, name: string, o: { profile?: string }) => {
        const v = await rt.services.domains.clearDataGroup({ name, profile: o.profile }, actor());
        out.result(v, () => `${v.name}: no data-group`);
      }),
    );
}
