import { describe, expect, it } from 'vitest';
import { presentedHttpChallenge, presentedHttpChallenges } from '../../core/domain/http-challenge-source.ts';

const entry = (token: string, from: 'core' | 'hook') => ({
  token,
  keyAuthorization: `${token}.${from}`,
  domain: 'a.test',
});

describe('presentedHttpChallenge: which answer a token serves', () => {
  it.each([
    ['nothing for the token: none (404)', null, null, null],
    ['only the core: the core', entry('t', 'core'), null, 't.core'],
    ['only the hook: the hook', null, entry('t', 'hook'), 't.hook'],
    ['both: the core wins', entry('t', 'core'), entry('t', 'hook'), 't.core'],
  ])('%s', (_, core, hook, expected) => {
    expect(presentedHttpChallenge(core, hook)?.keyAuthorization ?? null).toBe(expected);
  });
});

describe('presentedHttpChallenges: every answer, one per token', () => {
  it.each([
    ['nothing anywhere', [], [], []],
    ['core only', [entry('a', 'core')], [], ['a.core']],
    ['hook only', [], [entry('a', 'hook')], ['a.hook']],
    ['different tokens: both served', [entry('a', 'core')], [entry('b', 'hook')], ['a.core', 'b.hook']],
    [
      'a shared token: the core wins',
      [entry('a', 'core')],
      [entry('a', 'hook'), entry('b', 'hook')],
      ['a.core', 'b.hook'],
    ],
  ])('%s', (_, core, hook, expected) => {
    const answers = presentedHttpChallenges(core, hook).map((c) => c.keyAuthorization);
    expect(answers.sort()).toEqual(expected);
  });
});
