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

/**
 * Writes `body` owner-only (0600) and atomically: into a temporary file beside `file`, then moved into
 * place, so a reader sees the old file or the whole new one, never a part, and the bytes are never in a
 * file anyone else can read. Without `overwrite`, an existing `file` is left alone and this fails: the
 * temporary file is hard-linked into place, which the OS refuses when the name exists (no race with a
 * check). The temporary file is gone afterwards either way.
 */
export function writePrivateAtomically(file: string, body: Buffer, shown: string, overwrite: boolean): void {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(temporary, body, { mode: 0o600, flag: 'wx' });
  try {
    chmodSync(temporary, 0o600);
    if (overwrite) renameSync(temporary, file);
    else {
      try {
        linkSync(temporary, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') refuseExisting(file, shown);
        throw err;
      }
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}
