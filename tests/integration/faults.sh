#!/bin/bash
# Faults during a backup, with real processes: kill -9 of cairn at random
# points of a backup of a large tree and of a PostgreSQL database; a
# repository on a file system that fills up, or that becomes read-only;
# fsync, rename and write failures injected at the system-call boundary
# (tests/faults/inject.c, loaded with LD_PRELOAD); a PostgreSQL and a
# Redis server killed mid-dump; the Kong Admin API (the emulator) cutting
# its connection mid-response; SIGTERM and SIGINT in the middle of a job
# with before/after hooks.
#
# After every fault the repository must hold only complete archives:
# `list` names only files that exist, `verify` passes, the next backup
# succeeds and no `.partial` file is left in REPO/archives/*/.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh); CAIRN_LONG=1 for
# the long run (500 kills, a larger tree and database); FAULT_KILLS to
# set the number of kills of each loop (default 50).

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

setup_scratch faults

REPO=$SCRATCH/repo
CONF=$SCRATCH/cairn.conf
TREE=$SCRATCH/tree
long=${CAIRN_LONG:-0}
if [ "$long" = 1 ]; then
	kills=${FAULT_KILLS:-500}
	tree_dirs=200
	pg_rows=3000000
else
	kills=${FAULT_KILLS:-50}
	tree_dirs=40
	pg_rows=300000
fi
# Under valgrind every run is tens of times slower: a smaller tree.
if [ "${CAIRN_VALGRIND:-0}" = 1 ]; then
	tree_dirs=8
	pg_rows=50000
fi
background_pids=()
mounts=()

stop_background() {
	local pid mount
	for pid in "${background_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for mount in "${mounts[@]}"; do
		umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null
	done
}
trap 'stop_background; cleanup' EXIT

cairn() { "$CAIRN" -c "$CONF" "$@"; }

# part NAME: whether to run this part (FAULT_ONLY="kill full inject pg
# redis kong" picks some; all by default).
part() { [ -z "${FAULT_ONLY:-}" ] || [[ " $FAULT_ONLY " == *" $1 "* ]]; }

now_ms() { date +%s%3N; }

# partials: the temporary files left in the repository's job directories.
partials() { find "$1"/archives -mindepth 2 -maxdepth 2 -name '.*.partial' 2>/dev/null; }

# repo_state CONF: "" when the repository is sound -- every archive the
# catalogue lists exists with its recorded size and status ok, and
# verify passes -- else what is wrong.
repo_state() {
	local conf=$1 repo
	repo=$(sed -n 's/^path = //p' "$conf" | head -n 1)
	if ! "$CAIRN" -c "$conf" --json list >"$SCRATCH/state.json" 2>"$SCRATCH/state.err"; then
		echo "list failed: $(tail -n 1 "$SCRATCH/state.err")"
		return
	fi
	python3 - "$SCRATCH/state.json" "$repo" <<'EOF'
import json, os, sys
doc = json.load(open(sys.argv[1]))
for r in doc:
    path = os.path.join(sys.argv[2], "archives", r["job"])
    files = [f for f in os.listdir(path) if r["id"] in f and f.endswith(".tar.zst")] if os.path.isdir(path) else []
    if r["status"] != "ok" or len(files) != 1:
        print("archive %s is listed %s with %d files" % (r["id"], r["status"], len(files)))
    elif os.path.getsize(os.path.join(path, files[0])) != r["stored"]:
        print("archive %s has %d bytes, listed %d" % (r["id"], os.path.getsize(os.path.join(path, files[0])), r["stored"]))
EOF
	if ! "$CAIRN" -c "$conf" verify >"$SCRATCH/state.out" 2>"$SCRATCH/state.err"; then
		echo "verify failed: $(grep -v '^ok' "$SCRATCH/state.err" | tail -n 1)"
	fi
}

# archive_count CONF [JOB]: archives the catalogue lists.
archive_count() {
	local repo
	repo=$(sed -n 's/^path = //p' "$1" | head -n 1)
	[ -d "$repo" ] || { echo 0; return; }
	"$CAIRN" -c "$1" --json list ${2:+--job "$2"} 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo -1
}

# report NAME FAILURES DETAILS-FILE: one TAP line for a loop's invariant.
report() {
	if [ "$2" -eq 0 ]; then
		ok "$1"
	else
		not_ok "$1 ($2 failures)"
		head -n 10 "$3" | sed 's/^/# /'
	fi
}

