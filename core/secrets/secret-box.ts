/**
 * Authenticated encryption for secrets stored in the database (account keys, certificate keys, challenge keys,
 * EAB HMAC keys, passwords).
 *
 * Sealed format (compact ASCII, so it fits a plain text column):
 *
 *   v1.<keyId>.<iv>.<ciphertext>.<tag>
 *
 * - AES-256-GCM, 12-byte random IV per seal, 16-byte tag; iv/ciphertext/tag are unpadded base64url.
 * - The AES key is HKDF-SHA256(master key, salt = empty, info = 'bigip-acme secret-box v1'), so the raw master
 *   key never keys a cipher directly and a future format can derive an independent key from the same master key.
 * - keyId is the first 8 bytes (16 hex chars) of HKDF-SHA256(master key, salt = empty,
 *   info = 'bigip-acme secret-box v1 key-id'). It is a separate HKDF output rather than a hash of the AES key, so
 *   publishing it says nothing about the AES key beyond what the master key already determines; it is stable for a
 *   given master key, which is all rotation needs to pick the right key.
 * - The caller's `aad` (the row identity, e.g. 'profiles:<uuid>:account_key') is authenticated together with the
 *   'v1.<keyId>' header, so a sealed value copied to another row/column, or re-labelled with another key id or
 *   version, fails to open.
 *
 * Rotation: construct the box with the new MASTER_KEY and the old ones as `previousKeysB64`; rows sealed under an
 * old key still open, new seals use the current key, and re-sealing rows moves them onto it.
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { CoreError } from '../errors.ts';

export interface SecretBox {
  /** Id of the key new secrets are sealed with. */
  readonly keyId: string;
  /** `aad` binds the secret to where it is stored, e.g. 'profiles:<uuid>:account_key'; it must not be empty. */
  seal(plaintext: string, aad: string): string;
  /** Throws CoreError('secret_invalid') on unknown key, wrong aad, malformed or tampered input. */
  open(sealed: string, aad: string): string;
}

const VERSION = 'v1';
const AES_INFO = 'bigip-acme secret-box v1';
const KEY_ID_INFO = 'bigip-acme secret-box v1 key-id';
const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

// IV: 12 bytes -> 16 chars; tag: 16 bytes -> 22 chars; ciphertext is as long as the UTF-8 plaintext.
const SEALED_RE = /^v1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{22})$/;

/**
 * Decodes MASTER_KEY. Accepts standard or URL-safe base64, padded or not, surrounding whitespace ignored.
 * The message never echoes the value, since a near-miss is still most of a key.
 */
export function parseMasterKey(b64: string, name = 'MASTER_KEY'): Buffer {
  const invalid = () =>
    new CoreError('config_invalid', `${name} must be base64 of 32 bytes (generate one with: openssl rand -base64 32)`);
  const s = b64.trim().replace(/=$/, '');
  if (!/^[A-Za-z0-9+/_-]{43}$/.test(s)) throw invalid();
  const key = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== MASTER_KEY_BYTES) throw invalid();
  // The last character carries 2 spare bits; insisting they are zero makes one key have exactly one spelling.
  if (key.toString('base64').slice(0, 43) !== s.replace(/-/g, '+').replace(/_/g, '/')) throw invalid();
  return key;
}

/** True when `value` has the shape of a sealed secret (it says nothing about whether it opens). */
export function isSealed(value: string): boolean {
  return decodeParts(value) !== undefined;
}

/** The id of the master key `value` was sealed under, or undefined when it is not a sealed value. */
export function sealedKeyId(value: string): string | undefined {
  return decodeParts(value)?.keyId;
}

/** The id a master key (base64 of 32 bytes) seals under, without building a box. */
export function masterKeyId(masterKeyB64: string, name = 'MASTER_KEY'): string {
  return deriveKey(parseMasterKey(masterKeyB64, name)).id;
}

interface DerivedKey {
  readonly id: string;
  readonly aes: KeyObject;
}

function deriveKey(master: Buffer): DerivedKey {
  const aesBytes = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), AES_INFO, 32));
  const idBytes = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), KEY_ID_INFO, 8));
  // A KeyObject keeps the key bytes out of anything that inspects or serialises the box.
  const aes = createSecretKey(aesBytes);
  const id = idBytes.toString('hex');
  aesBytes.fill(0);
  master.fill(0);
  return { id, aes };
}

function headerAad(keyId: string, aad: string): Buffer {
  // The header has a fixed length, so prefixing it cannot make two different (keyId, aad) pairs collide.
  return Buffer.from(`${VERSION}.${keyId}.${aad}`, 'utf8');
}

function decodeB64url(s: string): Buffer | undefined {
  const buf = Buffer.from(s, 'base64url');
  // Node's decoder ignores stray trailing bits; rejecting non-canonical text means any edit to the string is
  // an edit to the bytes, so it cannot slip past the tag.
  return buf.toString('base64url') === s ? buf : undefined;
}

function decodeParts(sealed: string): { keyId: string; iv: Buffer; ct: Buffer; tag: Buffer } | undefined {
  const m = SEALED_RE.exec(sealed);
  if (!m) return undefined;
  const [, keyId, ivS, ctS, tagS] = m;
  if (keyId === undefined || ivS === undefined || ctS === undefined || tagS === undefined) return undefined;
  const iv = decodeB64url(ivS);
  const ct = decodeB64url(ctS);
  const tag = decodeB64url(tagS);
  if (!iv || !ct || !tag || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
  return { keyId, iv, ct, tag };
}

function requireAad(aad: string): void {
  // An empty aad would silently drop the row binding, which is the point of the aad.
  if (aad.length === 0) throw new CoreError('internal', 'secret-box: associated data must not be empty');
}

export function createSecretBox(masterKeyB64: string, previousKeysB64: string[] = []): SecretBox {
  const current = deriveKey(parseMasterKey(masterKeyB64));
  const keys = new Map<string, DerivedKey>([[current.id, current]]);
  previousKeysB64.forEach((b64, i) => {
    const k = deriveKey(parseMasterKey(b64, `previous master key #${i + 1}`));
    if (!keys.has(k.id)) keys.set(k.id, k);
  });

  const seal = (plaintext: string, aad: string): string => {
    requireAad(aad);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.aes, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(headerAad(current.id, aad));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, current.id, iv.toString('base64url'), ct.toString('base64url'), tag.toString('base64url')].join(
      '.',
    );
  };

  const open = (sealed: string, aad: string): string => {
    requireAad(aad);
    const parts = decodeParts(sealed);
    if (!parts) {
      throw new CoreError('secret_invalid', `stored secret for ${aad} is not a valid sealed value`, {
        detail: { aad },
      });
    }
    const key = keys.get(parts.keyId);
    if (!key) {
      throw new CoreError(
        'secret_invalid',
        `stored secret for ${aad} was sealed with key ${parts.keyId}, which is neither MASTER_KEY (${current.id}) ` +
          'nor a configured previous key',
        { detail: { aad, keyId: parts.keyId, currentKeyId: current.id } },
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.aes, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(headerAad(parts.keyId, aad));
      decipher.setAuthTag(parts.tag);
      const pt = Buffer.concat([decipher.update(parts.ct), decipher.final()]);
      return pt.toString('utf8');
    } catch {
      // The library error adds nothing beyond "authentication failed", so it is not attached as the cause.
      throw new CoreError(
        'secret_invalid',
        `stored secret for ${aad} failed authentication (tampered, or sealed for a different row or column)`,
        { detail: { aad, keyId: parts.keyId } },
      );
    }
  };

  return Object.freeze({ keyId: current.id, seal, open });
}
