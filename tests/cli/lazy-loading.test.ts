import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlSocketPath } from '../../cli/control-socket.ts';
import { runBin, stepsBudget } from '../support/cli-process.ts';

/**
 * Issue 13: `--help` and a command forwarded to a running service start in a fraction of a second because
 * they load only what they use (decision 0025). Times are measured in bench/cli-start.ts, never here; this
 * pins the cause instead: which modules the real CLI process loads.
 */
const HEAVY_PACKAGES = [
  '@slack/',
  'hono/',
  '@hono/',
  '@electric-sql/',
  'pg/',
  'drizzle-orm/',
  'acme-client/',
  'node-forge/',
];
const REGISTER = pathToFileURL(join(import.meta.dirname, '../support/module-trace/register.mjs')).href;

const heavyIn = (urls: string[]) =>
  urls.filter((url) => HEAVY_PACKAGES.some((name) => url.includes(`/node_modules/${name}`)));
/** Our own modules by path from the repository root, whether run from the sources or from dist/. */
const ownModules = (urls: string[]) =>
  urls
    .filter((url) => url.startsWith('file:') && !url.includes('/node_modules/'))
    .map((url) => url.replace(/^.*?\/(?:dist\/)?(cli|core|db|bot|responder|runtime)\b/, '$1'));

describe('the CLI loads only what a command needs', () => {
  let dir: string;
  let n = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bigip-acme-lazy-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function traced(args: string[], dataDir: string) {
    const trace = join(dir, `trace-${++n}.txt`);
    const run = await runBin(args, {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      NODE_OPTIONS: `--import ${REGISTER}`,
      MODULE_TRACE_FILE: trace,
    });
    const urls = [...new Set(readFileSync(trace, 'utf8').split('\n').filter(Boolean))];
    return { run, urls };
  }

  it(
    '--help loads no database, ACME, HTTP or Slack library, and no runtime',
    async () => {
      const { run, urls } = await traced(['--help'], join(dir, 'no-service'));
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: bigip-acme');
      expect(heavyIn(urls)).toEqual([]);
      expect(ownModules(urls)).not.toContainEqual(expect.stringMatching(/^(runtime|db\/|bot\/|responder\/)/));
    },
    stepsBudget(1),
  );

  describe('a command forwarded to a running service', () => {
    let server: Server;
    const dataDir = () => join(dir, 'service');
    const received: unknown[] = [];

    beforeAll(async () => {
      mkdirSync(dataDir(), { recursive: true, mode: 0o700 });
      // A stand-in for the service's control socket: it answers every command with one line and exit 0.
      server = createServer((socket) => {
        socket.once('data', (line) => {
          received.push(JSON.parse(String(line)));
          socket.end(`${JSON.stringify({ o: 'answered by the service\n' })}\n${JSON.stringify({ exit: 0 })}\n`);
        });
      });
      await new Promise<void>((resolve) => server.listen(controlSocketPath(dataDir()), resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it(
      'loads neither the commands nor any heavy library: only the socket',
      async () => {
        const { run, urls } = await traced(['status'], dataDir());
        expect(run).toMatchObject({ code: 0, stdout: 'answered by the service\n' });
        expect(received).toMatchObject([{ argv: ['status'] }]);
        expect(heavyIn(urls)).toEqual([]);
        expect(ownModules(urls)).not.toContainEqual(
          expect.stringMatching(/^(runtime|cli\/program|cli\/commands\/|db\/|bot\/|responder\/)/),
        );
      },
      stepsBudget(1),
    );
  });
});