# ---- sources ---------------------------------------------------------------------
# A large tree: directories of small text files, mid-sized files of
# mixed content and a few incompressible ones.
python3 - "$TREE" "$tree_dirs" <<'EOF'
import os, random, sys
root, dirs = sys.argv[1], int(sys.argv[2])
rng = random.Random(8)
words = ["payment", "merchant", "refund", "ledger", "kafka", "offset",
         "settlement", "batch", "retry", "webhook", "card", "token"]
for d in range(dirs):
    path = os.path.join(root, "d%03d" % d, "sub")
    os.makedirs(path)
    for f in range(40):
        with open(os.path.join(path, "small-%02d.log" % f), "w") as out:
            for i in range(rng.randint(1, 60)):
                out.write("%d %s\n" % (i, " ".join(rng.choice(words) for _ in range(8))))
    with open(os.path.join(root, "d%03d" % d, "mixed.bin"), "wb") as out:
        for i in range(64):
            out.write(os.urandom(2048) if i % 3 == 0 else bytes([i]) * 8192)
    if d % 8 == 0:
        with open(os.path.join(root, "d%03d" % d, "random.bin"), "wb") as out:
            out.write(os.urandom(1 << 20))
EOF
tree_bytes=$(du -sb "$TREE" | cut -f1)
tree_files=$(find "$TREE" -type f | wc -l)
echo "# tree: $tree_files files, $tree_bytes bytes"

pg_port=$(free_port)
pg_pw="fault-pw-$RANDOM$RANDOM"
have_pg=1
start_postgres "$SCRATCH/pg" "$pg_port" "$pg_pw" >/dev/null || have_pg=0
printf '%s\n' "$pg_pw" >"$SCRATCH/pg.password"
chmod 0600 "$SCRATCH/pg.password"
psql_bin="$(pg_bindir)/psql"
sql() { PGPASSWORD=$pg_pw "$psql_bin" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }
if [ "$have_pg" = 1 ]; then
	sql -d postgres -c "CREATE DATABASE alpha" -c "CREATE DATABASE omega" &&
		sql -d alpha -c "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1000) g" &&
		sql -d omega -c "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, repeat(md5((g * 7)::text), 3) AS b, now() AS at FROM generate_series(1, $pg_rows) g" ||
		have_pg=0
fi

redis_port=$(free_port)
have_redis=1
start_redis "$SCRATCH/redis" "$redis_port" || have_redis=0
if [ "$have_redis" = 1 ]; then
	redis-cli -p "$redis_port" DEBUG POPULATE 200000 key 200 >/dev/null || have_redis=0
fi

cat >"$CONF" <<EOF
[repository]
path = $REPO

[retention]
keep-last = 2
keep-hourly = 0
keep-daily = 0
keep-weekly = 0
keep-monthly = 0
keep-yearly = 0

[tree]
plugin = volume
paths = $TREE

[pg]
plugin = postgres
host = 127.0.0.1
port = $pg_port
user = postgres
password-file = $SCRATCH/pg.password
databases = all

[pg-hooked]
plugin = postgres
host = 127.0.0.1
port = $pg_port
user = postgres
password-file = $SCRATCH/pg.password
databases = all
before = echo "before \$CAIRN_JOB \$CAIRN_STATUS" >>"$SCRATCH/hooks.log"
after = echo "after \$CAIRN_JOB \$CAIRN_STATUS" >>"$SCRATCH/hooks.log"

[redis]
plugin = redis
host = 127.0.0.1
port = $redis_port
rdb-path = remote
EOF
chmod 0600 "$CONF"

