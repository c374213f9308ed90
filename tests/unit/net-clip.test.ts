import { describe, expect, it } from 'vitest';
import { clip } from '../../core/net/clip.ts';

describe('clip', () => {
  it.each<[string, string, number, boolean, string]>([
    ['short text stays', 'abc', 5, false, 'abc'],
    ['text at the limit stays', 'abcde', 5, false, 'abcde'],
    ['longer text ends in an ellipsis within the limit', 'abcdef', 5, false, 'abcd…'],
    ['empty text stays', '', 5, false, ''],
    ['quoted: JSON quotes around the clipped text', 'abcdef', 5, true, '"abcd…"'],
    ['quoted: an empty value is visible', '', 5, true, '""'],
    ['quoted: control characters are escaped', 'a\nb', 10, true, '"a\\nb"'],
  ])('%s', (_case, text, max, quote, expected) => {
    expect(clip(text, max, { quote })).toBe(expected);
  });
});
