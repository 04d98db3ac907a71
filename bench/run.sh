#!/usr/bin/env bash
# The benchmark of cairn against the tools operators would otherwise run,
# on the same data in the same run (issue 7). One command:
#
#   bench/run.sh
#
# installs what it needs (Debian, as root), builds cairn in release mode
# into build/bench, prepares the data once under bench/cache/ (kept for
# later runs), then runs every case, cairn and its peers alternating,
# BENCH_RUNS times each, and writes bench/RESULTS.md (medians, ratios
# cairn/peer against the issue's targets, peak RSS) and bench/results.tsv
# (every run). Timings live here, never in the tests.
#
# Environment:
#   BENCH_SCALE=1     data size factor (0.1 for a quick run): the volume
#                     tree (~2 GiB), the databases, the Redis key count and
#                     the RSS sources (1 and 10 GiB) scale with it
#   BENCH_RUNS=3      runs of each case
#   BENCH_ONLY="..."  groups to run, among: volume restore verify postgres
#                     redis catalog retention rss kong age profile
#                     (default: all; age runs bench/age.sh, encrypted
#                     against plain archives; profile runs bench/profile.sh
#                     on the same data, and RESULTS.md quotes it under each
#                     missed target)
#   BENCH_CACHE=DIR   where the prepared data lives (default bench/cache)
#   BENCH_NO_BUILD=1  use the existing build/bench
#   BENCH_PREPARE_ONLY=1  prepare the cached data and stop
set -u
bench=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$bench")
. "$top/scripts/common.sh"
. "$top/tests/integration/lib.sh"

SCALE=${BENCH_SCALE:-1}
RUNS=${BENCH_RUNS:-3}
ONLY=${BENCH_ONLY:-"volume restore verify postgres redis catalog retention rss kong age profile"}
CACHE=${BENCH_CACHE:-$bench/cache}
# The cache depends on the scale: another scale gets its own directory.
DATA=$CACHE/scale-$SCALE

die() { echo "bench: $*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*" >&2; }
wants() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
# scaled N: N times the scale, as an integer
scaled() { python3 -c "import sys; print(max(1, int($1 * $SCALE)))"; }

# ---- dependencies and build ---------------------------------------------

BENCH_PACKAGES="restic borgbackup time zstd gzip tar postgresql-contrib
	redis-tools python3 linux-perf valgrind"
