import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseChallengeType } from '../core/domain/challenge-type.ts';
import { parseKeySpec } from '../core/domain/key-spec.ts';
import { CoreError } from '../core/errors.ts';
import type { CertificateView } from '../core/services/certificate-service.ts';
import { type PublicChallengeContent, withoutChallengeKey } from '../core/domain/challenge-content.ts';
import type { DomainView } from '../core/services/domain-service.ts';
import type { Runtime } from '../runtime.ts';
import { startChallengeListeners } from '../responder/start.ts';
import { registerDeviceCommands } from './device-commands.ts';
import { registerJobCommands } from './job-commands.ts';
import { createOutput, fields, type Output, table, wantsJson } from './output.ts';
import { registerStatusCommands } from './status-commands.ts';

export type Role = 'all' | 'responder' | 'worker' | 'bot';

/** Where a CLI invocation runs: in its own process, or forwarded into a running service. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The invoking user's working directory; relative paths in options resolve against it. */
  cwd: string;
  /**
   * The OS user running the command; the actor is `cli:<user>`. Production passes the process's own uid's
   * name (`osUserName()` in os-identity.ts), never the environment; tests pass another name to act as a second person.
   */
  user: string;
  /** Runs fn with a runtime: a fresh one per command locally, the service's own when forwarded. */
  withRuntime<T>(fn: (rt: Runtime) => Promise<T>): Promise<T>;
  /**
   * Embedded PGlite belongs to one process, so no separate responder can read this process's challenges:
   * when true, commands that get challenges validated answer them themselves (as certbot standalone does).
   */
  servesChallenges: boolean;
  /** Runs the service; absent when forwarded (a service is already running). */
  serve?: (role: Role) => Promise<void>;
}

/** Writes a key owner-only, also when the file already existed with wider permissions. */
function writePrivate(file: string, body: string): void {
  writeFileSync(file, body, { mode: 0o600 });
  chmodSync(file, 0o600);
}

const list = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];
const intArg = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
};
const onOff = (value: string) => {
  if (!/^(on|off|true|false|yes|no)$/i.test(value)) throw new InvalidArgumentError('must be on or off');
  return /^(on|true|yes)$/i.test(value);
};

