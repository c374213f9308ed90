import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { parseKeySpec } from '../../core/domain/key-spec.ts';
import { CoreError } from '../../core/errors.ts';
import type { CommandKit } from '../command-kit.ts';
import { commaList, onOff, wholeNumber } from '../option-parsers.ts';
import { fields, table } from '../output.ts';
import { renderRemoval } from '../render-removal.ts';

/** `profile`: CA management profiles and their ACME accounts. */
export function registerProfileCommands(program: Command, kit: CommandKit): void {
  const { action, actor, path } = kit;
  const profile = program.command('profile').description('CA management profiles');

  profile
    .command('validate <server>')
    .description('fetch a directory (production, staging or a URL) and show its terms and capabilities')
    .action(
      action(async (rt, out, server: string) => {
        const info = await rt.services.profiles.validate(server);
        out.result(info, () =>
          fields(
            {
              directory: info.url,
              'terms of service': info.termsOfService,
              'external account binding': info.externalAccountRequired ? 'required' : 'not required',
              'CAA identities': info.caaIdentities,
              'ACME profiles': Object.keys(info.profiles),
              ARI: info.renewalInfo ? 'yes' : 'no',
            },
            ['directory', 'terms of service', 'external account binding', 'CAA identities', 'ACME profiles', 'ARI'],
          ),
        );
      }),
    );

  interface CreateOptions {
    server: string;
    key: string;
    contact?: string[];
    acceptTos?: boolean;
    eabKid?: string;
    eabHmacKeyFile?: string;
    acmeProfile?: string;
    renewDays: number;
    autoRenew: boolean;
    deployTime: string;
    timeZone: string;
    autoDeploy: boolean;
    renewApproval: boolean;
    deployApproval: boolean;
  }

  profile
    .command('create <name>')
    .description('create a profile and its ACME account (name, server, key and ToS are locked afterwards)')
    .requiredOption('--server <server>', 'production, staging, or an ACME directory URL')
    .option('--key <type>', 'account and certificate keys: rsa-2048|rsa-3072|rsa-4096|ec-p256|ec-p384', 'ec-p256')
    .option('--contact <email>', 'contact e-mail (repeatable)', commaList)
    .option('--accept-tos', "accept the CA's terms of service")
    .option('--eab-kid <kid>', 'external account binding key id')
    .option('--eab-hmac-key-file <file>', 'file holding the EAB HMAC key (kept off the command line)')
    .option('--acme-profile <name>', 'ACME profile to request (e.g. tlsserver)')
    .option('--renew-days <n>', 'renew at the latest N days before expiry', wholeNumber, 7)
    .option('--auto-renew <on|off>', 'renew automatically', onOff, true)
    .option('--deploy-time <HH:MM>', 'time of day to deploy renewed certificates', '00:00')
    .option('--time-zone <tz>', 'IANA time zone for the deploy time', 'UTC')
    .option('--auto-deploy <on|off>', 'deploy renewed certificates automatically', onOff, true)
    .option('--renew-approval <on|off>', 'semi-automatic: each renewal waits for an approval', onOff, false)
    .option('--deploy-approval <on|off>', 'semi-automatic: each automatic deploy waits for an approval', onOff, false)
    .action(
      action(async (rt, out, name: string, o: CreateOptions) => {
        if (Boolean(o.eabKid) !== Boolean(o.eabHmacKeyFile)) {
          throw new CoreError('input_invalid', '--eab-kid and --eab-hmac-key-file go together');
        }
        const eab =
          o.eabKid && o.eabHmacKeyFile
            ? { kid: o.eabKid, hmacKey: readFileSync(path(o.eabHmacKeyFile), 'utf8').trim() }
            : undefined;
        const created = await rt.services.profiles.create(
          {
            name,
            server: o.server,
            keySpec: parseKeySpec(o.key),
            contact: o.contact ?? [],
            acceptTos: Boolean(o.acceptTos),
            ...(eab ? { eab } : {}),
            ...(o.acmeProfile ? { acmeProfile: o.acmeProfile } : {}),
            renewDaysBefore: o.renewDays,
            autoRenew: o.autoRenew,
            deployTime: o.deployTime,
            deployTimeZone: o.timeZone,
            autoDeploy: o.autoDeploy,
            renewApproval: o.renewApproval,
            deployApproval: o.deployApproval,
          },
          actor(),
        );
        out.result(created, () => `created profile ${created.name}\naccount: ${created.accountUrl}`);
      }),
    );

  profile
    .command('list')
    .description('list profiles')
    .action(
      action(async (rt, out) => {
        const rows = await rt.services.profiles.list();
        out.result(rows, () =>
          table(rows, ['name', 'directoryUrl', 'keySpec', 'renewDaysBefore', 'deployTime', 'deployTimeZone']),
        );
      }),
    );

  profile
    .command('show <name>')
    .description('show one profile')
    .action(
      action(async (rt, out, name: string) => {
        const p = await rt.services.profiles.show(name);
        out.result(p, () =>
          fields(p, [
            'name',
            'directoryUrl',
            'keySpec',
            'contact',
            'tosAgreed',
            'tosUrl',
            'accountUrl',
            'eabKid',
            'acmeProfile',
            'autoRenew',
            'renewDaysBefore',
            'autoDeploy',
            'deployTime',
            'deployTimeZone',
            'renewApproval',
            'deployApproval',
            'createdAt',
          ]),
        );
      }),
    );

  profile
    .command('update <name>')
    .description('change contact, auto renewal and auto deploy (name, server, key and ToS are locked)')
    .option('--contact <email>', 'contact e-mail (repeatable; replaces the list)', commaList)
    .option('--renew-days <n>', 'renew at the latest N days before expiry', wholeNumber)
    .option('--auto-renew <on|off>', 'renew automatically', onOff)
    .option('--deploy-time <HH:MM>', 'time of day to deploy renewed certificates')
    .option('--time-zone <tz>', 'IANA time zone for the deploy time')
    .option('--auto-deploy <on|off>', 'deploy renewed certificates automatically', onOff)
    .option('--acme-profile <name>', 'ACME profile to request')
    .option('--renew-approval <on|off>', 'semi-automatic: each renewal waits for an approval', onOff)
    .option('--deploy-approval <on|off>', 'semi-automatic: each automatic deploy waits for an approval', onOff)
    .addOption(new Option('--server <server>').hideHelp())
    .addOption(new Option('--key <type>').hideHelp())
    .addOption(new Option('--name <name>').hideHelp())
    .addOption(new Option('--accept-tos').hideHelp())
    .action(
      action(async (rt, out, name: string, o: UpdateOptions) => {
        const updated = await rt.services.profiles.update(
          name,
          {
            contact: o.contact,
            renewDaysBefore: o.renewDays,
            autoRenew: o.autoRenew,
            deployTime: o.deployTime,
            deployTimeZone: o.timeZone,
            autoDeploy: o.autoDeploy,
            acmeProfile: o.acmeProfile,
            renewApproval: o.renewApproval,
            deployApproval: o.deployApproval,
            directoryUrl: o.server,
            keySpec: o.key,
            name: o.name,
            tosAgreed: o.acceptTos,
          },
          actor(),
        );
        out.result(updated, () => `updated profile ${updated.name}`);
      }),
    );

  interface UpdateOptions {
    contact?: string[];
    renewDays?: number;
    autoRenew?: boolean;
    deployTime?: string;
    timeZone?: string;
    autoDeploy?: boolean;
    acmeProfile?: string;
    renewApproval?: boolean;
    deployApproval?: boolean;
    server?: string;
    key?: string;
    name?: string;
    acceptTos?: boolean;
  }

  profile
    .command('remove <name>')
    .description('forget a profile (refused while it has domains or certificates; --force takes them along)')
    .option('--force', 'remove its domains and certificates too, unbinding them first (devices are not touched)')
    .option('--deactivate-account', 'deactivate its ACME account at the CA (cannot be undone)')
    .action(
      action(async (rt, out, name: string, o: { force?: boolean; deactivateAccount?: boolean }) => {
        const r = await rt.services.removals.removeProfile(
          name,
          { force: o.force, deactivateAccount: o.deactivateAccount },
          actor(),
          out.progress,
        );
        out.result(r, () => renderRemoval(r));
      }),
    );
}
