/**
 * The real CLI (`bin/bigip-acme`) as a child process, with a bound on each step.
 *
 * Every spawn starts Node, loads the CLI (compiled from dist/ after `npm run build`, which `npm test` does
 * first; through tsx in a checkout without a current build) and, on the embedded database, opens PGlite: up
 * to 3-4 s of CPU with tsx. On the shared 2-core test machine at a load average of 12-14 one such step took 10-30 s
 * of wall time (the first PGlite open, which migrates, 32 s). STEP_BOUND_MS is 90 s: about three times the
 * slowest step seen, so load alone does not fail a test, while a step that really hangs still fails, named,
 * with its output, instead of the whole test running into vitest's timeout with no clue which step it was.
 * A test's own timeout is then `stepsBudget(its number of steps)`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freeTcpPort } from './free-port.ts';

/** The real entry point, as an operator runs it. */
export const BIN = join(import.meta.dirname, '../../bin/bigip-acme');

/** Bound on one CLI step (a command to its exit, or a service to its ready line); see above. */
export const STEP_BOUND_MS = 90_000;

/** A test's (or hook's) timeout for `steps` bounded CLI steps, with room for the named step failure to land first. */
export const stepsBudget = (steps: number): number => steps * STEP_BOUND_MS + 10_000;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Only PATH and HOME are inherited: the test states every setting the CLI sees. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
}

/** Runs one CLI command to its exit; a command still running after `boundMs` is killed and the step fails. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  boundMs = STEP_BOUND_MS,
  stdin?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: childEnv(env) });
    // Written and closed only when given: a command that reads stdin then sees its end.
    if (stdin !== undefined) child.stdin.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bigip-acme ${args.join(' ')} still running after ${boundMs / 1000} s; stderr:\n${stderr}`));
    }, boundMs);
    // 'close', not 'exit': by then all output has arrived.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface CliService {
  child: ChildProcess;
  /** Everything the service wrote to stderr so far (its log). */
  log(): string;
  /** SIGTERM, then SIGKILL if it has not exited within the bound. */
  stop(): Promise<void>;
}

/**
 * Starts a long-running CLI command (`serve`) and resolves once every one of `readyLines` is in its log.
 * Rejects with the log when it exits first (a taken port says EADDRINUSE there, for `retryOnPortClash`)
 * or is not ready within the bound (then it is killed).
 */
export async function startCliService(
  args: string[],
  env: Record<string, string>,
  readyLines: string[],
  boundMs = STEP_BOUND_MS,
): Promise<CliService> {
  const child = spawn(BIN, args, { env: childEnv(env) });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  child.stdout!.resume();
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => child.once('close', () => resolve()));
  void closedPromise.then(() => (closed = true));
  const stop = async (): Promise<void> => {
    if (closed) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
    await closedPromise;
    clearTimeout(timer);
  };
  const started = Date.now();
  while (!readyLines.every((line) => log.includes(line))) {
    if (closed) throw new Error(`bigip-acme ${args.join(' ')} exited during start (code ${child.exitCode}):\n${log}`);
    if (Date.now() - started > boundMs) {
      child.kill('SIGKILL');
      await closedPromise;
      throw new Error(`bigip-acme ${args.join(' ')} not ready after ${boundMs / 1000} s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, log: () => log, stop };
}

// ---------------------------------------------------------------------------------------------------------
// Shorter names used by the CLI contract tests.

export type CliRun = Pick<CliResult, 'code' | 'stdout' | 'stderr'>;

/** Runs `bin/bigip-acme args` as a child process with only PATH, HOME and `env` set; bounded like `runCli`. */
export const runBin = (args: string[], env: Record<string, string>): Promise<CliRun> => runCli(args, env);

/**
 * A TCP port nobody listens on right now (the OS picks it). A child that binds it may find it taken by then:
 * start it through `retryOnPortClash` (free-port.ts).
 */
export const freePort = freeTcpPort;

/** `bigip-acme serve` on `env`, resolved once its responder is up (rejects with its log if it exits first). */
export function startService(env: Record<string, string>): Promise<CliService> {
  return startCliService(['serve'], env, ['responder listening']);
}
