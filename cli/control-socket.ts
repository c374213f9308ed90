import { chmodSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import type { Runtime } from '../runtime.ts';
import type { RunCli } from './cli-io.ts';
import { osUserName } from './os-identity.ts';
import { renderError, wantsJson } from './output.ts';

/**
 * The CLI's door into a running service on embedded PGlite, which only that process may open. One request
 * per connection: a JSON line `{argv, cwd, user}`; the reply streams JSON lines `{o}` (stdout), `{e}`
 * (stderr) and ends with `{exit}`. The socket lives in the owner-only data directory and is itself 0600.
 *
 * Identity (decision 0017): Node cannot read the peer's credentials (SO_PEERCRED), but the socket's mode
 * lets only the service's own uid (or root) connect. So the command runs as the service's OS user, and a
 * client claiming to be someone else is refused rather than believed or silently renamed.
 */
export function controlSocketPath(dataDir: string): string {
  return `${dataDir}/cli.sock`;
}

interface Invocation {
  argv: string[];
  cwd: string;
  user: string;
}

function isInvocation(value: unknown): value is Invocation {
  const v = value as Invocation;
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray(v.argv) &&
    v.argv.every((a) => typeof a === 'string') &&
    typeof v.cwd === 'string' &&
    typeof v.user === 'string'
  );
}

/** Listens on `path` and runs each forwarded invocation through `runCli` with the service's own runtime. */
export async function startControlSocket(rt: Runtime, path: string, runCli: RunCli): Promise<() => Promise<void>> {
  rmSync(path, { force: true });
  const self = osUserName();
  const server: Server = createServer((socket) => {
    const send = (message: object) => socket.write(`${JSON.stringify(message)}\n`);
    const io = { stdout: (o: string) => send({ o }), stderr: (e: string) => send({ e }) };
    const lines = createInterface({ input: socket });
    lines.once('line', async (line) => {
      lines.close();
      let invocation: unknown;
      try {
        invocation = JSON.parse(line);
      } catch {
        invocation = null;
      }
      if (!isInvocation(invocation)) {
        send({ e: 'error: malformed request on the control socket\n' });
        socket.end(`${JSON.stringify({ exit: 2 })}\n`);
        return;
      }
      const argv = invocation.argv.filter((a) => a !== '--json').slice(0, 2);
      if (invocation.user !== self) {
        rt.log.warn(
          { argv, claimed: invocation.user, user: self },
          'cli command refused: the client claims another user than the one the socket admits',
        );
        const message = `this service runs as ${self} and only ${self} can use its socket; the command says it comes from ${invocation.user}. Run the CLI as ${self} (for example: sudo -u ${self} bigip-acme …)`;
        socket.end(`${JSON.stringify({ exit: renderError(wantsJson(invocation.argv), 'forbidden', message, io) })}\n`);
        return;
      }
      rt.log.info({ argv, user: self }, 'cli command');
      const exit = await runCli(invocation.argv, {
        ...io,
        cwd: invocation.cwd,
        user: self,
        withRuntime: (fn) => fn(rt),
        servesChallenges: false,
      }).catch((err: unknown) => renderError(wantsJson(invocation.argv), 'internal', (err as Error).message, io));
      socket.end(`${JSON.stringify({ exit })}\n`);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  chmodSync(path, 0o600);
  rt.log.info({ path }, `CLI commands on this data directory are forwarded to this process through ${path}`);
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      rmSync(path, { force: true });
    });
}

/**
 * Sends a CLI invocation to the running service. Resolves to its exit code, or null when no service
 * listens (no socket, or one left behind by a killed process).
 */
export function forwardToService(path: string, invocation: Invocation, json = false): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    let connected = false;
    let printed = false;
    let exit: number | null = null;
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(invocation)}\n`);
      createInterface({ input: socket }).on('line', (line) => {
        const message = JSON.parse(line) as { o?: string; e?: string; exit?: number };
        if (message.o !== undefined) {
          printed = true;
          process.stdout.write(message.o);
        }
        if (message.e !== undefined) process.stderr.write(message.e);
        if (message.exit !== undefined) exit = message.exit;
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected) return resolve(null);
      const message = `lost the connection to the running service: ${err.code ?? err.message}`;
      // With --json, one document on stdout: unless the service already printed its own, say what happened.
      if (json && !printed)
        process.stdout.write(`${JSON.stringify({ error: { code: 'internal', message } }, null, 2)}\n`);
      else process.stderr.write(`error: ${message}\n`);
      resolve(1);
    });
    socket.once('close', () => {
      if (connected) resolve(exit ?? 1);
    });
  });
}
