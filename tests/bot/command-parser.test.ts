import { describe, expect, it } from 'vitest';
import { type AcmeCommand, isAdminCommand, parseAcmeCommand } from '../../bot/command-parser.ts';

const cases: [string, AcmeCommand][] = [
  ['', { kind: 'help' }],
  ['   ', { kind: 'help' }],
  ['help', { kind: 'help' }],
  ['HELP', { kind: 'help' }],
  ['--help', { kind: 'help' }],
  ['status', { kind: 'status' }],
  ['status now', { kind: 'usage', problem: 'status takes no arguments' }],
  ['profile list', { kind: 'profile_list' }],
  ['profiles list', { kind: 'profile_list' }],
  ['profile', { kind: 'usage', problem: 'profile needs a subcommand' }],
  ['profile create x', { kind: 'usage', problem: 'profile create takes no arguments' }],
  ['profile create', { kind: 'profile_create' }],
  ['profile show prod', { kind: 'profile_show', name: 'prod' }],
  ['profile show', { kind: 'usage', problem: 'profile show needs one name' }],
  ['profile show a --profile b', { kind: 'usage', problem: 'profile show takes no --profile' }],
  ['profile frob', { kind: 'usage', problem: 'unknown profile subcommand: frob' }],
  ['profile constructor', { kind: 'usage', problem: 'unknown profile subcommand: constructor' }],
  ['profile list extra', { kind: 'usage', problem: 'profile list takes no arguments' }],
  ['domain list', { kind: 'domain_list' }],
  ['domain   list   --profile   prod', { kind: 'domain_list', profile: 'prod' }],
  ['domain list --profile=prod', { kind: 'domain_list', profile: 'prod' }],
  ['domain list --profile', { kind: 'usage', problem: '--profile needs a profile name' }],
  ['domain list --profile=', { kind: 'usage', problem: '--profile needs a profile name' }],
  ['domain list --profile a --profile b', { kind: 'usage', problem: 'domain list takes --profile once' }],
  ['domain add', { kind: 'domain_add', names: [] }],
  [
    'domain add a.example.com b.example.com --profile prod',
    { kind: 'domain_add', names: ['a.example.com', 'b.example.com'], profile: 'prod' },
  ],
  ['domain test a.example.com', { kind: 'domain_test', names: ['a.example.com'] }],
  ['domain test --profile prod', { kind: 'domain_test', names: [], profile: 'prod' }],
  ['domain test', { kind: 'usage', problem: 'domain test needs names or --profile P' }],
  ['domain reconfigure --profile prod', { kind: 'domain_reconfigure', profile: 'prod' }],
  ['domain reconfigure prod', { kind: 'domain_reconfigure', profile: 'prod' }],
  ['domain reconfigure', { kind: 'usage', problem: 'domain reconfigure needs one profile: --profile P' }],
  ['domain reconfigure a b', { kind: 'usage', problem: 'domain reconfigure needs one profile: --profile P' }],
  [
    'domain endpoint www.example.com --profile prod',
    { kind: 'domain_endpoint', name: 'www.example.com', profile: 'prod' },
  ],
  ['domain endpoint', { kind: 'usage', problem: 'domain endpoint needs one name' }],
  ['domain add a --force', { kind: 'usage', problem: 'unknown option for domain add: --force' }],
  ['domain list --profile a b', { kind: 'usage', problem: 'domain list takes only --profile P' }],
  ['domain list --profile --x', { kind: 'usage', problem: '--profile needs a profile name' }],
  ['domain list prod', { kind: 'usage', problem: 'domain list takes only --profile P' }],
  ['cert list', { kind: 'cert_list' }],
  ['certificate list --profile staging', { kind: 'cert_list', profile: 'staging' }],
  ['cert renew www.example.com', { kind: 'cert_renew', names: ['www.example.com'] }],
  ['cert renew --profile prod', { kind: 'cert_renew', names: [], profile: 'prod' }],
  ['cert renew', { kind: 'usage', problem: 'cert renew needs names or --profile P' }],
  ['cert request', { kind: 'cert_request' }],
  ['cert request --profile prod', { kind: 'cert_request', profile: 'prod' }],
  ['cert request www', { kind: 'usage', problem: 'cert request takes only --profile P' }],
  ['cert show www', { kind: 'cert_show', name: 'www' }],
  ['cert deploy www', { kind: 'cert_deploy', name: 'www' }],
  ['cert deploy', { kind: 'usage', problem: 'cert deploy needs one name' }],
  ['cert revoke www superseded', { kind: 'cert_revoke', name: 'www', reason: 'superseded', reissue: false }],
  [
    'cert revoke www key-compromise --reissue',
    { kind: 'cert_revoke', name: 'www', reason: 'key-compromise', reissue: true },
  ],
  ['cert revoke --reissue www 4', { kind: 'cert_revoke', name: 'www', reason: '4', reissue: true }],
  ['cert revoke www', { kind: 'usage', problem: 'cert revoke needs a name and a reason: NAME REASON [--reissue]' }],
  ['cert revoke www a b', { kind: 'usage', problem: 'cert revoke needs a name and a reason: NAME REASON [--reissue]' }],
  [
    'cert revoke www superseded --profile p',
    { kind: 'usage', problem: 'cert revoke needs a name and a reason: NAME REASON [--reissue]' },
  ],
  ['cert revoke www superseded --force', { kind: 'usage', problem: 'unknown option for cert revoke: --force' }],
  ['cert deploy www --reissue', { kind: 'usage', problem: 'unknown option for cert deploy: --reissue' }],
  ['cert frob', { kind: 'usage', problem: 'unknown cert subcommand: frob' }],
  ['device add', { kind: 'device_add' }],
  ['device test bigip1', { kind: 'device_test', name: 'bigip1' }],
  ['device add x', { kind: 'usage', problem: 'device add takes no arguments' }],
  ['device list', { kind: 'device_list' }],
  ['device', { kind: 'usage', problem: 'device needs a subcommand' }],
  ['approvals', { kind: 'approvals' }],
  ['approvals all', { kind: 'usage', problem: 'approvals takes no arguments' }],
  ['frobnicate', { kind: 'usage', problem: 'unknown subcommand: frobnicate' }],
  ['<script>', { kind: 'usage', problem: 'unknown subcommand: <script>' }],
];

describe('parseAcmeCommand', () => {
  it.each(cases)('%j', (text, expected) => {
    expect(parseAcmeCommand(text)).toEqual(expected);
  });
});

describe('isAdminCommand', () => {
  const cases: [string, boolean][] = [
    ['profile create', true],
    ['device add', true],
    ['device test bigip1', true],
    ['cert renew www', true],
    ['cert deploy www', true],
    ['cert revoke www superseded', true],
    ['cert revoke www', false],
    ['cert request', false],
    ['domain add a.example.com', false],
    ['domain test --profile p', false],
    ['profile list', false],
    ['approvals', false],
    ['frobnicate', false],
  ];
  it.each(cases)('%s → %s', (text, admin) => {
    expect(isAdminCommand(parseAcmeCommand(text))).toBe(admin);
  });
});
