/**
 * A fleet of simulated BIG-IPs in its own process, for `bench/deploy.ts`: the deploy benchmark spawns it as a
 * child so that its RSS and CPU are the deploy's own, not the simulators'.
 *
 *   node --import tsx bench/bigip-fleet.ts [--devices 50] [--latency-ms 20] [--profile /Common/acme_bench]
 *
 * Starts N HTTPS simulators (`tests/support/bigip-simulator`), each with its own self-signed management
 * certificate, `latencyMs` added before every answer and a client-ssl profile `--profile` (from
 * /Common/clientssl), then prints one JSON line on stdout: `{"devices":[{"url","caPem","username","password"}]}`.
 *
 * After that it reads commands from stdin, one per line, and answers each with one JSON line on stdout:
 * - `stats`: per device, the requests seen since the last `stats` (total, by step, and answers ≥ 400 other than
 *   404), the serial of the leaf
 *   the profile serves, and how many certificate and key objects the device holds; then forgets the requests.
 * When stdin closes (the parent exited or ended the stream) it closes every simulator and exits.
 */
import { X509Certificate } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { type BigIpSimulator, startBigIpSimulator } from '../tests/support/bigip-simulator/index.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: process.env.BENCH_DEVICES ?? '50' },
    'latency-ms': { type: 'string', default: process.env.BENCH_LATENCY_MS ?? '20' },
    profile: { type: 'string', default: '/Common/acme_bench' },
  },
});
const devices = Number(values.devices);
const latencyMs = Number(values['latency-ms']);
const profile = values.profile;
if (!Number.isInteger(devices) || devices < 1) throw new Error('--devices must be a positive integer');
if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error('--latency-ms must be a number ≥ 0');

const sims: BigIpSimulator[] = [];
// One at a time: key generation is cheap, and the factory default pair (RSA) is made once per process.
for (let i = 0; i < devices; i++) {
  const sim = await startBigIpSimulator({
    latencyMs,
    password: `bench-device-${i}-pw`,
    hostname: `bigip${i}.bench.test`,
  });
  sim.addProfile(profile, { defaultsFrom: '/Common/clientssl' });
  sims.push(sim);
}

function send(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function servedSerial(sim: BigIpSimulator): string | null {
  const entry = sim.state.profiles.get(profile)?.certKeyChain[0];
  const pem = entry ? sim.state.certs.get(entry.cert)?.pem : undefined;
  return pem ? new X509Certificate(pem).serialNumber.toLowerCase() : null;
}

function stats() {
  return {
    devices: sims.map((sim) => {
      const steps: Record<string, number> = {};
      for (const r of sim.requests) steps[r.step ?? 'other'] = (steps[r.step ?? 'other'] ?? 0) + 1;
      const out = {
        requests: sim.requests.length,
        // 404s are expected (the first deploy reads a certificate that is not there yet).
        errors: sim.requests.filter((r) => r.status >= 400 && r.status !== 404).length,
        steps,
        serving: servedSerial(sim),
        certs: sim.state.certs.size,
        keys: sim.state.keys.size,
        saves: sim.state.saves,
      };
      sim.resetRequests();
      return out;
    }),
  };
}

send({ devices: sims.map((s) => ({ url: s.url, caPem: s.caPem, username: s.username, password: s.password })) });

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await Promise.all(sims.map((s) => s.close()));
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'stats') send(stats());
  else if (cmd !== '') send({ error: `unknown command ${JSON.stringify(cmd)}` });
});
lines.on('close', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
