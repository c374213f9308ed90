#!/usr/bin/env bash
# Deploy benchmark run: bench/deploy.ts (one certificate to N simulated BIG-IPs, LATENCY ms per request) at
# several concurrencies, on PostgreSQL and on in-memory PGlite, ROUNDS times each (interleaved round by round),
# plus SERIAL_RUNS runs at concurrency 1 on PostgreSQL (the measured serial baseline). Every run is a fresh
# process with its own fleet. Prints every JSON line and a summary (medians and ranges per phase), and keeps
# them in $OUT.
#
#   bench/deploy.sh                                   # N=50, LATENCY=20, CONCURRENCIES="auto 8 16", 3 rounds
#   ROUNDS=5 CONCURRENCIES="8 16 32 50" bench/deploy.sh
#   SERIAL_RUNS=0 PGLITE=0 bench/deploy.sh            # PostgreSQL only, no serial baseline
#
# Needs a PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bigip_acme_bench; the
# database is created when missing, and truncated by every run).
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-50}"
LATENCY="${LATENCY:-20}"
CONCURRENCIES="${CONCURRENCIES:-auto 8 16}"
ROUNDS="${ROUNDS:-3}"
SERIAL_RUNS="${SERIAL_RUNS:-3}"
PGLITE="${PGLITE:-1}"
# shellcheck source=bench/lib/bench-env.sh
source bench/lib/bench-env.sh
bench_setup deploy-bench
machine_info \
  "commit: ${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- core db 2>/dev/null || echo ' (core/db modified)')}" \
  "devices: $N, latency: $LATENCY ms, concurrencies: $CONCURRENCIES, rounds: $ROUNDS, serial runs: $SERIAL_RUNS" \
  | tee "$OUT/machine.txt"

# run LABEL ARGS... : one bench/deploy.ts process; tags its JSON line with LABEL and appends it to $RESULTS.
run() {
  local label="$1"
  shift
  echo "+ [$label] npx tsx bench/deploy.ts $* (loadavg $(cut -d' ' -f1 /proc/loadavg))" >&2
  local line
  line="$(npx tsx bench/deploy.ts --devices "$N" --latency-ms "$LATENCY" "$@" | tail -n 1)"
  node -e 'const [label, line] = process.argv.slice(1); console.log(JSON.stringify({ label, ...JSON.parse(line) }))' \
    "$label" "$line" | tee -a "$RESULTS"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "--- round $round/$ROUNDS (loadavg $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  for c in $CONCURRENCIES; do run "postgres-c$c" --concurrency "$c"; done
  if [[ "$PGLITE" == 1 ]]; then
    for c in $CONCURRENCIES; do run "pglite-c$c" --concurrency "$c" --pglite; done
  fi
done
for _ in $(seq 1 "$SERIAL_RUNS"); do run postgres-c1 --concurrency 1; done
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"

# Summary: per label and phase, median (min–max) of wall seconds, peak RSS during the phase, CPU and requests.
node - "$RESULTS" "$LATENCY" <<'EOF' | tee "$OUT/summary.txt"
const fs = require('node:fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (xs, d = 2) => `${+median(xs).toFixed(d)} (${+Math.min(...xs).toFixed(d)}–${+Math.max(...xs).toFixed(d)})`;
const by = {};
for (const r of rows) (by[r.label] ??= []).push(r);
console.log('label | phase | runs | seconds | peak RSS MB (phase) | max RSS MB (process) | CPU s ours | CPU s fleet | CPU s other | requests/device | device s median | latency floor s');
for (const [label, rs] of Object.entries(by)) {
  for (const phase of ['first', 'renewal', 'rerun']) {
    const ps = rs.map((r) => r.phases.find((p) => p.phase === phase));
    console.log([
      label, phase, rs.length,
      fmt(ps.map((p) => p.seconds)),
      fmt(ps.map((p) => p.peakRssMB), 0),
      fmt(rs.map((r) => r.maxRssMB), 0),
      fmt(ps.map((p) => p.cpuSeconds)),
      fmt(ps.map((p) => p.fleetCpuSeconds)),
      fmt(ps.map((p) => p.otherCpuSeconds ?? 0)),
      median(ps.map((p) => p.requestsPerDevice.median)),
      fmt(ps.map((p) => p.deviceSeconds.median), 3),
      median(ps.map((p) => p.latencyFloorSeconds)),
    ].join(' | '));
  }
}
// Naive serial estimate: 50 × one device's time, from the concurrency-1 runs (median device time × N).
const serial = by['postgres-c1'];
if (serial) {
  for (const phase of ['first', 'renewal', 'rerun']) {
    const ps = serial.map((r) => ({ ...r.phases.find((p) => p.phase === phase), devices: r.devices }));
    console.log(`serial ${phase}: measured ${fmt(ps.map((p) => p.seconds))} s; N × median device time ${fmt(ps.map((p) => p.deviceSeconds.median * p.devices))} s`);
  }
}
EOF
echo "results in $OUT" >&2
