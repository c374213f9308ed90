import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyRing, PREVIOUS_KEYS_FILE_NAME } from '../../core/secrets/key-ring.ts';
import { createSecretBox, masterKeyId } from '../../core/secrets/secret-box.ts';

const key = () => randomBytes(32).toString('base64');
const posix = process.platform !== 'win32';

describe('the master-key ring', () => {
  let dir: string;
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'key-ring-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('from the environment: seals with MASTER_KEY, opens with MASTER_KEY_PREVIOUS too, and cannot make keys', () => {
    const [primary, old] = [key(), key()];
    const sealedBefore = createSecretBox(old).seal('account key', 'profiles:p1:account_key');
    const { box, keys } = createKeyRing({ kind: 'environment', primary, previous: [old, old] });
    expect(keys.keyIds()).toEqual([masterKeyId(primary), masterKeyId(old)]);
    expect(box.keyId).toBe(masterKeyId(primary));
    expect(box.open(sealedBefore, 'profiles:p1:account_key')).toBe('account key');
    expect(() => keys.generatePrimary()).toThrow('cannot be replaced');
    keys.dropKey(masterKeyId(old));
    expect(() => box.open(sealedBefore, 'profiles:p1:account_key')).toThrow('neither MASTER_KEY');
  });

  it('from DATA_DIR: a new primary is written to master.key only after the old one is kept in master.key.previous', () => {
    const old = key();
    writeFileSync(join(dir, 'master.key'), `${old}\n`, { mode: 0o600 });
    const sealedBefore = createSecretBox(old).seal('device password', 'devices:d1:password');
    const { box, keys } = createKeyRing({ kind: 'file', dataDir: dir, primary: old, previous: [] });
    const newId = keys.generatePrimary();
    const fresh = read('master.key').trim();
    expect(masterKeyId(fresh)).toBe(newId);
    expect(read(PREVIOUS_KEYS_FILE_NAME)).toBe(`${old}\n`);
    if (posix) {
      expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, PREVIOUS_KEYS_FILE_NAME)).mode & 0o777).toBe(0o600);
    }
    // The box the services already hold seals with the new key at once and still opens the old values.
    expect(box.keyId).toBe(newId);
    expect(box.open(sealedBefore, 'devices:d1:password')).toBe('device password');

    // A process started on these files has the same ring.
    const restarted = createKeyRing({ kind: 'file', dataDir: dir, primary: fresh, previous: [] });
    expect(restarted.keys.keyIds()).toEqual([newId, masterKeyId(old)]);

    keys.dropKey(masterKeyId(old));
    expect(read(PREVIOUS_KEYS_FILE_NAME)).toBe('');
    expect(keys.keyIds()).toEqual([newId]);
    expect(() => keys.dropKey(newId)).toThrow('primary');
  });

  it('a crash after the old key was kept but before the new one was written leaves one key, so rotate generates again', () => {
    const old = key();
    writeFileSync(join(dir, PREVIOUS_KEYS_FILE_NAME), `${old}\n`, { mode: 0o600 });
    const { keys } = createKeyRing({ kind: 'file', dataDir: dir, primary: old, previous: [] });
    expect(keys.keyIds()).toEqual([masterKeyId(old)]);
    keys.generatePrimary();
    // The old key is kept once, not twice.
    expect(read(PREVIOUS_KEYS_FILE_NAME)).toBe(`${old}\n`);
  });

  it.skipIf(!posix)('refuses a previous-keys file others can read, and one that holds no key', () => {
    const path = join(dir, PREVIOUS_KEYS_FILE_NAME);
    writeFileSync(path, `${key()}\n`);
    chmodSync(path, 0o640);
    expect(() => createKeyRing({ kind: 'file', dataDir: dir, primary: key(), previous: [] })).toThrow(
      `${path} is readable or writable by group/other (mode 640); restrict it with: chmod 600 ${path}`,
    );
    const secret = key();
    writeFileSync(path, `${key()}\n${secret.slice(0, 20)}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    let message = '';
    try {
      createKeyRing({ kind: 'file', dataDir: dir, primary: key(), previous: [] });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(`${path} line 2 is not a base64-encoded 32-byte key; restore the file from your backup`);
    expect(message).not.toContain(secret.slice(0, 20));
  });
});
