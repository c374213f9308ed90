/**
 * Keeps MASTER_KEY in `<dataDir>/master.key` when the operator does not supply one, so a first start works
 * without setup. Losing this file makes every stored secret unreadable, hence the durability and the refusal to
 * use a file others can read. The caller reports creation (from `created`); this module does not log.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { CoreError } from '../errors.ts';
import { errnoCode, UNKNOWN_ERRNO } from '../net/errno-code.ts';
import { parseMasterKey } from './secret-box.ts';

export const MASTER_KEY_FILE_NAME = 'master.key';

export interface MasterKeyFile {
  /** Base64 of 32 bytes, as stored (surrounding whitespace removed). */
  key: string;
  /** True when this call generated the file. */
  created: boolean;
  path: string;
}

// A concurrent creator may have opened the file but not yet written it; wait this long for its content.
const EMPTY_RETRY_MS = 25;
const EMPTY_RETRIES = 20;

export function loadOrCreateMasterKey(dataDir: string): MasterKeyFile {
  const path = join(dataDir, MASTER_KEY_FILE_NAME);
  const existing = readKeyFile(path);
  if (existing !== undefined) return { key: existing, created: false, path };

  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fsError(`cannot create data directory ${dataDir}`, err);
  }

  const key = randomBytes(32).toString('base64');
  let fd: number;
  try {
    // 'wx' fails if the file exists, so of two processes starting together exactly one generates the key.
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') {
      const theirs = readKeyFile(path);
      if (theirs !== undefined) return { key: theirs, created: false, path };
    }
    throw fsError(`cannot create ${path}`, err);
  }
  try {
    writeSync(fd, `${key}\n`);
    // Secrets sealed under this key reach the database durably; the key must not be less durable than they are.
    fsyncSync(fd);
  } catch (err) {
    closeQuietly(fd);
    // An empty key file would block every later start, and nothing can have been sealed under it yet.
    try {
      unlinkSync(path);
    } catch {
      // Nothing more to do; the error below names the file.
    }
    throw fsError(`cannot write ${path}`, err);
  }
  closeSync(fd);
  fsyncDirQuietly(dataDir);
  return { key, created: true, path };
}

/** The key kept in `<dataDir>/master.key`, or undefined when there is none; never creates one (restore). */
export function readMasterKeyFile(dataDir: string): string | undefined {
  return readKeyFile(join(dataDir, MASTER_KEY_FILE_NAME));
}

/** The key in `path`, or undefined when the file does not exist. */
function readKeyFile(path: string): string | undefined {
  for (let attempt = 0; ; attempt++) {
    const content = readPrivateFile(path)?.trim();
    if (content === undefined) return undefined;
    if (content === '' && attempt < EMPTY_RETRIES) {
      sleepSync(EMPTY_RETRY_MS);
      continue;
    }
    try {
      parseMasterKey(content);
    } catch {
      // Never suggest deleting it outright: with secrets already sealed, a new key would strand them all.
      throw new CoreError(
        'config_invalid',
        `${path} does not contain a base64-encoded 32-byte key; restore it from backup, or, if nothing has been ` +
          'stored yet, delete it to have a new one generated',
      );
    }
    return content;
  }
}

/**
 * The text of a file only its owner may read or write (a key file), or undefined when it does not exist.
 * Refused when it is not a regular file or group/other have any access.
 */
export function readPrivateFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fsError(`cannot read ${path}`, err);
  }
  try {
    // fstat on the open descriptor checks the very file we read, not whatever the path names a moment later.
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CoreError('config_invalid', `${path} is not a regular file`);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
      throw new CoreError(
        'config_invalid',
        `${path} is readable or writable by group/other (mode ${mode}); restrict it with: chmod 600 ${path}`,
      );
    }
    return readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof CoreError) throw err;
    throw fsError(`cannot read ${path}`, err);
  } finally {
    closeQuietly(fd);
  }
}

/**
 * Replaces `path` with `content` (mode 0600) so that a crash leaves either the old file or the new one, never a
 * torn one: written to a temporary file, fsynced, renamed over `path`, then the directory fsynced.
 */
export function replacePrivateFile(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  let fd: number;
  try {
    // A temporary file left by a crash may have any mode; 'wx' on a fresh one guarantees 0600.
    unlinkIfPresent(tmp);
    fd = openSync(tmp, 'wx', 0o600);
  } catch (err) {
    throw fsError(`cannot create ${tmp}`, err);
  }
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeQuietly(fd);
    throw fsError(`cannot write ${tmp}`, err);
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    throw fsError(`cannot replace ${path}`, err);
  }
  fsyncDirQuietly(dirname(path));
}

function fsError(what: string, err: unknown): CoreError {
  const code = errnoCode(err);
  return new CoreError('config_invalid', code === UNKNOWN_ERRNO ? what : `${what}: ${code}`, { cause: err });
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed or never valid; the caller is reporting the error that matters.
  }
}

function fsyncDirQuietly(dir: string): void {
  // Makes the new directory entry durable on POSIX; some platforms cannot open a directory, which is fine.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Best effort only.
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
