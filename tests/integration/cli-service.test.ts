import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { type AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliService, runCli, startCliService, stepsBudget } from '../support/cli-process.ts';
import { retryOnPortClash } from '../support/free-port.ts';

/** The command's result; bounded per step (tests/support/cli-process.ts), so a hung command fails, named. */
const run = (args: string[], env: Record<string, string>) => runCli(args, env);

describe('npm start and the CLI side by side on the embedded database', () => {
  let dataDir: string;
  let service: CliService | undefined;
  let env: Record<string, string>;
  const serviceLog = () => service?.log() ?? '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bigip-acme-svc-'));
    // A free port; the service binds it itself, so one taken in between fails the start and is retried.
    service = await retryOnPortClash((port) => {
      env = { DATA_DIR: dataDir, RESPONDER_HOST: '127.0.0.1', RESPONDER_PORT: String(port), LOG_LEVEL: 'info' };
      // 'Slack bot off' is the last line the service logs at start.
      return startCliService(['serve'], env, ['responder listening', 'Slack bot off']);
    });
  }, stepsBudget(3));
  afterAll(async () => {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, stepsBudget(1));

  it('logs where it listens and what is off and why', () => {
    expect(serviceLog()).toContain('starting on embedded PGlite');
    expect(serviceLog()).toContain('TLS-ALPN-01 listener off (TLS_ALPN_PORT not set)');
    expect(serviceLog()).toContain('Slack bot off (SLACK_BOT_TOKEN not set)');
    expect(serviceLog()).toMatch(/scheduler started \(renew \*\/10 \* \* \* \*, deploy \*\/5 \* \* \* \*/);
    expect(serviceLog()).toMatch(/generated a master key at .*master\.key/);
  });

  it(
    'runs jobs on demand next to the scheduler and shows their status',
    async () => {
      const ran = await run(['--json', 'jobs', 'run', 'cleanup'], env);
      expect(ran.code, ran.stderr).toBe(0);
      expect(JSON.parse(ran.stdout)).toMatchObject({ job: 'cleanup', leases: 0, events: 0 });
      const status = await run(['--json', 'jobs', 'status'], env);
      const rows = JSON.parse(status.stdout) as { job: string; lastResult: string | null; nextRun: string }[];
      expect(rows.map((r) => r.job)).toEqual(['renew', 'deploy', 'reconfigure', 'cleanup']);
      expect(rows.find((r) => r.job === 'cleanup')?.lastResult).toBe('ok');
      expect(new Date(rows[0]!.nextRun).getTime()).toBeGreaterThan(Date.now());
      const bogus = await run(['jobs', 'run', 'bogus'], env);
      expect(bogus.code).toBe(2);
      expect(bogus.stderr).toMatch(/unknown job "bogus" \(jobs: renew, deploy, reconfigure, cleanup\)/);
      const approvals = await run(['--json', 'approval', 'list'], env);
      expect(JSON.parse(approvals.stdout)).toEqual([]);
    },
    stepsBudget(4),
  );

  it(
    'forwards CLI commands into the running service through an owner-only socket',
    async () => {
      expect(statSync(join(dataDir, 'cli.sock')).mode & 0o777).toBe(0o600);
      const listed = await run(['--json', 'profile', 'list'], env);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([]);
      expect(serviceLog()).toContain('"argv":["profile","list"]');
    },
    stepsBudget(1),
  );

  it(
    'keeps exit codes and error output across the socket',
    async () => {
      const missing = await run(['--json', 'profile', 'show', 'nope'], env);
      expect(missing.code).toBe(2);
      expect(JSON.parse(missing.stdout).error).toEqual({
        code: 'not_found',
        message: expect.stringContaining('no profile named "nope"'),
      });
      const unknown = await run(['cert', 'frobnicate'], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("unknown command 'frobnicate'");
      const help = await run(['domain', '--help'], env);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Test Connection');
    },
    stepsBudget(3),
  );

  it('answers a malformed request on the socket without running anything', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = createConnection(join(dataDir, 'cli.sock'));
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('close', () => resolve(data));
      socket.write('{"argv":"profile list"}\n');
    });
    expect(reply).toContain('malformed request');
    expect(reply).toContain('{"exit":2}');
  });

  it(
    'refuses a second service on the same data directory with a clear message',
    async () => {
      const second = await run(['serve'], env);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/embedded database .* is in use by process \d+ .*set DATABASE_URL/);
    },
    stepsBudget(1),
  );

  it(
    'refuses to start with a bad setting, naming the variable',
    async () => {
      const bad = await run(['profile', 'list'], { ...env, RESPONDER_PORT: 'eighty' });
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim()).toBe('error: RESPONDER_PORT must be a port number 1-65535 (got "eighty")');
    },
    stepsBudget(1),
  );
});

describe('the embedded master key', () => {
  it(
    'is never silently replaced when the database already exists',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'bigip-acme-key-'));
      try {
        const env = { DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
        expect((await run(['profile', 'list'], env)).code).toBe(0);
        rmSync(join(dataDir, 'master.key'));
        const again = await run(['profile', 'list'], env);
        expect(again.code).toBe(2);
        expect(again.stderr).toContain('master.key is missing');
        expect(again.stderr).toContain('restore master.key from your backup or set MASTER_KEY');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    stepsBudget(2),
  );
});

describe('a service whose responder port is taken', () => {
  it(
    'exits with the error instead of running on without a responder',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'bigip-acme-taken-'));
      const squatter = createServer();
      await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
      const port = (squatter.address() as AddressInfo).port;
      try {
        // Before the fix it logged the EADDRINUSE and kept running (control socket and database open): the step bound fired.
        const out = await run(['serve'], {
          DATA_DIR: dataDir,
          RESPONDER_HOST: '127.0.0.1',
          RESPONDER_PORT: String(port),
          LOG_LEVEL: 'info',
        });
        expect(out.code).not.toBe(0);
        expect(out.stderr).toContain(`EADDRINUSE: address already in use 127.0.0.1:${port}`);
        // What it had opened before the failure is closed again, the control socket included.
        expect(existsSync(join(dataDir, 'cli.sock'))).toBe(false);
      } finally {
        await new Promise((r) => squatter.close(r));
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    stepsBudget(1),
  );
});
