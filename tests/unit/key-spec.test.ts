import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  describeKeySpec,
  generatePrivateKey,
  isKeySpec,
  KEY_SPECS,
  type KeySpec,
  keySpecOfPrivateKey,
  keySpecOfPublicKey,
  parseKeySpec,
} from '../../core/domain/key-spec.ts';
import { CoreError } from '../../core/errors.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof CoreError ? err.code : 'not a CoreError';
  }
  return undefined;
}

describe('parseKeySpec', () => {
  it.each<[string, KeySpec]>([
    ['rsa-2048', 'rsa-2048'],
    ['rsa-3072', 'rsa-3072'],
    ['rsa-4096', 'rsa-4096'],
    ['ec-p256', 'ec-p256'],
    ['ec-p384', 'ec-p384'],
    ['rsa2048', 'rsa-2048'],
    ['RSA-2048', 'rsa-2048'],
    ['RSA 4096', 'rsa-4096'],
    ['rsa_3072', 'rsa-3072'],
    ['ecdsa-p256', 'ec-p256'],
    ['ECDSA P-256', 'ec-p256'],
    ['p-256', 'ec-p256'],
    ['P256', 'ec-p256'],
    ['ec256', 'ec-p256'],
    ['ec-256', 'ec-p256'],
    ['ecdsa256', 'ec-p256'],
    ['prime256v1', 'ec-p256'],
    ['secp256r1', 'ec-p256'],
    ['ecdsa-p384', 'ec-p384'],
    ['p-384', 'ec-p384'],
    ['ec384', 'ec-p384'],
    ['secp384r1', 'ec-p384'],
    [' ec-p384 ', 'ec-p384'],
  ])('%j → %s', (input, expected) => {
    expect(parseKeySpec(input)).toBe(expected);
  });

  it.each(['', 'rsa', 'rsa-1024', 'rsa-8192', 'ec-p521', 'p-521', '2048', '256', 'ed25519', 'dsa-2048', 'toString'])(
    'rejects %j listing the allowed values',
    (input) => {
      let caught: unknown;
      try {
        parseKeySpec(input);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(CoreError);
      expect((caught as CoreError).code).toBe('input_invalid');
      for (const spec of KEY_SPECS) expect((caught as CoreError).message).toContain(spec);
    },
  );
});

describe('describeKeySpec', () => {
  it.each<[KeySpec, string]>([
    ['rsa-2048', 'RSA 2048'],
    ['rsa-3072', 'RSA 3072'],
    ['rsa-4096', 'RSA 4096'],
    ['ec-p256', 'ECDSA P-256'],
    ['ec-p384', 'ECDSA P-384'],
  ])('%s → %s', (spec, text) => {
    expect(describeKeySpec(spec)).toBe(text);
  });
});

describe('isKeySpec', () => {
  it.each([
    ['rsa-2048', true],
    ['ec-p384', true],
    ['rsa2048', false],
    [null, false],
  ])('%j → %s', (value, expected) => {
    expect(isKeySpec(value)).toBe(expected);
  });
});

describe('generatePrivateKey', () => {
  it.each<[KeySpec, string, Record<string, unknown>]>([
    ['rsa-2048', 'rsa', { modulusLength: 2048, publicExponent: 65537n }],
    ['rsa-3072', 'rsa', { modulusLength: 3072, publicExponent: 65537n }],
    ['rsa-4096', 'rsa', { modulusLength: 4096, publicExponent: 65537n }],
    ['ec-p256', 'ec', { namedCurve: 'prime256v1' }],
    ['ec-p384', 'ec', { namedCurve: 'secp384r1' }],
  ])('%s → PKCS#8 %s key', async (spec, type, details) => {
    const pem = await generatePrivateKey(spec);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    const key = createPrivateKey(pem);
    expect(key.asymmetricKeyType).toBe(type);
    expect(key.asymmetricKeyDetails).toMatchObject(details);
    expect(keySpecOfPrivateKey(pem)).toBe(spec);
    expect(keySpecOfPublicKey(createPublicKey(pem))).toBe(spec);
  });
});

describe('keySpecOfPrivateKey', () => {
  const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' });
  const sec1 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'sec1', format: 'pem' });

  it.each<[string, string, KeySpec]>([
    ['PKCS#1 RSA', pkcs1.toString(), 'rsa-2048'],
    ['SEC1 EC', sec1.toString(), 'ec-p384'],
  ])('reads %s', (_name, pem, spec) => {
    expect(keySpecOfPrivateKey(pem)).toBe(spec);
  });

  const encrypted = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' })
    .toString();
  it.each<[string, () => string]>([
    ['garbage', () => 'not a key'],
    ['an encrypted key', () => encrypted],
    ['RSA 1024', () => pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)],
    ['EC P-521', () => pem(generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey)],
    ['Ed25519', () => pem(generateKeyPairSync('ed25519').privateKey)],
  ])('rejects %s with input_invalid', (_name, make) => {
    const input = make();
    expect(codeOf(() => keySpecOfPrivateKey(input))).toBe('input_invalid');
  });

  it('names the unsupported key in the message', () => {
    const key = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    expect(() => keySpecOfPrivateKey(key)).toThrow(/RSA 1024.*RSA 2048/);
  });
});

function pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