# ---- kill -9 at random points ---------------------------------------------------------
# kill_loop JOB KILLS: backs JOB up KILLS times, each killed with SIGKILL
# after a random delay between 0 and 1.2 times a full backup's duration;
# after each kill the repository must be sound, and the next backup must
# succeed and leave no temporary file.
kill_loop() {
	local job=$1 n=$2 i start duration delay pid status landed=0 finished=0
	local bad_state=0 bad_next=0 bad_partial=0 problems
	start=$(now_ms)
	if ! cairn backup "$job" >/dev/null 2>"$SCRATCH/last.err"; then
		not_ok "a first backup of $job"
		sed 's/^/# /' "$SCRATCH/last.err" | tail -n 5
		return
	fi
	duration=$(($(now_ms) - start))
	echo "# $job: a full backup takes about $duration ms; $n kills"
	: >"$SCRATCH/kill-$job.log"
	for ((i = 1; i <= n; i++)); do
		delay=$((RANDOM * RANDOM % (duration * 12 / 10 + 1)))
		"$CAIRN" -c "$CONF" backup "$job" >/dev/null 2>&1 &
		pid=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		[ -n "$(partials "$REPO")" ] && landed=$((landed + 1))
		kill -9 "$pid" 2>/dev/null
		wait "$pid"
		status=$?
		[ "$status" -eq 0 ] && finished=$((finished + 1))
		problems=$(repo_state "$CONF")
		if [ -n "$problems" ]; then
			bad_state=$((bad_state + 1))
			echo "kill $i after $delay ms: $problems" >>"$SCRATCH/kill-$job.log"
		fi
		if ! cairn backup "$job" >/dev/null 2>"$SCRATCH/next.err"; then
			bad_next=$((bad_next + 1))
			echo "kill $i after $delay ms: next backup: $(tail -n 1 "$SCRATCH/next.err")" >>"$SCRATCH/kill-$job.log"
		fi
		if [ -n "$(partials "$REPO")" ]; then
			bad_partial=$((bad_partial + 1))
			echo "kill $i after $delay ms: left $(partials "$REPO")" >>"$SCRATCH/kill-$job.log"
		fi
		cairn prune --job "$job" >/dev/null 2>&1
	done
	echo "# $job: $landed of $n kills landed while an archive was being written, $finished backups finished before their kill"
	report "kill -9 x$n during backups of $job: list names only complete archives and verify passes after each" "$bad_state" "$SCRATCH/kill-$job.log"
	report "kill -9 x$n during backups of $job: the next backup succeeds after each" "$bad_next" "$SCRATCH/kill-$job.log"
	report "kill -9 x$n during backups of $job: no .partial file left after the next backup" "$bad_partial" "$SCRATCH/kill-$job.log"
	[ "$landed" -gt 0 ] && ok "kill -9 of $job landed mid-archive ($landed of $n)" ||
		not_ok "no kill of $job landed while an archive was being written"
}

part kill && kill_loop tree "$kills"
if ! part kill; then
	:
elif [ "$have_pg" = 1 ]; then
	kill_loop pg "$kills"
else
	ok "kill -9 during PostgreSQL backups # SKIP no PostgreSQL server"
fi
stray=$(pgrep -f "pg_dump.*-p.*$pg_port|pg_dump.*port=$pg_port" 2>/dev/null | wc -l)
echo "# pg_dump processes left after the kills: $stray"

# ---- a repository that fills up ----------------------------------------------------------
SMALL=$SCRATCH/small
mkdir -p "$SMALL"
if ! part full; then
	:
