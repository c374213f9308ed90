import { describe, expect, it } from 'vitest';
import { type KeyCount, retirementCheck, rotationStart, valuesToReseal } from '../../core/domain/key-rotation.ts';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const C = 'cccccccccccccccc';
const use = (...pairs: [string, number][]): KeyCount[] => pairs.map(([keyId, count]) => ({ keyId, count }));

describe('rotationStart', () => {
  it.each<[string, KeyCount[], string[], 'file' | 'environment', ReturnType<typeof rotationStart>]>([
    ['embedded, one key: a new key is generated', use([A, 3]), [A], 'file', { kind: 'generate' }],
    ['embedded, empty database, one key: still generated', [], [A], 'file', { kind: 'generate' }],
    ['environment, one key: cannot tell new from old', use([A, 3]), [A], 'environment', { kind: 'no-previous-key' }],
    [
      'new primary, old previous: re-seal what the old key seals',
      use([A, 3], [B, 2], [A, 1]),
      [B, A],
      'environment',
      { kind: 'reseal', toReseal: 4 },
    ],
    [
      'embedded with a key still opening: continue, no new key',
      use([B, 5]),
      [B, A],
      'file',
      { kind: 'reseal', toReseal: 0 },
    ],
    [
      'values under a key the ring lacks: refused first, even with a previous key',
      use([A, 1], [C, 2], [C, 1]),
      [B, A],
      'environment',
      { kind: 'unknown-keys', keys: use([C, 3]) },
    ],
    [
      'the wrong previous key: the key of the values is unknown',
      use([A, 4]),
      [B, C],
      'environment',
      { kind: 'unknown-keys', keys: use([A, 4]) },
    ],
  ])('%s', (_, usage, ring, source, expected) => {
    expect(rotationStart(usage, ring, source)).toEqual(expected);
  });
});

describe('retirementCheck', () => {
  it.each<[string, string, KeyCount[], string[], ReturnType<typeof retirementCheck>]>([
    ['a previous key nothing uses', A, use([B, 3]), [B, A], { ok: true }],
    ['not a key id', 'AAAA', [], [B, A], { ok: false, reason: 'malformed' }],
    ['upper-case hex is not how ids are written', A.toUpperCase(), [], [B, A], { ok: false, reason: 'malformed' }],
    ['the primary', B, use([B, 3]), [B, A], { ok: false, reason: 'primary' }],
    ['a key still in use', A, use([A, 1], [B, 2], [A, 2]), [B, A], { ok: false, reason: 'in-use', count: 3 }],
    ['a key outside the ring that values still use', C, use([C, 1]), [B, A], { ok: false, reason: 'in-use', count: 1 }],
    ['a key nobody has and nothing uses', C, use([B, 1]), [B, A], { ok: false, reason: 'unknown' }],
  ])('%s', (_, keyId, usage, ring, expected) => {
    expect(retirementCheck(keyId, usage, ring)).toEqual(expected);
  });
});

describe('valuesToReseal', () => {
  it('counts every value not under the primary, over all columns', () => {
    expect(valuesToReseal(use([A, 2], [B, 5], [C, 1], [A, 3]), [B, A, C])).toBe(6);
    expect(valuesToReseal([], [B])).toBe(0);
  });
});
