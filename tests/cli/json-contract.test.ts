import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runBin, startService, stepsBudget } from '../support/cli-process.ts';
import { retryOnPortClash } from '../support/free-port.ts';

/**
 * `--json` means one JSON document on stdout for every outcome, usage errors included, through the real
 * entry point: run locally (no service) and forwarded into a running service over its control socket.
 */
const USAGE_ERRORS: [string, string[], RegExp][] = [
  [
    'a missing required option',
    ['--json', 'cert', 'request', '--profile', 'p'],
    /^required option '--cn <name>' not specified$/,
  ],
  [
    '--json after the command',
    ['cert', 'request', '--profile', 'p', '--json'],
    /^required option '--cn <name>' not specified$/,
  ],
  ['an unknown option', ['--json', 'profile', 'list', '--bogus'], /^unknown option '--bogus'/],
  ['an unknown command', ['--json', 'cert', 'frobnicate'], /^unknown command 'frobnicate'/],
  ['a missing argument', ['--json', 'profile', 'show'], /^missing required argument 'name'$/],
  [
    'an option without its value',
    ['--json', 'cert', 'list', '--profile'],
    /^option '--profile <name>' argument missing$/,
  ],
  [
    'a bad option value',
    ['--json', 'profile', 'create', 'x', '--server', 'staging', '--renew-days', 'soon'],
    /argument 'soon' is invalid\. must be a whole number/,
  ],
  ['a group without its command', ['--json', 'cert'], /^missing command: bigip-acme cert \[options\] \[command\]/],
  ['too many arguments', ['--json', 'profile', 'list', 'extra'], /^too many arguments for 'list'/],
];

function expectJsonUsageError(run: CliRun, message: RegExp): void {
  expect(run.code, run.stdout + run.stderr).toBe(2);
  // Exactly one document: JSON.parse refuses two, and text around it.
  const doc = JSON.parse(run.stdout) as { error: { code: string; message: string } };
  expect(doc).toEqual({ error: { code: 'usage', message: expect.stringMatching(message) } });
  expect(run.stderr).toBe('');
}

/** The contract; `full: false` runs a few of the cases, since each one costs a process start. */
function contract(env: () => Record<string, string>, full: boolean) {
  it.each(full ? USAGE_ERRORS : USAGE_ERRORS.slice(0, 2))(
    '%s: {"error":{"code":"usage"}} on stdout, exit 2',
    async (_what, args, message) => {
      expectJsonUsageError(await runBin(args, env()), message);
    },
  );

  it('--help with --json is {"help": text} on stdout, exit 0', async () => {
    const asks = [
      ['--json', '--help'],
      ['domain', 'show', '--help', '--json'],
      ['--json', 'help', 'cert'],
    ];
    for (const args of full ? asks : asks.slice(1, 2)) {
      const run = await runBin(args, env());
      expect(run.code, args.join(' ')).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ help: expect.stringMatching(/^Usage: bigip-acme/) });
      expect(run.stderr).toBe('');
    }
  });

  it('text mode is unchanged: the error and the usage on stderr, nothing on stdout, exit 2', async () => {
    const run = await runBin(['cert', 'request', '--profile', 'p'], env());
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^error: required option '--cn <name>' not specified\n\nUsage: bigip-acme cert request \[options\]/,
    );
    const help = await runBin(['domain', '--help'], env());
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: bigip-acme domain/);
  });

  it('a command error is JSON as before', async () => {
    const run = await runBin(['--json', 'profile', 'show', 'nope'], env());
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'not_found', message: expect.stringContaining('no profile named "nope"') },
    });
  });
}

describe('--json usage errors, run locally', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-json-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = () => ({ DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' });

  contract(env, true);

  it('a bad setting is a JSON error too, naming the variable', async () => {
    const run = await runBin(['--json', 'profile', 'list'], { ...env(), RESPONDER_PORT: 'eighty' });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'config_invalid', message: 'RESPONDER_PORT must be a port number 1-65535 (got "eighty")' },
    });
    const text = await runBin(['profile', 'list'], { ...env(), RESPONDER_PORT: 'eighty' });
    expect(text.stdout).toBe('');
    expect(text.stderr.trim()).toBe('error: RESPONDER_PORT must be a port number 1-65535 (got "eighty")');
  });
});

describe('--json usage errors, forwarded to a running service', () => {
  let dir: string;
  let service: Awaited<ReturnType<typeof startService>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-json-svc-'));
    // The service binds the port itself: one taken since it was picked fails the start, and it is retried.
    service = await retryOnPortClash((port) => {
      env = {
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'info',
        RESPONDER_HOST: '127.0.0.1',
        RESPONDER_PORT: String(port),
      };
      return startService(env);
    });
  }, stepsBudget(3));
  afterAll(async () => {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  contract(() => ({ ...env, LOG_LEVEL: 'silent' }), false);

  it('the commands above really went through the socket', () => {
    expect(service.log()).toContain('"argv":["cert","request"]');
  });
});
