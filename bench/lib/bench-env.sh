# Shared by the bench/*.sh runners (source it after `cd` to the repository root).

# The database a run uses (its own, never `test`), made when missing; OUT (a fresh temporary folder named
# after the run unless given) with an empty results.jsonl in RESULTS.
bench_setup() {
  export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bigip_acme_bench}"
  OUT="${OUT:-$(mktemp -d -t "$1-XXXXXX")}"
  mkdir -p "$OUT"
  RESULTS="$OUT/results.jsonl"
  : >"$RESULTS"
  ensure_bench_database
}

# Creates the database named by BENCH_DATABASE_URL when missing (connecting to the server's "postgres"
# database for that).
ensure_bench_database() {
  local db_name="${BENCH_DATABASE_URL##*/}"
  local admin_url="${BENCH_DATABASE_URL%/*}/postgres"
  if ! psql "$BENCH_DATABASE_URL" -Atc 'select 1' >/dev/null 2>&1; then
    psql "$admin_url" -c "create database \"$db_name\"" >/dev/null
  fi
}

# The machine lines every results file starts with: date, CPU, RAM, Node, PostgreSQL, load average. Extra
# lines (tool versions, the run's parameters) are passed as arguments and printed before the load average.
machine_info() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "ram: $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "node: $(node --version)"
  echo "postgres: $(psql "$BENCH_DATABASE_URL" -Atc 'show server_version' 2>/dev/null || echo unknown)"
  local line
  for line in "$@"; do echo "$line"; done
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}
