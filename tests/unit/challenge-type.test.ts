import { describe, expect, it } from 'vitest';
import { CHALLENGE_TYPES, isChallengeType, parseChallengeType } from '../../core/domain/challenge-type.ts';
import { CoreError } from '../../core/errors.ts';

describe('parseChallengeType', () => {
  it.each([
    ['http-01', 'http-01'],
    ['dns-01', 'dns-01'],
    ['tls-alpn-01', 'tls-alpn-01'],
    ['http', 'http-01'],
    ['dns', 'dns-01'],
    ['tls', 'tls-alpn-01'],
    ['tls-alpn', 'tls-alpn-01'],
    ['HTTP-01', 'http-01'],
    ['Dns', 'dns-01'],
    ['  TLS-ALPN  ', 'tls-alpn-01'],
  ])('%j → %s', (input, expected) => {
    expect(parseChallengeType(input)).toBe(expected);
  });

  it.each(['', 'http-02', 'dns01', 'tls-sni-01', 'ftp', 'constructor', 'toString'])('rejects %j', (input) => {
    let caught: unknown;
    try {
      parseChallengeType(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CoreError);
    expect((caught as CoreError).code).toBe('input_invalid');
    for (const type of CHALLENGE_TYPES) expect((caught as CoreError).message).toContain(type);
  });
});

describe('isChallengeType', () => {
  it.each([
    ['http-01', true],
    ['tls-alpn-01', true],
    ['http', false],
    [undefined, false],
    [1, false],
  ])('%j → %s', (value, expected) => {
    expect(isChallengeType(value)).toBe(expected);
  });
});
