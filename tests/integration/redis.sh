#!/bin/bash
# The redis plugin against real redis-server processes on loopback: a
# dataset of every type (~300k keys) backed up and restored into an empty
# server through redis:// and through a directory, with the same DEBUG
# DIGEST; the replication fallback, disk-based and diskless; stock tar and
# zstd reading the archive; an ACL user and a wrong password; a server
# killed in the middle of BGSAVE; a truncated RDB; check and drill; RDB
# files of every encoding Redis has written, empty keys included.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh); REDIS_TEST_KEYS to
# change the dataset size.

. "$(dirname "$0")/lib.sh"

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	echo "1..0 # SKIP redis-server or redis-cli not found"
	exit 0
fi

setup_scratch redis
here=$(cd "$(dirname "$0")" && pwd)
keys=${REDIS_TEST_KEYS:-300000}
conf=$SCRATCH/cairn.conf

cli() {
	local port=$1
	shift
	redis-cli -p "$port" --no-auth-warning "$@"
}

digest() {
	cli "$1" "${@:2}" DEBUG DIGEST
}

info_field() {
	cli "$1" INFO persistence | tr -d '\r' | sed -n "s/^$2://p"
}

# An empty directory the test user owns, for servers started on it.
user_dir() {
	as_test_user true
	mkdir -p "$1"
	chown "$TEST_USER" "$1" 2>/dev/null
}

