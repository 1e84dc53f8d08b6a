#!/usr/bin/env bash
# Load benchmark: starts `lectern serve` on 127.0.0.1 with the limits a
# load test must lift, drives it with `lectern loadtest`, optionally takes a
# CPU profile of the server under load, and stops the server it started.
#
#   bench/load.sh sqlite   --readers 50 --duration 30s
#   bench/load.sh postgres --readers 50 --duration 30s
#   PROFILE=cpu.prof bench/load.sh postgres --readers 50 --duration 30s
#   POOL=20 bench/load.sh postgres --readers 100 --rate 800 --duration 30s
#
# Everything after the engine goes to `lectern loadtest`. PostgreSQL runs
# on a new database in the server at PGURL (default: the local one), dropped
# afterwards. POOL sets pool_max_conns. The server logs at info level to
# $OUT/server.log, as in production.
set -euo pipefail
cd "$(dirname "$0")/.."

engine="${1:?usage: bench/load.sh sqlite|postgres [loadtest flags]}"
shift
OUT="${OUT:-$(mktemp -d)}"
PORT="${PORT:-18480}"
MPORT="${MPORT:-18490}"
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"

go build -o "$OUT/lectern" ./cmd/lectern

env=(LECTERN_ADDR="127.0.0.1:$PORT" LECTERN_DATA_DIR="$OUT/data"
	LECTERN_METRICS_ADDR="127.0.0.1:$MPORT" LECTERN_PPROF=on
	LECTERN_AUTH_RATE_LIMIT=off LECTERN_CHAT_RATE_LIMIT=off LECTERN_CHAT_DAILY_BUDGET=off
	# Closed-loop readers may all ask at once: measure the server, not the
	# bound on answers written at once (64, shared across replicas).
	LECTERN_MAX_ANSWERS=1000
	LECTERN_SECRET="load-benchmark-secret-not-for-production-use")
db=""
if [ "$engine" = postgres ]; then
	db="lectern_load_$$"
	psql -q "$PGURL" -c "CREATE DATABASE $db"
	url="${PGURL/\/postgres\?/\/$db?}"
	[ -n "${POOL:-}" ] && url="$url&pool_max_conns=$POOL"
	env+=(LECTERN_DATABASE_URL="$url")
elif [ "$engine" != sqlite ]; then
	echo "engine must be sqlite or postgres" >&2
	exit 2
fi

env "${env[@]}" "$OUT/lectern" serve >"$OUT/server.log" 2>&1 &
pid=$!
cleanup() {
	kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	if [ -n "$db" ]; then psql -q "$PGURL" -c "DROP DATABASE IF EXISTS $db" || true; fi
}
trap cleanup EXIT
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
	sleep 0.2
done

if [ -n "${PROFILE:-}" ]; then
	# Profile the middle of the run: after sign-up, before the end.
	(sleep "${PROFILE_DELAY:-8}"; curl -sf -o "$PROFILE" "http://127.0.0.1:$MPORT/debug/pprof/profile?seconds=${PROFILE_SECONDS:-15}") &
	profiler=$!
fi
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14+$15)/hz}' "/proc/$1/stat"; }
server_cpu0=$(cpu "$pid")
/usr/bin/time -f "load generator: %U s user + %S s system CPU, %e s" "$OUT/lectern" loadtest --target "http://127.0.0.1:$PORT" "$@"
echo "lectern server: $(awk -v a="$server_cpu0" -v b="$(cpu "$pid")" 'BEGIN{printf "%.1f", b-a}') s CPU during the run"
if [ -n "${profiler:-}" ]; then wait "$profiler"; fi
# The database pool's view of the run: waits for a connection and their time.
curl -sf "http://127.0.0.1:$MPORT/metrics" | grep -E '^lectern_(pgxpool|sql)_[a-z_]*(total|seconds_total|max_connections)' || true
echo "server: $engine, log in $OUT/server.log"
