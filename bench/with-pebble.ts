/**
 * Runs one command against a fresh Pebble (the same settings as bench/issue.ts: PEBBLE_VA_NOSLEEP=1,
 * NONCEREJECT=0, AUTHZREUSE=0), then stops Pebble and exits with the command's status.
 *
 *   npx tsx bench/with-pebble.ts -- node ../shared/baselines/acme-bare-loop.mjs 50 8
 *   npx tsx bench/with-pebble.ts -- bench/baseline-certbot.sh 10
 *
 * The command gets ACME_DIRECTORY_URL, NODE_EXTRA_CA_CERTS and REQUESTS_CA_BUNDLE (the CA that signed
 * Pebble's HTTPS certificate) and HTTP01_PORT (where Pebble validates http-01: a free port, or
 * BENCH_HTTP_PORT, so a concurrent test run holding 5002 cannot collide).
 */
import { spawn } from 'node:child_process';
import { startBenchPebble } from './lib/bench-pebble.ts';

const dash = process.argv.indexOf('--');
const command = dash >= 0 ? process.argv.slice(dash + 1) : process.argv.slice(2);
if (command.length === 0) {
  console.error('usage: npx tsx bench/with-pebble.ts -- COMMAND [ARGS...]');
  process.exit(2);
}

const pebble = await startBenchPebble();
let code = 1;
try {
  const child = spawn(command[0]!, command.slice(1), {
    stdio: 'inherit',
    env: {
      ...process.env,
      ACME_DIRECTORY_URL: pebble.directoryUrl,
      NODE_EXTRA_CA_CERTS: pebble.caFile,
      REQUESTS_CA_BUNDLE: pebble.caFile,
      HTTP01_PORT: String(pebble.httpPort),
    },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  code = await new Promise<number>((resolve) => {
    child.on('error', (err) => {
      console.error(`with-pebble: cannot run ${command[0]}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
  });
  if (code !== 0) console.error(`with-pebble: command exited ${code}; Pebble log tail:\n${pebble.logTail(20)}`);
} finally {
  await pebble.stop();
}
process.exit(code);