elif [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=20m,mode=0700 tmpfs "$SMALL" 2>/dev/null; then
	mounts+=("$SMALL")
	mkdir -p "$SCRATCH/little" "$SCRATCH/huge"
	echo "a small tree" >"$SCRATCH/little/note.txt"
	head -c $((30 * 1024 * 1024)) /dev/urandom >"$SCRATCH/huge/random.bin"
	cat >"$SCRATCH/small.conf" <<EOF
[repository]
path = $SMALL/repo
[little]
plugin = volume
paths = $SCRATCH/little
[huge]
plugin = volume
paths = $SCRATCH/huge
EOF
	chmod 0600 "$SCRATCH/small.conf"
	small() { "$CAIRN" -c "$SCRATCH/small.conf" "$@"; }
	expect "a backup into a 20 MiB file system" small backup little
	expect_exit 1 "a backup larger than the file system exits 1" small backup huge
	expect_stderr "[Nn]o space left on device" "the error says the device is full"
	expect_stderr "huge" "the error names the job"
	[ "$(archive_count "$SCRATCH/small.conf" huge)" = 0 ] &&
		ok "nothing catalogued for the failed job" || not_ok "the failed job has an archive"
	[ -z "$(partials "$SMALL/repo")" ] && ok "no .partial file left on the full file system" ||
		not_ok "a .partial file was left: $(partials "$SMALL/repo")"
	problems=$(repo_state "$SCRATCH/small.conf")
	[ -z "$problems" ] && [ "$(archive_count "$SCRATCH/small.conf" little)" = 1 ] &&
		ok "the older archive is intact and verifies" || not_ok "older archive: $problems"
	expect "a backup succeeds once the space is back" small backup little

	# The same file system made read-only under the repository.
	if mount -o remount,ro "$SMALL" 2>/dev/null; then
		expect_exit 1 "a backup into a read-only repository exits 1" small backup little
		expect_stderr "[Rr]ead-only file system" "the error says the file system is read-only"
		expect "list works on a read-only repository" small list
		expect "verify works on a read-only repository" small verify
		mount -o remount,rw "$SMALL"
		expect "a backup succeeds once the repository is writable again" small backup little
		problems=$(repo_state "$SCRATCH/small.conf")
		[ -z "$problems" ] && ok "the repository is sound after being read-only" ||
			not_ok "after read-only: $problems"
	else
		ok "read-only remount # SKIP remount not permitted"
	fi
	umount "$SMALL"
	mounts=()
else
	ok "a repository on a file system that fills up # SKIP cannot mount a tmpfs (not root)"
fi

# A repository whose directories are not writable (for a user other than
# root, whom permissions do not stop).
if [ "$(id -u)" -ne 0 ]; then
	chmod 0500 "$REPO/archives/tree"
	expect_exit 1 "a backup into a read-only job directory exits 1" cairn backup tree
	expect_stderr "[Pp]ermission denied" "the error says permission is denied"
	chmod 0700 "$REPO/archives/tree"
fi

# ---- failures injected at the system call ---------------------------------------------------------
SHIM=$SCRATCH/inject.so
if ! part inject; then
	:
elif cc -shared -fPIC -o "$SHIM" "$top/tests/faults/inject.c" -ldl 2>"$SCRATCH/cc.err"; then
	# inject_sweep CALL ERRNO [sticky]: runs a backup of a small tree
	# with the Nth CALL failing, for N = 1, 2, ... until a run no longer
	# reaches it.
	mkdir -p "$SCRATCH/few"
	for i in 1 2 3; do head -c 200000 /dev/urandom >"$SCRATCH/few/f$i"; done
	cat >"$SCRATCH/inject.conf" <<EOF
[repository]
path = $SCRATCH/inject-repo
[few]
plugin = volume
paths = $SCRATCH/few
EOF
	chmod 0600 "$SCRATCH/inject.conf"
	"$CAIRN" -c "$SCRATCH/inject.conf" backup few >/dev/null 2>&1
	inject_sweep() {
		local call=$1 errno=$2 sticky=${3:-} n status bad=0 wrong_exit=0 hits=0
		local failed_runs=0 warned_runs=0 before after problems
		: >"$SCRATCH/inject-$call.log"
		for ((n = 1; n <= 400; n++)); do
			rm -f "$SCRATCH/fired"
			before=$(archive_count "$SCRATCH/inject.conf" few)
			CAIRN_FAULT="$call:$n:$errno${sticky:+:sticky}" CAIRN_FAULT_LOG="$SCRATCH/fired" \
				LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
				"$CAIRN" -c "$SCRATCH/inject.conf" backup few >/dev/null 2>"$SCRATCH/inject.err"
			status=$?
			[ -s "$SCRATCH/fired" ] || break
			hits=$((hits + 1))
			after=$(archive_count "$SCRATCH/inject.conf" few)
			# Either the archive was not committed (exit 1, the
			# catalogue unchanged) or the failure came after the
			# archive was durable (exit 0 with a warning, the archive
			# catalogued).
			if [ "$status" -eq 1 ] && [ "$after" = "$before" ] &&
				grep -qiE "$call|input/output|no space" "$SCRATCH/inject.err"; then
				failed_runs=$((failed_runs + 1))
			elif [ "$status" -eq 0 ] && [ "$after" = $((before + 1)) ] &&
				grep -qiE "warning: .*($call|input/output|no space)" "$SCRATCH/inject.err"; then
				warned_runs=$((warned_runs + 1))
			else
				wrong_exit=$((wrong_exit + 1))
				echo "$call $n: exit $status, archives $before -> $after: $(tail -n 1 "$SCRATCH/inject.err")" >>"$SCRATCH/inject-$call.log"
			fi
			problems=$(repo_state "$SCRATCH/inject.conf")
			if [ -n "$problems" ] || [ -n "$(partials "$SCRATCH/inject-repo")" ]; then
				bad=$((bad + 1))
				echo "$call $n: $problems $(partials "$SCRATCH/inject-repo")" >>"$SCRATCH/inject-$call.log"
			fi
			"$CAIRN" -c "$SCRATCH/inject.conf" backup few >/dev/null 2>&1 ||
				{ bad=$((bad + 1)); echo "$call $n: the next backup failed" >>"$SCRATCH/inject-$call.log"; }
			"$CAIRN" -c "$SCRATCH/inject.conf" prune >/dev/null 2>&1
		done
		echo "# $call failing with $errno${sticky:+ (sticky)}: $hits runs reached the fault: $failed_runs failed the backup, $warned_runs came after the archive was durable and warned"
		if [ "$hits" -eq 0 ]; then
			not_ok "no backup reached a $call"
			return
		fi
		report "each of $hits failing ${call}s ($errno${sticky:+, sticky}): exit 1 and nothing catalogued, or exit 0 with a warning once the archive is durable" "$wrong_exit" "$SCRATCH/inject-$call.log"
		report "after each of $hits failing ${call}s the repository verifies and no .partial is left" "$bad" "$SCRATCH/inject-$call.log"
	}
	inject_sweep fsync EIO
	inject_sweep rename EIO
	inject_sweep write ENOSPC sticky
	inject_sweep write EIO
else
	ok "fsync, rename and write failures # SKIP no C compiler: $(head -n 1 "$SCRATCH/cc.err")"
fi

# ---- source servers killed mid-dump --------------------------------------------------------------
# A session holding a lock on omega's table stops pg_dump mid-run (alpha
# and the roles are dumped already), deterministically.
hold_lock() {
	sql -d omega -c "SET application_name = 'faults-lock'" \
		-c "BEGIN" -c "LOCK TABLE big IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
	background_pids+=($!)
	local tries=100
	until [ "$(sql -d postgres -At -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'faults-lock' AND l.mode = 'AccessExclusiveLock' AND l.granted")" -ge 1 ] 2>/dev/null; do
		sleep 0.1
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
	done
}
release_lock() {
	sql -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'faults-lock'" >/dev/null 2>&1
}
# wait_dump_blocked: until a pg_dump waits for the lock.
wait_dump_blocked() {
	local tries=300
	until [ "$(sql -d postgres -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cairn' AND wait_event_type = 'Lock'" 2>/dev/null)" -ge 1 ] 2>/dev/null; do
		sleep 0.1
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
	done
}

if ! part pg; then
	:
elif [ "$have_pg" = 1 ]; then
	before=$(archive_count "$CONF" pg)
	if hold_lock; then
		cairn backup pg >"$SCRATCH/pgkill.out" 2>"$SCRATCH/pgkill.err" &
		pid=$!
		background_pids+=("$pid")
		if wait_dump_blocked; then
			as_test_user "$(pg_bindir)/pg_ctl" -D "$SCRATCH/pg/data" -m immediate stop >/dev/null 2>&1
			wait "$pid"
			status=$?
			[ "$status" -eq 1 ] && ok "PostgreSQL killed mid-dump: the backup exits 1" ||
				{ not_ok "PostgreSQL killed mid-dump: exit $status"; sed 's/^/# /' "$SCRATCH/pgkill.err" | tail -n 5; }
			grep -qE "pg_dump|omega|connection|server" "$SCRATCH/pgkill.err" &&
				ok "the error names what failed ($(grep -m1 -oE "error: .{0,100}" "$SCRATCH/pgkill.err"))" ||
				{ not_ok "the error does not say what failed"; sed 's/^/# /' "$SCRATCH/pgkill.err" | tail -n 5; }
		else
			not_ok "pg_dump never waited for the lock"
			kill "$pid" 2>/dev/null
			wait "$pid"
		fi
		as_test_user "$(pg_bindir)/pg_ctl" -D "$SCRATCH/pg/data" -l "$SCRATCH/pg/server.log" -w \
			-o "-p $pg_port -k $SCRATCH/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
		server_pids+=("$(head -n 1 "$SCRATCH/pg/data/postmaster.pid")")
		[ "$(archive_count "$CONF" pg)" = "$before" ] && [ -z "$(partials "$REPO")" ] &&
			ok "nothing catalogued and nothing left after the server died" ||
			not_ok "the failed PostgreSQL backup left something"
		problems=$(repo_state "$CONF")
		[ -z "$problems" ] && ok "the repository verifies after the server died" || not_ok "$problems"
		expect "a backup succeeds once PostgreSQL is back" cairn backup pg
	else
		not_ok "could not take the table lock"
	fi

	# SIGTERM and SIGINT in the middle of a job with hooks: the dump is
	# blocked on the lock, so the signal lands inside the plugin.
	for sig in TERM INT; do
		rm -f "$SCRATCH/hooks.log"
		before=$(archive_count "$CONF" pg-hooked)
		if hold_lock; then
			"$CAIRN" -c "$CONF" backup pg-hooked >"$SCRATCH/sig.out" 2>"$SCRATCH/sig.err" &
			pid=$!
			background_pids+=("$pid")
			if wait_dump_blocked; then
				kill -"$sig" "$pid"
				wait "$pid"
				status=$?
				want=$([ "$sig" = TERM ] && echo 143 || echo 130)
				[ "$status" -eq "$want" ] && ok "SIG$sig mid-dump exits $want" ||
					{ not_ok "SIG$sig mid-dump: exit $status"; sed 's/^/# /' "$SCRATCH/sig.err" | tail -n 5; }
				grep -qx "after pg-hooked interrupted" "$SCRATCH/hooks.log" 2>/dev/null &&
					ok "the after hook ran on SIG$sig with CAIRN_STATUS=interrupted" ||
					{ not_ok "the after hook on SIG$sig"; sed 's/^/# /' "$SCRATCH/hooks.log" 2>/dev/null; }
				[ "$(archive_count "$CONF" pg-hooked)" = "$before" ] && [ -z "$(partials "$REPO")" ] &&
					ok "nothing catalogued and no .partial left after SIG$sig" ||
					not_ok "SIG$sig left an archive or a .partial file"
				sleep 0.5
				left=$(sql -d postgres -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cairn'")
				[ "$left" = 0 ] && ok "no pg_dump left running after SIG$sig" ||
					not_ok "$left pg_dump sessions left after SIG$sig"
			else
				not_ok "pg_dump never waited for the lock (SIG$sig)"
				kill "$pid" 2>/dev/null
			fi
			release_lock
		else
			not_ok "could not take the table lock (SIG$sig)"
		fi
	done
	problems=$(repo_state "$CONF")
	[ -z "$problems" ] && ok "the repository verifies after the signals" || not_ok "$problems"
else
	ok "PostgreSQL killed mid-dump # SKIP no PostgreSQL server"
fi

if ! part redis; then
	:
elif [ "$have_redis" = 1 ]; then
	# The RDB comes over the replication protocol; the server is killed
	# once the transfer has begun.
	before=$(archive_count "$CONF" redis)
	"$CAIRN" -c "$CONF" backup redis >"$SCRATCH/redis.out" 2>"$SCRATCH/redis.err" &
	pid=$!
	tries=300
	until [ -n "$(partials "$REPO")" ] || ! kill -0 "$pid" 2>/dev/null || [ "$tries" -eq 0 ]; do
		sleep 0.02
		tries=$((tries - 1))
	done
	kill -9 "$REDIS_PID" 2>/dev/null
	wait "$pid"
	status=$?
	if [ "$status" -eq 1 ]; then
		ok "Redis killed mid-transfer: the backup exits 1"
		expect_stderr_file() { grep -qE "$1" "$SCRATCH/redis.err"; }
		expect_stderr_file "redis|connection|127\.0\.0\.1:$redis_port" &&
			ok "the error names the server ($(grep -m1 -oE "error: .{0,100}" "$SCRATCH/redis.err"))" ||
			not_ok "the error does not name the server"
		[ "$(archive_count "$CONF" redis)" = "$before" ] && ok "nothing catalogued after Redis died" ||
			not_ok "an archive was catalogued after Redis died"
	elif [ "$status" -eq 0 ]; then
		ok "Redis killed after the transfer: the backup finished # SKIP the transfer was over before the kill"
	else
		not_ok "Redis killed mid-transfer: exit $status"
		sed 's/^/# /' "$SCRATCH/redis.err" | tail -n 5
	fi
	[ -z "$(partials "$REPO")" ] && ok "no .partial left after Redis died" || not_ok "a .partial was left"
	problems=$(repo_state "$CONF")
	[ -z "$problems" ] && ok "the repository verifies after Redis died" || not_ok "$problems"
	start_redis "$SCRATCH/redis" "$redis_port" >/dev/null
	redis-cli -p "$redis_port" DEBUG POPULATE 1000 key 20 >/dev/null
	expect "a backup succeeds once Redis is back" cairn backup redis
else
	ok "Redis killed mid-dump # SKIP no Redis server"
fi

# ---- the Kong Admin API cutting its connection -------------------------------------------------------
emulator=$top/tests/kong-emulator/kong_emulator.py
kong_tool=$top/tests/kong-emulator/kong_tool.py
# start_emulator [args]: sets KONG_PORT and KONG_PID.
start_emulator() {
	rm -f "$SCRATCH/kong.port"
	python3 "$emulator" "$@" >"$SCRATCH/kong.port" 2>>"$SCRATCH/kong-emulator.log" &
	KONG_PID=$!
	background_pids+=("$KONG_PID")
	local tries=100
	KONG_PORT=
	while [ -z "$KONG_PORT" ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		KONG_PORT=$(head -n 1 "$SCRATCH/kong.port" 2>/dev/null)
		tries=$((tries - 1))
	done
}
kong_requests() {
	python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + "/status"))["server"]["total_requests"])' "http://127.0.0.1:$KONG_PORT"
}
part kong && start_emulator
if ! part kong; then
	:
