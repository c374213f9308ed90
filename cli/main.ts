import { resolve } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { isCoreError } from '../core/errors.ts';
import { controlSocketPath, forwardToService } from './control-socket.ts';
import { osUserName } from './os-identity.ts';
import { renderError, wantsJson } from './output.ts';

const stdio = { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t) };

/**
 * Entry point. On embedded PGlite with a service already running, the command is forwarded to it (only
 * one process may open the database); otherwise it runs here with a runtime of its own.
 *
 * Everything past the forwarding check is imported on demand: a forwarded command needs only the socket,
 * `--help` only the command definitions, and neither should pay for loading the database, ACME, HTTP and
 * Slack stacks (decision 0025).
 */
async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    return renderError(
      json,
      isCoreError(err) ? err.code : 'config_invalid',
      isCoreError(err) ? err.message : String(err),
      stdio,
    );
  }
  // The actor is who the operating system says runs this process, never what the environment claims.
  const user = osUserName();
  const embedded = !config.DATABASE_URL;
  const words = argv.filter((a) => !a.startsWith('-'));
  const runsService = words[0] === 'serve';
  // A restore must own the data directory: it runs here and is refused while a service holds it, never forwarded.
  const restores = words[0] === 'backup' && words[1] === 'restore';
  if (embedded && !runsService && !restores) {
    const forwarded = await forwardToService(
      controlSocketPath(resolve(config.DATA_DIR)),
      { argv, cwd: process.cwd(), user },
      json,
    );
    if (forwarded !== null) return forwarded;
  }
  const { runCli } = await import('./program.ts');
  return runCli(argv, {
    ...stdio,
    cwd: process.cwd(),
    user,
    servesChallenges: embedded,
    withRuntime: async (fn) => {
      const { openRuntime } = await import('../runtime.ts');
      const rt = await openRuntime(config);
      try {
        return await fn(rt);
      } finally {
        await rt.close();
      }
    },
    serve: async (role) => {
      const { serve } = await import('./serve.ts');
      return serve(config, role, runCli);
    },
  });
}

process.exitCode = await main(process.argv.slice(2));
