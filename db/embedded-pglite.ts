import { spawn } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { CoreError } from '../core/errors.ts';

/**
 * PGlite's start parameters: its defaults plus a 16 MB buffer pool. PostgreSQL's 128 MB default lives in the
 * WASM heap and, once touched, is never given back; this database is a few MB and has one backend, so 16 MB
 * holds all of it (decision 0026: −125 MB of idle RSS, no change in query time). Durability is untouched:
 * every commit still reaches the files before it returns (no `relaxedDurability`).
 */
export const PGLITE_START_PARAMS: readonly string[] = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

const pgliteOptions = () => ({ startParams: [...PGLITE_START_PARAMS] });

/** How long creating a new data directory (initdb) may take before the start fails. */
const INIT_TIMEOUT_MS = 120_000;

/** An in-memory database (tests): created in this process, nothing to keep small for long. */
export async function openMemoryPglite(): Promise<PGlite> {
  const client = new PGlite(pgliteOptions());
  await client.waitReady;
  return client;
}

/**
 * The database under `dir`, created first when it does not exist. Creating one runs initdb in a second WASM
 * instance, and the memory of both stays with the process that ran them (about 450 MB more RSS for the life
 * of the service); so a new directory is created by a short-lived child process, into a side directory
 * renamed into place only when complete: a start killed during initdb leaves nothing half-made behind.
 * (A non-empty directory without a database is left to PGlite, as before.)
 */
export async function openFilePglite(dir: string): Promise<PGlite> {
  if (!existsSync(dir) || readdirSync(dir).length === 0) await createInChild(dir);
  const client = new PGlite(dir, pgliteOptions());
  await client.waitReady;
  return client;
}

async function createInChild(dir: string): Promise<void> {
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const script = [
    'const { PGlite } = await import(process.env.PGLITE_MODULE_URL);',
    'const pg = new PGlite(process.env.PGLITE_DATA_DIR, { startParams: JSON.parse(process.env.PGLITE_START_PARAMS) });',
    'await pg.waitReady;',
    'await pg.close();',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    // Only what initdb needs: none of the service's secrets, and no loader or heap limit of the parent's.
    env: {
      PATH: process.env.PATH ?? '',
      PGLITE_MODULE_URL: import.meta.resolve('@electric-sql/pglite'),
      PGLITE_DATA_DIR: partial,
      PGLITE_START_PARAMS: JSON.stringify(PGLITE_START_PARAMS),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), INIT_TIMEOUT_MS);
  const exit = await new Promise<number | string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  }).finally(() => clearTimeout(timer));
  if (exit !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new CoreError(
      'db_error',
      `cannot create the embedded database in ${dir} (initdb ended ${exit}): ${stderr.trim()}`,
    );
  }
  renameSync(partial, dir);
}
