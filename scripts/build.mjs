// Compiles the sources to dist/ (decision 0025): tsc with tsconfig.build.json, then the files the code reads at
// run time beside the compiled code (db/migrations), then the stamp bin/bigip-acme compares with the sources.
// `--if-compiler` (the `prepare` step of `npm ci`) skips the build when TypeScript is not installed, as in a
// production install without dev dependencies: bin/bigip-acme then runs the sources through tsx.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch (err) {
  if (!process.argv.includes('--if-compiler')) throw err;
  console.log('TypeScript is not installed: not building dist/; bin/bigip-acme runs the sources through tsx');
  process.exit(0);
}
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
rmSync('dist/db/migrations', { recursive: true, force: true });
cpSync('db/migrations', 'dist/db/migrations', { recursive: true });
writeFileSync('dist/.built', '');
