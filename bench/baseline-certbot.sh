#!/usr/bin/env bash
# Baseline: issue N certificates sequentially with Debian's certbot (standalone http-01)
# against a running Pebble, and print one JSON line with the throughput.
#
#   ACME_DIRECTORY_URL=https://127.0.0.1:14000/dir REQUESTS_CA_BUNDLE=/path/ca.pem \
#     bench/baseline-certbot.sh [N]
#
# Pebble must validate http-01 on port 5002 (its default "httpPort") and resolve every
# name to 127.0.0.1 (pebble-challtestsrv does by default). Run Pebble with
# PEBBLE_VA_NOSLEEP=1, otherwise each validation waits a random 0-15 s.
set -euo pipefail

N="${1:-${N:-50}}"
: "${ACME_DIRECTORY_URL:?set ACME_DIRECTORY_URL to the Pebble directory URL}"
: "${REQUESTS_CA_BUNDLE:?set REQUESTS_CA_BUNDLE to the CA file that signed Pebble HTTPS cert}"
export REQUESTS_CA_BUNDLE
HTTP_PORT="${HTTP01_PORT:-5002}"

if ! [[ "$N" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: N must be a positive integer, got '$N'" >&2
  exit 2
fi
command -v certbot >/dev/null 2>&1 || { echo "error: certbot not found (apt-get install certbot)" >&2; exit 1; }

WORK="$(mktemp -d -t certbot-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }

start="$(now)"
for i in $(seq 1 "$N"); do
  name="certbot${i}-$$.example.test"
  if ! certbot certonly \
      --standalone --preferred-challenges http --http-01-port "$HTTP_PORT" \
      --server "$ACME_DIRECTORY_URL" \
      --non-interactive --agree-tos --register-unsafely-without-email \
      --config-dir "$WORK/config" --work-dir "$WORK/work" --logs-dir "$WORK/logs" \
      --max-log-backups 0 \
      -d "$name" >"$WORK/last.out" 2>&1; then
    echo "error: certbot failed for $name (iteration $i):" >&2
    cat "$WORK/last.out" >&2
    tail -n 40 "$WORK/logs/letsencrypt.log" >&2 2>/dev/null || true
    exit 1
  fi
done
end="$(now)"

awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN {
  secs = e - s
  printf "{\"tool\":\"certbot\",\"certificates\":%d,\"seconds\":%.3f,\"perSecond\":%.4f}\n", n, secs, (secs > 0 ? n / secs : 0)
}'
