import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterKeyId } from '../../core/secrets/secret-box.ts';
import { runCli, stepsBudget } from '../support/cli-process.ts';

/**
 * A backup taken before a key rotation restores on an install that has rotated: the new key as master.key,
 * the old one in master.key.previous; `secrets rotate` then moves the restored values onto the new key.
 */
describe('a backup from before a key rotation', () => {
  let dir: string;
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  const dataDir = (name: string) => join(dir, name);
  const run = (name: string, args: string[]) => runCli(args, { DATA_DIR: dataDir(name), LOG_LEVEL: 'warn' });
  const keys = (name: string, primary: string, previous?: string) => {
    mkdirSync(dataDir(name), { mode: 0o700 });
    writeFileSync(join(dataDir(name), 'master.key'), `${primary}\n`, { mode: 0o600 });
    if (previous) writeFileSync(join(dataDir(name), 'master.key.previous'), `${previous}\n`, { mode: 0o600 });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-backup-'));
    keys('source', oldKey);
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'device-password', { mode: 0o600 });
    const added = await run('source', [
      'device',
      'add',
      'bigip1',
      '--url',
      'https://127.0.0.1:9',
      '--username',
      'u',
      '--password-file',
      pw,
      '--insecure',
      '--skip-test',
    ]);
    expect(added.code, added.stderr).toBe(0);
    const made = await run('source', ['backup', 'create', join(dir, 'before.bak')]);
    expect(made.code, made.stderr).toBe(0);
  }, stepsBudget(2));
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'is refused by the new key alone, restores with the old one as a previous key, and rotate moves it',
    async () => {
      keys('new-only', newKey);
      const refused = await run('new-only', ['backup', 'restore', join(dir, 'before.bak')]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`sealed with master key ${masterKeyId(oldKey)}`);
      expect(refused.stderr).toContain('or give that key in MASTER_KEY_PREVIOUS');

      keys('rotated', newKey, oldKey);
      const restored = await run('rotated', ['backup', 'restore', join(dir, 'before.bak')]);
      expect(restored.code, restored.stderr).toBe(0);
      const rotated = await run('rotated', ['--json', 'secrets', 'rotate']);
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(JSON.parse(rotated.stdout)).toMatchObject({
        keyId: masterKeyId(newKey),
        generated: null,
        remaining: 0,
        retirable: [masterKeyId(oldKey)],
      });
      expect(JSON.parse(rotated.stdout).resealed).toBeGreaterThanOrEqual(1);
    },
    stepsBudget(4),
  );
});
