#!/usr/bin/env bash
# Throughput, latency and memory of the HTTP-01 responder's hot path, against nginx serving the same token as a
# static file (../shared/baselines/nginx-token.sh). Needs `wrk` and `nginx` (apt-get install -y wrk nginx).
#
# Servers: ours (bench/responder-server.ts, in-memory source), bare-node (bench/responder-bare-node.ts, the least a
# node:http server can do: what node:http itself costs) and nginx. Each is pinned to core 1, wrk to core 0:
# `taskset -c 0 wrk -t1 -c64 -d10s --latency -H 'Host: bench.example'`. Three cases:
#   hit        GET /.well-known/acme-challenge/<the one cached token>            -> 200, the key authorization
#   miss       GET /.well-known/acme-challenge/<well-formed unknown token>       -> 404 (one Map lookup)
#   malformed  GET /.well-known/acme-challenge/..%2f..%2fetc                     -> 404 (no lookup)
# RUNS rounds (default 3), each round every server, all three cases; medians over the rounds. A run in which the
# server got < MIN_SERVER_CPU (90) % of its core (something else ran there) is retried after the machine is idle. Each server gets
# the same warm-up first (WARMUP per case, default 3s; JIT for node, page cache for nginx), not counted.
# Then memory: a fresh responder takes MEM_DURATION (default 25s) of load cycling through the three cases
# (>= 1,000,000 requests), VmRSS sampled every second from /proc/PID/status.
#
# Usage: bench/responder.sh [OUTDIR]     env: RUNS DURATION WARMUP MEM_DURATION PORT NGINX_PORT BARE_PORT
# Prints the raw wrk lines, then a summary; everything also lands in OUTDIR (default: a fresh /tmp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3} DURATION=${DURATION:-10s} WARMUP=${WARMUP:-3s} MEM_DURATION=${MEM_DURATION:-25s}
PORT=${PORT:-18080} BARE_PORT=${BARE_PORT:-18070} NGINX_PORT=${NGINX_PORT:-18090}
OUT=${1:-$(mktemp -d /tmp/responder-bench.XXXXXX)}
mkdir -p "$OUT"
NGINX_DIR="$OUT/nginx"
NGINX_SH=../shared/baselines/nginx-token.sh

TOKEN=bench_token_0123456789abcdefghijklmnopqrstu
KEY_AUTH="$TOKEN.Zx9wQ0bTHUMBPRINTthumbprintTHUMBPRINT012345"
MISS=unknown_token_0123456789abcdefghijklmnopqr
HOST=bench.example  # the CA sends the validated name as Host; the responder answers only for it
PREFIX=/.well-known/acme-challenge
declare -A PATHS=([hit]="$PREFIX/$TOKEN" [miss]="$PREFIX/$MISS" [malformed]="$PREFIX/..%2f..%2fetc")
declare -A WANT=([hit]=200 [miss]=404 [malformed]=404)
CASES=(hit miss malformed)

for tool in wrk nginx taskset curl; do command -v $tool >/dev/null || { echo "missing $tool (apt-get install -y wrk nginx)" >&2; exit 2; }; done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (server on 1, wrk on 0)" >&2; exit 2; }

