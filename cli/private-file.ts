import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CoreError } from '../core/errors.ts';

/** Writes a key owner-only, also when the file already existed with wider permissions. */
export function writePrivate(file: string, body: string): void {
  writeFileSync(file, body, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The refusal to replace a file that exists, before anything is asked of the core. */
export function refuseExisting(file: string, shown: string): void {
  if (existsSync(file))
    throw new CoreError('conflict', `${shown} already exists; nothing was written`, {
      hint: { action: 'use-option', option: 'force', purpose: 'to replace it' },
    });
}

/** A private file being written: `commit` puts the bytes in place, `discard` removes what is left. */
export interface PendingPrivateFile {
  commit(body: Buffer): void;
  discard(): void;
}

/**
 * Starts writing `file` owner-only (0600) and atomically, before the bytes exist, so that an existing file
 * (without `overwrite`) or an unwritable directory is refused before anything is exported or audited.
 * The bytes go into a temporary file beside `file`, created 0600, then moved into place: a reader sees the
 * old file or the whole new one, never a part, and the bytes are never in a file others can read. Without
 * `overwrite` the temporary file is hard-linked into place, which the OS refuses when the name exists, so a
 * file that appeared meanwhile is not replaced either. `shown` is the path as the user gave it.
 */
export function startPrivateFile(file: string, shown: string, overwrite: boolean): PendingPrivateFile {
  if (!overwrite) refuseExisting(file, shown);
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, '', { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw new CoreError('input_invalid', `cannot write ${shown} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return {
    commit(body) {
      writeFileSync(temporary, body);
      if (overwrite) return renameSync(temporary, file);
      try {
        linkSync(temporary, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') refuseExisting(file, shown);
        throw err;
      }
    },
    discard: () => rmSync(temporary, { force: true }),
  };
}
