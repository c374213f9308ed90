import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { isCoreError } from '../core/errors.ts';
import { openRuntime } from '../runtime.ts';
import { controlSocketPath, forwardToService } from './control-socket.ts';
import { runCli } from './program.ts';
import { serve } from './serve.ts';

/**
 * Entry point. On embedded PGlite with a service already running, the command is forwarded to it (only
 * one process may open the database); otherwise it runs here with a runtime of its own.
 */
async function main(argv: string[]): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`error: ${isCoreError(err) ? err.message : String(err)}\n`);
    return 2;
  }
  const user = process.env.USER ?? process.env.LOGNAME ?? userInfo().username;
  const embedded = !config.DATABASE_URL;
  const runsService = argv.find((a) => !a.startsWith('-')) === 'serve';
  if (embedded && !runsService) {
    const forwarded = await forwardToService(controlSocketPath(resolve(config.DATA_DIR)), { argv, cwd: process.cwd(), user });
    if (forwarded !== null) return forwarded;
  }
  return runCli(argv, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    user,
    servesChallenges: embedded,
    withRuntime: async (fn) => {
      const rt = await openRuntime(config);
      try {
        return await fn(rt);
      } finally {
        await rt.close();
      }
    },
    serve: (role) => serve(config, role),
  });
}

process.exitCode = await main(process.argv.slice(2));
