import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe } from 'vitest';

/**
 * A private PostgreSQL cluster of its own, for tests that stop and restart the server under load (the
 * machine's shared server must never be restarted: other suites and people use it). Self-contained: it
 * needs only the PostgreSQL server binaries (Debian `postgresql`, found under /usr/lib/postgresql/<version>/bin,
 * or PG_BIN_DIR). Run as root (CI containers), initdb and pg_ctl refuse to run, so they run as the `postgres`
 * user through runuser; otherwise as the current user.
 *
 *   describeWithPrivatePostgres('database restart', () => {
 *     let pg: PrivatePostgres;
 *     beforeAll(async () => { pg = await startPrivatePostgres(); });
 *     afterAll(() => pg?.dispose());
 *     it('survives', async () => {
 *       const url = await pg.createDatabase('app');   // postgres://postgres@127.0.0.1:<port>/app
 *       await pg.stop();                              // pg_ctl stop -m fast: clients see 57P01, then ECONNREFUSED
 *       await pg.start();                             // same port, same data
 *     });
 *   });
 *
 * The cluster listens on 127.0.0.1 only, on a port chosen free at creation and kept across restarts, with
 * trust authentication for the `postgres` superuser; its data and socket live in one temporary directory
 * that `dispose()` removes.
 */
export interface PrivatePostgres {
  /** URL of the `postgres` database (superuser, no password). */
  url: string;
  port: number;
  /** The temporary directory holding the cluster (`data/`), its unix socket and its log (`server.log`). */
  dir: string;
  /** Starts the server (again); waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops the server: `fast` (default) ends every session with 57P01 like a service restart; `immediate` is a crash. */
  stop(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** stop, wait `downMs` (default 0), start. */
  restart(opts?: { mode?: 'smart' | 'fast' | 'immediate'; downMs?: number }): Promise<void>;
  running(): boolean;
  /** Creates a database (idempotent) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs SQL as the superuser in `database` (default `postgres`) through psql; returns stdout. */
  psql(sql: string, database?: string): Promise<string>;
  /** The server log so far (for failure messages). */
  log(): string;
  /** Stops the server if running and removes the directory. Safe to call twice. */
  dispose(): Promise<void>;
}

const run = promisify(execFile);

/** The PostgreSQL server binaries' directory (the highest version installed), or null when there is none. */
export function postgresBinDir(): string | null {
  const candidates: string[] = [];
  if (process.env['PG_BIN_DIR']) candidates.push(process.env['PG_BIN_DIR']);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(root, v, 'bin')));
  }
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) ?? null;
}

const isRoot = () => process.getuid?.() === 0;

/** Why private clusters cannot run here, or null when they can. */
export function privatePostgresUnavailable(): string | null {
  if (!postgresBinDir())
    return 'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/<version>/bin or PG_BIN_DIR (apt-get install postgresql)';
  if (isRoot() && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser') && !existsSync('/usr/bin/runuser'))
    return 'running as root without runuser to drop to the postgres user';
  return null;
}

let skipNoticeShown = false;

/** `describe` when a private cluster can run here; otherwise a visibly skipped suite (REQUIRE_PRIVATE_POSTGRES=1 makes it an error). */
export function describeWithPrivatePostgres(name: string, fn: () => void): void {
  const why = privatePostgresUnavailable();
  if (!why) {
    describe(name, fn);
    return;
  }
  if (process.env['REQUIRE_PRIVATE_POSTGRES'] === '1') throw new Error(`REQUIRE_PRIVATE_POSTGRES=1 but ${why}`);
  if (!skipNoticeShown) {
    skipNoticeShown = true;
    console.warn(`\n*** SKIPPING private PostgreSQL suites: ${why}. ***\n`);
  }
  describe.skip(`${name} (skipped: ${why})`, fn);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** initdb a new cluster in a temporary directory and start it. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const why = privatePostgresUnavailable();
  if (why) throw new Error(`cannot start a private PostgreSQL: ${why}`);
  const bin = postgresBinDir()!;
  const dir = mkdtempSync(join(tmpdir(), 'bigip-acme-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const asRoot = isRoot();
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  /** Runs a server binary as the cluster's owner. */
  const exec = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { cwd: dir })
      : run(join(bin, tool), args, { cwd: dir });
  const port = await freePort();
  let isRunning = false;
  let disposed = false;
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const failed = (what: string, err: unknown) =>
    new Error(
      `${what} failed: ${(err as { stderr?: string }).stderr || (err as Error).message}\n--- server.log ---\n${log()}`,
    );

  try {
    await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw failed('initdb', err);
  }

  const handle: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async start() {
      if (isRunning) return;
      // fsync off: the tests restart the server, they do not pull the machine's power.
      const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
      try {
        await exec('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', options, 'start']);
      } catch (err) {
        throw failed('pg_ctl start', err);
      }
      isRunning = true;
    },
    async stop(mode = 'fast') {
      if (!isRunning) return;
      try {
        await exec('pg_ctl', ['-D', data, '-w', '-t', '60', '-m', mode, 'stop']);
      } catch (err) {
        throw failed('pg_ctl stop', err);
      }
      isRunning = false;
    },
    async restart(opts = {}) {
      await handle.stop(opts.mode);
      if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
      await handle.start();
    },
    running: () => isRunning,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const exists = await handle.psql(`SELECT 1 FROM pg_database WHERE datname = '${name}'`);
      if (exists.trim() !== '1') await handle.psql(`CREATE DATABASE ${name}`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async psql(sql, database = 'postgres') {
      const args = [
        '-X',
        '-q',
        '-t',
        '-A',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        database,
        '-c',
        sql,
      ];
      const { stdout } = await exec('psql', args).catch((err: unknown) => {
        throw failed('psql', err);
      });
      return stdout;
    },
    log,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await handle.stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await handle.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return handle;
}