install_bench_dependencies() {
	local missing="" package
	install_dependencies || return 1
	for package in $BENCH_PACKAGES; do
		dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
			grep -q "install ok installed" && continue
		# Only what the archive has (linux-perf and valgrind are optional).
		apt-cache policy "$package" 2>/dev/null | grep -q "Candidate: [0-9]" ||
			{ echo "bench: no Debian package '$package', going without" >&2; continue; }
		missing="$missing $package"
	done
	[ -n "$missing" ] || return 0
	[ "$(id -u)" -eq 0 ] || { echo "bench: install as root:$missing" >&2; return 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$missing >&2
}

say "dependencies and a release build of cairn"
install_bench_dependencies || die "missing packages"
command -v restic >/dev/null && command -v borg >/dev/null &&
	[ -x /usr/bin/time ] || die "restic, borg and /usr/bin/time are needed"
if [ "${BENCH_NO_BUILD:-0}" = 1 ] && [ -x "$top/build/bench/inst/bin/cairn" ]; then
	CAIRN=$top/build/bench/inst/bin/cairn
	CAIRN_PLUGIN_DIR=$top/build/bench/inst/lib/cairn/plugins
	export CAIRN CAIRN_PLUGIN_DIR
else
	build_cairn bench CFLAGS="-O2 -g" || die "build failed (build/bench/make.log)"
fi
echo "cairn: $CAIRN" >&2

# ---- scratch space, results ---------------------------------------------

mkdir -p "$DATA"
chmod 0755 "$CACHE" "$DATA"
TMPDIR=$CACHE setup_scratch run
WORK=$SCRATCH
RESULTS=$WORK/results.tsv
COMMANDS=$WORK/commands.tsv
FACTS=$WORK/facts.txt
printf 'group\tlabel\trun\tseconds\trss_kib\tuser\tsys\tbytes\n' >"$RESULTS"
: >"$COMMANDS"
: >"$FACTS"
fact() { printf '%s\t%s\n' "$1" "$2" >>"$FACTS"; }
round=0

CAN_DROP=0
if (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then CAN_DROP=1; fi
fact drop_caches "$CAN_DROP"
drop_caches() { [ "$CAN_DROP" = 1 ] && sync && echo 3 >/proc/sys/vm/drop_caches; }

# bytes PATH: apparent bytes of a file or a tree (0 when absent).
bytes() {
	[ -e "$1" ] || { echo 0; return; }
	du -sb "$1" | cut -f1
}

# measure GROUP LABEL OUTPUT COMMAND...: one timed run of COMMAND (wall
# clock, peak RSS of the largest process, CPU), appended to the results
# with the size of OUTPUT ('-' for none) once the command is done.
measure() {
	local group=$1 label=$2 output=$3 start end seconds rss user sys size
	shift 3
	if ! grep -q "^$group	$label	" "$COMMANDS"; then
		printf '%s\t%s\t%s\n' "$group" "$label" "$*" >>"$COMMANDS"
	fi
	# No case pays for the writeback of the one before it.
	sync
	start=$EPOCHREALTIME
	/usr/bin/time -f "%M %U %S" -o "$WORK/time.out" "$@" \
		>"$WORK/cmd.out" 2>"$WORK/cmd.err"
	local status=$?
	end=$EPOCHREALTIME
	if [ "$status" -ne 0 ]; then
		echo "bench: $group / $label failed (exit $status):" >&2
		tail -n 15 "$WORK/cmd.err" >&2
		printf '%s\t%s\t%s\tfailed\t\t\t\t\n' "$group" "$label" "$round" >>"$RESULTS"
		return 1
	fi
	read -r rss user sys < <(tail -n 1 "$WORK/time.out")
	seconds=$(python3 -c "print('%.3f' % ($end - $start))")
	size=0
	[ "$output" != - ] && size=$(bytes "$output")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$group" "$label" "$round" \
		"$seconds" "$rss" "$user" "$sys" "$size" >>"$RESULTS"
	printf '  %-10s %-44s run %d: %8.3f s  %7d KiB  %s\n' "$group" "$label" \
		"$round" "$seconds" "$rss" "$size" >&2
}

# cairn_conf FILE REPO [SECTION TEXT]: a configuration file, mode 0600.
cairn_conf() {
	local file=$1 repo=$2
	{
		printf '[repository]\npath = %s\n\n' "$repo"
		printf '[retention]\nkeep-last = 3\nkeep-daily = 7\nkeep-weekly = 4\nkeep-monthly = 12\n\n'
		cat
	} >"$file"
	chmod 600 "$file"
}

# ---- the machine and the versions ---------------------------------------

fact nproc "$(nproc)"
fact cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
fact cpu_flags "$(grep -o -w -E 'sha_ni|avx2|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')"
fact memory "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
fact disk "$(df -h --output=source,fstype,size "$CACHE" | tail -n 1 | tr -s ' ') ($(lsblk -dno NAME,ROTA,SIZE 2>/dev/null | tr '\n' ';' | tr -s ' '))"
fact kernel "$(uname -srm)"
fact os "$(. /etc/os-release && echo "$PRETTY_NAME")"
fact v_cairn "$("$CAIRN" version 2>&1 | head -n 1), CFLAGS -O2 -g, tree $(git -C "$top" rev-parse --short HEAD)$(git -C "$top" diff --quiet HEAD -- core plugins include || echo ' with uncommitted changes')"
fact v_libarchive "$(pkg-config --modversion libarchive)"
fact v_libzstd "$(pkg-config --modversion libzstd)"
fact v_openssl "$(openssl version 2>/dev/null || pkg-config --modversion libcrypto)"
fact v_tar "$(tar --version | head -n 1)"
fact v_zstd "$(zstd --version)"
fact v_gzip "$(gzip --version | head -n 1)"
fact v_restic "$(restic version)"
fact v_borg "$(borg --version)"
fact v_postgresql "$("$(pg_bindir)/postgres" --version)"
fact v_redis "$(redis-server --version | cut -d' ' -f1-3)"
fact v_perf "$(perf version 2>/dev/null || echo none)"
fact scale "$SCALE"
fact data_dir "$DATA"
fact runs "$RUNS"

# ---- the data, prepared once --------------------------------------------

VOLUME=$DATA/volume
prepare_volume() {
	[ -f "$DATA/volume.done" ] && return 0
	say "preparing the volume-like tree (scale $SCALE), once"
	rm -rf "$VOLUME"
	mkdir -p "$VOLUME"
	python3 "$bench/gen_volume.py" "$VOLUME" "$SCALE" || return 1
	# Binaries: the first /usr/lib files of 16 KiB or more, in name order.
	local want have=0 file
	want=$(scaled $((450 * 1024 * 1024)))
	mkdir -p "$VOLUME/bin"
	while IFS= read -r file; do
		cp -p "$file" "$VOLUME/bin/$(echo "${file#/usr/lib/}" | tr / _)" || continue
		have=$((have + $(stat -c %s "$file")))
		[ "$have" -ge "$want" ] && break
	done < <(find /usr/lib -xdev -type f -size +16k 2>/dev/null | LC_ALL=C sort)
	# The incompressible part: media, encrypted blobs, compressed backups.
	mkdir -p "$VOLUME/blobs"
	local i
	for i in 0 1 2 3 4; do
		head -c "$(scaled $((50 * 1024 * 1024)))" /dev/urandom >"$VOLUME/blobs/blob-$i.bin"
	done
	sync
	touch "$DATA/volume.done"
}

PG_PASSWORD=bench-secret
PG_SRC=$DATA/pg
PG_DATABASES="payment_gateway merchant customer wallet ledger settlement refund
	fraud_detection notification reporting audit_log kyc payout billing
	currency_exchange partner_portal"
psql_at() { # psql_at PORT DB ARGS...
	local port=$1 db=$2
	shift 2
	PGPASSWORD=$PG_PASSWORD "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}
start_pg_cached() { # start_pg_cached DIR PORT: starts an existing cluster
	local dir=$1 port=$2
	as_test_user "$(pg_bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" \
		start >/dev/null || { tail "$dir/server.log"; return 1; }
	PG_PID=$(head -n 1 "$dir/data/postmaster.pid")
	server_pids+=("$PG_PID")
}
stop_pg() { as_test_user "$(pg_bindir)/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null; }

prepare_postgres() { # sets PG_PORT, leaves the source cluster running
	PG_PORT=$(free_port)
	if [ -f "$DATA/pg.done" ]; then
		start_pg_cached "$PG_SRC" "$PG_PORT"
		return
	fi
	say "preparing the PostgreSQL cluster (scale $SCALE), once"
	rm -rf "$PG_SRC" "$PG_SRC.pw"
	start_postgres "$PG_SRC" "$PG_PORT" "$PG_PASSWORD" || return 1
	local fixtures=$top/tests/integration/postgres db rows
	rows=$(scaled 400000)
	psql_at "$PG_PORT" postgres -f "$fixtures/roles.sql" >/dev/null || return 1
	for db in $PG_DATABASES; do
		psql_at "$PG_PORT" postgres -c "CREATE DATABASE $db OWNER app_owner" || return 1
		if [ "$db" = payment_gateway ]; then
			psql_at "$PG_PORT" "$db" -f "$fixtures/payment_gateway.sql" >/dev/null
		else
			psql_at "$PG_PORT" "$db" -v dbtag="$db" -f "$fixtures/business.sql" >/dev/null
			# More rows than the test fixture: a database of some size.
			psql_at "$PG_PORT" "$db" -c "INSERT INTO accounts (reference, balance, opened, meta)
				SELECT '$db-x' || g, g * 1.5, date '2023-01-01' + g % 400,
				jsonb_build_object('db', '$db', 'n', g, 'note', md5(g::text))
				FROM generate_series(1, $rows) g" >/dev/null
		fi || return 1
	done
	psql_at "$PG_PORT" postgres -c "CREATE DATABASE pgbench" || return 1
	PGPASSWORD=$PG_PASSWORD "$(pg_bindir)/pgbench" -q -i -s "$(scaled 50)" \
		-h 127.0.0.1 -p "$PG_PORT" -U postgres pgbench >/dev/null 2>&1 || return 1
	psql_at "$PG_PORT" postgres -c "CHECKPOINT" >/dev/null
	for db in $PG_DATABASES pgbench; do
		psql_at "$PG_PORT" "$db" -c "VACUUM ANALYZE" >/dev/null
	done
	touch "$DATA/pg.done"
}

REDIS_DIR=$DATA/redis
prepare_redis() { # sets REDIS_PORT, leaves the server running
	REDIS_PORT=$(free_port)
	if [ ! -f "$DATA/redis.done" ]; then
		say "preparing the Redis dataset (scale $SCALE), once"
		rm -rf "$REDIS_DIR"
	fi
	start_redis "$REDIS_DIR" "$REDIS_PORT" || return 1
	# Loading a big snapshot takes a while: wait for it.
	while redis-cli -p "$REDIS_PORT" INFO persistence 2>/dev/null | grep -q '^loading:1'; do
		sleep 0.2
	done
	until redis-cli -p "$REDIS_PORT" PING 2>/dev/null | grep -q PONG; do sleep 0.2; done
	[ -f "$DATA/redis.done" ] && return 0
	local keys typed
	keys=$(scaled 2000000)
	typed=$((keys / 5))
	python3 "$top/tests/integration/redis/generate.py" --keys "$typed" |
		redis-cli -p "$REDIS_PORT" --pipe >/dev/null || return 1
	python3 "$bench/gen_redis.py" "$((keys - typed))" |
		redis-cli -p "$REDIS_PORT" --pipe >/dev/null || return 1
	redis-cli -p "$REDIS_PORT" SAVE >/dev/null || return 1
	touch "$DATA/redis.done"
}

RSS_1G=$DATA/rss-1g
RSS_10G=$DATA/rss-10g
prepare_rss() {
	[ -f "$DATA/rss.done" ] && return 0
	say "preparing the 1 GiB and 10 GiB sources (scale $SCALE), once"
	rm -rf "$RSS_1G" "$RSS_10G"
	mkdir -p "$RSS_1G" "$RSS_10G"
	# Mixed content: the volume tree's own bytes (text, binaries, noise),
	# cut into 64 MiB files.
	local total chunk=$((64 * 1024 * 1024)) i
	total=$(scaled $((1024 * 1024 * 1024)))
	tar -cf - -C "$VOLUME" logs bin blobs csv json 2>/dev/null | head -c "$total" |
		split -b "$chunk" -d -a 3 - "$RSS_1G/part-"
	# Ten real copies, not links: ten times the data to read.
	for i in 0 1 2 3 4 5 6 7 8 9; do
		cp -r "$RSS_1G" "$RSS_10G/copy-$i"
	done
	sync
	touch "$DATA/rss.done"
}

# ---- volume: backup --------------------------------------------------------

volume_backup() {
	say "volume backup: cairn vs tar | zstd, tar -czf, restic, borg, the in-memory ceiling"
	local shm_tar=/dev/shm/cairn-bench.tar
	fact volume_apparent "$(du -sb --apparent-size "$VOLUME" | cut -f1)"
	fact volume_disk "$(du -sB1 "$VOLUME" | cut -f1)"
	fact volume_files "$(find "$VOLUME" | wc -l)"
	fact volume_sparse "$(stat -c '%s bytes long, %b blocks of %B' "$VOLUME/sparse/disk.img")"
	cairn_conf "$WORK/vol.conf" "$WORK/vol-repo" <<EOF
[vol]
plugin = volume
paths = $VOLUME
EOF
	# Warm the page cache the same way for everyone, before every case:
	# borg drops what it has read from the cache (POSIX_FADV_DONTNEED),
	# and whoever came after it would read the tree from disk.
	warm() { tar -cf - -C "$DATA" volume | cat >/dev/null; }
	tar -cf "$shm_tar" -C "$DATA" volume
	fact ceiling_tar_bytes "$(stat -c %s "$shm_tar")"
	for round in $(seq 1 "$RUNS"); do
		rm -rf "$WORK/vol-repo"
		warm
		measure volume "cairn backup" "$WORK/vol-repo/archives" \
			"$CAIRN" -c "$WORK/vol.conf" --no-progress backup vol
		rm -f "$WORK/v.tar.zst"
		warm
		measure volume "tar -cf - | zstd -3 -T0" "$WORK/v.tar.zst" \
			sh -c "tar -cf - -C '$DATA' volume | zstd -3 -T0 -q -o '$WORK/v.tar.zst'"
		# cairn's archive is on disk when it exits (fsync); this one
		# is, once the sync is done: the same durability.
		rm -f "$WORK/v-synced.tar.zst"
		warm
		measure volume "tar -cf - | zstd -3 -T0, then sync" "$WORK/v-synced.tar.zst" \
			sh -c "tar -cf - -C '$DATA' volume | zstd -3 -T0 -q -o '$WORK/v-synced.tar.zst' && sync '$WORK/v-synced.tar.zst'"
		rm -f "$WORK/v-shm.tar.zst"
		warm
		measure volume "zstd -3 -T0 of the tar in /dev/shm (ceiling)" "$WORK/v-shm.tar.zst" \
			zstd -3 -T0 -q "$shm_tar" -o "$WORK/v-shm.tar.zst"
		rm -f "$WORK/v-sparse.tar.zst"
		warm
		measure volume "tar -S -cf - | zstd -3 -T0" "$WORK/v-sparse.tar.zst" \
			sh -c "tar -S -cf - -C '$DATA' volume | zstd -3 -T0 -q -o '$WORK/v-sparse.tar.zst'"
		rm -f "$WORK/v.tar.gz"
		warm
		measure volume "tar -czf" "$WORK/v.tar.gz" \
			tar -czf "$WORK/v.tar.gz" -C "$DATA" volume
		rm -rf "$WORK/restic" "$WORK/restic-cache"
		RESTIC_PASSWORD=bench restic -q -r "$WORK/restic" init >/dev/null 2>&1
		warm
		measure volume "restic backup (first)" "$WORK/restic" \
			env RESTIC_PASSWORD=bench RESTIC_CACHE_DIR="$WORK/restic-cache" \
			restic -q -r "$WORK/restic" backup "$VOLUME"
		rm -rf "$WORK/borg" "$WORK/borg-base"
		BORG_BASE_DIR=$WORK/borg-base borg init --encryption none "$WORK/borg" >/dev/null 2>&1
		warm
		measure volume "borg create --compression zstd,3 (first)" "$WORK/borg" \
			env BORG_BASE_DIR="$WORK/borg-base" BORG_PASSPHRASE=bench \
			BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes \
			borg create --compression zstd,3 "$WORK/borg::a" "$VOLUME"
	done
	rm -f "$shm_tar" "$WORK/v-shm.tar.zst" "$WORK/v-sparse.tar.zst" "$WORK/v.tar.gz" \
		"$WORK/v-synced.tar.zst"
	rm -rf "$WORK/restic" "$WORK/restic-cache" "$WORK/borg" "$WORK/borg-base"
	fact volume_cairn_entries "$("$CAIRN" -c "$WORK/vol.conf" --json list |
		python3 -c 'import json,sys; a=json.load(sys.stdin)[0]; print(a["entries"], "entries,", a["bytes"], "bytes")')"
}

# A cairn archive and a tar.zst of the tree for restore and verify.
ensure_volume_archives() {
	if [ ! -d "$WORK/vol-repo" ]; then
		cairn_conf "$WORK/vol.conf" "$WORK/vol-repo" <<EOF
[vol]
plugin = volume
paths = $VOLUME
EOF
		"$CAIRN" -c "$WORK/vol.conf" --no-progress backup vol >/dev/null || return 1
	fi
	[ -f "$WORK/v.tar.zst" ] ||
		tar -cf - -C "$DATA" volume | zstd -3 -T0 -q -o "$WORK/v.tar.zst"
}

# ---- volume: restore -----------------------------------------------------

volume_restore() {
	say "volume restore: cairn vs zstd -dc | tar -xf -"
	ensure_volume_archives || return 1
	[ "$CAN_DROP" = 1 ] || echo "bench: cannot drop the page cache: restores read a warm cache" >&2
	local sparse=${VOLUME#/}/sparse/disk.img
	for round in $(seq 1 "$RUNS"); do
		rm -rf "$WORK/restore-cairn" "$WORK/restore-tar"
		drop_caches
		measure restore "cairn restore" - \
			"$CAIRN" -c "$WORK/vol.conf" --no-progress restore vol:latest --to "$WORK/restore-cairn"
		[ "$round" = 1 ] && fact sparse_cairn "$(stat -c '%b blocks of %B' "$WORK/restore-cairn/$sparse")"
		rm -rf "$WORK/restore-cairn"
		mkdir -p "$WORK/restore-tar"
		drop_caches
		measure restore "zstd -dc | tar -xf -" - \
			sh -c "zstd -dc '$WORK/v.tar.zst' | tar -xf - -C '$WORK/restore-tar'"
		[ "$round" = 1 ] && fact sparse_tar "$(stat -c '%b blocks of %B' "$WORK/restore-tar/volume/sparse/disk.img")"
		rm -rf "$WORK/restore-tar"
	done
	volume_restore_tmpfs
}

# The same into tmpfs (/dev/shm), where no disk writes: what is left is
# the CPU and the system calls of each side.
volume_restore_tmpfs() {
	local shm=/dev/shm/cairn-bench.$$ need
	need=$(( $(bytes "$VOLUME") / 1024 * 2 ))
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" != tmpfs ] ||
		[ "$(df -k --output=avail /dev/shm | tail -n 1)" -lt "$need" ]; then
		echo "bench: no tmpfs with room at /dev/shm: restore into tmpfs skipped" >&2
		return 0
	fi
	say "volume restore into tmpfs: cairn vs zstd -dc | tar -xf -"
	for round in $(seq 1 "$RUNS"); do
		rm -rf "$shm"
		drop_caches
		measure restore-tmpfs "cairn restore" - \
			"$CAIRN" -c "$WORK/vol.conf" --no-progress restore vol:latest --to "$shm/cairn"
		rm -rf "$shm"
		mkdir -p "$shm/tar"
		drop_caches
		measure restore-tmpfs "zstd -dc | tar -xf -" - \
			sh -c "zstd -dc '$WORK/v.tar.zst' | tar -xf - -C '$shm/tar'"
		rm -rf "$shm"
	done
}

# ---- volume: verify -------------------------------------------------------

volume_verify() {
	say "verify: cairn verify vs zstd -t of the same archive"
	ensure_volume_archives || return 1
	local archive
	archive=$(ls "$WORK"/vol-repo/archives/vol/*.tar.zst | head -n 1)
	fact verify_archive_bytes "$(stat -c %s "$archive")"
	for round in $(seq 1 "$RUNS"); do
		drop_caches
		measure verify "cairn verify" - "$CAIRN" -c "$WORK/vol.conf" --no-progress verify
		drop_caches
		measure verify "zstd -t" - zstd -t -q "$archive"
	done
}

# ---- PostgreSQL -------------------------------------------------------------

pg_target_reset() { # empties the target cluster: databases and roles
	local port=$1 name
	for name in $(psql_at "$port" postgres -At -c \
		"SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')"); do
		psql_at "$port" postgres -c "DROP DATABASE \"$name\" WITH (FORCE)" >/dev/null
	done
	for name in $(psql_at "$port" postgres -At -c \
		"SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres'"); do
		psql_at "$port" postgres -c "DROP OWNED BY \"$name\"" -c "DROP ROLE \"$name\"" >/dev/null
	done
}

postgres_bench() {
	say "PostgreSQL: backup (jobs 1 and 2) vs pg_dumpall | zstd, restore vs pg_restore and psql"
	prepare_postgres || { echo "bench: PostgreSQL preparation failed" >&2; return 1; }
	local bin db
	bin=$(pg_bindir)
	fact pg_cluster "$(psql_at "$PG_PORT" postgres -At -c \
		"SELECT count(*) || ' databases, ' || pg_size_pretty(sum(pg_database_size(oid))) FROM pg_database WHERE datallowconn")"
	printf '%s\n' "$PG_PASSWORD" >"$WORK/pg.pw"
	chmod 600 "$WORK/pg.pw"
	printf '127.0.0.1:*:*:postgres:%s\n' "$PG_PASSWORD" >"$WORK/pgpass"
	chmod 600 "$WORK/pgpass"
	export PGPASSFILE=$WORK/pgpass
	for jobs in 1 2; do
		cairn_conf "$WORK/pg-$jobs.conf" "$WORK/pg-repo-$jobs" <<EOF
[pg]
plugin = postgres
host = 127.0.0.1
port = $PG_PORT
user = postgres
password-file = $WORK/pg.pw
jobs = $jobs
EOF
	done
	local dbs
	dbs=$(psql_at "$PG_PORT" postgres -At -c "SELECT datname FROM pg_database WHERE datallowconn AND datname <> 'template1'")
	printf '%s\n' $dbs >"$WORK/pg-dbs"
	for round in $(seq 1 "$RUNS"); do
		rm -f "$WORK/dumpall.sql.zst"
		measure postgres "pg_dumpall | zstd -3 -T0" "$WORK/dumpall.sql.zst" \
			sh -c "'$bin/pg_dumpall' -h 127.0.0.1 -p $PG_PORT -U postgres | zstd -3 -T0 -q -o '$WORK/dumpall.sql.zst'"
		rm -rf "$WORK/pg-repo-1"
		measure postgres "cairn backup, jobs = 1" "$WORK/pg-repo-1/archives" \
			"$CAIRN" -c "$WORK/pg-1.conf" --no-progress backup pg
		rm -rf "$WORK/pg-repo-2"
		measure postgres "cairn backup, jobs = 2" "$WORK/pg-repo-2/archives" \
			"$CAIRN" -c "$WORK/pg-2.conf" --no-progress backup pg
		rm -rf "$WORK/pgdump"
		mkdir -p "$WORK/pgdump"
		measure postgres "pg_dump -Fc per database, 2 in parallel" "$WORK/pgdump" \
			sh -c "'$bin/pg_dumpall' -h 127.0.0.1 -p $PG_PORT -U postgres --globals-only >'$WORK/pgdump/globals.sql' &&
				xargs -P 2 -I{} '$bin/pg_dump' -h 127.0.0.1 -p $PG_PORT -U postgres -Fc -f '$WORK/pgdump/{}.dump' '{}' <'$WORK/pg-dbs'"
	done

	say "PostgreSQL restore into a second cluster"
	local target_port
	target_port=$(free_port)
	start_postgres "$WORK/pg-target" "$target_port" "$PG_PASSWORD" || return 1
	local uri="postgresql://postgres@127.0.0.1:$target_port"
	for round in $(seq 1 "$RUNS"); do
		pg_target_reset "$target_port"
		psql_at "$target_port" postgres -f "$top/tests/integration/postgres/roles.sql" >/dev/null 2>&1
		measure pg-restore "cairn restore --only pgbench" - \
			"$CAIRN" -c "$WORK/pg-1.conf" --no-progress restore pg:latest --to "$uri" --only pgbench
		pg_target_reset "$target_port"
		psql_at "$target_port" postgres -f "$top/tests/integration/postgres/roles.sql" >/dev/null 2>&1
		measure pg-restore "pg_restore -C (pgbench, pg_dump -Fc)" - \
			"$bin/pg_restore" -h 127.0.0.1 -p "$target_port" -U postgres -C -d postgres "$WORK/pgdump/pgbench.dump"
		pg_target_reset "$target_port"
		measure pg-restore "cairn restore (all)" - \
			"$CAIRN" -c "$WORK/pg-1.conf" --no-progress restore pg:latest --to "$uri"
		pg_target_reset "$target_port"
		measure pg-restore "zstd -dc dumpall | psql -f - (all)" - \
			sh -c "zstd -dc '$WORK/dumpall.sql.zst' | '$bin/psql' -X -q -h 127.0.0.1 -p $target_port -U postgres -d postgres -f - >/dev/null 2>'$WORK/psql.err'"
	done
	stop_pg "$WORK/pg-target"
	stop_pg "$PG_SRC"
	rm -rf "$WORK/pgdump" "$WORK"/pg-repo-* "$WORK/pg-target"
}

# ---- Redis -------------------------------------------------------------------

redis_bench() {
	say "Redis: cairn (BGSAVE, replication) vs BGSAVE + cp + zstd, redis-cli --rdb + zstd"
	prepare_redis || { echo "bench: Redis preparation failed" >&2; return 1; }
	fact redis_keys "$(redis-cli -p "$REDIS_PORT" INFO keyspace | grep '^db' | tr '\r\n' '  ')"
	fact redis_rdb "$(stat -c %s "$REDIS_DIR/dump.rdb") bytes, used_memory $(redis-cli -p "$REDIS_PORT" INFO memory | grep '^used_memory_human' | cut -d: -f2 | tr -d '\r')"
	cairn_conf "$WORK/redis.conf" "$WORK/redis-repo" <<EOF
[r]
plugin = redis
host = 127.0.0.1
port = $REDIS_PORT

[r-remote]
plugin = redis
host = 127.0.0.1
port = $REDIS_PORT
rdb-path = remote
EOF
	cat >"$WORK/bgsave.sh" <<EOF
#!/bin/sh
# BGSAVE, wait for it, copy the file, compress the copy.
set -e
redis-cli -p $REDIS_PORT BGSAVE >/dev/null
while redis-cli -p $REDIS_PORT INFO persistence | grep -q '^rdb_bgsave_in_progress:1'; do
	sleep 0.05
done
redis-cli -p $REDIS_PORT INFO persistence | grep -q '^rdb_last_bgsave_status:ok'
cp '$REDIS_DIR/dump.rdb' '$WORK/copy.rdb'
zstd -3 -T0 -q --rm -f '$WORK/copy.rdb' -o '$WORK/copy.rdb.zst'
EOF
	chmod +x "$WORK/bgsave.sh"
	for round in $(seq 1 "$RUNS"); do
		rm -rf "$WORK/redis-repo"
		measure redis "cairn backup (BGSAVE)" "$WORK/redis-repo/archives" \
			"$CAIRN" -c "$WORK/redis.conf" --no-progress backup r
		rm -f "$WORK/copy.rdb.zst"
		measure redis "BGSAVE + cp + zstd -3 -T0" "$WORK/copy.rdb.zst" "$WORK/bgsave.sh"
		rm -rf "$WORK/redis-repo"
		measure redis "cairn backup (rdb-path = remote)" "$WORK/redis-repo/archives" \
			"$CAIRN" -c "$WORK/redis.conf" --no-progress backup r-remote
		rm -f "$WORK/cli.rdb" "$WORK/cli.rdb.zst"
		measure redis "redis-cli --rdb + zstd -3 -T0" "$WORK/cli.rdb.zst" \
			sh -c "redis-cli -p $REDIS_PORT --rdb '$WORK/cli.rdb' >/dev/null && zstd -3 -T0 -q --rm '$WORK/cli.rdb'"
	done
	stop_pid "$REDIS_PID"
	rm -rf "$WORK/redis-repo" "$WORK/copy.rdb.zst" "$WORK/cli.rdb.zst"
}

# ---- the catalogue at 10 000 archives --------------------------------------

CATALOG_REPO=$CACHE/catalog-10000
prepare_catalog() {
	[ -f "$CACHE/catalog.done" ] && return 0
	say "writing 10 000 archives and their catalogue, once"
	rm -rf "$CATALOG_REPO" "$WORK/tiny"
	mkdir -p "$WORK/tiny/tree"
	printf 'a small file\n' >"$WORK/tiny/tree/a"
	printf 'another one\n' >"$WORK/tiny/tree/b"
	cairn_conf "$WORK/tiny.conf" "$WORK/tiny/repo" <<EOF
[tiny]
plugin = volume
paths = $WORK/tiny/tree
EOF
	"$CAIRN" -c "$WORK/tiny.conf" --no-progress backup tiny >/dev/null || return 1
	# One archive every 6 hours: about 7 years of a busy schedule.
	python3 "$bench/gen_archives.py" "$(ls "$WORK"/tiny/repo/archives/tiny/*.tar.zst)" \
		"$CATALOG_REPO" tiny 10000 --every 21600 || return 1
	cairn_conf "$WORK/catalog.conf" "$CATALOG_REPO" <<EOF
[tiny]
plugin = volume
paths = $WORK/tiny/tree
EOF
	local start=$EPOCHREALTIME
	"$CAIRN" -c "$WORK/catalog.conf" catalog rebuild >/dev/null 2>&1 || return 1
	fact catalog_rebuild_seconds "$(python3 -c "print('%.2f' % ($EPOCHREALTIME - $start))")"
	touch "$CACHE/catalog.done"
}

catalog_bench() {
	say "the catalogue at 10 000 archives: list, show, prune --dry-run"
	prepare_catalog || { echo "bench: catalogue preparation failed" >&2; return 1; }
	mkdir -p "$WORK/tiny/tree"
	cairn_conf "$WORK/catalog.conf" "$CATALOG_REPO" <<EOF
[tiny]
plugin = volume
paths = $WORK/tiny/tree
EOF
	local id count
	count=$("$CAIRN" -c "$WORK/catalog.conf" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	fact catalog_archives "$count"
	id=$("$CAIRN" -c "$WORK/catalog.conf" --json list | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a[len(a)//2]["id"])')
	local n=$((RUNS < 5 ? 5 : RUNS))
	for round in $(seq 1 "$n"); do
		measure catalog "cairn list" - "$CAIRN" -c "$WORK/catalog.conf" list
		measure catalog "cairn --json list" - "$CAIRN" -c "$WORK/catalog.conf" --json list
		measure catalog "cairn show ID" - "$CAIRN" -c "$WORK/catalog.conf" show "$id"
		measure catalog "cairn prune --dry-run" - "$CAIRN" -c "$WORK/catalog.conf" prune --dry-run
	done
	"$CAIRN" -c "$WORK/catalog.conf" prune --dry-run 2>/dev/null | awk '{print $1}' | sort | uniq -c |
		awk '{printf "%s %s, ", $1, $2}' >"$WORK/prune-summary"
	fact catalog_prune_plan "$(cat "$WORK/prune-summary")"
}

# ---- retention: ~60 archives over 18 months --------------------------------

retention_plan() {
	say "a prune plan of ~60 archives over 18 months"
	rm -rf "$WORK/retention"
	mkdir -p "$WORK/retention/tree"
	printf 'payments\n' >"$WORK/retention/tree/a"
	cairn_conf "$WORK/retention.conf" "$WORK/retention/repo" <<EOF
[nightly]
plugin = volume
paths = $WORK/retention/tree
keep-last = 3
keep-daily = 7
keep-weekly = 4
keep-monthly = 12
keep-yearly = 2
EOF
	"$CAIRN" -c "$WORK/retention.conf" --no-progress backup nightly >/dev/null || return 1
	cp "$WORK"/retention/repo/archives/nightly/*.tar.zst "$WORK/retention/template.tar.zst"
	# The times a cron schedule leaves over 18 months: nightly for the
	# last two weeks (with a manual run or two), a gap, weekly runs for
	# three months across the year boundary, then about two a month,
	# with a six-week hole when the job was broken.
	python3 - >"$WORK/retention/times" <<'EOF'
import calendar
def t(y, m, d, H=2, M=15):
    return calendar.timegm((y, m, d, H, M, 0))
times = []
for d in range(14):                                  # nightly, last 2 weeks
    times.append(t(2026, 11, 20 - d))
times += [t(2026, 11, 20, 14, 40), t(2026, 11, 18, 9, 5)]   # manual runs
for w in range(10):                                  # weekly, Sep-Nov
    times.append(t(2026, 9, 1) + w * 7 * 86400)
for m, d in [(8, 3), (7, 28), (7, 14), (6, 30), (6, 2), (5, 19), (5, 5),
             (4, 21), (4, 7), (3, 24), (3, 10), (2, 24)]:
    times.append(t(2026, m, d))
# the gap: nothing from 2026-01-10 to 2026-02-24
for y, m, d in [(2026, 1, 9), (2026, 1, 2), (2025, 12, 29), (2025, 12, 26),
                (2025, 12, 15), (2025, 12, 1), (2025, 11, 17), (2025, 11, 3),
                (2025, 10, 20), (2025, 10, 6), (2025, 9, 22), (2025, 9, 8),
                (2025, 8, 25), (2025, 8, 11), (2025, 7, 28), (2025, 7, 14),
                (2025, 6, 30), (2025, 6, 16), (2025, 6, 2), (2025, 5, 26),
                (2025, 5, 20)]:
    times.append(t(y, m, d))
for x in sorted(set(times), reverse=True):
    print(x)
EOF
	rm -rf "$WORK/retention/repo"
	python3 "$bench/gen_archives.py" "$WORK/retention/template.tar.zst" \
		"$WORK/retention/repo" nightly 0 \
		--times "$WORK/retention/times" || return 1
	"$CAIRN" -c "$WORK/retention.conf" catalog rebuild >/dev/null 2>&1 || return 1
	fact retention_archives "$(wc -l <"$WORK/retention/times")"
	"$CAIRN" -c "$WORK/retention.conf" prune --dry-run >"$WORK/retention-plan.txt" 2>&1
	sed -i "s|$WORK|WORK|g" "$WORK/retention-plan.txt"
}

# ---- peak RSS: 1 GiB vs 10 GiB --------------------------------------------

rss_bench() {
	say "peak RSS of backup and verify: a 1 GiB and a 10 GiB source"
	prepare_rss || return 1
	fact rss_sources "$(du -sh --apparent-size "$RSS_1G" | cut -f1) in $(ls "$RSS_1G" | wc -l) files; $(du -sh --apparent-size "$RSS_10G" | cut -f1) in $(find "$RSS_10G" -type f | wc -l) files"
	local size
	for size in 1g 10g; do
		local src=$DATA/rss-$size
		cairn_conf "$WORK/rss-$size.conf" "$WORK/rss-repo" <<EOF
[rss-$size]
plugin = volume
paths = $src
EOF
		round=1
		rm -rf "$WORK/rss-repo"
		measure rss "cairn backup, $size source" "$WORK/rss-repo/archives" \
			"$CAIRN" -c "$WORK/rss-$size.conf" --no-progress backup "rss-$size"
		measure rss "cairn verify, $size source" - \
			"$CAIRN" -c "$WORK/rss-$size.conf" --no-progress verify
		measure rss "zstd -3 -T0 of a tar, $size source" - \
			sh -c "tar -cf - -C '$src' . | zstd -3 -T0 -q -c >/dev/null"
	done
	rm -rf "$WORK/rss-repo"
}

# ---- run -----------------------------------------------------------------------

if [ "${BENCH_PREPARE_ONLY:-0}" = 1 ]; then
	prepare_volume || die "cannot prepare the volume tree"
	prepare_rss || die "cannot prepare the RSS sources"
	prepare_postgres || die "cannot prepare the PostgreSQL cluster"
	stop_pg "$PG_SRC"
	prepare_redis || die "cannot prepare the Redis dataset"
	stop_pid "$REDIS_PID"
	prepare_catalog || die "cannot prepare the catalogue"
	exit 0
fi
wants volume || wants restore || wants verify || wants rss || wants profile ||
	wants age &&
	{ prepare_volume || die "cannot prepare the volume tree"; }
wants volume && volume_backup
wants restore && volume_restore
wants verify && volume_verify
wants postgres && postgres_bench
wants redis && redis_bench
wants catalog && catalog_bench
wants retention && retention_plan
wants rss && rss_bench
# A Kong restore of ~7,000 entities: its own script, its own section.
if wants kong; then
	say "kong: a restore of ~7,000 entities"
	"$bench/kong_restore.sh" "$bench/kong-restore.md" >&2 ||
		echo "bench: the kong restore case failed" >&2
fi

# Encrypted archives against plain ones: bench/age.sh's table, which the
# report reads for issue 17's table and includes whole.
ages=""
if wants age; then
	say "encrypted against plain archives (bench/age.sh)"
	# The volume tree of the other cases, backed up by the same build; at
	# least 11 runs, as a ratio within 5 % is what is asked of it and on a
	# shared two-core machine the encrypted/plain ratio of one pair of
	# backups varies by 6 % (standard deviation of 15 pairs): the median
	# of 5 fell anywhere from 1.01 to 1.07 for the same build, of 11 from
	# 1.02 to 1.055 (10th and 90th percentiles).
	age_runs=$((RUNS > 11 ? RUNS : 11))
	if BENCH_TREE=$VOLUME BENCH_RUNS=$age_runs TMPDIR=$WORK "$bench/age.sh" "$CAIRN" \
		>"$WORK/age.table"; then
		ages=$bench/age.md
		{
			printf '## Encrypted archives against plain ones (bench/age.sh)\n\n'
			printf 'The volume tree of the cases above backed up, restored and '
			printf 'verified plain and encrypted in turn, %s times each ' "$age_runs"
			printf '(which goes first alternates), restores into a tmpfs.\n\n'
			cat "$WORK/age.table"
		} >"$ages"
	else
		echo "bench: the encrypted cases failed" >&2
	fi
fi

# Last, where the time of each volume case goes (perf, strace), on the
# same data with the same build; the timings above are not disturbed.
profiles=""
if wants profile; then
	say "profiles of backup, restore and verify (bench/profile.sh)"
	if BENCH_CACHE=$CACHE BENCH_SCALE=$SCALE CAIRN=$CAIRN \
		CAIRN_PLUGIN_DIR=$CAIRN_PLUGIN_DIR "$bench/profile.sh" >&2; then
		profiles=$bench/profile
	else
		echo "bench: the profiles failed" >&2
	fi
fi

say "writing bench/RESULTS.md"
# When the run ended: the report may be written again from its inputs.
fact date "$(date -u '+%Y-%m-%d %H:%M')"
cp "$RESULTS" "$bench/results.tsv"
[ -f "$WORK/retention-plan.txt" ] && cp "$WORK/retention-plan.txt" "$bench/retention-plan.txt"
python3 "$bench/report.py" --results "$RESULTS" --commands "$COMMANDS" \
	--facts "$FACTS" --retention "$bench/retention-plan.txt" \
	--analysis "$bench/analysis.md" --section "$bench/kong-restore.md" \
	--profiles "$profiles" --obstacles "$bench/obstacles.md" \
	--age "$ages" ${ages:+--section "$ages"} \
	--out "$bench/RESULTS.md" || die "report failed"
sed -n '/^## Summary/,/^## /p' "$bench/RESULTS.md" | head -n 60
# Leave nothing big behind but the cache.
rm -rf "$WORK/restore-cairn" "$WORK/restore-tar" "$WORK/vol-repo" "$WORK/v.tar.zst"
