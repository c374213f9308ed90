import { describe, expect, it } from 'vitest';
import { type AcmeCommand, parseAcmeCommand } from '../../bot/command-parser.ts';

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
  ['profile create x', { kind: 'usage', problem: 'unknown profile subcommand: create' }],
  ['profile list extra', { kind: 'usage', problem: 'profile list takes no arguments' }],
  ['domain list', { kind: 'domain_list' }],
  ['domain   list   --profile   prod', { kind: 'domain_list', profile: 'prod' }],
  ['domain list --profile=prod', { kind: 'domain_list', profile: 'prod' }],
  ['domain list --profile', { kind: 'usage', problem: '--profile needs a profile name' }],
  ['domain list --profile=', { kind: 'usage', problem: 'domain list takes only --profile P' }],
  ['domain list --profile a b', { kind: 'usage', problem: 'domain list takes only --profile P' }],
  ['domain list --profile --x', { kind: 'usage', problem: '--profile needs a profile name' }],
  ['domain list prod', { kind: 'usage', problem: 'unknown option for domain list: prod' }],
  ['cert list', { kind: 'cert_list' }],
  ['certificate list --profile staging', { kind: 'cert_list', profile: 'staging' }],
  ['cert renew www.example.com', { kind: 'usage', problem: 'unknown cert subcommand: renew' }],
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
