# Shared helpers for the integration scripts: TAP output, a scratch
# directory kept on failure, and real servers started on loopback as an
# unprivileged user (PostgreSQL refuses to run as root).
#
# A script sources this file, calls `setup_scratch NAME`, then uses `ok`,
# `not_ok`, `expect`, `expect_exit`, `run_cairn`, `json_check`, `flip`,
# `wait_for` and ends with `finish`.
#
# Environment:
#   CAIRN        the cairn binary to test (default: cairn on PATH)
#   CAIRN_PLUGIN_DIR  where its plugins are
#   CAIRN_TEST_KEEP=1 keep the scratch directory even on success

set -u

CAIRN=${CAIRN:-cairn}
TEST_USER=${TEST_USER:-cairntest}
tap_count=0
tap_failed=0
server_pids=()

ok() {
	tap_count=$((tap_count + 1))
	echo "ok $tap_count - $*"
}

not_ok() {
	tap_count=$((tap_count + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_count - $*"
}

# start_kong NAME [emulator arguments]: starts the Kong emulator of
# tests/kong-emulator on a free loopback port (stopped with the other
# servers); sets KONG_URL and KONG_PID.
start_kong() {
	local name=$1 tries=100
	shift
	python3 "$(dirname "${BASH_SOURCE[0]}")/../kong-emulator/kong_emulator.py" \
		--port 0 "$@" >"$SCRATCH/$name.port" 2>"$SCRATCH/$name.log" &
	KONG_PID=$!
	server_pids+=("$KONG_PID")
	while ! grep -q '^[0-9][0-9]*$' "$SCRATCH/$name.port" 2>/dev/null &&
		[ "$tries" -gt 0 ]; do
		sleep 0.05
		tries=$((tries - 1))
	done
	KONG_URL=http://127.0.0.1:$(head -n 1 "$SCRATCH/$name.port")
}

# CAIRN_WRAPPER (e.g. valgrind) runs in front of cairn when set.
run_cairn() { ${CAIRN_WRAPPER:-} "$CAIRN" "$@"; }

# flip FILE OFFSET: flips one bit of the byte at OFFSET.
flip() {
	python3 - "$1" "$2" <<'EOF'
import sys
path, offset = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(offset)
    byte = f.read(1)[0]
    f.seek(offset)
    f.write(bytes([byte ^ 0x10]))
EOF
}

# json_check DESCRIPTION PYTHON-EXPRESSION: evaluates the expression with
# `doc` bound to the JSON document in last.out.
json_check() {
	if python3 - "$SCRATCH/last.out" "$2" <<'EOF'; then
import json, sys, time
with open(sys.argv[1]) as f:
    doc = json.load(f)
ok = eval(sys.argv[2])
if not ok:
    print("# document: %s" % json.dumps(doc)[:2000])
sys.exit(0 if ok else 1)
EOF
		ok "$1"
	else
		not_ok "$1"
	fi
}

# wait_for FILE: until FILE exists (a bounded wait for a background step).
wait_for() {
	local tries=300
	while [ ! -e "$1" ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	[ -e "$1" ]
}

# expect DESCRIPTION COMMAND...: ok when the command succeeds.
expect() {
	local description=$1
	shift
	if "$@" >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"; then
		ok "$description"
	else
		not_ok "$description (exit $?)"
		sed 's/^/# /' "$SCRATCH/last.err" | tail -n 20
	fi
}

# expect_exit CODE DESCRIPTION COMMAND...: ok when the command exits CODE.
expect_exit() {
	local want=$1 description=$2 status
	shift 2
	"$@" >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
	status=$?
	if [ "$status" -eq "$want" ]; then
		ok "$description"
	else
		not_ok "$description (exit $status, wanted $want)"
		sed 's/^/# /' "$SCRATCH/last.err" | tail -n 20
	fi
}

# expect_stderr PATTERN DESCRIPTION: the last command's stderr matches.
expect_stderr() {
	if grep -qE -- "$1" "$SCRATCH/last.err"; then
		ok "$2"
	else
		not_ok "$2 (stderr does not match '$1')"
		sed 's/^/# /' "$SCRATCH/last.err" | tail -n 20
	fi
}

# expect_stdout PATTERN DESCRIPTION: the last command's stdout matches.
expect_stdout() {
	if grep -qE -- "$1" "$SCRATCH/last.out"; then
		ok "$2"
	else
		not_ok "$2 (stdout does not match '$1')"
		sed 's/^/# /' "$SCRATCH/last.out" | tail -n 20
	fi
}

setup_scratch() {
	# Without it every path below would be relative to /: stop.
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/cairn-$1.XXXXXX") || {
		echo "Bail out! cannot create a scratch directory"
		exit 1
	}
	chmod 0755 "$SCRATCH"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

cleanup() {
	local pid
	for pid in "${server_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${server_pids[@]}"; do
		wait_gone "$pid" 20
		kill -9 "$pid" 2>/dev/null
	done
	if [ "$tap_failed" -eq 0 ] && [ "${CAIRN_TEST_KEEP:-0}" != 1 ]; then
		rm -rf "$SCRATCH"
	else
		echo "# scratch directory kept: $SCRATCH"
	fi
}

finish() {
	echo "1..$tap_count"
	[ "$tap_failed" -eq 0 ]
	exit $?
}

wait_gone() {
	local pid=$1 tries=$(($2 * 10))
	while kill -0 "$pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
}

# A free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the unprivileged test user when we are root.
as_test_user() {
	if [ "$(id -u)" -eq 0 ]; then
		if ! id "$TEST_USER" >/dev/null 2>&1; then
			useradd --system --no-create-home --shell /bin/sh \
				"$TEST_USER" 2>/dev/null
		fi
		runuser -u "$TEST_USER" -- "$@"
	else
		"$@"
	fi
}

pg_bindir() {
	local dir
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		echo "$dir"
		return
	done
	dirname "$(command -v initdb)"
}

# start_postgres DIR PORT PASSWORD: a cluster owned by the test user with
# scram authentication over TCP on 127.0.0.1; the superuser is
# "postgres" with PASSWORD. Sets PG_PID.
start_postgres() {
	local dir=$1 port=$2 password=$3 bin
	bin=$(pg_bindir)
	mkdir -p "$dir"
	chown "$TEST_USER" "$dir" 2>/dev/null || as_test_user true
	chown "$TEST_USER" "$dir" 2>/dev/null
	printf '%s\n' "$password" >"$dir.pw"
	chown "$TEST_USER" "$dir.pw" 2>/dev/null
	as_test_user "$bin/initdb" -D "$dir/data" -U postgres \
		--auth-local=trust --auth-host=scram-sha-256 \
		--pwfile="$dir.pw" -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
		{ cat "$dir.initdb.log"; return 1; }
	rm -f "$dir.pw"
	as_test_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" \
		start >/dev/null || { cat "$dir/server.log"; return 1; }
	PG_PID=$(head -n 1 "$dir/data/postmaster.pid")
	server_pids+=("$PG_PID")
}

# start_redis DIR PORT [redis-server arguments...]. Sets REDIS_PID.
start_redis() {
	local dir=$1 port=$2
	shift 2
	mkdir -p "$dir"
	chown "$TEST_USER" "$dir" 2>/dev/null || { as_test_user true; chown "$TEST_USER" "$dir"; }
	# A server killed before leaves its pid file: waiting on it would
	# take the dead server's pid and leave the new one running.
	rm -f "$dir/redis.pid"
	as_test_user redis-server --port "$port" --bind 127.0.0.1 \
		--dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
		--logfile "$dir/redis.log" --save '' --enable-debug-command yes \
		"$@" || return 1
	local tries=50
	while [ ! -s "$dir/redis.pid" ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	REDIS_PID=$(cat "$dir/redis.pid")
	server_pids+=("$REDIS_PID")
	tries=50
	while ! redis-cli -p "$port" ${REDISCLI_AUTH:+--no-auth-warning} ping 2>/dev/null | grep -q PONG && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
}

# stop_pid PID: stop one server started above, and wait for it.
stop_pid() {
	kill "$1" 2>/dev/null
	wait_gone "$1" 20
}
