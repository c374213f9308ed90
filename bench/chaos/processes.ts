/**
 * The processes under test, always the real entry point (`bin/bigip-acme`): one-shot CLI commands, and
 * long-running `serve` roles whose exits are counted. A service that exits on its own is restarted (as
 * systemd or Kubernetes would), so the rest of a scenario can still tell whether data was lost; the exit
 * itself is what the suite reports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { sleep } from './net.ts';

const BIN = join(import.meta.dirname, '../../bin/bigip-acme');

export type Env = Record<string, string | undefined>;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed stdout when it is JSON (commands run with --json). */
  json: unknown;
  timedOut: boolean;
}

/** Only what the program needs: no stray settings from the shell running the suite. */
function baseEnv(): Env {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn' };
}

export function runCli(
  args: string[],
  env: Env,
  opts: { failpoint?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, {
      env: {
        ...baseEnv(),
        ...env,
        ...(opts.failpoint ? { BIGIP_ACME_FAILPOINT: opts.failpoint } : {}),
      } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      let json: unknown = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        // not JSON
      }
      resolve({ code, signal, stdout, stderr, json, timedOut });
    });
  });
}

/** Runs a CLI command that must succeed; throws with its output otherwise (scenario set-up). */
export async function mustCli(args: string[], env: Env): Promise<CliResult> {
  const r = await runCli(args, env);
  if (r.code !== 0)
    throw new Error(
      `bigip-acme ${args.join(' ')} exited ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 600)}`,
    );
  return r;
}

export interface ServiceOptions {
  /** Resolves once the service is ready (e.g. its /healthz answers). */
  ready: () => Promise<boolean>;
  /** Restart after an unplanned exit (default true). */
  restart?: boolean;
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: Date;
  /** The most telling lines of its output before it exited (errors first). */
  why: string;
}

/**
 * Output lines that tell why a process died: Node's unhandled-error report, an error's first line, an error
 * logged by pino. Not the `error: [Function …]` properties of an object Node dumps along with it.
 */
const TELLING =
  /Emitted 'error' event|terminating connection due to|Connection terminated|^[A-Za-z]*Error: |^error: [a-z]|"level":(50|60)/;

export class Service {
  private child: ChildProcess | null = null;
  private stopping = false;
  private readonly tail: string[] = [];
  /** The last few telling lines (see TELLING) of the current process, kept apart from the tail, which a dumped object can flush. */
  private telling: string[] = [];
  /** Unplanned exits of a process that had been ready: each one is a finding. */
  readonly exits: ServiceExit[] = [];
  /** Restarts (after an exit) that exited again before becoming ready, e.g. while the database was still down. */
  readonly failedStarts: ServiceExit[] = [];
  private ready = false;
  private restarting: Promise<void> | null = null;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: Env,
    private readonly opts: ServiceOptions,
  ) {}

  async start(): Promise<void> {
    this.spawn();
    if (!(await this.waitReady(60_000)))
      throw new Error(`${this.name} did not become ready:\n${this.lastLines(20).join('\n')}`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private spawn() {
    const child = spawn(BIN, this.args, {
      env: { ...baseEnv(), LOG_LEVEL: 'info', ...this.env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) {
          if (!line.trim()) continue;
          this.tail.push(line.slice(0, 2000));
          if (TELLING.test(line.trim())) this.telling = [...this.telling.slice(-2), line.trim().slice(0, 300)];
        }
        if (this.tail.length > 400) this.tail.splice(0, this.tail.length - 400);
      });
    }
    this.ready = false;
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.stopping) return;
      const exit = {
        code,
        signal,
        at: new Date(),
        why: (this.telling.length > 0 ? this.telling : this.lastLines(2)).join(' | '),
      };
      this.telling = [];
      (this.ready ? this.exits : this.failedStarts).push(exit);
      this.ready = false;
      if (this.opts.restart !== false) this.restarting = this.respawn();
    });
  }

  private async respawn() {
    await sleep(500);
    if (this.stopping) return;
    this.spawn();
    await this.waitReady(60_000);
  }

  /** Every exit, planned restarts excluded, as note lines for a scenario's report. */
  exitNotes(): string[] {
    return [
      ...this.exits.map(
        (e) => `${this.name} exited (code ${e.code}, signal ${e.signal}) at ${e.at.toISOString()}: ${e.why}`,
      ),
      ...this.failedStarts.map(
        (e) =>
          `${this.name}, restarted after that, failed to start (code ${e.code}) at ${e.at.toISOString()}: ${e.why}`,
      ),
    ];
  }

  /** Waits for a restart in progress (after an unplanned exit) to become ready. */
  async settled(): Promise<void> {
    while (this.restarting) {
      const r = this.restarting;
      await r;
      if (this.restarting === r) this.restarting = null;
    }
  }

  private async waitReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.child) return false;
      if (await this.opts.ready().catch(() => false)) {
        this.ready = true;
        return true;
      }
      await sleep(150);
    }
    return false;
  }

  get running(): boolean {
    return this.child !== null;
  }

  lastLines(n: number): string[] {
    return this.tail.slice(-n);
  }

  /** The first log line matching `pattern` (the service logs JSON lines through pino). */
  logged(pattern: RegExp): string | undefined {
    return this.tail.find((l) => pattern.test(l));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = sleep(5_000).then(() => 'timeout' as const);
    if ((await Promise.race([exited, timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  }
}
