#!/usr/bin/env bash
# Issuance benchmark run: bigip-acme (bench/issue.ts) on PostgreSQL vs the bare acme-client loop vs certbot,
# each against its own fresh Pebble with the same settings (PEBBLE_VA_NOSLEEP=1, NONCEREJECT=0,
# AUTHZREUSE=0, http-01). Run from anywhere; prints every JSON line and a summary, and keeps them in $OUT.
#
#   bench/run-issue-bench.sh                 # N=50 C=8, 3 rounds, certbot N=10
#   ROUNDS=5 N=50 C=8 CERTBOT_N=10 bench/run-issue-bench.sh
#   EXTRAS=0 bench/run-issue-bench.sh        # skip the PGlite run
#   CERTBOT=0 bench/run-issue-bench.sh       # skip certbot (it only anchors the "× certbot" column)
#
# Rounds interleave the tools (ours, bare) so load from anything else on the machine hits
# all of them alike. Needs: pebble + pebble-challtestsrv, certbot, a PostgreSQL at BENCH_DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/bigip_acme_bench; the database is created when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-50}"
C="${C:-8}"
ROUNDS="${ROUNDS:-3}"
CERTBOT_N="${CERTBOT_N:-10}"
EXTRAS="${EXTRAS:-1}"
CERTBOT="${CERTBOT:-1}"
BARE_LOOP="${BARE_LOOP:-../shared/baselines/acme-bare-loop.mjs}"
# shellcheck source=bench/lib/bench-env.sh
source bench/lib/bench-env.sh
bench_setup issue-bench
machine_info \
  "pebble: $(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo unknown)" \
  "certbot: $(certbot --version 2>&1 | awk '{print $2}')" \
  | tee "$OUT/machine.txt"

# run LABEL COMMAND... : runs the command, tags its last JSON line with LABEL and appends it to $RESULTS.
run() {
  local label="$1"
  shift
  echo "+ [$label] $*" >&2
  local line
  line="$("$@" | tail -n 1)"
  echo "$line"
  node -e 'const [label, line] = process.argv.slice(1); console.log(JSON.stringify({ label, ...JSON.parse(line) }))' \
    "$label" "$line" >>"$RESULTS"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "--- round $round/$ROUNDS (loadavg $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  run ours-postgres npx tsx bench/issue.ts "$N" "$C"
  run bare-loop npx tsx bench/with-pebble.ts -- node "$BARE_LOOP" "$N" "$C"
done
if [[ "$EXTRAS" == 1 ]]; then
  run ours-pglite npx tsx bench/issue.ts "$N" "$C" --pglite
fi
if [[ "$CERTBOT" == 1 ]]; then
  run certbot npx tsx bench/with-pebble.ts -- bench/baseline-certbot.sh "$CERTBOT_N"
fi
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"

# Summary: median and range of perSecond (and peak RSS where reported) per label.
node - "$RESULTS" <<'EOF' | tee "$OUT/summary.txt"
const fs = require('node:fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const stats = (xs) => (xs.length ? { median: +median(xs).toPrecision(4), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length } : null);
const by = {};
for (const r of rows) (by[r.label] ??= []).push(r);
const summary = {};
for (const [label, rs] of Object.entries(by)) {
  summary[label] = {
    perSecond: stats(rs.map((r) => r.perSecond)),
    seconds: stats(rs.map((r) => r.seconds)),
    ...(rs[0].peakRssMB !== undefined ? { peakRssMB: stats(rs.map((r) => r.peakRssMB)), maxRssMB: stats(rs.map((r) => r.maxRssMB)) } : {}),
    ...(rs[0].rssMB !== undefined ? { rssMB: stats(rs.map((r) => r.rssMB)) } : {}),
    ...(rs[0].domainAddSeconds !== undefined ? { domainAddSeconds: stats(rs.map((r) => r.domainAddSeconds)) } : {}),
  };
}
const bare = summary['bare-loop']?.perSecond?.median;
const certbot = summary.certbot?.perSecond?.median;
summary.comparison = {};
for (const label of Object.keys(by).filter((l) => l.startsWith('ours'))) {
  const rate = summary[label].perSecond.median;
  summary.comparison[label] = {
    pctOfBareLoop: bare ? +((100 * rate) / bare).toFixed(1) : null,
    timesCertbot: certbot ? +(rate / certbot).toFixed(1) : null,
  };
}
for (const [label, v] of Object.entries(summary)) console.log(`${label}: ${JSON.stringify(v)}`);
EOF
echo "results in $OUT" >&2
