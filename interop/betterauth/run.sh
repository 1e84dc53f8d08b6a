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

. "$here/lib.sh"
install_and_build

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
	pids+=($!)
	if ! wait_healthy "$url/healthz" "${pids[-1]}"; then
		echo "!! $alg: server did not become healthy on $url/healthz; server log:"
		sed 's/^/   | /' "$log"
		stop_all
		failed+=("$alg")
		continue
	fi

	rc=0
	(cd "$here" && LECTERN_URL="$url" LECTERN_JWT_ALG="$alg" node client.mjs) || rc=$?
	stop_all
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
