#!/usr/bin/env bash
# Lectern's identity service side by side with a real Better Auth server
# (interop/betterauth/server.mjs: better-auth with its jwt() plugin, an
# in-memory database, rate limits off) on this machine, the same wrk
# settings against both, for each signing algorithm: GET /api/auth/get-session
# (whose set-auth-jwt header carries a JWT) and GET /api/auth/token with one
# signed-in reader's cookie, as a browser sends them, and GET /api/auth/jwks
# without, as a verifying server fetches it.
# Prints a Markdown table with the ratio of the two.
#
#   bash bench/auth.sh                 # RS256 and EdDSA, 10 s per endpoint
#   DURATION=30s bash bench/auth.sh RS256
#
# Lectern runs as `lectern serve` on SQLite in a scratch folder (or on
# LECTERN_DATABASE_URL when set). Needs: go, node >= 20, npm, curl,
# python3, wrk (installed with apt-get when missing and allowed). Network:
# only `npm ci` and loopback.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../interop/betterauth" && pwd)"
root="$(cd "$here/../.." && pwd)"
algs=("$@")
[ ${#algs[@]} -gt 0 ] || algs=(RS256 EdDSA)
duration="${DURATION:-10s}"
threads="${THREADS:-2}"
conns="${CONNECTIONS:-32}"

if ! command -v wrk >/dev/null; then
	echo "== apt-get install wrk"
	apt-get install -y wrk >/dev/null
fi

. "$here/lib.sh"
install_and_build

# signup URL EMAIL: signs a reader up and prints the session cookie pair.
signup() {
	curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' -H "Origin: $1" \
		--data "{\"name\":\"Bench Reader\",\"email\":\"$2\",\"password\":\"a long enough password\"}" \
		"$1/api/auth/sign-up/email" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(better-auth\.session_token=[^;]*\).*/\1/p' | head -1
}

# rate URL [COOKIE]: requests per second wrk sustains on URL, with the
# session cookie and the page's Origin when COOKIE is given.
rate() {
	local headers=()
	[ -z "${2:-}" ] || headers=(-H "Cookie: $2" -H "Origin: ${1%%/api/*}")
	wrk -t"$threads" -c"$conns" -d"$duration" "${headers[@]}" "$1" |
		awk '/^Requests\/sec:/ { printf "%.0f", $2 } /Non-2xx/ { bad = 1 } END { if (bad) printf " (errors)" }'
}

rows=()
for alg in "${algs[@]}"; do
	ba_port="$(free_port)"
	lt_port="$(free_port)"
	ba="http://127.0.0.1:$ba_port"
	lt="http://127.0.0.1:$lt_port"
	echo "== $alg: Better Auth on $ba, lectern serve on $lt"
	(cd "$here" && BA_PORT="$ba_port" BA_JWT_ALG="$alg" exec node server.mjs) >"$tmp/ba-$alg.log" 2>&1 &
	pids+=($!)
	wait_healthy "$ba/api/auth/ok" "${pids[-1]}" || { echo "Better Auth did not start"; cat "$tmp/ba-$alg.log"; exit 1; }
	mkdir -p "$tmp/data-$alg"
	env LECTERN_ADDR="127.0.0.1:$lt_port" LECTERN_BASE_URL="$lt" LECTERN_DATA_DIR="$tmp/data-$alg" \
		LECTERN_SECRET="$(random_secret)" LECTERN_JWT_ALG="$alg" LECTERN_AUTH_RATE_LIMIT=off LECTERN_LOG_LEVEL=warn \
		"$tmp/lectern" serve >"$tmp/lectern-$alg.log" 2>&1 &
	pids+=($!)
	wait_healthy "$lt/readyz" "${pids[-1]}" || { echo "lectern did not start"; cat "$tmp/lectern-$alg.log"; exit 1; }

	ba_cookie="$(signup "$ba" "bench-$alg@example.com")"
	lt_cookie="$(signup "$lt" "bench-$alg@example.com")"
	[ -n "$ba_cookie" ] && [ -n "$lt_cookie" ] || { echo "sign-up gave no session cookie"; exit 1; }
	curl -fsS -H "Cookie: $ba_cookie" "$ba/api/auth/token" >/dev/null
	curl -fsS -H "Cookie: $lt_cookie" "$lt/api/auth/token" >/dev/null

	for ep in get-session token jwks; do
		bc="$ba_cookie" lc="$lt_cookie"
		[ "$ep" != jwks ] || bc="" lc=""
		echo "   $ep: Better Auth…"
		b="$(rate "$ba/api/auth/$ep" "$bc")"
		echo "   $ep: Lectern…"
		l="$(rate "$lt/api/auth/$ep" "$lc")"
		ratio="$(python3 -c "import sys; b, l = float('${b%% *}'), float('${l%% *}'); print(f'{l / b:.1f}×' if b else '–')")"
		rows+=("| $alg | \`GET /api/auth/$ep\` | $l | $b | $ratio |")
	done
	stop_all
done

echo
echo "wrk -t$threads -c$conns -d$duration, loopback, $(nproc) cores; Better Auth $(node -p "require('$here/node_modules/better-auth/package.json').version") on Node $(node --version)"
echo
echo "| alg | endpoint | Lectern req/s | Better Auth req/s | ratio |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
