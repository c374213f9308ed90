import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoreError } from '../../core/errors.ts';
import { loadOrCreateMasterKey } from '../../core/secrets/master-key-file.ts';
import { createSecretBox, parseMasterKey } from '../../core/secrets/secret-box.ts';

const posix = process.platform !== 'win32';

function thrown(fn: () => unknown): CoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CoreError);
    return err as CoreError;
  }
  throw new Error('expected a throw');
}

describe('loadOrCreateMasterKey', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bigip-acme-mk-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the data dir and a 0600 key file, then reuses it', () => {
    const dataDir = join(root, 'nested', 'data');
    const first = loadOrCreateMasterKey(dataDir);
    expect(first.created).toBe(true);
    expect(first.path).toBe(join(dataDir, 'master.key'));
    expect(parseMasterKey(first.key)).toHaveLength(32);
    expect(readFileSync(first.path, 'utf8').trim()).toBe(first.key);
    if (posix) expect(statSync(first.path).mode & 0o777).toBe(0o600);

    const second = loadOrCreateMasterKey(dataDir);
    expect(second).toEqual({ key: first.key, created: false, path: first.path });

    // The key is usable as MASTER_KEY.
    const box = createSecretBox(second.key);
    expect(box.open(box.seal('pw', 'a:b:c'), 'a:b:c')).toBe('pw');
  });

  it('generates a different key per data dir', () => {
    const a = loadOrCreateMasterKey(join(root, 'a'));
    const b = loadOrCreateMasterKey(join(root, 'b'));
    expect(a.key).not.toBe(b.key);
  });

  it('lets exactly one of several processes starting together create the key', async () => {
    const dataDir = join(root, 'race');
    const moduleUrl = pathToFileURL(resolve('core/secrets/master-key-file.ts')).href;
    const script = `import { loadOrCreateMasterKey } from ${JSON.stringify(moduleUrl)};
      process.stdout.write(JSON.stringify(loadOrCreateMasterKey(${JSON.stringify(dataDir)})));`;
    const run = promisify(execFile);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]).then(
          ({ stdout }) => JSON.parse(stdout) as { key: string; created: boolean },
        ),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.key)).size).toBe(1);
    expect(readFileSync(join(dataDir, 'master.key'), 'utf8').trim()).toBe(results[0]!.key);
  });

  it('reads an existing key, trimming whitespace, without rewriting it', () => {
    const key = randomBytes(32).toString('base64');
    const path = join(root, 'master.key');
    writeFileSync(path, `\n  ${key}  \n\n`, { mode: 0o600 });
    const before = statSync(path).mtimeMs;
    expect(loadOrCreateMasterKey(root)).toEqual({ key, created: false, path });
    expect(statSync(path).mtimeMs).toBe(before);
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not a key\n'],
    ['wrong length', `${randomBytes(16).toString('base64')}\n`],
  ])('rejects a file with %s content, naming the path but not the content', (_name, content) => {
    const path = join(root, 'master.key');
    writeFileSync(path, content, { mode: 0o600 });
    const err = thrown(() => loadOrCreateMasterKey(root));
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain(path);
    if (content.trim()) expect(err.message).not.toContain(content.trim());
    // The file is left alone: it may be the only copy of a key that secrets are sealed under.
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it.skipIf(!posix).each([0o644, 0o640, 0o604, 0o660, 0o606])(
    'rejects a key file with mode %o, naming the path and the fix',
    (mode) => {
      const key = randomBytes(32).toString('base64');
      const path = join(root, 'master.key');
      writeFileSync(path, key, { mode: 0o600 });
      chmodSync(path, mode);
      const err = thrown(() => loadOrCreateMasterKey(root));
      expect(err.code).toBe('config_invalid');
      expect(err.message).toContain(path);
      expect(err.message).toContain(`chmod 600 ${path}`);
      expect(err.message).not.toContain(key);
    },
  );

  it.skipIf(!posix)('accepts an owner-only read-only key file', () => {
    const key = randomBytes(32).toString('base64');
    const path = join(root, 'master.key');
    writeFileSync(path, key, { mode: 0o600 });
    chmodSync(path, 0o400);
    expect(loadOrCreateMasterKey(root)).toEqual({ key, created: false, path });
  });

  it('rejects a directory in place of the key file', () => {
    mkdirSync(join(root, 'master.key'));
    const err = thrown(() => loadOrCreateMasterKey(root));
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain(join(root, 'master.key'));
  });
});
