/**
 * The master-key ring of one process: the primary key seals, every key in the ring opens (secret-box.ts finds
 * the key by the id in the sealed value). In embedded mode the ring lives in `DATA_DIR/master.key` (the primary)
 * and `DATA_DIR/master.key.previous` (keys that still open, one per line, 0600 like master.key); otherwise it is
 * `MASTER_KEY` and `MASTER_KEY_PREVIOUS`. The box handed to the services delegates to the current ring, so a
 * rotation run inside a running service (a forwarded CLI command) is seen by every part of that process at once.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CoreError } from '../errors.ts';
import type { MasterKeys } from '../ports/master-keys.ts';
import { MASTER_KEY_FILE_NAME, readPrivateFile, replacePrivateFile } from './master-key-file.ts';
import { createSecretBox, masterKeyId, parseMasterKey, type SecretBox } from './secret-box.ts';

export const PREVIOUS_KEYS_FILE_NAME = 'master.key.previous';

export type KeyRingSource =
  | { kind: 'environment'; primary: string; previous: readonly string[] }
  /** `previous` holds the keys from the environment; the file's are read here. */
  | { kind: 'file'; dataDir: string; primary: string; previous: readonly string[] };

export interface KeyRing {
  box: SecretBox;
  keys: MasterKeys;
}

/** The keys in `DATA_DIR/master.key.previous` (none when it does not exist), each checked like master.key. */
export function readPreviousKeys(dataDir: string): string[] {
  const path = join(dataDir, PREVIOUS_KEYS_FILE_NAME);
  const lines = (readPrivateFile(path) ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.map((line, i) => {
    try {
      parseMasterKey(line);
    } catch {
      throw new CoreError(
        'config_invalid',
        `${path} line ${i + 1} is not a base64-encoded 32-byte key; restore the file from your backup`,
      );
    }
    return line;
  });
}

export function createKeyRing(source: KeyRingSource): KeyRing {
  let primary = source.primary;
  let filePrevious = source.kind === 'file' ? readPreviousKeys(source.dataDir) : [];
  let envPrevious = [...source.previous];
  const previous = () => [...filePrevious, ...envPrevious];
  let inner = createSecretBox(primary, previous());
  const rebuild = () => {
    inner = createSecretBox(primary, previous());
  };

  const keyIds = (): string[] => {
    const primaryId = masterKeyId(primary);
    const ids = [primaryId];
    for (const k of previous()) {
      const id = masterKeyId(k);
      if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  };

  const keys: MasterKeys = {
    source: source.kind,
    keyIds,
    generatePrimary() {
      if (source.kind !== 'file') {
        throw new CoreError('internal', 'a key from the environment cannot be replaced by the process');
      }
      const fresh = randomBytes(32).toString('base64');
      // Order matters for a crash between the two writes: the old key is kept opening before it stops being
      // the primary, so every value stays readable whichever write was the last to land.
      const kept = filePrevious.some((k) => masterKeyId(k) === masterKeyId(primary))
        ? filePrevious
        : [...filePrevious, primary];
      replacePrivateFile(join(source.dataDir, PREVIOUS_KEYS_FILE_NAME), `${kept.join('\n')}\n`);
      filePrevious = kept;
      replacePrivateFile(join(source.dataDir, MASTER_KEY_FILE_NAME), `${fresh}\n`);
      primary = fresh;
      rebuild();
      return masterKeyId(primary);
    },
    dropKey(keyId) {
      if (keyId === masterKeyId(primary)) throw new CoreError('internal', 'the primary key cannot be dropped');
      if (source.kind === 'file' && filePrevious.some((k) => masterKeyId(k) === keyId)) {
        const kept = filePrevious.filter((k) => masterKeyId(k) !== keyId);
        replacePrivateFile(join(source.dataDir, PREVIOUS_KEYS_FILE_NAME), kept.length ? `${kept.join('\n')}\n` : '');
        filePrevious = kept;
      }
      envPrevious = envPrevious.filter((k) => masterKeyId(k) !== keyId);
      rebuild();
    },
  };

  const box: SecretBox = {
    get keyId() {
      return inner.keyId;
    },
    seal: (plaintext, aad) => inner.seal(plaintext, aad),
    open: (sealed, aad) => inner.open(sealed, aad),
  };
  return { box, keys };
}
