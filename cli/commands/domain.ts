import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseChallengeType } from '../../core/domain/challenge-type.ts';
import { builtinResponderUrl } from '../../core/config.ts';
import { CoreError } from '../../core/errors.ts';
import { type PublicChallengeContent, withoutChallengeKey } from '../../core/domain/challenge-content.ts';
import type { DomainView } from '../../core/services/domain-service.ts';
import type { CommandKit } from '../command-kit.ts';
import { registerDomainDnsCommands } from './domain-dns.ts';
import { commaList } from '../option-parsers.ts';
import { fields, table } from '../output.ts';
import { writePrivate } from '../private-file.ts';
import { renderRemoval } from '../render-removal.ts';

/** `domain`: domains, their challenges, API endpoints and on-box data-groups. */
export function registerDomainCommands(program: Command, kit: CommandKit): void {
  const { action, actor, path } = kit;
  const domain = program.command('domain').description('domains and their ACME challenges');

  function renderChallenge(c: PublicChallengeContent): string {
    const head = `${c.domain}  [${c.type}, ${c.status}${c.expiresAt ? `, challenge expires ${c.expiresAt.toISOString()}` : ''}]`;
    if (c.http)
      return `${head}\n  file:    ${c.http.fileName}\n  content: ${c.http.content}\n  url:     http://${c.domain}${c.http.urlPath}`;
    if (c.dns) return `${head}\n  TXT record: ${c.dns.zoneLine}`;
    if (c.tls) return `${head}\n  TLS-ALPN-01 certificate and throwaway key: write them with --out DIR`;
    return `${head}\n  (no challenge content; run: bigip-acme domain reconfigure)`;
  }

  interface EndpointOptions {
    profile?: string;
    url?: string;
    username?: string;
    passwordFile?: string;
    builtin?: boolean;
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
        const r = await kit.withChallengeListeners(rt, () =>
          rt.services.domains.test({ name, profile: o.profile }, actor(), out.progress),
        );
        out.result(r, () => `${r.domain.name}: ${r.outcome} (${r.domain.status})\n  ${r.detail}`);
        if (r.outcome !== 'valid' && r.outcome !== 'already_valid') kit.setExitCode(1);
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
          const responderUrl = builtinResponderUrl(rt.config);
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

  registerDomainDnsCommands(domain, kit);

  domain
    .command('deploy-test <name>')
    .description("Deploy & Test: publish the challenge content to the domain's API endpoint, then Test Connection")
    .option('--profile <name>', 'profile, when several have the name')
    .action(
      action(async (rt, out, name: string, o: { profile?: string }) => {
        const r = await kit.withChallengeListeners(rt, () =>
          rt.services.domains.deployAndTest({ name, profile: o.profile }, actor(), out.progress),
        );
        out.result(r, () => `${r.domain.name}: ${r.outcome} (${r.domain.status})\n  ${r.published}\n  ${r.detail}`);
        if (r.outcome !== 'valid' && r.outcome !== 'already_valid') kit.setExitCode(1);
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

  // ---- on-box HTTP-01 -------------------------------------------------------------------------------------
  const datagroup = domain
    .command('datagroup')
    .description('answer HTTP-01 from a BIG-IP data-group (see device install-responder)');

  datagroup
    .command('set <name>')
    .description("publish this domain's HTTP-01 records into the data-group on these devices")
    .requiredOption('--device <name>', 'device (repeatable or comma-separated)', commaList)
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

  domain
    .command('remove <name>')
    .description('forget a domain (refused while a certificate covers it); its pending authorizations are deactivated')
    .option('--profile <name>', 'profile, when several have the name')
    .action(
      action(async (rt, out, name: string, o: { profile?: string }) => {
        const r = await rt.services.removals.removeDomain({ name, profile: o.profile }, actor(), out.progress);
        out.result(r, () => renderRemoval(r));
      }),
    );
}
