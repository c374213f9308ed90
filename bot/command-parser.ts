/**
 * `/acme` text → one subcommand. Pure: no Slack, no core. Anything it does not understand becomes
 * `{ kind: 'usage', problem }`, which the command answers with the usage text.
 */
export type AcmeCommand =
  | { kind: 'help' }
  | { kind: 'status' }
  | { kind: 'setup' }
  | { kind: 'profile_create' }
  | { kind: 'profile_list' }
  | { kind: 'profile_show'; name: string }
  | { kind: 'domain_add'; names: string[]; profile?: string }
  | { kind: 'domain_list'; profile?: string }
  | { kind: 'domain_test'; names: string[]; profile?: string }
  | { kind: 'domain_reconfigure'; profile: string }
  | { kind: 'domain_endpoint'; name: string; profile?: string }
  | { kind: 'domain_dns'; name: string; profile?: string }
  | { kind: 'cert_request'; profile?: string }
  | { kind: 'cert_new'; profile?: string }
  | { kind: 'cert_list'; profile?: string }
  | { kind: 'cert_show'; name: string }
  | { kind: 'cert_renew'; names: string[]; profile?: string }
  | { kind: 'cert_deploy'; name: string }
  | { kind: 'cert_revoke'; name: string; reason: string; reissue: boolean }
  | { kind: 'device_add' }
  | { kind: 'device_list' }
  | { kind: 'device_test'; name: string }
  | { kind: 'binding_add'; certificate: string }
  | { kind: 'binding_remove'; certificate: string; device: string; profile: string }
  | { kind: 'binding_list'; certificate?: string }
  | { kind: 'approvals' }
  | { kind: 'usage'; problem: string };

/** One line per subcommand, in the order `help` shows them. */
export const USAGE_LINES: readonly string[] = [
  '/acme help — this text',
  '/acme status — counts of profiles, domains, certificates, devices and pending approvals',
  '/acme setup — from nothing to a serving certificate: CA profile, BIG-IP, then the request form (admins)',
  '/acme profile create — a new CA management profile (admins; opens a form)',
  '/acme profile list — CA management profiles',
  '/acme profile show NAME — one profile, its CA and its settings',
  '/acme domain add [NAME …] [--profile P] — add domains and get their challenge content (opens a form)',
  '/acme domain list [--profile P] — domains and their connection status',
  '/acme domain test NAME … | --profile P — test the connection (answer the challenge) for some or all domains',
  '/acme domain reconfigure --profile P — fresh challenge content for every domain of a profile',
  '/acme domain endpoint NAME [--profile P] — set the web server endpoint that takes the challenge POST (opens a form)',
  "/acme domain dns NAME [--profile P] — publish a DNS-01 domain's TXT record by RFC 2136 + TSIG or acme-dns (opens a form)",
  '/acme cert request [--profile P] — request a certificate (opens the CSR form; an approver decides)',
  '/acme cert new [--profile P] — request a certificate and where it serves, in one form (an approver decides; approving deploys)',
  '/acme cert list [--profile P] — certificates and their state',
  '/acme cert show NAME — one certificate: names, expiry, where it is deployed',
  '/acme cert renew NAME … | --profile P — renew now (admins)',
  '/acme cert deploy NAME — deploy to every bound BIG-IP profile now (admins)',
  '/acme cert revoke NAME REASON [--reissue] — revoke at the CA (RFC 5280 reason); --reissue deploys a replacement first (admins)',
  '/acme device add — register a BIG-IP (admins; opens a form)',
  '/acme device list — managed BIG-IP devices',
  '/acme device test NAME — check a device connection (admins)',
  '/acme binding add CERT — bind a certificate to a client-ssl profile on a BIG-IP (admins; opens a form)',
  '/acme binding remove CERT DEVICE PROFILE — unbind; the profile keeps what it serves (admins)',
  '/acme binding list [CERT] — bindings and what each profile was last verified to serve',
  '/acme approvals — requests, renewals and deploys waiting for a decision',
];

const usage = (problem: string): AcmeCommand => ({ kind: 'usage', problem });

interface Args {
  positional: string[];
  profile?: string;
}

/** Splits words into positionals and `--profile P` / `--profile=P`; any other option is a problem. */
function readArgs(words: string[], what: string): Args | { problem: string } {
  const positional: string[] = [];
  let profile: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!word.startsWith('--')) {
      positional.push(word);
      continue;
    }
    let value: string | undefined;
    if (word.startsWith('--profile=')) value = word.slice('--profile='.length);
    else if (word === '--profile') {
      value = words[i + 1];
      if (value === undefined || value.startsWith('--')) return { problem: '--profile needs a profile name' };
      i++;
    } else return { problem: `unknown option for ${what}: ${word}` };
    if (value === '') return { problem: '--profile needs a profile name' };
    if (profile !== undefined) return { problem: `${what} takes --profile once` };
    profile = value;
  }
  return profile === undefined ? { positional } : { positional, profile };
}

const withProfile = <T extends object>(command: T, profile: string | undefined): T & { profile?: string } =>
  profile === undefined ? command : { ...command, profile };

type Rule = (args: Args, what: string) => AcmeCommand;

const noArgs =
  (command: AcmeCommand): Rule =>
  (args, what) =>
    args.positional.length > 0 || args.profile !== undefined ? usage(`${what} takes no arguments`) : command;

const profileOnly =
  (kind: 'domain_list' | 'cert_list' | 'cert_request' | 'cert_new'): Rule =>
  (args, what) =>
    args.positional.length > 0 ? usage(`${what} takes only --profile P`) : withProfile({ kind }, args.profile);

