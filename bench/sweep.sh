#!/usr/bin/env bash
# Renewal sweep benchmark (bench/sweep.ts), as reported in bench/RESULTS.md: the sweep as coded, then one what-if
# on the same data set, each RUNS runs:
#   baseline        the store and schema as they are (the partial indexes of migration 0005 included; the
#                   first measurement, before that migration, is kept in RESULTS.md);
#   async-commit    + synchronous_commit=off on the benchmark's connections (lease writes do not wait for fsync).
# Waits (up to 5 min) for the 1-minute load average to fall below 1 first. JSON lines in $OUT/results.jsonl,
# plans and per-run lines in $OUT/<label>.err.
#
#   bench/sweep.sh                 # RUNS=5 OUT=/tmp/sweep-bench; RELOAD=1 reloads the data set first
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
OUT=${OUT:-/tmp/sweep-bench}
URL=${BENCH_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bigip_acme_bench_sweep}}
mkdir -p "$OUT"
: >"$OUT/results.jsonl"

for _ in $(seq 60); do
  awk '{ exit !($1 < 1) }' /proc/loadavg && break
  sleep 5
done
echo "load at start: $(cat /proc/loadavg)" >&2

run() { # label, extra env..., then args
  local label=$1
  shift
  env "$@" npx tsx bench/sweep.ts --runs "$RUNS" ${RELOAD:+--reload} 2>"$OUT/$label.err" |
    sed "s/^{/{\"label\":\"$label\",/" >>"$OUT/results.jsonl"
  RELOAD=
}

run baseline BENCH_DATABASE_URL="$URL"
sep='?'
[[ $URL == *\?* ]] && sep='&'
run async-commit BENCH_DATABASE_URL="${URL}${sep}options=-c%20synchronous_commit%3Doff"
echo "load at end: $(cat /proc/loadavg)" >&2

node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
for (const l of lines) for (const m of ["limit500", "all"]) {
  const f = (k) => `${l[m][k].median} (max ${l[m][k].max})`;
  console.log(`${l.label.padEnd(13)} ${m.padEnd(8)} ari ${f("ariMs")}  select ${f("selectMs")}  claim ${f("claimMs")}  total ${f("totalMs")} ms  maxRSS ${l.maxRssMB} MB  ok ${l.ok}`);
}
for (const l of lines) console.log(`${l.label.padEnd(13)} plans ${JSON.stringify(l.plans)}`);
' "$OUT/results.jsonl"