SERVER_PID=
start_ours() { # $1 = port, $2 = log, [$3 = script, $4... = its arguments]; sets SERVER_PID to the serving node process
  local port=$1 log=$2 script=${3:-bench/responder-server.ts}
  shift 3 2>/dev/null || shift $#
  taskset -c 1 node --import tsx "$script" --port "$port" "$@" >"$log" 2>&1 &
  set -- "$port" "$log"
  for _ in $(seq 100); do grep -q '^ready' "$2" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$2" || { cat "$2" >&2; exit 1; }
  SERVER_PID=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$2")
}
stop_pid() { [ -n "$1" ] && kill "$1" 2>/dev/null && while kill -0 "$1" 2>/dev/null; do sleep 0.1; done; return 0; }
stop_ours() { stop_pid "$SERVER_PID"; SERVER_PID=; }
OURS_PID= BARE_PID=
cleanup() { stop_ours || true; for p in "$OURS_PID" "$BARE_PID"; do stop_pid "$p" || true; done; "$NGINX_SH" stop "$NGINX_DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT

check() { # $1 = name, $2 = port: every case answers with the expected status before anything is timed
  for c in "${CASES[@]}"; do
    local got
    got=$(curl -s --path-as-is -H "Host: $HOST" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2${PATHS[$c]}")
    [ "$got" = "${WANT[$c]}" ] || { echo "$1 $c: HTTP $got, want ${WANT[$c]}" >&2; exit 1; }
  done
  [ "$(curl -s -H "Host: $HOST" "http://127.0.0.1:$2${PATHS[hit]}")" = "$KEY_AUTH" ] || { echo "$1 hit: wrong body" >&2; exit 1; }
  if [ "$1" = ours ]; then # answers are bound to the Host: the right token for another name is a 404
    got=$(curl -s -H "Host: other.example" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2${PATHS[hit]}")
    [ "$got" = 404 ] || { echo "ours: hit with a foreign Host answered $got" >&2; exit 1; }
  fi
}

# wrk output -> "rps p50_ms p99_ms requests non2xx errors"
parse() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /requests in/ { n = $1 } /Non-2xx/ { bad = $NF } /Socket errors/ { err = $0; gsub(/[^0-9 ]/, "", err); split(err, e, " "); errs = e[1] + e[2] + e[3] + e[4] }
    /^Requests\/sec/ { rps = $2 }
    END { printf "%.0f %.3f %.3f %d %d %d\n", rps, p50, p99, n, bad + 0, errs + 0 }'
}

run_wrk() { # $1 = port, $2 = path, $3 = duration
  taskset -c 0 wrk -t1 -c64 -d"$3" --latency -H "Host: $HOST" "http://127.0.0.1:$1$2"
}

# CPU ticks (user+system) a process has used, and all CPUs' busy/total ticks: to show the server had its core.
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sys_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }

# Waits (up to QUIET_MAX s, default 900) until the machine is idle (< 10% busy over 2 s): a concurrent test run
# on this 2-core box would otherwise land on the server's or wrk's core and skew everything.
wait_quiet() {
  local waited=0 busy
  while :; do
    read -r b1 t1 < <(sys_ticks); sleep 2; read -r b2 t2 < <(sys_ticks)
    busy=$(( 100 * (b2 - b1) / (t2 - t1 > 0 ? t2 - t1 : 1) ))
    [ "$busy" -lt 10 ] && break
    [ "$waited" -ge "${QUIET_MAX:-900}" ] && { echo "# machine still ${busy}% busy after ${waited}s; going on anyway" >&2; break; }
    [ "$waited" = 0 ] && echo "# machine ${busy}% busy; waiting for it to go idle" >&2
    waited=$((waited + 2))
  done
}

echo "# machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); node $(node -v); $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- responder cli db core || echo ' + uncommitted responder/cli/db/core changes'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# out: $OUT"

wait_quiet
start_ours "$PORT" "$OUT/ours.log"
OURS_PID=$SERVER_PID
start_ours "$BARE_PORT" "$OUT/bare.log" bench/responder-bare-node.ts
BARE_PID=$SERVER_PID SERVER_PID=
taskset -c 1 "$NGINX_SH" start "$NGINX_DIR" "$NGINX_PORT" "$TOKEN" "$KEY_AUTH" >/dev/null
NGINX_WORKER=$(pgrep -P "$(cat "$NGINX_DIR/nginx.pid")" | head -1)
declare -A PORTOF=([ours]=$PORT [bare-node]=$BARE_PORT [nginx]=$NGINX_PORT) PIDOF=([ours]=$OURS_PID [bare-node]=$BARE_PID [nginx]=$NGINX_WORKER)
SERVERS=(ours bare-node nginx)
for server in "${SERVERS[@]}"; do
  check "$server" "${PORTOF[$server]}"
  echo "# $server pid ${PIDOF[$server]} ($(taskset -pc "${PIDOF[$server]}" | sed 's/.*: /cpus /'))"
done

for server in "${SERVERS[@]}"; do
  for c in "${CASES[@]}"; do run_wrk "${PORTOF[$server]}" "${PATHS[$c]}" "$WARMUP" >/dev/null; done
done

RAW="$OUT/raw.tsv"
printf 'round\tserver\tcase\trps\tp50_ms\tp99_ms\trequests\tnon2xx\tsocket_errors\tserver_cpu_pct\tsystem_busy_pct\n' >"$RAW"
RETRIES=0
for r in $(seq "$RUNS"); do
  wait_quiet
  for server in "${SERVERS[@]}"; do
    port=${PORTOF[$server]} spid=${PIDOF[$server]}
    for c in "${CASES[@]}"; do
      # A saturated server uses ~100% of its core; if it got less, something else took core 1: retry.
      for attempt in $(seq "${MAX_ATTEMPTS:-5}"); do
        p0=$(proc_ticks "$spid"); read -r b0 t0 < <(sys_ticks); w0=$(date +%s%N)
        run_wrk "$port" "${PATHS[$c]}" "$DURATION" >"$OUT/wrk-$r-$server-$c.txt"
        p1=$(proc_ticks "$spid"); read -r b1 t1 < <(sys_ticks); w1=$(date +%s%N)
        cpu=$(awk -v p=$((p1 - p0)) -v hz="$(getconf CLK_TCK)" -v ns=$((w1 - w0)) 'BEGIN { printf "%.0f", 100 * p / hz / (ns / 1e9) }')
        sysbusy=$(( 100 * (b1 - b0) / (t1 - t0) ))
        [ "$cpu" -ge "${MIN_SERVER_CPU:-90}" ] && break
        echo "# round $r $server $c: server had only ${cpu}% of its core (attempt $attempt); waiting and retrying" >&2
        RETRIES=$((RETRIES + 1))
        wait_quiet
      done
      read -r rps p50 p99 n bad errs < <(parse <"$OUT/wrk-$r-$server-$c.txt")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$server" "$c" "$rps" "$p50" "$p99" "$n" "$bad" "$errs" "$cpu" "$sysbusy" | tee -a "$RAW"
      # A hit must be all 200s, a miss or malformed request all 404s.
      if [ $c = hit ] && [ "$bad" != 0 ]; then echo "$server hit: $bad non-2xx responses" >&2; exit 1; fi
      if [ $c != hit ] && [ "$bad" != "$n" ]; then echo "$server $c: only $bad of $n were 404" >&2; exit 1; fi
    done
  done
done
stop_pid "$OURS_PID"; stop_pid "$BARE_PID"; OURS_PID= BARE_PID=
"$NGINX_SH" stop "$NGINX_DIR" >/dev/null 2>&1

echo
echo "# retried runs (server < ${MIN_SERVER_CPU:-90}% of its core): $RETRIES"
echo "## Median of $RUNS runs (wrk -t1 -c64 -d$DURATION --latency; server on core 1, wrk on core 0)"
echo
echo "| Case | Server | req/s (median) | req/s range | % of nginx (medians) | % of nginx (median of per-round ratios) | p50 ms | p99 ms | p99 range | server CPU % |"
echo "|---|---|---|---|---|---|---|---|---|---|"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -F'\t' -v s="$1" -v c="$2" -v k="$3" 'NR > 1 && $2 == s && $3 == c { print $k }' "$RAW"; }
range() { echo "$(col "$1" "$2" "$3" | sort -g | head -1)–$(col "$1" "$2" "$3" | sort -g | tail -1)"; }
for c in "${CASES[@]}"; do
  n_rps=$(col nginx $c 4 | median)
  for server in "${SERVERS[@]}"; do
    rps=$(col $server $c 4 | median)
    pct=$(awk -v a="$rps" -v b="$n_rps" 'BEGIN { printf "%.1f%%", 100 * a / b }')
    rpct=$(awk -F'\t' -v s="$server" -v c="$c" 'NR > 1 && $3 == c && $2 == s { o[$1] = $4 } NR > 1 && $3 == c && $2 == "nginx" { n[$1] = $4 }
      END { for (r in o) printf "%.1f\n", 100 * o[r] / n[r] }' "$RAW" | median)
    echo "| $c | $server | $rps | $(range $server $c 4) | $pct | ${rpct}% | $(col $server $c 5 | median) | $(col $server $c 6 | median) | $(range $server $c 6) | $(col $server $c 10 | median) |"
  done
done

# Memory: a fresh responder, RSS idle, then every second under MEM_DURATION of mixed load, then idle again.
echo
echo "## Memory: fresh responder, $MEM_DURATION of load cycling hit/miss/malformed, VmRSS every second"
LUA="$OUT/cycle.lua"
cat >"$LUA" <<LUA
local paths = { "${PATHS[hit]}", "${PATHS[miss]}", "${PATHS[malformed]}" }
local i = 0
request = function()
  i = i % 3 + 1
  return wrk.format("GET", paths[i])
end
LUA
wait_quiet
start_ours "$PORT" "$OUT/ours-mem.log"
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status"; }
sleep 1
RSS_LOG="$OUT/rss.tsv"
printf 'second\tphase\tvmrss_kb\n' >"$RSS_LOG"
printf '0\tidle-after-start\t%s\n' "$(rss)" >>"$RSS_LOG"
taskset -c 0 wrk -t1 -c64 -d"$MEM_DURATION" --latency -H "Host: $HOST" -s "$LUA" "http://127.0.0.1:$PORT/" >"$OUT/wrk-mem.txt" &
WRK_PID=$!
s=0
while kill -0 $WRK_PID 2>/dev/null; do
  sleep 1; s=$((s + 1))
  kill -0 $WRK_PID 2>/dev/null && printf '%s\tload\t%s\n' "$s" "$(rss)" >>"$RSS_LOG"
done
wait $WRK_PID
kill -0 "$SERVER_PID" 2>/dev/null || { echo "responder died under load:" >&2; cat "$OUT/ours-mem.log" >&2; exit 1; }
sleep 5
printf '%s\tidle-5s-after\t%s\n' "$((s + 5))" "$(rss)" >>"$RSS_LOG"
stop_ours
read -r mrps m50 m99 mn mbad merrs < <(parse <"$OUT/wrk-mem.txt")
[ "$mn" -ge 1000000 ] || echo "# WARNING: only $mn requests; raise MEM_DURATION" >&2
[ "$merrs" = 0 ] || echo "# WARNING: $merrs socket errors in the memory run" >&2
awk -F'\t' -v n="$mn" -v rps="$mrps" -v p99="$m99" -v errs="$merrs" '
  NR == 1 { next }
  $2 == "idle-after-start" { idle = $3 }
  $2 == "load" { if (!first) first = $3; last = $3; if ($3 > peak) peak = $3; loads[++k] = $3 }
  $2 == "idle-5s-after" { after = $3 }
  END {
    # flatness: highs and lows (after each GC) of the first half of the load vs the second half
    h = int(k / 2); max1 = max2 = 0; min1 = min2 = 1e12
    for (j = 1; j <= k; j++) {
      if (j <= h) { if (loads[j] > max1) max1 = loads[j]; if (loads[j] < min1) min1 = loads[j] }
      else { if (loads[j] > max2) max2 = loads[j]; if (loads[j] < min2) min2 = loads[j] }
    }
    printf "requests %d (%s req/s, p99 %s ms, socket errors %d)\n", n, rps, p99, errs
    printf "| idle after start | 1st s of load | peak under load | 1st half min–max | 2nd half min–max | last s of load | idle 5 s after |\n|---|---|---|---|---|---|---|\n"
    printf "| %.1f MB | %.1f MB | %.1f MB | %.1f–%.1f MB | %.1f–%.1f MB | %.1f MB | %.1f MB |\n", idle / 1024, first / 1024, peak / 1024, min1 / 1024, max1 / 1024, min2 / 1024, max2 / 1024, last / 1024, after / 1024
  }' "$RSS_LOG"
echo "series (kB): $(awk -F'\t' 'NR > 1 { printf "%s ", $3 }' "$RSS_LOG")"
echo "# raw results in $OUT"
