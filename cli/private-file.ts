import { chmodSync, writeFileSync } from 'node:fs';

/** Writes a key owner-only, also when the file already existed with wider permissions. */
export function writePrivate(file: string, body: string): void {
  writeFileSync(file, body, { mode: 0o600 });
  chmodSync(file, 0o600);
}
