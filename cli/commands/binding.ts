import type { Command } from 'commander';
import type { CommandKit } from '../command-kit.ts';
import { table } from '../output.ts';

/** `binding`: which client-ssl profile on which device carries which certificate. */
export function registerBindingCommands(program: Command, kit: CommandKit): void {
  const { action, actor } = kit;
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
            rows.map((b) => ({
              ...b,
              // What a TLS handshake with a virtual server using the profile last showed, at the end of a deploy.
              verifiedToServe: b.servedSerial
                ? `${b.servedSerial} at ${b.servedVerifiedAt?.toISOString() ?? '?'}`
                : null,
            })),
            [
              'certificateName',
              'deviceName',
              'profilePath',
              'createProfile',
              'deployedSerial',
              'deployedAt',
              'verifiedToServe',
            ],
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
}
