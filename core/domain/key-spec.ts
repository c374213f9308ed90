import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { CoreError } from '../errors.ts';

/** Certificate key algorithms and sizes this tool issues for; all are accepted by public CAs and BIG-IP. */
export const KEY_SPECS = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384'] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

const generateKeyPairAsync = promisify(generateKeyPair);

const RSA_BITS: Readonly<Record<string, KeySpec>> = { '2048': 'rsa-2048', '3072': 'rsa-3072', '4096': 'rsa-4096' };
// Keyed by OpenSSL curve name, which is what `asymmetricKeyDetails.namedCurve` reports.
const EC_CURVES: Readonly<Record<string, KeySpec>> = { prime256v1: 'ec-p256', secp384r1: 'ec-p384' };
const EC_SIZES: Readonly<Record<string, KeySpec>> = { '256': 'ec-p256', '384': 'ec-p384' };

export function isKeySpec(value: unknown): value is KeySpec {
  return typeof value === 'string' && (KEY_SPECS as readonly string[]).includes(value);
}

/**
 * Accepts the spellings people use in practice ("RSA-2048", "rsa2048", "ecdsa-p256", "P-256", "ec256",
 * "secp384r1", ...) by comparing with punctuation and case removed.
 */
export function parseKeySpec(input: string): KeySpec {
  const key = input.toLowerCase().replace(/[^a-z0-9]/g, '');
  const rsa = /^rsa(\d+)$/.exec(key);
  const ec = /^(?:ecdsa|ec)?p?(\d+)$/.exec(key);
  let found: KeySpec | undefined;
  if (rsa) found = lookup(RSA_BITS, rsa[1]!);
  // A bare number is too ambiguous (RSA or EC?); an EC form needs "ec", "ecdsa" or "p" in front.
  else if (ec && key !== ec[1]) found = lookup(EC_SIZES, ec[1]!);
  else if (key === 'secp256r1') found = 'ec-p256';
  else found = lookup(EC_CURVES, key);
  if (found === undefined) {
    throw new CoreError(
      'input_invalid',
      `unknown key type ${JSON.stringify(input)}; use one of ${KEY_SPECS.join(', ')}`,
      { detail: { input, allowed: [...KEY_SPECS] } },
    );
  }
  return found;
}

/** A new private key as unencrypted PKCS#8 PEM, the form both acme-client and BIG-IP import. */
export async function generatePrivateKey(spec: KeySpec): Promise<string> {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  switch (spec) {
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096': {
      const modulusLength = Number(spec.slice('rsa-'.length));
      const { privateKey } = await generateKeyPairAsync('rsa', {
        modulusLength,
        publicExponent: 0x10001,
        publicKeyEncoding,
        privateKeyEncoding,
      });
      return privateKey;
    }
    case 'ec-p256':
    case 'ec-p384': {
      const namedCurve = spec === 'ec-p256' ? 'prime256v1' : 'secp384r1';
      const { privateKey } = await generateKeyPairAsync('ec', { namedCurve, publicKeyEncoding, privateKeyEncoding });
      return privateKey;
    }
  }
}

/** Works on any PEM private key encoding Node reads (PKCS#8, PKCS#1, SEC1), but not on encrypted keys. */
export function keySpecOfPrivateKey(pem: string): KeySpec {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new CoreError('input_invalid', 'not a readable unencrypted private key PEM', { cause: err });
  }
  return keySpecOfPublicKey(key);
}

/** Named for its use on certificates' public keys; a private KeyObject carries the same details. */
export function keySpecOfPublicKey(key: KeyObject): KeySpec {
  const details = key.asymmetricKeyDetails ?? {};
  let found: KeySpec | undefined;
  let seen: string = key.asymmetricKeyType ?? key.type;
  if (key.asymmetricKeyType === 'rsa') {
    found = lookup(RSA_BITS, String(details.modulusLength));
    seen = `RSA ${details.modulusLength}`;
  } else if (key.asymmetricKeyType === 'ec') {
    found = lookup(EC_CURVES, details.namedCurve ?? '');
    seen = `EC ${details.namedCurve}`;
  }
  if (found === undefined) {
    throw new CoreError(
      'input_invalid',
      `unsupported key type ${seen}; supported: ${KEY_SPECS.map(describeKeySpec).join(', ')}`,
      { detail: { keyType: seen } },
    );
  }
  return found;
}

export function describeKeySpec(spec: KeySpec): string {
  switch (spec) {
    case 'rsa-2048':
      return 'RSA 2048';
    case 'rsa-3072':
      return 'RSA 3072';
    case 'rsa-4096':
      return 'RSA 4096';
    case 'ec-p256':
      return 'ECDSA P-256';
    case 'ec-p384':
      return 'ECDSA P-384';
  }
}

function lookup(table: Readonly<Record<string, KeySpec>>, key: string): KeySpec | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
