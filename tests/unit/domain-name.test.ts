import { describe, expect, it } from 'vitest';
import type { ChallengeType } from '../../core/domain/challenge-type.ts';
import { authorizationName, dnsRecordName, isWildcard, normalizeDomainName } from '../../core/domain/domain-name.ts';
import { CoreError } from '../../core/errors.ts';

const label63 = 'a'.repeat(63);
// 63+1+63+1+63+1+61 = 253
const name253 = `${label63}.${label63}.${label63}.${'b'.repeat(57)}.com`;

describe('normalizeDomainName accepts', () => {
  it.each<[string, ChallengeType, string]>([
    ['example.com', 'http-01', 'example.com'],
    ['  WWW.Example.COM  ', 'http-01', 'www.example.com'],
    ['example.com.', 'dns-01', 'example.com'],
    ['a-b.c-d.example', 'tls-alpn-01', 'a-b.c-d.example'],
    ['0.example.com', 'http-01', '0.example.com'],
    ['123.example.com', 'http-01', '123.example.com'],
    ['bücher.example', 'http-01', 'xn--bcher-kva.example'],
    ['Ünicode.de', 'http-01', 'xn--nicode-2ya.de'],
    ['ß.de', 'http-01', 'xn--zca.de'],
    ['ｅｘａｍｐｌｅ.com', 'http-01', 'example.com'],
    ['xn--bcher-kva.example', 'http-01', 'xn--bcher-kva.example'],
    ['*.example.com', 'dns-01', '*.example.com'],
    ['*.Bücher.example.', 'dns-01', '*.xn--bcher-kva.example'],
    [`${label63}.com`, 'http-01', `${label63}.com`],
    [name253, 'http-01', name253],
  ])('%j with %s → %j', (input, type, expected) => {
    expect(normalizeDomainName(input, type)).toBe(expected);
  });

  it('is idempotent', () => {
    const once = normalizeDomainName('*.Bücher.Example.', 'dns-01');
    expect(normalizeDomainName(once, 'dns-01')).toBe(once);
  });
});

describe('normalizeDomainName rejects', () => {
  it.each<[string, ChallengeType, string]>([
    ['', 'http-01', 'required'],
    ['   ', 'http-01', 'required'],
    ['.', 'http-01', 'required'],
    ['*.example.com', 'http-01', 'a wildcard needs the dns-01 challenge'],
    ['*.example.com', 'tls-alpn-01', 'a wildcard needs the dns-01 challenge'],
    ['*', 'dns-01', 'only as the whole first label'],
    ['a.*.example.com', 'dns-01', 'only as the whole first label'],
    ['*a.example.com', 'dns-01', 'only as the whole first label'],
    ['*.*.example.com', 'dns-01', 'only as the whole first label'],
    ['*.com', 'dns-01', 'at least two labels'],
    ['localhost', 'http-01', 'at least two labels'],
    ['1.2.3.4', 'http-01', 'IP addresses'],
    ['::1', 'http-01', 'IP addresses'],
    ['[2001:db8::1]', 'http-01', 'IP addresses'],
    ['0x7f.0.0.1', 'http-01', 'must not be all digits'],
    ['1.2.3', 'http-01', 'must not be all digits'],
    ['example.123', 'http-01', 'must not be all digits'],
    ['a_b.example.com', 'http-01', '"_" is not allowed'],
    ['a b.example.com', 'http-01', '" " is not allowed'],
    ['a/b.com', 'http-01', '"/" is not allowed'],
    ['user@example.com', 'http-01', '"@" is not allowed'],
    ['example.com:443', 'http-01', '":" is not allowed'],
    ['https://example.com', 'http-01', '":" is not allowed'],
    ['a..example.com', 'http-01', 'empty label'],
    ['.example.com', 'http-01', 'empty label'],
    ['example.com..', 'http-01', 'empty label'],
    ['-a.example.com', 'http-01', 'must not start or end with "-"'],
    ['a-.example.com', 'http-01', 'must not start or end with "-"'],
    ['ab--cd.example.com', 'http-01', 'positions 3-4'],
    ['xn--zz.com', 'http-01', 'not a valid'],
    [`${'a'.repeat(64)}.com`, 'http-01', 'the limit is 63'],
    [`a.${name253}`, 'http-01', 'the limit is 253'],
  ])('%j with %s: %s', (input, type, why) => {
    let caught: unknown;
    try {
      normalizeDomainName(input, type);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CoreError);
    expect((caught as CoreError).code).toBe('domain_invalid');
    expect((caught as CoreError).message).toContain(why);
    expect((caught as CoreError).message.startsWith(JSON.stringify(input.trim()))).toBe(true);
  });

  it('says exactly why a wildcard fails', () => {
    expect(() => normalizeDomainName('*.example.com', 'http-01')).toThrow(
      '"*.example.com": a wildcard needs the dns-01 challenge',
    );
  });
});

describe('wildcard helpers', () => {
  it.each([
    ['example.com', false, 'example.com', '_acme-challenge.example.com'],
    ['www.example.com', false, 'www.example.com', '_acme-challenge.www.example.com'],
    ['*.example.com', true, 'example.com', '_acme-challenge.example.com'],
    ['*.a.example.com', true, 'a.example.com', '_acme-challenge.a.example.com'],
  ])('%s', (domain, wildcard, authz, record) => {
    expect(isWildcard(domain)).toBe(wildcard);
    expect(authorizationName(domain)).toBe(authz);
    expect(dnsRecordName(domain)).toBe(record);
  });
});
