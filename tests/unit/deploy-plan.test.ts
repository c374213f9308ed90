import { describe, expect, it } from 'vitest';
import {
  type EntryKeyType,
  keyTypeOf,
  nextCertKeyChain,
  sameFingerprint,
  versionedObjects,
  versionTag,
} from '../../core/domain/deploy-plan.ts';
import type { CertKeyChainEntry } from '../../core/ports/bigip-client.ts';

type Entry = CertKeyChainEntry & { keyType: EntryKeyType };
const entry = (name: string, cert: string, key: string, keyType: EntryKeyType, chain = 'none'): Entry => ({
  name,
  cert,
  key,
  chain,
  keyType,
});

const OURS = entry(
  'www',
  '/Common/www_20270301-bbbbbbbb.crt',
  '/Common/www_20270301-bbbbbbbb.key',
  'ec',
  '/Common/www_20270301-bbbbbbbb_chain.crt',
);
const OLD_OURS = entry('www', '/Common/www_20261201-aaaaaaaa.crt', '/Common/www_20261201-aaaaaaaa.key', 'ec');
const DEFAULT = entry('default', '/Common/default.crt', '/Common/default.key', null);
const FOREIGN_RSA = entry('rsa', '/Common/other.crt', '/Common/other.key', 'rsa');
const FOREIGN_EC = entry('ec', '/Common/other-ec.crt', '/Common/other-ec.key', 'ec');
const OWNED = new Set([OLD_OURS.cert, OLD_OURS.key]);
const names = (chain: CertKeyChainEntry[]) => chain.map((e) => e.cert);

describe('versioned object names', () => {
  it.each([
    ['a normal serial', new Date('2027-02-24T10:00:00Z'), '1a2b3c4d5e6f', '20270224-1a2b3c4d'],
    ['a short serial is left-padded', new Date('2027-02-24T23:59:59Z'), 'abc', '20270224-00000abc'],
    ['upper-case hex is lowered', new Date('2030-01-01T00:00:00Z'), 'ABCDEF0123', '20300101-abcdef01'],
  ])('%s', (_what, notAfter, serial, tag) => {
    expect(versionTag(notAfter, serial)).toBe(tag);
  });

  it('names key, cert and chain in the partition; no chain object without intermediates', () => {
    const at = new Date('2027-02-24T00:00:00Z');
    expect(versionedObjects('www.example.com', 'Tenant_A', at, 'ff00', true)).toEqual({
      key: '/Tenant_A/www.example.com_20270224-0000ff00.key',
      cert: '/Tenant_A/www.example.com_20270224-0000ff00.crt',
      chain: '/Tenant_A/www.example.com_20270224-0000ff00_chain.crt',
    });
    expect(versionedObjects('www', 'Common', at, 'ff00', false).chain).toBeNull();
  });
});

describe('nextCertKeyChain', () => {
  it.each<[string, Entry[], string[]]>([
    ['replaces an earlier version of ours in place', [FOREIGN_RSA, OLD_OURS], [FOREIGN_RSA.cert, OURS.cert]],
    ['replaces the entry of the same algorithm', [FOREIGN_RSA, FOREIGN_EC], [FOREIGN_RSA.cert, OURS.cert]],
    ['replaces a lone default entry of unknown type', [DEFAULT], [OURS.cert]],
    [
      "replaces BIG-IP's placeholder default.crt even when its algorithm differs",
      [{ ...DEFAULT, keyType: 'rsa' }],
      [OURS.cert],
    ],
    [
      'a same-algorithm entry wins over the placeholder',
      [{ ...DEFAULT, keyType: 'rsa' }, FOREIGN_EC],
      [DEFAULT.cert, OURS.cert],
    ],
    ['appends next to an entry of the other algorithm', [FOREIGN_RSA], [FOREIGN_RSA.cert, OURS.cert]],
    ['an empty chain gets just ours', [], [OURS.cert]],
    [
      'keeps one entry when ours appears twice',
      [OLD_OURS, FOREIGN_RSA, { ...OLD_OURS, name: 'dup' }],
      [OURS.cert, FOREIGN_RSA.cert],
    ],
    ['is a no-op when ours is already there', [FOREIGN_RSA, OURS], [FOREIGN_RSA.cert, OURS.cert]],
  ])('%s', (_what, current, expected) => {
    expect(names(nextCertKeyChain(current, OURS, OWNED))).toEqual(expected);
  });

  it('never returns the keyType annotation and keeps other entries exactly', () => {
    const next = nextCertKeyChain([FOREIGN_RSA, OLD_OURS], OURS, OWNED);
    expect(next[0]).toEqual({ name: 'rsa', cert: FOREIGN_RSA.cert, key: FOREIGN_RSA.key, chain: 'none' });
    expect(next[1]).not.toHaveProperty('keyType');
  });
});

describe('keyTypeOf', () => {
  it.each([
    ['rsa-private', 'rsa'],
    ['ec-private', 'ec'],
    ['dsa-private', 'other'],
    [null, null],
  ])('%s → %s', (input, out) => {
    expect(keyTypeOf(input)).toBe(out);
  });
});

describe('sameFingerprint', () => {
  const hex = 'AB'.repeat(32).match(/../g)!.join(':');
  it.each([
    ['device form vs OpenSSL form', `SHA256/${hex}`, hex, true],
    ['case-insensitive', hex.toLowerCase(), hex, true],
    ['different', hex, 'AC'.repeat(32), false],
    ['missing', null, hex, false],
    ['too short to be SHA-256', 'AB:CD', 'ABCD', false],
  ])('%s', (_what, a, b, same) => {
    expect(sameFingerprint(a, b)).toBe(same);
  });
});