# Archives of JOB in the catalogue.
archive_count() {
	"$CAIRN" -c "$conf" --json list --job "$1" 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

src_port=$(free_port)
start_redis "$SCRATCH/src" "$src_port" --repl-diskless-sync no \
	--repl-diskless-sync-delay 0 || { not_ok "start the source server"; finish; }
python3 "$here/redis/generate.py" --keys "$keys" | cli "$src_port" --pipe >"$SCRATCH/pipe.log" 2>&1
if grep -q "errors: 0" "$SCRATCH/pipe.log"; then
	ok "load $(cli "$src_port" DBSIZE) keys into db0 of the source"
else
	not_ok "load the dataset"
	sed 's/^/# /' "$SCRATCH/pipe.log"
fi
want=$(digest "$src_port")

mkdir -p "$SCRATCH/secrets"
printf 'secret-for-backup\n' >"$SCRATCH/secrets/acl"
printf 'wrong\n' >"$SCRATCH/secrets/wrong"
chmod 600 "$SCRATCH/secrets/"*

acl_port=$(free_port)
trunc_port=$src_port
cat >"$conf" <<EOF
[repository]
path = $SCRATCH/repo

[cache]
plugin = redis
host = 127.0.0.1
port = $src_port

[cache-remote]
plugin = redis
host = 127.0.0.1
port = $src_port
rdb-path = remote

[cache-acl]
plugin = redis
host = 127.0.0.1
port = $acl_port
user = backup
password-file = $SCRATCH/secrets/acl

[cache-wrong]
plugin = redis
host = 127.0.0.1
port = $acl_port
user = backup
password-file = $SCRATCH/secrets/wrong

[cache-truncated]
plugin = redis
host = 127.0.0.1
port = $trunc_port
rdb-path = $SCRATCH/truncated/dump.rdb
EOF

# Backup from the server's own file, and what the manifest says.
expect "backup from the RDB file" "$CAIRN" -c "$conf" -v backup cache
expect "show the archive" "$CAIRN" -c "$conf" --json show cache:latest
expect_stdout '"dump.rdb"' "the archive holds dump.rdb"
expect_stdout 'redis_version' "the manifest records the server version"
expect_stdout 'keys.db3' "the manifest records key counts per database"
expect_stdout 'rdb_version' "the manifest records the RDB version"

# Restore into an empty server over redis://.
dst_port=$(free_port)
start_redis "$SCRATCH/dst" "$dst_port"
expect "restore into redis://" "$CAIRN" -c "$conf" restore cache:latest \
	--to "redis://127.0.0.1:$dst_port"
if [ "$(digest "$dst_port")" = "$want" ]; then
	ok "the restored server has the same DEBUG DIGEST"
else
	not_ok "the restored server has the same DEBUG DIGEST"
fi
expect_exit 1 "a non-empty target is refused" "$CAIRN" -c "$conf" \
	restore cache:latest --to "redis://127.0.0.1:$dst_port"
expect_stderr 'not empty' "the refusal says the target is not empty"
cli "$dst_port" SET extra-key 1 >/dev/null
expect "--force flushes and loads" "$CAIRN" -c "$conf" restore cache:latest \
	--to "redis://127.0.0.1:$dst_port" --force
if [ "$(digest "$dst_port")" = "$want" ]; then
	ok "the forced restore has the same DEBUG DIGEST"
else
	not_ok "the forced restore has the same DEBUG DIGEST"
fi
stop_pid "$REDIS_PID"

# Restore into a directory, then start a server on it.
user_dir "$SCRATCH/restored"
expect "restore into a directory" "$CAIRN" -c "$conf" restore cache:latest \
	--to "$SCRATCH/restored"
expect_exit 1 "an existing dump.rdb is not replaced without --force" \
	"$CAIRN" -c "$conf" restore cache:latest --to "$SCRATCH/restored"
dir_port=$(free_port)
start_redis "$SCRATCH/restored" "$dir_port" --dbfilename dump.rdb
if [ "$(digest "$dir_port")" = "$want" ]; then
	ok "a server started on the restored directory has the same digest"
else
	not_ok "a server started on the restored directory has the same digest"
fi
stop_pid "$REDIS_PID"

# Stock tools read the archive.
archive=$(find "$SCRATCH/repo" -name '*.tar.zst' | head -n 1)
mkdir -p "$SCRATCH/stock"
if [ -n "$archive" ] && tar --zstd -xf "$archive" -C "$SCRATCH/stock" dump.rdb &&
	cmp -s "$SCRATCH/stock/dump.rdb" "$SCRATCH/restored/dump.rdb"; then
	ok "tar --zstd -xf extracts the same dump.rdb"
else
	not_ok "tar --zstd -xf extracts the same dump.rdb"
fi

# The replication fallback, disk-based then diskless.
expect "backup over replication (disk-based)" "$CAIRN" -c "$conf" -v backup cache-remote
expect_stderr 'disk-based transfer' "the transfer was disk-based"
rep_port=$(free_port)
start_redis "$SCRATCH/rep" "$rep_port"
expect "restore the replicated snapshot" "$CAIRN" -c "$conf" restore \
	cache-remote:latest --to "redis://127.0.0.1:$rep_port"
if [ "$(digest "$rep_port")" = "$want" ]; then
	ok "the disk-based replication snapshot has the same digest"
else
	not_ok "the disk-based replication snapshot has the same digest"
fi
cli "$src_port" CONFIG SET repl-diskless-sync yes >/dev/null
expect "backup over replication (diskless)" "$CAIRN" -c "$conf" -v backup cache-remote
expect_stderr 'diskless transfer' "the transfer was diskless"
expect "restore the diskless snapshot" "$CAIRN" -c "$conf" restore \
	cache-remote:latest --to "redis://127.0.0.1:$rep_port" --force
if [ "$(digest "$rep_port")" = "$want" ]; then
	ok "the diskless replication snapshot has the same digest"
else
	not_ok "the diskless replication snapshot has the same digest"
fi
stop_pid "$REDIS_PID"

# An ACL user with a password file, and a wrong password.
REDISCLI_AUTH=admin-pass start_redis "$SCRATCH/acl" "$acl_port" \
	--requirepass admin-pass \
	--user backup on '>secret-for-backup' '~*' '&*' '+@all' '-bgsave'
acl_pid=$REDIS_PID
cli "$acl_port" -a admin-pass SET protected value >/dev/null
expect "backup as an ACL user without BGSAVE" "$CAIRN" -c "$conf" -v backup cache-acl
expect_stderr 'over replication' "a refused BGSAVE falls back to replication"
if grep -rq 'secret-for-backup' "$SCRATCH/last.err" "$SCRATCH/repo" 2>/dev/null; then
	not_ok "the password appears in logs or the catalogue"
else
	ok "the password appears in neither logs nor the catalogue"
fi
expect_exit 1 "a wrong password fails the job" "$CAIRN" -c "$conf" backup cache-wrong
expect_stderr 'authenticate|WRONGPASS' "the failure names authentication"
expect_exit 1 "restore into a server with the wrong URI password" "$CAIRN" -c "$conf" \
	restore cache-acl:latest --to "redis://backup:nope@127.0.0.1:$acl_port"
stop_pid "$acl_pid"

# A truncated RDB (made to look fresh) is rejected, nothing catalogued.
mkdir -p "$SCRATCH/truncated"
head -c -100 "$SCRATCH/restored/dump.rdb" >"$SCRATCH/truncated/dump.rdb"
touch -d '+1 hour' "$SCRATCH/truncated/dump.rdb"
expect_exit 1 "a truncated RDB fails the backup" "$CAIRN" -c "$conf" backup cache-truncated
expect_stderr 'not whole|truncated' "the failure says the snapshot is not whole"
if [ "$(archive_count cache-truncated)" = 0 ]; then
	ok "nothing was catalogued for the truncated RDB"
else
	not_ok "nothing was catalogued for the truncated RDB"
fi

# check and drill.
expect "check" "$CAIRN" -c "$conf" check cache
expect_stdout 'redis_version|7\.' "check reports the server version"
expect "drill" "$CAIRN" -c "$conf" drill cache
expect "verify" "$CAIRN" -c "$conf" verify

# A server killed in the middle of BGSAVE: the job fails, nothing is kept.
kill_port=$(free_port)
start_redis "$SCRATCH/kill" "$kill_port"
kill_pid=$REDIS_PID
python3 "$here/redis/generate.py" --keys 20000 | cli "$kill_port" --pipe >/dev/null 2>&1
cli "$kill_port" CONFIG SET rdb-key-save-delay 2000 >/dev/null
cat >>"$conf" <<EOF

[cache-killed]
plugin = redis
host = 127.0.0.1
port = $kill_port
EOF
"$CAIRN" -c "$conf" backup cache-killed >"$SCRATCH/killed.out" 2>"$SCRATCH/killed.err" &
cairn_pid=$!
tries=300
while [ "$(info_field "$kill_port" rdb_bgsave_in_progress)" != 1 ] && [ "$tries" -gt 0 ]; do
	sleep 0.1
	tries=$((tries - 1))
done
child=$(pgrep -P "$kill_pid" | head -n 1)
kill -9 "$kill_pid"
[ -n "$child" ] && kill -9 "$child" 2>/dev/null
wait "$cairn_pid"
status=$?
if [ "$status" -eq 1 ]; then
	ok "a server killed during BGSAVE fails the job"
else
	not_ok "a server killed during BGSAVE fails the job (exit $status)"
	sed 's/^/# /' "$SCRATCH/killed.err" | tail -n 20
fi
if [ "$(archive_count cache-killed)" = 0 ]; then
	ok "nothing was catalogued for the killed server"
else
	not_ok "nothing was catalogued for the killed server"
fi

# RDB files in the encodings older Redis versions wrote (zipmap, ziplist,
# intset, quicklist, listpack, streams; made by redis/make_rdb.py with the
# RDB version of each) and Redis' own corrupt_empty_keys.rdb. Each is
# first loaded by redis-server itself, with deep sanitisation, which is
# what proves the file; then cairn backs it up from the file and restores
# it into an empty server over redis://, which must then hold what
# redis-server loaded (DEBUG DIGEST, keys and expiries per database) and
# must have skipped, with a warning naming each, the empty keys Redis
# skipped.
encodings=$SCRATCH/encodings
python3 "$here/redis/make_rdb.py" "$encodings"
cp "$here/../fixtures/redis/corrupt_empty_keys.rdb" "$encodings/"
enc_job_port=$(free_port)
start_redis "$SCRATCH/enc-job" "$enc_job_port"
enc_job_pid=$REDIS_PID
enc_dst_port=$(free_port)
start_redis "$SCRATCH/enc-dst" "$enc_dst_port"
enc_dst_pid=$REDIS_PID
enc_load_port=$(free_port)

keyspace() {
	cli "$1" INFO keyspace | tr -d '\r' | grep '^db' | cut -d, -f1,2
}

for rdb in "$encodings"/*.rdb; do
	name=$(basename "$rdb" .rdb)
	load_dir=$SCRATCH/enc-load-$name
	user_dir "$load_dir"
	cp "$rdb" "$load_dir/dump.rdb"
	chown "$TEST_USER" "$load_dir/dump.rdb" 2>/dev/null
	touch -d '+1 hour' "$rdb"
	cat >>"$conf" <<EOF

[enc-$name]
plugin = redis
host = 127.0.0.1
port = $enc_job_port
rdb-path = $rdb
EOF
	if [ "$name" = v10-empty-intset ]; then
		# Redis calls it corrupt: the server refuses the file, and the
		# restore fails naming the key RESTORE refused.
		if as_test_user redis-server --port "$enc_load_port" \
			--bind 127.0.0.1 --dir "$load_dir" --save '' \
			--logfile "$load_dir/redis.log" --daemonize no \
			--sanitize-dump-payload yes >/dev/null 2>&1; then
			not_ok "$name: redis-server refuses it"
		elif grep -q 'Intset integrity check failed' "$load_dir/redis.log"; then
			ok "$name: redis-server refuses it (intset integrity check)"
		else
			not_ok "$name: redis-server refuses it for its intset"
			sed 's/^/# /' "$load_dir/redis.log" | tail -n 5
		fi
		expect "$name: back up from the file" run_cairn -c "$conf" \
			backup "enc-$name"
		expect_exit 1 "$name: a restore into a server fails" run_cairn \
			-c "$conf" restore "enc-$name:latest" \
			--to "redis://127.0.0.1:$enc_dst_port" --force
		expect_stderr "key 'empty-intset' of db0: ERR Bad data format" \
			"$name: the failure names the key and db Redis refused"
		continue
	fi
	start_redis "$load_dir" "$enc_load_port" --dbfilename dump.rdb \
		--sanitize-dump-payload yes
	load_pid=$REDIS_PID
	if grep -q 'Done loading RDB' "$load_dir/redis.log"; then
		ok "$name: redis-server loads it ($(keyspace "$enc_load_port" | tr '\n' ' '))"
	else
		not_ok "$name: redis-server loads it"
		sed 's/^/# /' "$load_dir/redis.log" | tail -n 5
	fi
	want_digest=$(digest "$enc_load_port")
	want_keyspace=$(keyspace "$enc_load_port")
	redis_skipped=$(sed -n 's/.*empty keys skipped: \([0-9]*\).*/\1/p' "$load_dir/redis.log")
	stop_pid "$load_pid"

	expect "$name: back up from the file" run_cairn -c "$conf" backup "enc-$name"
	expect "$name: restore into redis://" run_cairn -c "$conf" \
		restore "enc-$name:latest" --to "redis://127.0.0.1:$enc_dst_port" --force
	got_digest=$(digest "$enc_dst_port")
	got_keyspace=$(keyspace "$enc_dst_port")
	if [ "$got_digest" = "$want_digest" ] && [ "$got_keyspace" = "$want_keyspace" ]; then
		ok "$name: the restored server holds what redis-server loaded"
	else
		not_ok "$name: the restored server holds what redis-server loaded"
		echo "# redis-server: $want_digest $want_keyspace"
		echo "# cairn:        $got_digest $got_keyspace"
	fi
	warned=$(grep -c 'skipping empty key' "$SCRATCH/last.err")
	if [ "$warned" = "${redis_skipped:-0}" ]; then
		ok "$name: $warned empty keys skipped, as redis-server did"
	else
		not_ok "$name: $warned empty keys skipped, redis-server skipped ${redis_skipped:-0}"
	fi
	# Redis names the first ten it skips; cairn names each with its db.
	missing=
	for key in $(sed -n 's/.*skipping empty key: //p' "$load_dir/redis.log"); do
		grep -q "skipping empty key '$key' of db[0-9]" "$SCRATCH/last.err" ||
			missing="$missing $key"
	done
	if [ -z "$missing" ]; then
		ok "$name: each key Redis skipped is named with its database"
	else
		not_ok "$name: keys Redis skipped that cairn did not name:$missing"
	fi
done
expect "the empty keys of Redis' fixture restore into a directory" \
	run_cairn -c "$conf" restore enc-corrupt_empty_keys:latest \
	--to "$SCRATCH/enc-dir"
expect_stderr "skipping empty key 'zset_listpack' of db0" \
	"the directory restore names the empty keys redis-server will skip"
if cmp -s "$SCRATCH/enc-dir/dump.rdb" "$encodings/corrupt_empty_keys.rdb"; then
	ok "the directory restore writes the file unchanged"
else
	not_ok "the directory restore writes the file unchanged"
fi
expect "show the backup of the empty keys" run_cairn -c "$conf" --json show \
	enc-corrupt_empty_keys:latest
expect_stdout '"empty_keys": *"?9' "the manifest counts the 9 empty keys"
stop_pid "$enc_job_pid"
stop_pid "$enc_dst_pid"

finish
