import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CoreError } from '../../core/errors.ts';
import { createSecretBox, isSealed, parseMasterKey } from '../../core/secrets/secret-box.ts';

const newKey = () => randomBytes(32).toString('base64');
const AAD = 'profiles:6f1c2a9e-0000-4000-8000-000000000001:account_key';
const SECRET = '-----BEGIN PRIVATE KEY-----\nMIIEv-very-secret-material\n-----END PRIVATE KEY-----\n';

function openError(fn: () => unknown): CoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CoreError);
    return err as CoreError;
  }
  throw new Error('expected open to throw');
}

/** Replaces the character at `i` with a different base64url character. */
function flipChar(s: string, i: number): string {
  const c = s[i]!;
  return s.slice(0, i) + (c === 'A' ? 'B' : 'A') + s.slice(i + 1);
}

function withPart(sealed: string, index: number, edit: (part: string) => string): string {
  const parts = sealed.split('.');
  parts[index] = edit(parts[index]!);
  return parts.join('.');
}

describe('secret box', () => {
  it('round-trips text, including empty and non-ASCII', () => {
    const box = createSecretBox(newKey());
    for (const text of [SECRET, '', 'pässwörd ✓ 🔑', 'x'.repeat(10_000)]) {
      expect(box.open(box.seal(text, AAD), AAD)).toBe(text);
    }
  });

  it('produces the documented compact format', () => {
    const box = createSecretBox(newKey());
    const sealed = box.seal(SECRET, AAD);
    expect(sealed).toMatch(/^v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(sealed.split('.')[1]).toBe(box.keyId);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('PRIVATE');
  });

  it('gives a different ciphertext each time for the same plaintext', () => {
    const box = createSecretBox(newKey());
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(box.seal(SECRET, AAD));
    expect(seen.size).toBe(50);
    const ivs = new Set([...seen].map((s) => s.split('.')[2]));
    expect(ivs.size).toBe(50);
  });

  it('has a stable key id per master key that does not reveal the key', () => {
    const key = newKey();
    const a = createSecretBox(key);
    const b = createSecretBox(key);
    expect(a.keyId).toBe(b.keyId);
    expect(a.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(createSecretBox(newKey()).keyId).not.toBe(a.keyId);
    const raw = Buffer.from(key, 'base64').toString('hex');
    expect(raw).not.toContain(a.keyId);
  });

  it('does not expose key material through inspect or JSON', () => {
    const key = newKey();
    const box = createSecretBox(key);
    const hex = Buffer.from(key, 'base64').toString('hex');
    for (const text of [inspect(box, { depth: 10, showHidden: true }), JSON.stringify(box)]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(hex);
    }
  });

  it('fails to open with a different aad (row or column swap)', () => {
    const box = createSecretBox(newKey());
    const sealed = box.seal(SECRET, AAD);
    for (const other of [
      'profiles:6f1c2a9e-0000-4000-8000-000000000002:account_key',
      'profiles:6f1c2a9e-0000-4000-8000-000000000001:eab_hmac_key',
      `${AAD} `,
    ]) {
      const err = openError(() => box.open(sealed, other));
      expect(err.code).toBe('secret_invalid');
    }
  });

  it('rejects an empty aad on seal and open', () => {
    const box = createSecretBox(newKey());
    expect(() => box.seal(SECRET, '')).toThrow(CoreError);
    expect(() => box.open(box.seal(SECRET, AAD), '')).toThrow(CoreError);
  });

  it.each([
    ['iv', 2],
    ['ciphertext', 3],
    ['tag', 4],
  ])('fails to open when the %s is tampered with', (_name, index) => {
    const box = createSecretBox(newKey());
    const sealed = box.seal(SECRET, AAD);
    for (const pos of [0, 5]) {
      const tampered = withPart(sealed, index, (p) => flipChar(p, pos));
      expect(tampered).not.toBe(sealed);
      expect(openError(() => box.open(tampered, AAD)).code).toBe('secret_invalid');
    }
  });

  it('rejects spare-bit changes in the final base64url character of the tag', () => {
    const box = createSecretBox(newKey());
    const sealed = box.seal(SECRET, AAD);
    // 16 bytes use 22 characters; the last one carries 4 unused bits that a lenient decoder would ignore.
    const tampered = withPart(sealed, 4, (tag) => {
      const last = tag.at(-1)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const v = alphabet.indexOf(last);
      return tag.slice(0, -1) + alphabet[v ^ 1];
    });
    expect(Buffer.from(tampered.split('.')[4]!, 'base64url')).toEqual(Buffer.from(sealed.split('.')[4]!, 'base64url'));
    expect(openError(() => box.open(tampered, AAD)).code).toBe('secret_invalid');
  });

  it('fails to open truncated, extended or malformed values', () => {
    const box = createSecretBox(newKey());
    const sealed = box.seal(SECRET, AAD);
    const bad = [
      sealed.slice(0, -1),
      `${sealed}A`,
      withPart(sealed, 3, (ct) => ct.slice(0, -4)),
      withPart(sealed, 3, (ct) => `${ct}AAAA`),
      withPart(sealed, 0, () => 'v2'),
      sealed.replaceAll('.', ':'),
      `${sealed}.`,
      '',
      SECRET,
    ];
    for (const value of bad) {
      expect(openError(() => box.open(value, AAD)).code).toBe('secret_invalid');
    }
  });

  it('isSealed recognises the shape only', () => {
    const box = createSecretBox(newKey());
    const sealed = box.seal(SECRET, AAD);
    expect(isSealed(sealed)).toBe(true);
    // Shape, not authenticity: a value for another key still looks sealed.
    expect(isSealed(createSecretBox(newKey()).seal('x', AAD))).toBe(true);
    for (const value of ['', 'hunter2', SECRET, sealed.slice(0, -1), `${sealed}.`, withPart(sealed, 0, () => 'v2')]) {
      expect(isSealed(value)).toBe(false);
    }
  });

  it('fails to open a value relabelled with another key id', () => {
    const oldKey = newKey();
    const newerKey = newKey();
    const old = createSecretBox(oldKey);
    const box = createSecretBox(newerKey, [oldKey]);
    const sealed = old.seal(SECRET, AAD);
    // Both ids are known to the box, so this reaches the cipher; the header is authenticated.
    const relabelled = withPart(sealed, 1, () => box.keyId);
    expect(openError(() => box.open(relabelled, AAD)).code).toBe('secret_invalid');
  });

  it('fails to open with the wrong key', () => {
    const sealed = createSecretBox(newKey()).seal(SECRET, AAD);
    const err = openError(() => createSecretBox(newKey()).open(sealed, AAD));
    expect(err.code).toBe('secret_invalid');
  });

  it('rotates: old values open via a previous key, new values carry the new key id', () => {
    const oldKey = newKey();
    const currentKey = newKey();
    const old = createSecretBox(oldKey);
    const sealedOld = old.seal(SECRET, AAD);

    const rotated = createSecretBox(currentKey, [oldKey]);
    expect(rotated.keyId).not.toBe(old.keyId);
    expect(rotated.open(sealedOld, AAD)).toBe(SECRET);

    const sealedNew = rotated.seal(SECRET, AAD);
    expect(sealedNew.split('.')[1]).toBe(rotated.keyId);
    expect(rotated.open(sealedNew, AAD)).toBe(SECRET);
    // The old key alone cannot open what the new key sealed.
    expect(openError(() => old.open(sealedNew, AAD)).code).toBe('secret_invalid');
    // Without the previous key configured, old rows no longer open.
    expect(openError(() => createSecretBox(currentKey).open(sealedOld, AAD)).code).toBe('secret_invalid');
  });

  it('tolerates the current key also being listed as a previous key', () => {
    const key = newKey();
    const box = createSecretBox(key, [key]);
    expect(box.open(box.seal(SECRET, AAD), AAD)).toBe(SECRET);
  });

  it('never puts the plaintext or keys into error messages', () => {
    const key = newKey();
    const box = createSecretBox(key);
    const sealed = box.seal(SECRET, AAD);
    const errors = [
      openError(() => box.open(sealed, 'profiles:other:account_key')),
      openError(() =>
        box.open(
          withPart(sealed, 3, (p) => flipChar(p, 0)),
          AAD,
        ),
      ),
      openError(() =>
        box.open(
          withPart(sealed, 4, (p) => flipChar(p, 0)),
          AAD,
        ),
      ),
      openError(() => createSecretBox(newKey()).open(sealed, AAD)),
      openError(() => box.open(SECRET, AAD)),
    ];
    for (const err of errors) {
      const text = `${err.message} ${inspect(err, { depth: 10 })} ${JSON.stringify(err.detail ?? {})}`;
      expect(text).not.toContain('very-secret-material');
      expect(text).not.toContain(key);
    }
  });
});

describe('parseMasterKey', () => {
  it('accepts base64 of 32 bytes, padded or not, standard or URL-safe, with surrounding whitespace', () => {
    const bytes = randomBytes(32);
    const std = bytes.toString('base64');
    for (const text of [std, std.replace(/=$/, ''), bytes.toString('base64url'), ` ${std}\n`]) {
      expect(parseMasterKey(text).equals(bytes)).toBe(true);
    }
  });

  it.each([
    ['empty', ''],
    ['too short', randomBytes(31).toString('base64')],
    ['too long', randomBytes(33).toString('base64')],
    ['16 bytes', randomBytes(16).toString('base64')],
    ['64 bytes', randomBytes(64).toString('base64')],
    ['hex of 32 bytes', randomBytes(32).toString('hex')],
    ['not base64', `${'!'.repeat(43)}=`],
    [
      'inner whitespace',
      `${randomBytes(32).toString('base64').slice(0, 20)} ${randomBytes(32).toString('base64').slice(21)}`,
    ],
  ])('rejects %s with config_invalid', (_name, text) => {
    let caught: unknown;
    try {
      parseMasterKey(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CoreError);
    expect((caught as CoreError).code).toBe('config_invalid');
    expect((caught as CoreError).message).toMatch(/^MASTER_KEY must be base64 of 32 bytes/);
    if (text.length > 0) expect((caught as CoreError).message).not.toContain(text.trim());
  });

  it('rejects a non-canonical final character', () => {
    const std = randomBytes(32).toString('base64');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = alphabet.indexOf(std[42]!);
    expect(() => parseMasterKey(`${std.slice(0, 42)}${alphabet[last | 1]}=`)).toThrow(CoreError);
  });

  it('names a bad previous key without echoing it', () => {
    const bad = randomBytes(20).toString('base64');
    expect(() => createSecretBox(newKey(), [newKey(), bad])).toThrow(
      /previous master key #2 must be base64 of 32 bytes/,
    );
    expect(() => createSecretBox('nope')).toThrow(/^MASTER_KEY must be/);
  });
});
