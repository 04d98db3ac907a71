#!/bin/bash
# Run by hand, not by `make check`: backup time and peak memory of the
# postgres plugin against `pg_dumpall | zstd -3 -T0` on the same cluster
# in the same run: the 16 databases of postgres.sh plus a pgbench
# database (scale $PGBENCH_SCALE, default 50). Prints one line per run.
#
#   CAIRN=... CAIRN_PLUGIN_DIR=... tests/integration/postgres/bench.sh

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
. "$here/lib.sh"
fixtures=$here/postgres
scale=${PGBENCH_SCALE:-50}

setup_scratch postgres-bench
bin=$(pg_bindir)
port=$(free_port)
start_postgres "$SCRATCH/src" "$port" bench-secret || exit 1
printf '127.0.0.1:%s:*:postgres:bench-secret\n' "$port" >"$SCRATCH/pgpass"
chmod 600 "$SCRATCH/pgpass"
export PGPASSFILE=$SCRATCH/pgpass
printf 'bench-secret\n' >"$SCRATCH/pw"
chmod 600 "$SCRATCH/pw"

sql() {
	local db=$1
	shift
	"$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}
sql postgres -f "$fixtures/roles.sql" >/dev/null
for db in payment_gateway merchant customer wallet ledger settlement refund \
	fraud_detection notification reporting audit_log kyc payout billing \
	currency_exchange "Partner Portal/Legacy"; do
	sql postgres -c "CREATE DATABASE \"$db\" OWNER app_owner"
	if [ "$db" = payment_gateway ]; then
		sql "$db" -f "$fixtures/payment_gateway.sql" >/dev/null
	else
		sql "$db" -v dbtag="$db" -f "$fixtures/business.sql" >/dev/null
	fi
done
sql postgres -c "CREATE DATABASE pgbench"
"$bin/pgbench" -q -i -s "$scale" -h 127.0.0.1 -p "$port" -U postgres pgbench >/dev/null 2>&1
sql postgres -c "CHECKPOINT" -c "VACUUM ANALYZE" >/dev/null
size=$(sql postgres -At -c "SELECT pg_size_pretty(sum(pg_database_size(oid))) FROM pg_database")
echo "# cluster: 17 databases + pgbench scale $scale, $size on disk"

for jobs in 1 2; do
	cat >"$SCRATCH/cairn-$jobs.conf" <<EOF
[repository]
path = $SCRATCH/repo-$jobs

[pg]
plugin = postgres
host = 127.0.0.1
port = $port
user = postgres
password-file = $SCRATCH/pw
jobs = $jobs
EOF
done

measure() { # measure LABEL COMMAND...: wall seconds and peak RSS
	local label=$1
	shift
	/usr/bin/time -f "%e %M" -o "$SCRATCH/time" "$@" >/dev/null 2>"$SCRATCH/err" ||
		{ echo "# $label failed"; cat "$SCRATCH/err"; return; }
	read -r seconds rss <"$SCRATCH/time"
	printf '%-34s %8.2f s  peak RSS %6d KiB\n' "$label" "$seconds" "$rss"
}
for round in 1 2; do
	measure "pg_dumpall | zstd -3 -T0" sh -c \
		"'$bin/pg_dumpall' -h 127.0.0.1 -p $port -U postgres | zstd -3 -T0 -q -o '$SCRATCH/dumpall-$round.sql.zst'"
	for jobs in 1 2; do
		measure "cairn backup, jobs = $jobs" "$CAIRN" -c "$SCRATCH/cairn-$jobs.conf" --no-progress backup pg
	done
done
ls -l "$SCRATCH"/dumpall-1.sql.zst | awk '{printf "# pg_dumpall | zstd: %d bytes\n", $5}'
"$CAIRN" -c "$SCRATCH/cairn-1.conf" --json list |
	python3 -c 'import json,sys; a=json.load(sys.stdin)[0]; print("# cairn: %d bytes stored, %d uncompressed" % (a["stored"], a["bytes"]))'
tap_failed=0
