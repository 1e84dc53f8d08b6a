#!/usr/bin/env bash
# eval/sitecheck.sh SITE [PORT]: serve a Docusaurus site (or any book) with
# Lectern and check what a reader's browser gets: ingest's report of
# problems, then eval/sitecheck over every page (broken images, internal
# links that lead nowhere, markup shown as text). Exits non-zero when the
# check fails. Nothing of the site is kept: its data goes to a temporary
# folder that is removed at the end.
set -euo pipefail
site="$(cd "${1:?usage: eval/sitecheck.sh SITE [PORT]}" && pwd)"
port="${2:-18931}"
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/lectern" ./cmd/lectern
"$tmp/lectern" ingest --data-dir "$tmp/data" "$site" 2>&1 | grep -v "^reading"
LECTERN_DATA_DIR="$tmp/data" LECTERN_ADDR="127.0.0.1:$port" LECTERN_SECRET="$(head -c 30 /dev/urandom | base64)" \
	"$tmp/lectern" serve >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	curl -fs "http://127.0.0.1:$port/api/book" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.log" >&2; exit 2; }
	sleep 0.1
done
go run ./eval/sitecheck "http://127.0.0.1:$port"
