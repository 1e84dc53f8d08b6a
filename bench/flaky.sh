#!/usr/bin/env bash
# bench/flaky.sh [N]: does the suite pass every time on a busy machine? It
# runs `go test ./...`, exactly as the README says, on a fresh clone of this
# repository N times (default 5), each while a second `go test ./...` runs
# beside it on another clone, and prints the tally. The clones are removed
# at the end; the log of a failed run is printed.
set -euo pipefail
n="${1:-5}"
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git clone -q "$here" "$tmp/a"
git clone -q "$here" "$tmp/b"
pass=0
for i in $(seq 1 "$n"); do
	(cd "$tmp/b" && go test -count=1 ./... >"$tmp/b.log" 2>&1) &
	beside=$!
	start=$(date +%s)
	if (cd "$tmp/a" && go test -count=1 ./... >"$tmp/a.log" 2>&1); then
		pass=$((pass + 1))
		echo "run $i: passed in $(($(date +%s) - start)) s"
	else
		echo "run $i: FAILED after $(($(date +%s) - start)) s:"
		grep -E -- '^(--- FAIL|FAIL|panic)' "$tmp/a.log" | head -20
	fi
	if ! wait "$beside"; then
		echo "run $i: the suite beside it failed:"
		grep -E -- '^(--- FAIL|FAIL|panic)' "$tmp/b.log" | head -20
	fi
done
echo "passed $pass of $n"
