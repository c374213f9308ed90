import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPrivateFile } from '../../cli/private-file.ts';
import { isCoreError } from '../../core/errors.ts';

describe('startPrivateFile (the PKCS#12 file: 0600, atomic, no overwrite without --force)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-private-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const caught = (fn: () => void): unknown => {
    try {
      fn();
    } catch (err) {
      return err;
    }
    return null;
  };
  /** Writes as the CLI does: claim, commit, and discard whatever is left either way. */
  const write = (file: string, body: string, overwrite: boolean) => {
    const pending = startPrivateFile(file, 'shown.p12', overwrite);
    try {
      pending.commit(Buffer.from(body));
    } finally {
      pending.discard();
    }
  };

  it('writes a new file owner-only and leaves no temporary file', () => {
    const file = join(dir, 'a.p12');
    write(file, 'new', false);
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['a.p12']);
  });

  it('refuses an existing file before anything is written, naming it as the user did, with the option to use', () => {
    const file = join(dir, 'a.p12');
    writeFileSync(file, 'old', { mode: 0o644 });
    const err = caught(() => startPrivateFile(file, 'shown.p12', false));
    expect(isCoreError(err) && err.code).toBe('conflict');
    expect(err).toMatchObject({
      message: 'shown.p12 already exists; nothing was written',
      hint: { action: 'use-option', option: 'force' },
    });
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['a.p12']);
  });

  it('does not replace a file that appeared after the claim', () => {
    const file = join(dir, 'a.p12');
    const pending = startPrivateFile(file, 'shown.p12', false);
    writeFileSync(file, 'raced');
    const err = caught(() => pending.commit(Buffer.from('new')));
    pending.discard();
    expect(isCoreError(err) && err.code).toBe('conflict');
    expect(readFileSync(file, 'utf8')).toBe('raced');
    expect(readdirSync(dir)).toEqual(['a.p12']);
  });

  it('with overwrite, replaces a file anyone could read by an owner-only one', () => {
    const file = join(dir, 'a.p12');
    writeFileSync(file, 'old', { mode: 0o644 });
    write(file, 'new', true);
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['a.p12']);
  });

  it('discarded without a commit (the export was refused), leaves nothing behind', () => {
    startPrivateFile(join(dir, 'a.p12'), 'shown.p12', false).discard();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a directory that does not exist as bad input, writing nothing', () => {
    const err = caught(() => startPrivateFile(join(dir, 'no', 'a.p12'), 'no/a.p12', true));
    expect(err).toMatchObject({ code: 'input_invalid', message: 'cannot write no/a.p12 (ENOENT)' });
    expect(readdirSync(dir)).toEqual([]);
  });
});
