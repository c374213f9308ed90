import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describeDnsPublisher } from '../../core/domain/dns-publisher.ts';
import { CoreError } from '../../core/errors.ts';
import type { CommandKit } from '../command-kit.ts';

interface DnsSetOptions {
  profile?: string;
  rfc2136?: boolean;
  server?: string;
  zone?: string;
  tsigKey?: string;
  tsigAlgorithm?: string;
  tsigSecretFile?: string;
  acmeDns?: string;
}

/**
 * `domain dns set|show|clear`: how a DNS-01 domain publishes its TXT value itself (RFC 2136 + TSIG, or
 * acme-dns; decision 0038). Registered by `domain.ts`. The TSIG secret comes from a file or stdin, never
 * from an option value, and is never printed.
 */
export function registerDomainDnsCommands(domain: Command, kit: CommandKit): void {
  const { action, actor, path } = kit;

  async function readSecretFile(file: string): Promise<string> {
    if (file === '-') {
      if (!kit.readStdin)
        throw new CoreError(
          'input_invalid',
          "a running service cannot read this terminal's stdin; give the TSIG secret in a file (mode 0600)",
        );
      return (await kit.readStdin()).trim();
    }
    try {
      return readFileSync(path(file), 'utf8').trim();
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new CoreError('input_invalid', `cannot read the TSIG secret file ${file} (${reason})`);
    }
  }

  const dns = domain
    .command('dns')
    .description("publish a DNS-01 domain's TXT value without a person: RFC 2136 + TSIG, or acme-dns");

  dns
    .command('set <name>')
    .description(
      'RFC 2136: --rfc2136 --server H:P [--zone Z] --tsig-key K --tsig-algorithm A --tsig-secret-file F|-; acme-dns: --acme-dns URL (registers once, prints the CNAME to create)',
    )
    .option('--profile <name>', 'profile, when several have the name')
    .option('--rfc2136', 'send RFC 2136 dynamic updates signed with a TSIG key')
    .option('--server <host:port>', "the zone's primary server (port 53 by default)")
    .option('--zone <zone>', 'the zone holding _acme-challenge.<name> (default: found from its SOA)')
    .option('--tsig-key <name>', "the TSIG key's name, as the server knows it")
    .option('--tsig-algorithm <alg>', 'hmac-sha256, hmac-sha384 or hmac-sha512', 'hmac-sha256')
    .option('--tsig-secret-file <file>', 'file holding the base64 TSIG secret (- reads stdin); stored encrypted')
    .option('--acme-dns <url>', 'the acme-dns server to register with')
    .action(
      action(async (rt, out, name: string, o: DnsSetOptions) => {
        const ref = { name, profile: o.profile };
        if (o.rfc2136 && o.acmeDns) throw new CoreError('input_invalid', 'give --rfc2136 or --acme-dns, not both');
        if (o.acmeDns) {
          if (o.server || o.zone || o.tsigKey || o.tsigSecretFile)
            throw new CoreError('input_invalid', '--acme-dns takes no --server, --zone or --tsig-* options');
          const r = await rt.services.domains.setDnsAcmeDns(ref, { url: o.acmeDns }, actor());
          out.result(r, () =>
            [
              `${r.domain.name}: TXT values go to ${describeDnsPublisher(r.domain.dnsPublisher!)}`,
              `  create this record in the zone of ${r.domain.name} (once):`,
              `    ${r.delegation?.record}`,
              r.delegation?.problem ? `  not there yet: ${r.delegation.problem}` : '  it resolves: ready',
            ].join('\n'),
          );
          return;
        }
        if (!o.rfc2136)
          throw new CoreError('input_invalid', 'give --rfc2136 (with --server and --tsig-*) or --acme-dns URL');
        if (!o.server || !o.tsigKey || !o.tsigSecretFile)
          throw new CoreError(
            'input_invalid',
            '--rfc2136 needs --server, --tsig-key and --tsig-secret-file (the secret is never taken on the command line)',
          );
        const secret = await readSecretFile(o.tsigSecretFile);
        const view = await rt.services.domains.setDnsRfc2136(
          ref,
          {
            server: o.server,
            zone: o.zone,
            keyName: o.tsigKey,
            algorithm: o.tsigAlgorithm ?? 'hmac-sha256',
            secret,
          },
          actor(),
        );
        out.result(view, () => `${view.name}: TXT values go to ${describeDnsPublisher(view.dnsPublisher!)}`);
      }),
    );

  dns
    .command('show <name>')
    .description("the domain's DNS method (never its secret), and for acme-dns the CNAME and whether it resolves")
    .option('--profile <name>', 'profile, when several have the name')
    .action(
      action(async (rt, out, name: string, o: { profile?: string }) => {
        const r = await rt.services.domains.showDns({ name, profile: o.profile });
        out.result(r, () => {
          if (!r.method) return `${r.domain.name}: no DNS method (TXT values are published by a person or an endpoint)`;
          const lines = [`${r.domain.name}: ${r.method}`];
          if (r.delegation) {
            lines.push(`  CNAME: ${r.delegation.record}`);
            lines.push(r.delegation.problem ? `  not ready: ${r.delegation.problem}` : '  it resolves: ready');
          }
          return lines.join('\n');
        });
      }),
    );

  dns
    .command('clear <name>')
    .description("stop publishing this domain's TXT value by DNS update (its secret is forgotten)")
    .option('--profile <name>', 'profile, when several have the name')
    .action(
      action(async (rt, out, name: string, o: { profile?: string }) => {
        const view = await rt.services.domains.clearDns({ name, profile: o.profile }, actor());
        out.result(view, () => `${view.name}: no DNS method`);
      }),
    );
}
