import { resolve } from 'node:path';
import type { Runtime } from '../runtime.ts';
import type { CliIo } from './cli-io.ts';
import type { Output } from './output.ts';

/** What every command group borrows from the invocation that registers it. */
export interface CommandKit {
  /** Wraps a command's body: runs it with a runtime, renders its error and sets the exit code on failure. */
  action<A extends unknown[]>(
    fn: (rt: Runtime, out: Output, ...args: A) => Promise<void>,
  ): (...args: A) => Promise<void>;
  /** The same for a command that needs no runtime (`serve` opens its own). */
  withoutRuntime<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void>;
  /** The same for a command that opens no runtime but prints a result (`backup verify`, `backup restore`). */
  withOutput<A extends unknown[]>(fn: (out: Output, ...args: A) => Promise<void>): (...args: A) => Promise<void>;
  /** Who the audit log names: `cli:<os user>`. */
  actor(): string;
  /** A path from an option, resolved against the invoking user's working directory. */
  path(p: string): string;
  setExitCode(code: number): void;
  /** Runs fn with this process answering challenges when it must (embedded database, see CliIo). */
  withChallengeListeners<T>(rt: Runtime, fn: () => Promise<T>): Promise<T>;
  /** Raw stdout, for output that is not a result (an exported chain). */
  stdout(text: string): void;
  /** Runs the service in this process; absent when forwarded (a service is already running). */
  serve: CliIo['serve'];
}

export function createCommandKit(io: CliIo, out: Output, setExitCode: (code: number) => void): CommandKit {
  return {
    action(fn) {
      return async (...args) => {
        try {
          await io.withRuntime((rt) => fn(rt, out, ...args));
        } catch (err) {
          setExitCode(out.fail(err));
        }
      };
    },
    withoutRuntime(fn) {
      return async (...args) => {
        try {
          await fn(...args);
        } catch (err) {
          setExitCode(out.fail(err));
        }
      };
    },
    withOutput(fn) {
      return async (...args) => {
        try {
          await fn(out, ...args);
        } catch (err) {
          setExitCode(out.fail(err));
        }
      };
    },
    actor: () => `cli:${io.user}`,
    path: (p) => resolve(io.cwd, p),
    setExitCode,
    async withChallengeListeners(rt, fn) {
      if (!io.servesChallenges) return fn();
      // Loaded only here: the listeners bring the HTTP server stack, which no other command needs.
      const { startChallengeListeners } = await import('../responder/start.ts');
      const close = await startChallengeListeners(rt);
      try {
        return await fn();
      } finally {
        await close();
      }
    },
    stdout: (text) => io.stdout(text),
    serve: io.serve,
  };
}
