#!/usr/bin/env bash
# Runs the official Better Auth client (client.mjs) against a freshly built
# `lectern serve`, once per JWT algorithm.
#
#   bash interop/betterauth/run.sh              # RS256, ES256 and EdDSA
#   bash interop/betterauth/run.sh EdDSA        # just one (or several) algorithms
#
# Needs: go, node >= 20, npm, curl, python3. Network: only `npm ci`.
# Set INTEROP_VERBOSE=1 to print every request/response the client makes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

algs=("$@")
if [ ${#algs[@]} -eq 0 ]; then
	algs=(RS256 ES256 EdDSA)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/lectern-interop.XXXXXX")"
server_pid=""

stop_server() {
	if [ -n "$server_pid" ]; then
		if kill -0 "$server_pid" 2>/dev/null; then
			kill -TERM "$server_pid" 2>/dev/null || true
			for _ in $(seq 1 50); do
				kill -0 "$server_pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$server_pid" 2>/dev/null || true
		fi
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}

cleanup() {
	local rc=$?
	stop_server
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== npm ci (better-auth client)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
echo "   better-auth $(node -p "require('$here/node_modules/better-auth/package.json').version")"

echo "== go build ./cmd/lectern"
(cd "$root" && go build -o "$tmp/lectern" ./cmd/lectern)

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

random_secret() {
	python3 -c 'import secrets, string
a = string.ascii_letters + string.digits
print("".join(secrets.choice(a) for _ in range(48)))'
}

failed=()
for alg in "${algs[@]}"; do
	port="$(free_port)"
	url="http://127.0.0.1:$port"
	data="$tmp/data-$alg"
	log="$tmp/server-$alg.log"
	mkdir -p "$data"

	echo
	echo "== $alg: lectern serve on $url"
	env LECTERN_ADDR="127.0.0.1:$port" \
		LECTERN_BASE_URL="$url" \
		LECTERN_DATA_DIR="$data" \
		LECTERN_SECRET="$(random_secret)" \
		LECTERN_AUTH_RATE_LIMIT=off \
		LECTERN_JWT_ALG="$alg" \
		"$tmp/lectern" serve >"$log" 2>&1 &
	server_pid=$!

	ready=""
	for _ in $(seq 1 120); do # ~30 s
		if ! kill -0 "$server_pid" 2>/dev/null; then
			break
		fi
		if curl -fsS --max-time 1 -o /dev/null "$url/healthz" 2>/dev/null; then
			ready=1
			break
		fi
		sleep 0.25
	done
	if [ -z "$ready" ]; then
		echo "!! $alg: server did not become healthy on $url/healthz; server log:"
		sed 's/^/   | /' "$log"
		stop_server
		failed+=("$alg")
		continue
	fi

	rc=0
	(cd "$here" && LECTERN_URL="$url" LECTERN_JWT_ALG="$alg" node client.mjs) || rc=$?
	stop_server
	if [ "$rc" -ne 0 ]; then
		echo "!! $alg: client failed (exit $rc); server log:"
		sed 's/^/   | /' "$log"
		failed+=("$alg")
	fi
done

echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED for: ${failed[*]}"
	exit 1
fi
echo "all algorithms passed: ${algs[*]}"