const oneName =
  (build: (name: string) => AcmeCommand, opts: { profile?: boolean } = {}): Rule =>
  (args, what) => {
    if (args.positional.length !== 1) return usage(`${what} needs one name`);
    if (args.profile !== undefined && !opts.profile) return usage(`${what} takes no --profile`);
    const command = build(args.positional[0]!);
    return opts.profile ? withProfile(command, args.profile) : command;
  };

/** Names, or `--profile P` for all of that profile's, or both (names within P). */
const namesOrProfile =
  (kind: 'domain_test' | 'cert_renew'): Rule =>
  (args, what) =>
    args.positional.length === 0 && args.profile === undefined
      ? usage(`${what} needs names or --profile P`)
      : withProfile({ kind, names: args.positional }, args.profile);

const RULES: Record<string, Record<string, Rule>> = {
  profile: {
    create: noArgs({ kind: 'profile_create' }),
    list: noArgs({ kind: 'profile_list' }),
    show: oneName((name) => ({ kind: 'profile_show', name })),
  },
  domain: {
    add: (args) => withProfile({ kind: 'domain_add', names: args.positional }, args.profile),
    list: profileOnly('domain_list'),
    test: namesOrProfile('domain_test'),
    reconfigure: (args, what) => {
      const profile = args.profile ?? (args.positional.length === 1 ? args.positional[0] : undefined);
      if (
        profile === undefined ||
        (args.profile !== undefined && args.positional.length > 0) ||
        args.positional.length > 1
      ) {
        return usage(`${what} needs one profile: --profile P`);
      }
      return { kind: 'domain_reconfigure', profile };
    },
    endpoint: oneName((name) => ({ kind: 'domain_endpoint', name }), { profile: true }),
    dns: oneName((name) => ({ kind: 'domain_dns', name }), { profile: true }),
  },
  cert: {
    request: profileOnly('cert_request'),
    new: profileOnly('cert_new'),
    list: profileOnly('cert_list'),
    show: oneName((name) => ({ kind: 'cert_show', name })),
    renew: namesOrProfile('cert_renew'),
    deploy: oneName((name) => ({ kind: 'cert_deploy', name })),
    // The reason is checked by the core (one list, one message); `--reissue` is taken out before readArgs.
    revoke: (args, what) =>
      args.positional.length !== 2 || args.profile !== undefined
        ? usage(`${what} needs a name and a reason: NAME REASON [--reissue]`)
        : { kind: 'cert_revoke', name: args.positional[0]!, reason: args.positional[1]!, reissue: false },
  },
  binding: {
    add: oneName((certificate) => ({ kind: 'binding_add', certificate })),
    remove: (args, what) =>
      args.positional.length !== 3 || args.profile !== undefined
        ? usage(`${what} needs CERT DEVICE PROFILE`)
        : {
            kind: 'binding_remove',
            certificate: args.positional[0]!,
            device: args.positional[1]!,
            profile: args.positional[2]!,
          },
    list: (args, what) => {
      if (args.positional.length > 1 || args.profile !== undefined) return usage(`${what} takes at most one CERT`);
      const certificate = args.positional[0];
      return certificate === undefined ? { kind: 'binding_list' } : { kind: 'binding_list', certificate };
    },
  },
  device: {
    add: noArgs({ kind: 'device_add' }),
    list: noArgs({ kind: 'device_list' }),
    test: oneName((name) => ({ kind: 'device_test', name })),
  },
};

const ALIASES: Record<string, string> = {
  profiles: 'profile',
  domains: 'domain',
  certs: 'cert',
  certificate: 'cert',
  certificates: 'cert',
  devices: 'device',
  bindings: 'binding',
};

export function parseAcmeCommand(text: string): AcmeCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, second, ...rest] = words;
  if (first === undefined) return { kind: 'help' };
  const head = first.toLowerCase();
  switch (head) {
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help' };
    case 'status':
      return words.length === 1 ? { kind: 'status' } : usage('status takes no arguments');
    case 'approvals':
      return words.length === 1 ? { kind: 'approvals' } : usage('approvals takes no arguments');
    case 'setup':
      return words.length === 1 ? { kind: 'setup' } : usage('setup takes no arguments');
  }
  const noun = ALIASES[head] ?? head;
  const rules = RULES[noun];
  if (!rules) return usage(`unknown subcommand: ${first}`);
  if (second === undefined) return usage(`${noun} needs a subcommand`);
  const verb = second.toLowerCase();
  const rule = Object.hasOwn(rules, verb) ? rules[verb] : undefined;
  if (!rule) return usage(`unknown ${noun} subcommand: ${second}`);
  const what = `${noun} ${verb}`;
  const reissue = noun === 'cert' && verb === 'revoke' && rest.includes('--reissue');
  const args = readArgs(reissue ? rest.filter((w) => w !== '--reissue') : rest, what);
  if ('problem' in args) return usage(args.problem);
  const parsed = rule(args, what);
  return parsed.kind === 'cert_revoke' ? { ...parsed, reissue } : parsed;
}

/**
 * Subcommands only SLACK_ADMINS may run (and submit the forms of): profiles and devices, and the two that act
 * outside the approval flow — renewing now (CA rate limits, and it would skip a profile's renewal approval)
 * and deploying now (production BIG-IPs, skipping a deploy approval), adding and removing bindings (which
 * decide where a deploy writes) — and revoking (which a profile in
 * semi-automatic mode still sends to an approver). Team members request certificates,
 * which an approver decides.
 */
export function isAdminCommand(command: AcmeCommand): boolean {
  switch (command.kind) {
    case 'setup':
    case 'profile_create':
    case 'device_add':
    case 'device_test':
    case 'cert_renew':
    case 'cert_deploy':
    case 'cert_revoke':
    case 'binding_add':
    case 'binding_remove':
      return true;
    default:
      return false;
  }
}
