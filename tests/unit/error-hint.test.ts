import { describe, expect, it } from 'vitest';
import { SLACK_WORDS } from '../../bot/reply-error.ts';
import { CoreError, type Hint, type HintWords, messageWithHint, runCommand, seeList } from '../../core/errors.ts';

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
      'a command Slack lacks is left out there',
      runCommand('resume it with', ['cert', 'resume', 'x']),
      'no certificate named "x"; resume it with: bigip-acme cert resume x',
      'no certificate named "x"',
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
