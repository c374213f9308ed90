import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** The initdb'd data directory as a tarball, made once per process and copied into every in-memory database. */
let memoryTemplate: Promise<Blob> | undefined;

/**
 * An in-memory database (tests, benchmarks). It is loaded from a template made once by a child process, so
 * this process never runs initdb: that keeps ~300 MB of initdb's WASM memory out of it, and every database
 * after the first opens without initdb's time.
 */
export async function openMemoryPglite(): Promise<PGlite> {
  memoryTemplate ??= makeMemoryTemplate().catch((err: unknown) => {
    memoryTemplate = undefined;
    throw err;
  });
  const client = new PGlite({ ...pgliteOptions(), loadDataDir: await memoryTemplate });
  await client.waitReady;
  return client;
}

async function makeMemoryTemplate(): Promise<Blob> {
  const dir = mkdtempSync(join(tmpdir(), 'bigip-acme-pglite-'));
  try {
    const tarball = join(dir, 'template.tar');
    await runInChild(
      [
        'const pg = new PGlite({ startParams });',
        'await pg.waitReady;',
        'const tar = await pg.dumpDataDir("none");',
        'await writeFile(process.env.PGLITE_TARBALL, Buffer.from(await tar.arrayBuffer()));',
        'await pg.close();',
      ],
      { PGLITE_TARBALL: tarball },
      'an in-memory database',
    );
    return new Blob([readFileSync(tarball)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
  try {
    await runInChild(
      [
        'const pg = new PGlite(process.env.PGLITE_DATA_DIR, { startParams });',
        'await pg.waitReady;',
        'await pg.close();',
      ],
      { PGLITE_DATA_DIR: partial },
      `the embedded database in ${dir}`,
    );
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  renameSync(partial, dir);
}

/** Runs `lines` (ES module code with `PGlite`, `startParams` and `writeFile` in scope) in a child process. */
async function runInChild(lines: string[], env: Record<string, string>, what: string): Promise<void> {
  const script = [
    'const { PGlite } = await import(process.env.PGLITE_MODULE_URL);',
    "const { writeFile } = await import('node:fs/promises');",
    'const startParams = JSON.parse(process.env.PGLITE_START_PARAMS);',
    ...lines,
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    // Only what initdb needs: none of the service's secrets, and no loader or heap limit of the parent's.
    env: {
      PATH: process.env.PATH ?? '',
      PGLITE_MODULE_URL: import.meta.resolve('@electric-sql/pglite'),
      PGLITE_START_PARAMS: JSON.stringify(PGLITE_START_PARAMS),
      ...env,
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
  if (exit !== 0) throw new CoreError('db_error', `cannot create ${what} (initdb ended ${exit}): ${stderr.trim()}`);
}