/** Runs one CLI invocation and returns its exit code; never calls process.exit. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  // Known before parsing, so that a usage error, which stops the parse, is JSON too.
  const json = wantsJson(argv);
  const out = createOutput(json, io);
  // With --json, commander's own text (usage errors, help) is kept back and turned into one JSON document.
  let commanderText = '';
  const keep = (t: string) => {
    commanderText += t;
  };
  const program = new Command('bigip-acme')
    .description('ACME certificates for F5 BIG-IP: CA profiles, domains, challenges, certificates, devices, deploys')
    .option('--json', 'machine-readable output on stdout, also for errors and --help')
    .showHelpAfterError()
    .configureOutput(
      json
        ? { writeOut: keep, writeErr: keep, outputError: () => {} }
        : { writeOut: (t) => io.stdout(t), writeErr: (t) => io.stderr(t) },
    )
    .exitOverride();
  const actor = () => `cli:${io.user}`;
  const path = (p: string) => resolve(io.cwd, p);

  async function withChallengeListeners<T>(rt: Runtime, fn: () => Promise<T>): Promise<T> {
    if (!io.servesChallenges) return fn();
    const close = await startChallengeListeners(rt);
    try {
      return await fn();
    } finally {
      await close();
    }
  }

  /** Runs one command with a runtime and renders its result or error. */
  function action<A extends unknown[]>(fn: (rt: Runtime, out: Output, ...args: A) => Promise<void>) {
    return async (...args: A) => {
      try {
        await io.withRuntime((rt) => fn(rt, out, ...args));
      } catch (err) {
        exitCode = out.fail(err);
      }
    };
  }

  program
    .command('serve')
    .description('run the service (responder, scheduler, Slack bot)')
    .addOption(
      new Option('--role <role>', 'which role to run').choices(['all', 'responder', 'worker', 'bot']).default('all'),
    )
    .action(async (opts: { role: Role }) => {
      try {
        if (!io.serve) throw new CoreError('conflict', 'the service is already running on this data directory');
        await io.serve(opts.role);
      } catch (err) {
        exitCode = out.fail(err);
      }
    });

  // ---- profiles ---------------------------------------------------------------------------------------------
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
    .option('--contact <email>', 'contact e-mail (repeatable)', list)
    .option('--accept-tos', "accept the CA's terms of service")
    .option('--eab-kid <kid>', 'external account binding key id')
    .option('--eab-hmac-key-file <file>', 'file holding the EAB HMAC key (kept off the command line)')
    .option('--acme-profile <name>', 'ACME profile to request (e.g. tlsserver)')
    .option('--renew-days <n>', 'renew at the latest N days before expiry', intArg, 7)
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
    .option('--contact <email>', 'contact e-mail (repeatable; replaces the list)', list)
    .option('--renew-days <n>', 'renew at the latest N days before expiry', intArg)
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

  interface EndpointOptions {
    profile?: string;
    url?: string;
    username?: string;
    passwordFile?: string;
    builtin?: boolean;
  }

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

  // ---- domains ----------------------------------------------------------------------------------------------
  const domain = program.command('domain').description('domains and their ACME challenges');

  function renderChallenge(c: PublicChallengeContent): string {
    const head = `${c.domain}  [${c.type}, ${c.status}${c.expiresAt ? `, challenge expires ${c.expiresAt.toISOString()}` : ''}]`;
    if (c.http)
      return `${head}\n  file:    ${c.http.fileName}\n  content: ${c.http.content}\n  url:     http://${c.domain}${c.http.urlPath}`;
    if (c.dns) return `${head}\n  TXT record: ${c.dns.zoneLine}`;
    if (c.tls) return `${head}\n  TLS-ALPN-01 certificate and throwaway key: write them with --out DIR`;
    return `${head}\n  (no challenge content; run: bigip-acme domain reconfigure)`;
  }

  domain
    .command('add <names...>')
    .description('add domains to a profile and fetch their challenges from the CA')
    .requiredOption('--profile <name>', 'CA management profile')
    .option('--challenge <type>', 'http-01 | dns-01 | tls-alpn-01', 'http-01')
    .action(
      action(async (rt, out, names: string[], o: { profile: string; challenge: string }) => {
        const added = (
          await rt.services.domains.add(o.profile, names, parseChallengeType(o.challenge), actor(), out.progress)
        ).map(withoutChallengeKey);
        out.result(added, () => added.map(renderChallenge).join('\n\n'));
      }),
    );

  domain
    .command('list')
    .description('list domains and their connection status')
    .option('--profile <name>', 'only this profile')
    .action(
      action(async (rt, out, o: { profile?: string }) => {
        const rows = await rt.services.domains.list(o.profile);
        out.result(rows, () => table(rows, ['name', 'profileName', 'challengeType', 'status', 'lastCheckedAt']));
      }),
    );

  domain
    .command('show <name>')
    .description('show a domain with its challenge content')
    .option('--profile <name>', 'profile, when several have the name')
    .action(
      action(async (rt, out, name: string, o: { profile?: string }) => {
        const shown = await rt.services.domains.show({ name, profile: o.profile });
        const d = shown.domain;
        const challenge = withoutChallengeKey(shown.challenge);
        out.result(
          { ...d, challenge },
          () =>
            `${fields(d, ['name', 'profileName', 'challengeType', 'status', 'lastCheckedAt', 'lastCheckDetail', 'problem', 'endpointUrl', 'endpointUsername'])}\n\n${renderChallenge(challenge)}`,
        );
      }),
    );

  domain
    .command('challenge <name>')
    .description('print the challenge content, or write it as files with --out')
    .option('--profile <name>', 'profile, when several have the name')
    .option('--out <dir>', 'write the HTTP file / TXT line / .cert and .key into this directory')
    .action(
      action(async (rt, out, name: string, o: { profile?: string; out?: string }) => {
        const c = await rt.services.domains.challenge({ name, profile: o.profile });
        if (o.out) {
          const dir = path(o.out);
          mkdirSync(dir, { recursive: true });
          const written: string[] = [];
          const write = (file: string, body: string, secret = false) => {
            if (secret) writePrivate(join(dir, file), body);
            else writeFileSync(join(dir, file), body, { mode: 0o644 });
            written.push(join(dir, file));
          };
          if (c.http) write(c.http.fileName, c.http.content);
          if (c.dns) write(`${c.domain.replace('*', 'wildcard')}.txt`, `${c.dns.zoneLine}\n`);
          if (c.tls) {
            write(`${c.domain}.cert`, c.tls.certPem);
            write(`${c.domain}.key`, c.tls.keyPem, true);
          }
          out.result({ domain: c.domain, type: c.type, files: written }, () => `wrote ${written.join(', ')}`);
          return;
        }
        const shown = withoutChallengeKey(c);
        out.result(shown, () =>
          shown.tls ? `${renderChallenge(shown)}\n\n${shown.tls.certPem}` : renderChallenge(shown),
        );
      }),
    );

  domain
    .command('test <name>')
    .description('Test Connection: check the content is reachable, then ask the CA to validate')
    .option('--profile <name>', 'profile, when several have the name')
    .action(
      action(async (rt, out, name: string, o: { profile?: string }) => {
        const r = await withChallengeListeners(rt, () =>
          rt.services.domains.test({ name, profile: o.profile }, actor(), out.progress),
        );
        out.result(r, () => `${r.domain.name}: ${r.outcome} (${r.domain.status})\n  ${r.detail}`);
        if (r.outcome !== 'valid' && r.outcome !== 'already_valid') exitCode = 1;
      }),
    );

  const endpoint = domain.command('endpoint').description("the domain's API endpoint for automated challenges");

  endpoint
    .command('set <name>')
    .description(
      'publish challenge content to this URL with HTTP Basic auth (or to the built-in responder with --builtin)',
    )
    .option('--profile <name>', 'profile, when several have the name')
    .option('--url <url>', 'endpoint URL that accepts the challenge payloads')
    .option('--username <user>', 'HTTP Basic user name')
    .option('--password-file <file>', 'file holding the HTTP Basic password (kept off the command line)')
    .option('--builtin', "use this service's own responder (challenge-hook), with generated credentials")
    .action(
      action(async (rt, out, name: string, o: EndpointOptions) => {
        const ref = { name, profile: o.profile };
        let view: DomainView;
        if (o.builtin) {
          if (o.url || o.username || o.passwordFile)
            throw new CoreError('input_invalid', '--builtin takes no --url, --username or --password-file');
          const responderUrl = rt.config.RESPONDER_URL ?? `http://127.0.0.1:${rt.config.RESPONDER_PORT}`;
          view = await rt.services.domains.useBuiltinEndpoint(ref, responderUrl, actor());
        } else {
          if (!o.url || !o.username || !o.passwordFile)
            throw new CoreError('input_invalid', 'give --url, --username and --password-file, or --builtin');
          const password = readFileSync(path(o.passwordFile), 'utf8').trim();
          view = await rt.services.domains.setEndpoint(ref, { url: o.url, username: o.username, password }, actor());
        }
        out.result(
          view,
          () => `${view.name}: challenges will be published to ${view.endpointUrl} as ${view.endpointUsername}`,
        );
      }),
    );

  endpoint
    .command('clear <name>')
    .description('stop publishing challenge content for this domain')
    .option('--profile <name>', 'profile, when several have the name')
    .action(
      action(async (rt, out, name: string, o: { profile?: string }) => {
        const view = await rt.services.domains.clearEndpoint({ name, profile: o.profile }, actor());
        out.result(view, () => `${view.name}: no API endpoint`);
      }),
    );

  domain
    .command('deploy-test <name>')
    .description("Deploy & Test: publish the challenge content to the domain's API endpoint, then Test Connection")
    .option('--profile <name>', 'profile, when several have the name')
    .action(
      action(async (rt, out, name: string, o: { profile?: string }) => {
        const r = await withChallengeListeners(rt, () =>
          rt.services.domains.deployAndTest({ name, profile: o.profile }, actor(), out.progress),
        );
        out.result(r, () => `${r.domain.name}: ${r.outcome} (${r.domain.status})\n  ${r.published}\n  ${r.detail}`);
        if (r.outcome !== 'valid' && r.outcome !== 'already_valid') exitCode = 1;
      }),
    );

  domain
    .command('reconfigure')
    .description('Reconfigure: fresh challenge content for every domain whose authorization expired or failed')
    .requiredOption('--profile <name>', 'CA management profile')
    .action(
      action(async (rt, out, o: { profile: string }) => {
        const refreshed = (await rt.services.domains.reconfigure(o.profile, actor(), out.progress)).map(
          withoutChallengeKey,
        );
        out.result(refreshed, () =>
          refreshed.length
            ? refreshed.map(renderChallenge).join('\n\n')
            : 'every domain still has usable challenge content',
        );
      }),
    );

  // ---- certificates -----------------------------------------------------------------------------------------
  const cert = program.command('cert').description('certificates (CSR, order, issue, export)');

  const iso = (d: Date | null) => (d ? d.toISOString() : null);

  /** The renewal and deploy fields of a certificate, as text: what failed, how often, what comes next. */
  function renewalFields(c: CertificateView): Record<string, unknown> {
    const e = c.lastRenewalError;
    const d = c.pendingDeploy;
    return {
      renewal: c.renewalState ? `${c.renewalState} (since ${iso(c.renewalStartedAt) ?? '?'})` : null,
      lastRenewalError: e ? `${e.code}: ${e.message} (at ${e.at})` : null,
      failedAttempts: c.failedAttempts,
      nextAttemptAt: iso(c.nextAttemptAt),
      lastRenewalAttemptAt: iso(c.lastRenewalAttemptAt),
      pendingDeploy: d
        ? `${d.due ? 'due since' : 'at'} ${d.at.toISOString()} (${d.reason === 'expires_first' ? 'what is served expires first' : 'profile deploy time'}; ${d.bindings} binding(s))`
        : null,
    };
  }

  function renderCert(c: CertificateView): string {
    return fields({ ...c, ...renewalFields(c) }, [
      'name',
      'state',
      'profileName',
      'partition',
      'commonName',
      'sans',
      'keySpec',
      'subject',
      'issuer',
      'serial',
      'notBefore',
      'notAfter',
      'fingerprintSha256',
      'problem',
      'renewAt',
      'renewal',
      'lastRenewalError',
      'failedAttempts',
      'nextAttemptAt',
      'lastRenewalAttemptAt',
      'pendingDeploy',
    ]);
  }

  /** One line per certificate: its state, and the renewal and deploy columns only when something is going on. */
  function certRow(c: CertificateView): Record<string, unknown> {
    const renewal =
      c.failedAttempts > 0
        ? `failed ${c.failedAttempts}x${c.lastRenewalError ? ` (${c.lastRenewalError.code})` : ''}`
        : c.renewalState;
    return {
      ...c,
      renewal,
      nextAttempt: c.failedAttempts > 0 || c.renewalState ? iso(c.nextAttemptAt) : null,
      deploy: c.pendingDeploy ? iso(c.pendingDeploy.at) : null,
    };
  }

  cert
    .command('request')
    .description('request a certificate: key, CSR, order, challenges, finalize, download')
    .requiredOption('--profile <name>', 'issuer (CA management profile)')
    .requiredOption('--cn <name>', "common name: one of the profile's domains")
    .option('--san <names>', "more names, also the profile's domains (repeatable or comma-separated)", list)
    .option('--partition <name>', 'BIG-IP partition', 'Common')
    .option('--key <type>', "key type; must match the profile's")
    .option('--passphrase-file <file>', 'file with a passphrase for the private key on BIG-IP')
    .option('--name <object>', 'BIG-IP object name (default: derived from the CN)')
    .action(
      action(
        async (
          rt,
          out,
          o: {
            profile: string;
            cn: string;
            san?: string[];
            partition: string;
            key?: string;
            passphraseFile?: string;
            name?: string;
          },
        ) => {
          const issued = await withChallengeListeners(rt, () =>
            rt.services.certificates.request(
              {
                profile: o.profile,
                commonName: o.cn,
                sans: o.san ?? [],
                partition: o.partition,
                ...(o.key ? { keySpec: parseKeySpec(o.key) } : {}),
                ...(o.passphraseFile ? { passphrase: readFileSync(path(o.passphraseFile), 'utf8').trim() } : {}),
                ...(o.name ? { name: o.name } : {}),
              },
              actor(),
              out.progress,
            ),
          );
          out.result(issued, () => renderCert(issued));
          if (issued.state !== 'issued') exitCode = 3;
        },
      ),
    );

  cert
    .command('resume <name>')
    .description('continue a request from where it stopped (after a crash, or once challenge content is published)')
    .action(
      action(async (rt, out, name: string) => {
        const c = await withChallengeListeners(rt, () => rt.services.certificates.resume(name, actor(), out.progress));
        out.result(c, () => renderCert(c));
        // A renewal still in flight leaves the live certificate issued: not done either.
        if (c.state !== 'issued' || c.renewalState !== null) exitCode = 3;
      }),
    );

  cert
    .command('renew <name>')
    .description(
      'issue an issued certificate again with a fresh key (same name and bindings); continues a renewal in flight',
    )
    .action(
      action(async (rt, out, name: string) => {
        const c = await withChallengeListeners(rt, () => rt.services.certificates.renew(name, actor(), out.progress));
        out.result(c, () => renderCert(c));
        if (c.state !== 'issued' || c.renewalState !== null) exitCode = 3;
      }),
    );

  cert
    .command('list')
    .description('list certificates')
    .option('--profile <name>', 'only this profile')
    .action(
      action(async (rt, out, o: { profile?: string }) => {
        const rows = await rt.services.certificates.list(o.profile);
        out.result(rows, () =>
          table(rows.map(certRow), [
            'name',
            'state',
            'commonName',
            'profileName',
            'notAfter',
            'renewal',
            'nextAttempt',
            'deploy',
          ]),
        );
      }),
    );

  cert
    .command('show <name>')
    .description(
      'subject, SANs, issuer, serial, validity, fingerprint, state, and the renewal (last error, failed attempts, next attempt) and pending deploy',
    )
    .action(
      action(async (rt, out, name: string) => {
        const c = await rt.services.certificates.show(name);
        const { chainPem: _chain, csrPem: _csr, renewalCsrPem: _renewalCsr, ...summary } = c;
        out.result(summary, () => renderCert(c));
      }),
    );

  cert
    .command('export <name>')
    .description('write the certificate chain; the private key only with --include-key')
    .option('--out <file>', 'chain file (default: stdout)')
    .option('--include-key', 'also export the private key (audited)')
    .option('--key-out <file>', 'where to write the key (required with --include-key; written mode 0600)')
    .action(
      action(async (rt, out, name: string, o: { out?: string; includeKey?: boolean; keyOut?: string }) => {
        if (Boolean(o.includeKey) !== Boolean(o.keyOut)) {
          throw new CoreError('input_invalid', '--include-key and --key-out FILE go together (keys are never printed)');
        }
        const exported = await rt.services.certificates.export(name, { includeKey: Boolean(o.includeKey) }, actor());
        if (exported.keyPem && o.keyOut) writePrivate(path(o.keyOut), exported.keyPem);
        if (o.out) {
          writeFileSync(path(o.out), exported.chainPem);
          out.result(
            { chain: o.out, key: o.keyOut ?? null },
            () => `wrote ${o.out}${o.keyOut ? ` and ${o.keyOut}` : ''}`,
          );
        } else if (out.json) {
          out.result({ chainPem: exported.chainPem, key: o.keyOut ?? null }, () => '');
        } else {
          io.stdout(exported.chainPem);
        }
      }),
    );

  const kit = {
    action,
    actor,
    path,
    setExitCode: (code: number) => {
      exitCode = code;
    },
  };
  registerDeviceCommands(program, cert, domain, kit);
  registerJobCommands(program, kit);
  registerStatusCommands(program, kit);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return usageOutcome(err, json ? commanderText : null, out);
    return out.fail(err);
  }
  return exitCode;
}

/**
 * Commander reports usage errors and --help through exitOverride. In text mode it has already written them
 * (the error, then the help, on stderr; asked-for help on stdout). With --json, asked-for help is
 * `{"help": "<text>"}` and everything else is `{"error":{"code":"usage","message"}}`; the exit code is 2.
 */
function usageOutcome(err: CommanderError, keptText: string | null, out: Output): number {
  const asked = err.exitCode === 0;
  if (keptText === null) return asked ? 0 : 2;
  if (asked) {
    out.result({ help: keptText }, () => keptText);
    return 0;
  }
  if (err.code === 'commander.help') {
    // A group without its command (`cert`): commander shows the group's help, whose first line is its usage.
    const usage = /^Usage: (.*)$/m.exec(keptText)?.[1] ?? 'bigip-acme [options] [command]';
    return out.usage(`missing command: ${usage} (see --help)`);
  }
  return out.usage(err.message.replace(/^error: /, ''));
}