elif [ -n "${KONG_PORT:-}" ]; then
	python3 "$kong_tool" seed "http://127.0.0.1:$KONG_PORT" --scale 150 >/dev/null 2>&1
	seeded=$(($(kong_requests) - 1))
	kong_conf() {
		printf '[repository]\npath = %s\n[kong]\nplugin = kong\nadmin-url = http://127.0.0.1:%s\n' \
			"$SCRATCH/kong-repo" "$KONG_PORT" >"$SCRATCH/kong.conf"
		chmod 0600 "$SCRATCH/kong.conf"
	}
	kong_conf
	"$CAIRN" -c "$SCRATCH/kong.conf" backup kong >/dev/null 2>"$SCRATCH/kong.err" ||
		not_ok "a backup of the emulator failed: $(tail -n 1 "$SCRATCH/kong.err")"
	backup_requests=$(($(kong_requests) - seeded - 2))
	kill "$KONG_PID"
	wait "$KONG_PID" 2>/dev/null
	echo "# kong: seeding takes $seeded requests, a backup $backup_requests"
	if [ "$long" = 1 ]; then step=1; else step=$(((backup_requests + 7) / 8)); fi
	bad=0 cuts=0
	: >"$SCRATCH/kong-cuts.log"
	for ((k = 0; k < backup_requests; k += step)); do
		start_emulator --fail-after $((seeded + k))
		kong_conf
		python3 "$kong_tool" seed "http://127.0.0.1:$KONG_PORT" --scale 150 >/dev/null 2>&1
		before=$(archive_count "$SCRATCH/kong.conf" kong)
		"$CAIRN" -c "$SCRATCH/kong.conf" backup kong >/dev/null 2>"$SCRATCH/kong.err"
		status=$?
		cuts=$((cuts + 1))
		after=$(archive_count "$SCRATCH/kong.conf" kong)
		if [ "$status" -ne 1 ] || [ "$after" != "$before" ] || [ -n "$(partials "$SCRATCH/kong-repo")" ]; then
			bad=$((bad + 1))
			echo "cut in request $((k + 1)) of the backup: exit $status, archives $before -> $after: $(tail -n 1 "$SCRATCH/kong.err")" >>"$SCRATCH/kong-cuts.log"
		else
			echo "# cut in request $((k + 1)): $(grep -m1 -oE "error: .{0,120}" "$SCRATCH/kong.err")"
		fi
		kill "$KONG_PID"
		wait "$KONG_PID" 2>/dev/null
	done
	report "Kong Admin API cut mid-response at $cuts points of a backup: exit 1, nothing catalogued, nothing left" "$bad" "$SCRATCH/kong-cuts.log"
	problems=$(repo_state "$SCRATCH/kong.conf")
	[ -z "$problems" ] && ok "the kong repository verifies after the cuts" || not_ok "$problems"
else
	not_ok "the Kong emulator did not start"
fi

finish
