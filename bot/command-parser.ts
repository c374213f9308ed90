/**
 * `/acme` text → one subcommand. Pure: no Slack, no core. Anything it does not understand becomes
 * `{ kind: 'usage', problem }`, which the command answers with the usage text.
 */
export type AcmeCommand =
  | { kind: 'help' }
  | { kind: 'status' }
  | { kind: 'profile_list' }
  | { kind: 'domain_list'; profile?: string }
  | { kind: 'cert_list'; profile?: string }
  | { kind: 'device_list' }
  | { kind: 'approvals' }
  | { kind: 'usage'; problem: string };

/** One line per subcommand, in the order `help` shows them. */
export const USAGE_LINES: readonly string[] = [
  '/acme help — this text',
  '/acme status — counts of profiles, domains, certificates, devices and pending approvals',
  '/acme profile list — CA management profiles',
  '/acme domain list [--profile P] — domains and their connection status',
  '/acme cert list [--profile P] — certificates and their state',
  '/acme device list — managed BIG-IP devices',
  '/acme approvals — renewals and deploys waiting for a decision',
];

const usage = (problem: string): AcmeCommand => ({ kind: 'usage', problem });

/** Reads `--profile P` or `--profile=P`; nothing else is accepted after a list subcommand. */
function profileOption(args: string[], what: string): { profile?: string } | { problem: string } {
  if (args.length === 0) return {};
  const [flag, value, ...rest] = args;
  if (flag?.startsWith('--profile=')) {
    const v = flag.slice('--profile='.length);
    if (v === '' || value !== undefined) return { problem: `${what} takes only --profile P` };
    return { profile: v };
  }
  if (flag !== '--profile') return { problem: `unknown option for ${what}: ${flag}` };
  if (value === undefined || value.startsWith('--')) return { problem: '--profile needs a profile name' };
  if (rest.length > 0) return { problem: `${what} takes only --profile P` };
  return { profile: value };
}

function list(args: string[], what: string, kind: 'domain_list' | 'cert_list'): AcmeCommand {
  const opt = profileOption(args, what);
  if ('problem' in opt) return usage(opt.problem);
  return opt.profile === undefined ? { kind } : { kind, profile: opt.profile };
}

function noArgs(args: string[], what: string, command: AcmeCommand): AcmeCommand {
  return args.length === 0 ? command : usage(`${what} takes no arguments`);
}

export function parseAcmeCommand(text: string): AcmeCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, second, ...rest] = words;
  if (first === undefined) return { kind: 'help' };
  const head = first.toLowerCase();
  const sub = second?.toLowerCase();
  switch (head) {
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help' };
    case 'status':
      return noArgs(words.slice(1), 'status', { kind: 'status' });
    case 'approvals':
      return noArgs(words.slice(1), 'approvals', { kind: 'approvals' });
    case 'profile':
    case 'profiles':
      if (sub !== 'list') return usage(sub === undefined ? 'profile needs a subcommand' : `unknown profile subcommand: ${second}`);
      return noArgs(rest, 'profile list', { kind: 'profile_list' });
    case 'domain':
    case 'domains':
      if (sub !== 'list') return usage(sub === undefined ? 'domain needs a subcommand' : `unknown domain subcommand: ${second}`);
      return list(rest, 'domain list', 'domain_list');
    case 'cert':
    case 'certs':
    case 'certificate':
    case 'certificates':
      if (sub !== 'list') return usage(sub === undefined ? 'cert needs a subcommand' : `unknown cert subcommand: ${second}`);
      return list(rest, 'cert list', 'cert_list');
    case 'device':
    case 'devices':
      if (sub !== 'list') return usage(sub === undefined ? 'device needs a subcommand' : `unknown device subcommand: ${second}`);
      return noArgs(rest, 'device list', { kind: 'device_list' });
    default:
      return usage(`unknown subcommand: ${first}`);
  }
}
