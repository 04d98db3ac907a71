#!/usr/bin/env bash
# The first set-up command: installs the build dependencies (Debian, as
# root), builds cairn, starts throwaway sources on loopback (PostgreSQL,
# Redis, a Kong Admin API emulator), backs up a bundled sample tree and
# each source into a local repository, restores every archive elsewhere,
# compares, and prints `cairn list`.
set -u
top=$(cd "$(dirname "$0")" && pwd)
. "$top/scripts/common.sh"
. "$top/tests/integration/lib.sh"

step() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

step "installing dependencies and building"
install_dependencies || die "dependencies missing"
build_cairn demo || die "build failed (see build/demo/make.log)"
echo "cairn: $CAIRN"

# Everything lives in one directory, kept for exploring afterwards.
export CAIRN_TEST_KEEP=1
setup_scratch demo
demo=$SCRATCH
password=demo-$RANDOM$RANDOM

step "starting throwaway sources on loopback"
pg_port=$(free_port)
start_postgres "$demo/pg" "$pg_port" "$password" || die "PostgreSQL did not start"
pg_target_port=$(free_port)
start_postgres "$demo/pg-target" "$pg_target_port" "$password" ||
	die "the second PostgreSQL did not start"
export PGPASSWORD=$password
psql="psql -X -q -h 127.0.0.1 -U postgres"
$psql -p "$pg_port" -c "CREATE DATABASE payment_gateway" -c "CREATE DATABASE merchant"
$psql -p "$pg_port" -d payment_gateway -c "CREATE TABLE payments (id serial PRIMARY KEY, merchant text, amount numeric(12,2), at timestamptz DEFAULT now()); INSERT INTO payments (merchant, amount) SELECT 'm-' || (i % 50), i * 1.25 FROM generate_series(1, 20000) AS i;"
$psql -p "$pg_port" -d merchant -c "CREATE TABLE merchants (id text PRIMARY KEY, name text); INSERT INTO merchants SELECT 'm-' || i, 'Merchant ' || i FROM generate_series(0, 49) AS i;"
echo "PostgreSQL on 127.0.0.1:$pg_port (payment_gateway: 20000 payments, merchant: 50 merchants)"

redis_port=$(free_port)
start_redis "$demo/redis" "$redis_port" || die "Redis did not start"
redis_target_port=$(free_port)
start_redis "$demo/redis-target" "$redis_target_port" || die "the second Redis did not start"
for i in $(seq 1 2000); do echo "SET session:$i user-$i"; done | redis-cli -p "$redis_port" >/dev/null
redis-cli -p "$redis_port" HSET merchant:m-001 name "Merchant 1" limit 5000 >/dev/null
echo "Redis on 127.0.0.1:$redis_port (2001 keys)"

python3 "$top/tests/kong-emulator/kong_emulator.py" --port 0 >"$demo/kong.port" 2>"$demo/kong.log" &
server_pids+=($!)
python3 "$top/tests/kong-emulator/kong_emulator.py" --port 0 >"$demo/kong-target.port" 2>"$demo/kong-target.log" &
server_pids+=($!)
for f in kong.port kong-target.port; do
	for _ in $(seq 50); do [ -s "$demo/$f" ] && break; sleep 0.1; done
done
kong_url=http://127.0.0.1:$(head -n 1 "$demo/kong.port")
kong_target=http://127.0.0.1:$(head -n 1 "$demo/kong-target.port")
python3 "$top/tests/kong-emulator/kong_tool.py" seed "$kong_url" >/dev/null ||
	die "cannot fill the Kong emulator"
echo "Kong Admin API emulator on $kong_url ($(python3 "$top/tests/kong-emulator/kong_tool.py" count "$kong_url") entities)"

step "the sample tree"
mkdir -p "$demo/volume"
cp -a "$top/demo/sample" "$demo/volume/data"
truncate -s 64M "$demo/volume/data/data/sparse.img"
printf 'written at the end\n' | dd of="$demo/volume/data/data/sparse.img" bs=1 seek=$((64 * 1024 * 1024 - 19)) conv=notrunc status=none
ln "$demo/volume/data/data/ledger.csv" "$demo/volume/data/data/ledger-hardlink.csv"
find "$demo/volume/data" | sed "s|$demo/volume/||" | sort | head -n 20

mkdir -p "$demo/secrets"
printf '%s\n' "$password" >"$demo/secrets/postgres"
chmod 600 "$demo/secrets/postgres"
cat >"$demo/cairn.conf" <<CONF
; cairn demo: throwaway sources on loopback
[repository]
path = $demo/repository
metrics = $demo/cairn.prom

[retention]
keep-last = 3
keep-daily = 7

[sample-volume]
plugin = volume
paths = $demo/volume/data

[demo-postgres]
plugin = postgres
host = 127.0.0.1
port = $pg_port
user = postgres
password-file = $demo/secrets/postgres

[demo-redis]
plugin = redis
host = 127.0.0.1
port = $redis_port

[demo-kong]
plugin = kong
admin-url = $kong_url
CONF
chmod 600 "$demo/cairn.conf"
cairn() { "$CAIRN" -c "$demo/cairn.conf" "$@"; }

step "cairn backup"
cairn -v backup || die "backup failed"

step "cairn verify"
cairn verify || die "verify failed"

step "restoring every archive elsewhere"
cairn restore sample-volume:latest --to "$demo/restored-volume" || die "volume restore failed"
python3 "$top/tests/integration/treecmp.py" "$demo/volume/data" "$demo/restored-volume/${demo#/}/volume/data" &&
	echo "sample tree: identical (contents, modes, times, links, holes)"
cairn restore demo-postgres:latest --to "postgresql://postgres@127.0.0.1:$pg_target_port" ||
	die "postgres restore failed"
count=$($psql -p "$pg_target_port" -d payment_gateway -tA -c "SELECT count(*) FROM payments")
echo "postgres: payment_gateway restored into a second server, $count payments"
cairn restore demo-redis:latest --to "redis://127.0.0.1:$redis_target_port" || die "redis restore failed"
echo "redis: $(redis-cli -p "$redis_target_port" DBSIZE) keys in the second server"
cairn restore demo-kong:latest --to "$kong_target" || die "kong restore failed"
echo "kong: $(python3 "$top/tests/kong-emulator/kong_tool.py" count "$kong_target") entities in the second Admin API"

step "with stock tools only"
archive=$(ls "$demo"/repository/archives/demo-postgres/*.tar.zst | head -n 1)
echo "tar --zstd -tf $(basename "$archive"):"
tar --zstd -tf "$archive" | head -n 8

step "cairn list"
cairn list
echo
echo "everything is in $demo (configuration: $demo/cairn.conf)"
echo "try: $CAIRN -c $demo/cairn.conf show demo-postgres:latest"
