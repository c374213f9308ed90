import { describe, expect, it } from 'vitest';
import { SLACK_WORDS } from '../../bot/reply-error.ts';
import { slackText } from '../../bot/slack-words.ts';
import {
  CoreError,
  type Hint,
  type HintWords,
  mentionCommand,
  messageWithHint,
  runCommand,
  sayCommands,
  seeList,
} from '../../core/errors.ts';

const CLI: HintWords = { command: (w) => `bigip-acme ${w.join(' ')}`, option: (o) => `--${o}` };

describe('a core error hint, said by each edge', () => {
  const cases: [string, Hint | undefined, string, string][] = [
    ['no hint: the message alone', undefined, 'boom', 'boom'],
    [
      'a list lookup, as an aside',
      seeList('cert'),
      'no certificate named "x" (see: bigip-acme cert list)',
      'no certificate named "x" (see: `/acme cert list`)',
    ],
    [
      "a command Slack lacks is said plainly as the server's, without a shell line",
      runCommand('resume it with', ['cert', 'resume', 'x']),
      'no certificate named "x"; resume it with: bigip-acme cert resume x',
      'no certificate named "x"; resume it with: `cert resume x` (an operator runs it on the server; Slack has no command for it)',
    ],
    [
      'a decision Slack makes with a button names the button',
      runCommand('an approver decides it with', ['approval', 'approve', 'a1']),
      'no certificate named "x"; an approver decides it with: bigip-acme approval approve a1',
      'no certificate named "x"; an approver decides it with: *Approve* on the request (`/acme approvals` lists what waits)',
    ],
    [
      'a CLI spelling Slack writes differently',
      seeList('approval'),
      'no certificate named "x" (see: bigip-acme approval list)',
      'no certificate named "x" (see: `/acme approvals`)',
    ],
    [
      'an option only the CLI offers',
      { action: 'use-option', option: 'skip-test', purpose: 'to add it anyway' },
      'no certificate named "x" (use --skip-test to add it anyway)',
      'no certificate named "x"',
    ],
  ];
  it.each(cases)('%s', (_name, hint, cli, slack) => {
    const message = hint ? 'no certificate named "x"' : 'boom';
    const err = new CoreError('not_found', message, hint ? { hint } : {});
    expect(messageWithHint(err, CLI)).toBe(cli);
    expect(messageWithHint(err, SLACK_WORDS)).toBe(hint ? slack : 'boom');
  });
});

describe('a command a core text mentions, said by each edge', () => {
  const text = `x: fix the cause, then: ${mentionCommand(['cert', 'resume', 'x'])}; or ${mentionCommand(['cert', 'list'])}`;
  it('the CLI says its command lines', () =>
    expect(sayCommands(text, CLI)).toBe('x: fix the cause, then: bigip-acme cert resume x; or bigip-acme cert list'));
  it('Slack says /acme, or plainly that only the server can', () =>
    expect(slackText(text)).toBe(
      'x: fix the cause, then: `cert resume x` (an operator runs it on the server; Slack has no command for it); or `/acme cert list`',
    ));
  it('a text without mentions is unchanged', () => expect(slackText('plain <text>')).toBe('plain <text>'));
});
