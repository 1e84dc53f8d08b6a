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

. "$here/lib.sh"
install_and_build

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
		LECTERN_CHAT_RATE_LIMIT=off \
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
