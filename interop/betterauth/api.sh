#!/usr/bin/env bash
# Starts a real Better Auth server (server.mjs: better-auth with its jwt()
# plugin) on loopback and a freshly built `lectern api` that verifies its JWTs
# through the server's JWKS, then runs api-client.mjs against both. Once with
# the plugin's default key type (EdDSA) and once with RS256.
#
#   bash interop/betterauth/api.sh            # default and RS256
#   bash interop/betterauth/api.sh RS256      # just one ("default" names the plugin default)
#
# Needs: go, node >= 20, npm, curl, python3. Network: only `npm ci`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

algs=("$@")
if [ ${#algs[@]} -eq 0 ]; then
	algs=(default RS256)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/lectern-interop-api.XXXXXX")"
pids=()

stop_all() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	pids=()
}

cleanup() {
	local rc=$?
	stop_all
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== npm ci (better-auth)"
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

# wait_healthy URL PID: polls URL until it answers 2xx, for up to ~30 s.
wait_healthy() {
	for _ in $(seq 1 120); do
		kill -0 "$2" 2>/dev/null || return 1
		curl -fsS --max-time 1 -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.25
	done
	return 1
}

show_logs() {
	echo "   Better Auth log:"; sed 's/^/   | /' "$1"
	echo "   lectern api log:"; sed 's/^/   | /' "$2"
}

failed=()
for alg in "${algs[@]}"; do
	ba_port="$(free_port)"
	api_port="$(free_port)"
	ba_url="http://127.0.0.1:$ba_port"
	api_url="http://127.0.0.1:$api_port"
	ba_log="$tmp/ba-$alg.log"
	api_log="$tmp/api-$alg.log"
	ba_alg=""
	[ "$alg" = default ] || ba_alg="$alg"

	echo
	echo "== $alg: Better Auth on $ba_url, lectern api on $api_url"
	(cd "$here" && BA_PORT="$ba_port" BA_JWT_ALG="$ba_alg" exec node server.mjs) >"$ba_log" 2>&1 &
	pids+=($!)
	if ! wait_healthy "$ba_url/api/auth/ok" "${pids[-1]}"; then
		echo "!! $alg: Better Auth server did not start"; show_logs "$ba_log" /dev/null
		stop_all; failed+=("$alg"); continue
	fi

	mkdir -p "$tmp/data-$alg"
	env LECTERN_ADDR="127.0.0.1:$api_port" \
		LECTERN_DATA_DIR="$tmp/data-$alg" \
		LECTERN_JWKS_URL="$ba_url/api/auth/jwks" \
		LECTERN_JWT_ISSUER="$ba_url" \
		LECTERN_JWT_AUDIENCE="$ba_url" \
		LECTERN_AGENT_RATE_LIMIT=off \
		"$tmp/lectern" api >"$api_log" 2>&1 &
	pids+=($!)
	if ! wait_healthy "$api_url/readyz" "${pids[-1]}"; then
		echo "!! $alg: lectern api did not become ready"; show_logs "$ba_log" "$api_log"
		stop_all; failed+=("$alg"); continue
	fi

	rc=0
	expect=""
	[ "$alg" = default ] && expect=EdDSA || expect="$alg"
	(cd "$here" && BA_URL="$ba_url" LECTERN_API_URL="$api_url" BA_JWT_ALG="$expect" node api-client.mjs) || rc=$?
	stop_all
	if [ "$rc" -ne 0 ]; then
		echo "!! $alg: failed (exit $rc)"; show_logs "$ba_log" "$api_log"
		failed+=("$alg")
	fi
done

echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED for: ${failed[*]}"
	exit 1
fi
echo "lectern api accepted Better Auth JWTs for: ${algs[*]}"
