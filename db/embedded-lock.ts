import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError } from '../core/errors.ts';

/**
 * PGlite is one process's database: two processes opening the same data directory corrupt it. This lock
 * (a pid file created exclusively) makes the second one stop with a clear message; a lock left by a killed
 * process is taken over because its pid is gone.
 */
export function acquireEmbeddedLock(dataDir: string): () => void {
  const path = join(dataDir, 'pglite.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => rmSync(path, { force: true });
      process.once('exit', release);
      return () => {
        process.off('exit', release);
        release();
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new CoreError(
          'conflict',
          `the embedded database in ${dataDir} is in use by process ${holder} (embedded PGlite is single-process); stop that process, or set DATABASE_URL to use PostgreSQL, which any number of processes can share`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new CoreError('conflict', `cannot take the embedded database lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
