import { describe, expect, it } from 'vitest';
import { isKeyPassphraseLongEnough } from '../../core/domain/validation/key-passphrase.ts';

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
