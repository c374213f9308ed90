#!/usr/bin/env bash
# Where the responder's time goes under load: `node --cpu-prof` on bench/responder-server.ts (pinned to core 1)
# while `taskset -c 0 wrk -t1 -c64` drives one case for DURATION (default 10s), then a summary by area and function
# (bench/responder-profile-summary.ts, which counts only the window under load, not the process start).
#
# Usage: bench/responder-profile.sh [CASE...] (hit, miss, malformed; default hit malformed)
#        env: DURATION PORT OUT SCRIPT (default bench/responder-server.ts) ARGS (extra server arguments)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s} PORT=${PORT:-18086} SCRIPT=${SCRIPT:-bench/responder-server.ts}
OUT=${OUT:-$(mktemp -d /tmp/responder-profile.XXXXXX)}
mkdir -p "$OUT"
TOKEN=bench_token_0123456789abcdefghijklmnopqrstu
PREFIX=/.well-known/acme-challenge
declare -A PATHS=([hit]="$PREFIX/$TOKEN" [miss]="$PREFIX/unknown_token_0123456789abcdefghijklmnopqr" [malformed]="$PREFIX/..%2f..%2fetc")
CASES=("$@"); [ ${#CASES[@]} -gt 0 ] || CASES=(hit malformed)

for c in "${CASES[@]}"; do
  dir="$OUT/$c"; mkdir -p "$dir"
  # shellcheck disable=SC2086
  taskset -c 1 node --cpu-prof --cpu-prof-dir="$dir" --import tsx "$SCRIPT" --port "$PORT" ${ARGS:-} >"$dir/server.log" 2>&1 &
  for _ in $(seq 100); do grep -q '^ready' "$dir/server.log" 2>/dev/null && break; sleep 0.1; done
  pid=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$dir/server.log")
  taskset -c 0 wrk -t1 -c64 -d"$DURATION" --latency -H 'Host: bench.example' "http://127.0.0.1:$PORT${PATHS[$c]}" >"$dir/wrk.txt"
  kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  echo "## $c: $(awk '/^Requests\/sec/ { print $2 " req/s" } /^ +99%/ { print "p99 " $2 }' "$dir/wrk.txt" | paste -sd, -) (under the profiler)"
  # one profile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>); thread 0 is the main thread that serves
  npx tsx bench/responder-profile-summary.ts "$dir"/CPU.*.*.*.0.*.cpuprofile
  echo
done
echo "# profiles in $OUT (open in Chrome DevTools > Performance, or speedscope)"
