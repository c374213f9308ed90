import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { openRuntime } from '../../runtime.ts';
import { type BigIpSimulator, startBigIpSimulator } from '../support/bigip-simulator/index.ts';
import { seedIssuedCertificate } from '../support/test-certificates.ts';

const BIN = join(import.meta.dirname, '../../bin/bigip-acme');

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('device, binding and deploy commands', () => {
  let dir: string;
  let env: Record<string, string>;
  let sim: BigIpSimulator;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-devcli-'));
    env = { DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'error' };
    sim = await startBigIpSimulator({ password: 'cli-device-password-42' });
    sim.addProfile('/Common/acme_cli', { defaultsFrom: '/Common/clientssl' });
    writeFileSync(join(dir, 'password'), `${sim.password}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
    // An issued certificate in the embedded database, as `cert request` leaves one.
    const rt = await openRuntime(loadConfig(env), pino({ level: 'silent' }));
    await seedIssuedCertificate(rt.store, rt.secrets, { names: ['cli.example.com'] });
    await rt.close();
  });
  afterAll(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a device from a password file and a CA file, lists it, and never prints the password', async () => {
    const add = await cli(
      [
        'device',
        'add',
        'lb1',
        '--url',
        sim.url,
        '--username',
        'admin',
        '--password-file',
        join(dir, 'password'),
        '--ca-file',
        join(dir, 'ca.pem'),
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/hostname\s+bigip-sim\.example\.test/);
    expect(add.stdout).toMatch(/tls\s+verified \(CA file\)/);
    const list = await cli(['--json', 'device', 'list'], env);
    const [device] = JSON.parse(list.stdout);
    expect(device).toMatchObject({ name: 'lb1', insecure: false, version: '17.1.2.1' });
    expect(device).not.toHaveProperty('passwordSealed');
    for (const out of [add, list]) expect(out.stdout + out.stderr).not.toContain(sim.password);
  });

  it('explains a failing connection test with exit code 1, and bad input with exit code 2', async () => {
    sim.failAt('device-info', { status: 503, message: 'Configuration Utility restarting...' });
    const test = await cli(['device', 'test', 'lb1'], env);
    expect(test.code).toBe(1);
    expect(test.stdout).toMatch(/lb1: api check failed/);
    const dup = await cli(
      ['device', 'add', 'lb1', '--url', sim.url, '--username', 'admin', '--password-file', join(dir, 'password')],
      env,
    );
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/already exists/);
    const missing = await cli(
      ['binding', 'add', '--cert', 'cli.example.com', '--device', 'lb1', '--profile', 'absent'],
      env,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--create-profile/);
  });

  it('binds, deploys, shows history, and a second deploy changes nothing', async () => {
    const bind = await cli(
      ['binding', 'add', '--cert', 'cli.example.com', '--device', 'lb1', '--profile', 'acme_cli'],
      env,
    );
    expect(bind.code, bind.stderr).toBe(0);
    expect(bind.stdout).toContain('cli.example.com → lb1:/Common/acme_cli');

    const deploy = await cli(['cert', 'deploy', 'cli.example.com'], env);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stdout).toMatch(/lb1: succeeded/);
    expect(deploy.stderr).toMatch(/\[1\/1\] lb1: succeeded/);
    expect(sim.state.profiles.get('/Common/acme_cli')!.certKeyChain[0]!.cert).toMatch(
      /^\/Common\/cli\.example\.com_\d{8}-/,
    );

    const again = await cli(['--json', 'cert', 'deploy', 'cli.example.com'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, devices: [{ device: 'lb1', result: 'unchanged' }] });

    const history = await cli(['cert', 'deployments', 'cli.example.com'], env);
    expect(history.stdout.trim().split('\n')).toHaveLength(3);
    expect(history.stdout).toMatch(/unchanged/);
    for (const out of [deploy, again, history])
      expect(out.stdout + out.stderr).not.toMatch(/PRIVATE KEY|cli-device-password/);
  });

  it('documents every command in --help', async () => {
    const help = await cli(['device', '--help'], env);
    for (const command of ['add', 'list', 'show', 'test', 'remove', 'install-responder'])
      expect(help.stdout).toContain(command);
  });
});
