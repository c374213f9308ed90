import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * A real `bigip-acme serve --role …` child process for multi-process and fault tests: the production entry
 * point (bin/bigip-acme), configured only by the environment. Collects its log (pino JSON on stderr) so a
 * test can wait for a line and show the log when something goes wrong.
 */
export type ServeRole = 'all' | 'responder' | 'worker' | 'bot';

export interface ServeProcess {
  role: ServeRole;
  /** The environment it was given (ports, URLs), for the test to reach it. */
  env: Record<string, string>;
  child: ChildProcess;
  /** Everything the process logged so far. */
  log(): string;
  /** Log lines parsed as JSON (pino), skipping anything else. */
  entries(): Record<string, unknown>[];
  /** Whether the process is still running. */
  alive(): boolean;
  /** Resolves when the process exits (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until the log contains `text` (a generous bound: a loaded machine is slow, and time is not under test). */
  waitForLog(text: string | RegExp, boundMs?: number): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

const BIN = join(import.meta.dirname, '../../bin/bigip-acme');

/** What each role logs once its listeners are up (cli/serve.ts). */
const STARTED: Record<ServeRole, string[]> = {
  responder: ['responder listening', 'TLS-ALPN-01 listener'],
  worker: ['scheduler started'],
  bot: ['Slack bot listening'],
  all: ['responder listening', 'TLS-ALPN-01 listener', 'scheduler started', 'Slack bot listening'],
};

/** A port nobody listens on right now (the OS picks it), for servers that take their port from the environment. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns `serve --role <role>` with exactly `env` (plus PATH and HOME) and waits until its listeners are up. */
export async function startServe(
  role: ServeRole,
  env: Record<string, string>,
  boundMs = 60_000,
): Promise<ServeProcess> {
  const child = spawn(BIN, ['serve', '--role', role], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLog = async (text: string | RegExp, bound = 30_000) => {
    const deadline = Date.now() + bound;
    const seen = () => (typeof text === 'string' ? log.includes(text) : text.test(log));
    while (!seen()) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `serve --role ${role} exited (${child.exitCode ?? child.signalCode}) before logging ${text}:\n${log}`,
        );
      if (Date.now() > deadline)
        throw new Error(`serve --role ${role} did not log ${text} within ${bound} ms:\n${log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const handle: ServeProcess = {
    role,
    env,
    child,
    log: () => log,
    entries: () =>
      log.split('\n').flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    alive: () => child.exitCode === null && child.signalCode === null,
    exited,
    waitForLog,
    async stop() {
      if (!handle.alive()) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    for (const line of STARTED[role]) await waitForLog(line, boundMs);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return handle;
}
