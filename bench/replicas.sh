#!/usr/bin/env bash
# Replicas benchmark: the same closed-loop `lectern loadtest` through HAProxy
# (deploy/haproxy.cfg, as it is) in front of 1, then 2, then 3 `lectern
# serve` replicas on one PostgreSQL database, all on 127.0.0.1. Prints a
# Markdown table of throughput and p50/p99 per operation for each count,
# and the CPU each process used during each run; stops everything it
# started, by PID, and drops the database.
#
#   bench/replicas.sh                                   # the default load below
#   bench/replicas.sh --readers 50 --duration 30s --mix ask=1,list=2,history=2
#
# PROFILE=1 also takes a CPU profile of every replica during each run
# (PROFILE_DELAY seconds in, default 10, for PROFILE_SECONDS, default 8):
# $OUT/cpu-<replicas>-<replica>.prof, for go tool pprof.
#
# Arguments go to `lectern loadtest` (default: --readers 100 --duration 20s
# --mix ask=1,list=2,history=2, the mix of docs/benchmarks.md's "Load").
# Needs haproxy, psql, curl and jq. PostgreSQL is the server at PGURL
# (default: the local one); the database is lectern_replicas_<pid>. Logs
# and the reports stay in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${OUT:-$(mktemp -d)}"
PORT="${PORT:-18580}" # the balancer; replicas on PORT+1..3, its stats on PORT+10, their metrics on PORT+21..23
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
load=("$@")
[ ${#load[@]} -gt 0 ] || load=(--readers 100 --duration 20s --mix ask=1,list=2,history=2)
for tool in haproxy psql curl jq; do
	command -v "$tool" >/dev/null || { echo "bench/replicas.sh needs $tool" >&2; exit 2; }
done

go build -o "$OUT/lectern" ./cmd/lectern

db="lectern_replicas_$$"
psql -q "$PGURL" -c "CREATE DATABASE $db"
url="${PGURL/\/postgres\?/\/$db?}"

pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	psql -q "$PGURL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
}
trap cleanup EXIT

# The balancer, with three server slots; a slot with no replica behind it
# is marked down by the health check and gets no request.
lb_env=(LECTERN_LB_BIND="127.0.0.1:$PORT" LECTERN_LB_STATS_BIND="127.0.0.1:$((PORT + 10))"
	LECTERN_LB_ADMIN_SOCKET="$OUT/haproxy.sock")
for i in 1 2 3; do lb_env+=(LECTERN_REPLICA_$i="127.0.0.1:$((PORT + i))"); done
env "${lb_env[@]}" haproxy -c -q -f deploy/haproxy.cfg
env "${lb_env[@]}" haproxy -db -f deploy/haproxy.cfg >"$OUT/haproxy.log" 2>&1 &
lb_pid=$!
pids+=("$lb_pid")

# state N: lectern N's state as the balancer sees it (UP, DOWN, ...).
state() {
	curl -sf "http://127.0.0.1:$((PORT + 10))/stats;csv" |
		awk -F, -v s="lectern$1" '$1 == "lectern" && $2 == s { print $18 }'
}
wait_state() {
	for _ in $(seq 600); do
		[ "$(state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "the balancer does not report lectern$1 $2 (it says $(state "$1"))" >&2
	exit 1
}

# Every replica: the same secret and database; the base URL is the
# balancer's; the limits a load test must lift are off (docs/benchmarks.md),
# and the cap on answers written at once (64 across the replicas, with
# shared limits) is above any reader count, else closed-loop readers
# asking at once measure the cap's cheap 503 BUSY. LECTERN_SHARED_LIMITS
# passes through (on by default, as deployed).
replica_env=(LECTERN_ENV=production LECTERN_SECRET="replicas-benchmark-secret-not-for-production-use"
	LECTERN_DATABASE_URL="$url" LECTERN_BASE_URL="http://127.0.0.1:$PORT" LECTERN_TRUSTED_PROXIES=127.0.0.1
	LECTERN_AUTH_RATE_LIMIT=off LECTERN_CHAT_RATE_LIMIT=off LECTERN_CHAT_DAILY_BUDGET=off
	LECTERN_MAX_ANSWERS=10000 LECTERN_SHARED_LIMITS="${LECTERN_SHARED_LIMITS:-on}")
[ -z "${PROFILE:-}" ] || replica_env+=(LECTERN_PPROF=on)
replica_pids=()
start_replica() {
	local i=$1
	env "${replica_env[@]}" LECTERN_ADDR="127.0.0.1:$((PORT + i))" LECTERN_METRICS_ADDR="127.0.0.1:$((PORT + 20 + i))" \
		LECTERN_DATA_DIR="$OUT/data$i" "$OUT/lectern" serve >"$OUT/lectern$i.log" 2>&1 &
	pids+=($!)
	replica_pids+=($!)
	wait_state "$i" UP
}

# cpu PID...: the CPU seconds the processes used so far.
cpu() {
	local hz t=0 pid
	hz=$(getconf CLK_TCK)
	for pid in "$@"; do
		[ -r "/proc/$pid/stat" ] || continue
		t=$(awk -v t="$t" -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f", t + ($12 + $13) / hz }' "/proc/$pid/stat")
	done
	echo "$t"
}
# PostgreSQL's processes, its connections' included (new ones start at 0).
postgres_cpu() {
	# shellcheck disable=SC2046
	cpu $(pgrep -u postgres . || true)
}
# busy_cpu: the CPU seconds the whole machine has been busy, whoever used them.
busy_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit }' /proc/stat
}

ops="$OUT/ops.md"
procs="$OUT/cpu.md"
: >"$ops"
: >"$procs"
for n in 1 2 3; do
	start_replica "$n"
	for i in $(seq $((n + 1)) 3); do wait_state "$i" DOWN; done
	echo "== $n replica(s) behind the balancer; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	before=("$(cpu "${replica_pids[@]}")" "$(cpu "$lb_pid")" "$(postgres_cpu)" "$(busy_cpu)")
	profilers=()
	if [ -n "${PROFILE:-}" ]; then
		for i in $(seq "$n"); do
			(sleep "${PROFILE_DELAY:-10}" && curl -sf -o "$OUT/cpu-$n-$i.prof" \
				"http://127.0.0.1:$((PORT + 20 + i))/debug/pprof/profile?seconds=${PROFILE_SECONDS:-8}") &
			profilers+=($!)
			pids+=($!)
		done
	fi
	/usr/bin/time -f "%e %U %S" -o "$OUT/gen$n.time" \
		"$OUT/lectern" loadtest --target "http://127.0.0.1:$PORT" --json "${load[@]}" >"$OUT/load$n.json"
	after=("$(cpu "${replica_pids[@]}")" "$(cpu "$lb_pid")" "$(postgres_cpu)" "$(busy_cpu)")
	read -r secs gen_user gen_sys <"$OUT/gen$n.time"
	for pid in "${profilers[@]}"; do wait "$pid" || echo "a profile of run $n failed" >&2; done
	jq -r '.ops[] | select(.derived | not) | [.op, .count, .errors, .rate, (.p50_ms // 0), (.p99_ms // 0)] | @tsv' "$OUT/load$n.json" |
		awk -F'\t' -v n="$n" 'function ms(v) { return v < 10 ? sprintf("%.2f", v) : v < 100 ? sprintf("%.1f", v) : sprintf("%.0f", v) }
			{ printf "| %d | %s | %d | %d | %.1f | %s | %s |\n", n, $1, $2, $3, $4, ms($5), ms($6) }' >>"$ops"
	jq -r '[.load_requests, .totals.errors, .load_rate] | @tsv' "$OUT/load$n.json" |
		awk -F'\t' -v n="$n" '{ printf "| %d | **all, load phase** | %d | %d | **%.0f** | | |\n", n, $1, $2, $3 }' >>"$ops"
	awk -v n="$n" -v s="$secs" -v r0="${before[0]}" -v r1="${after[0]}" -v l0="${before[1]}" -v l1="${after[1]}" \
		-v p0="${before[2]}" -v p1="${after[2]}" -v m0="${before[3]}" -v m1="${after[3]}" -v g="$gen_user" -v gs="$gen_sys" 'BEGIN {
		r = (r1 - r0) / s; p = (p1 - p0) / s; l = (l1 - l0) / s; gen = (g + gs) / s; m = (m1 - m0) / s
		printf "| %d | %.0fs | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", n, s, r, p, l, gen, r + p + l + gen, m
	}' >>"$procs"
done

echo
echo "Load: lectern loadtest ${load[*]} (closed loop), through HAProxy; shared limits ${LECTERN_SHARED_LIMITS:-on}; all on this machine ($(nproc) cores)."
echo
echo "| replicas | operation | count | errors | req/s | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|"
cat "$ops"
echo
echo "CPU used during each run, in cores (CPU seconds / wall seconds, the run's sign-up included); the machine's"
echo "busy time counts every process on it, these and any other:"
echo
echo "| replicas | run | lectern (all replicas) | PostgreSQL | HAProxy | load generator | these, total | machine busy |"
echo "|---|---|---|---|---|---|---|---|"
cat "$procs"
echo
echo "reports, logs: $OUT" >&2
