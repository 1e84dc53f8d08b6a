# Shared by run.sh and api.sh: a scratch folder, the processes started (all
# stopped on exit), and small helpers. Source it after setting "here" and
# "root"; it sets "tmp".

tmp="$(mktemp -d "${TMPDIR:-/tmp}/lectern-interop.XXXXXX")"
pids=()

# stop_all stops every process started, by PID: TERM, then KILL after 5 s.
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

# install_and_build installs the pinned npm packages and builds lectern
# into $tmp/lectern.
install_and_build() {
	echo "== npm ci (better-auth)"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
	echo "   better-auth $(node -p "require('$here/node_modules/better-auth/package.json').version")"
	echo "== go build ./cmd/lectern"
	(cd "$root" && go build -o "$tmp/lectern" ./cmd/lectern)
}

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

# wait_healthy URL PID: polls URL until it answers 2xx, for up to ~30 s,
# giving up early if PID exits.
wait_healthy() {
	for _ in $(seq 1 120); do
		kill -0 "$2" 2>/dev/null || return 1
		curl -fsS --max-time 1 -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.25
	done
	return 1
}
