import type { Runtime } from '../runtime.ts';
import type { Role } from './role.ts';

/** Where a CLI invocation runs: in its own process, or forwarded into a running service. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The invoking user's working directory; relative paths in options resolve against it. */
  cwd: string;
  /**
   * The OS user running the command; the actor is `cli:<user>`. Production passes the process's own uid's
   * name (`osUserName()` in os-identity.ts), never the environment; tests pass another name to act as a second person.
   */
  user: string;
  /** Runs fn with a runtime: a fresh one per command locally, the service's own when forwarded. */
  withRuntime<T>(fn: (rt: Runtime) => Promise<T>): Promise<T>;
  /**
   * Embedded PGlite belongs to one process, so no separate responder can read this process's challenges:
   * when true, commands that get challenges validated answer them themselves (as certbot standalone does).
   */
  servesChallenges: boolean;
  /** Runs the service; absent when forwarded (a service is already running). */
  serve?: (role: Role) => Promise<void>;
  /** Reads all of this process's stdin (`--passphrase-file -`); absent when forwarded: the service has no such stdin. */
  readStdin?: () => Promise<string>;
}

/** One CLI invocation to its exit code; what the control socket runs for a forwarded command. */
export type RunCli = (argv: string[], io: CliIo) => Promise<number>;
