import { describe, expect, it } from 'vitest';
import { isKeyPassphraseLongEnough, keyPassphraseProblem } from '../../core/domain/validation/key-passphrase.ts';

describe('isKeyPassphraseLongEnough', () => {
  it.each([
    ['none given', undefined, true],
    ['left empty in a form', null, true],
    ['three characters', 'abc', false],
    ['four characters', 'abcd', true],
    ['a long one', 'correct horse battery staple', true],
  ])('%s', (_name, passphrase, expected) => {
    expect(isKeyPassphraseLongEnough(passphrase)).toBe(expected);
  });
});

describe('keyPassphraseProblem', () => {
  it.each([
    ['none given', undefined, null],
    ['three characters', 'abc', /at least 4 characters/],
    ['four characters', 'abcd', null],
  ])('%s', (_name, passphrase, problem) => {
    const found = keyPassphraseProblem(passphrase);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});
