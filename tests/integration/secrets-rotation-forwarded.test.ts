import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterKeyId } from '../../core/secrets/secret-box.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { type CliService, runCli, startCliService, stepsBudget } from '../support/cli-process.ts';
import { retryOnPortClash } from '../support/free-port.ts';

/**
 * Embedded mode with `npm start` running: `secrets rotate` and `retire-key` are forwarded over cli.sock and run
 * inside the service, which switches its own keys at once, so the service keeps opening the device password
 * (sealed) before and after, and a CLI run after the service stopped opens it from the rotated key files.
 */
describe('secrets rotate forwarded to a running embedded service', () => {
  let dataDir: string;
  let sim: BigIpSimulator;
  let service: CliService | undefined;
  let env: Record<string, string>;
  const run = (args: string[]) => runCli(args, env);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'secrets-forwarded-'));
    sim = await startBigIpSimulator();
    const pw = join(dataDir, 'bigip.pw');
    writeFileSync(pw, sim.password, { mode: 0o600 });
    const ca = join(dataDir, 'bigip-ca.pem');
    writeFileSync(ca, sim.caPem!);
    service = await retryOnPortClash((port) => {
      env = {
        DATA_DIR: join(dataDir, 'data'),
        RESPONDER_HOST: '127.0.0.1',
        RESPONDER_PORT: String(port),
        LOG_LEVEL: 'warn',
      };
      return startCliService(['serve'], { ...env, LOG_LEVEL: 'info' }, ['responder listening', 'Slack bot off']);
    });
    const added = await run([
      'device',
      'add',
      'bigip1',
      '--url',
      sim.url,
      '--username',
      sim.username,
      '--password-file',
      pw,
      '--ca-file',
      ca,
    ]);
    expect(added.code, added.stderr).toBe(0);
  }, stepsBudget(3));
  afterAll(async () => {
    await service?.stop();
    await sim?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }, stepsBudget(1));

  it(
    'rotates inside the service, which opens the device password with the new key at once',
    async () => {
      const oldKey = readFileSync(join(dataDir, 'data', 'master.key'), 'utf8').trim();
      const rotated = await run(['--json', 'secrets', 'rotate']);
      expect(rotated.code, rotated.stderr).toBe(0);
      const result = JSON.parse(rotated.stdout);
      const newKey = readFileSync(join(dataDir, 'data', 'master.key'), 'utf8').trim();
      expect(result).toMatchObject({ keyId: masterKeyId(newKey), generated: masterKeyId(newKey), remaining: 0 });
      expect(result.resealed).toBeGreaterThanOrEqual(1);
      expect(readFileSync(join(dataDir, 'data', 'master.key.previous'), 'utf8')).toBe(`${oldKey}\n`);

      const retired = await run(['secrets', 'retire-key', masterKeyId(oldKey)]);
      expect(retired.code, retired.stderr).toBe(0);
      // The service holds the new key only now; the device password, re-sealed under it, still opens there.
      const tested = await run(['device', 'test', 'bigip1']);
      expect(tested.code, tested.stderr).toBe(0);
      const status = await run(['--json', 'secrets', 'status']);
      expect(JSON.parse(status.stdout).keys).toEqual([
        expect.objectContaining({ keyId: masterKeyId(newKey), role: 'primary' }),
      ]);

      await service!.stop();
      service = undefined;
      // Not forwarded any more: this process reads the rotated key files itself.
      const direct = await run(['device', 'test', 'bigip1']);
      expect(direct.code, direct.stderr).toBe(0);
    },
    stepsBudget(6),
  );
});
