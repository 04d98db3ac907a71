#!/bin/bash
# Encrypted archives against Debian's age 1.1.1: keys made by either
# tool work in the other; cairn's archives open with
# `age -d -i KEY FILE | zstd -dc | tar -x`; files encrypted by stock age
# (to a key and to a passphrase, typed through `script` since age reads
# passphrases only from a terminal) read in cairn; plain and encrypted
# archives side by side; verify with and without an identity; damage in
# the header, a middle chunk and the last chunk, a cut at a chunk
# boundary, an archive swapped with another job's, a wrong identity and
# none (77); no secret in the catalogue, manifests, logs or JSON; the
# Redis, PostgreSQL and Kong plugins encrypted, restored with the identity,
# refused without it (77) and recovered by stock age, zstd and tar; what a
# child of cairn inherits while an identity is loaded (open files,
# environment, core limit) and cairn's own core limit.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh).

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

setup_scratch age
command -v age >/dev/null && command -v age-keygen >/dev/null || {
	echo "Bail out! age and age-keygen are needed (apt-get install age)"
	exit 1
}

SRC=$SCRATCH/src
REPO=$SCRATCH/repo
KEYS=$SCRATCH/keys
CONF=$SCRATCH/cairn.conf
mkdir -p "$SRC/sub" "$SCRATCH/other" "$KEYS" || exit 1
chmod 700 "$KEYS"
# 300 KiB of noise, incompressible: the archive spans several chunks.
head -c 300000 /dev/urandom >"$SRC/noise"
seq 1 20000 >"$SRC/sub/numbers"
echo "other job" >"$SCRATCH/other/file"

# Keys, both ways.
expect "key generate writes an identity file" \
	run_cairn key generate "$KEYS/cairn.key"
CAIRN_PUB=$(cat "$SCRATCH/last.out")
mode=$(stat -c %a "$KEYS/cairn.key")
[ "$mode" = 600 ] && ok "the identity file has mode 0600" ||
	not_ok "the identity file has mode 0600 (mode $mode)"
grep -q '^# created: ' "$KEYS/cairn.key" &&
	grep -q "^# public key: $CAIRN_PUB\$" "$KEYS/cairn.key" &&
	ok "the file has age-keygen's comments" ||
	not_ok "the file has age-keygen's comments"
[ "$(age-keygen -y "$KEYS/cairn.key")" = "$CAIRN_PUB" ] &&
	ok "age-keygen -y reads cairn's identity" ||
	not_ok "age-keygen -y reads cairn's identity"
expect_exit 1 "key generate never overwrites an identity" \
	run_cairn key generate "$KEYS/cairn.key"
age-keygen -o "$KEYS/escrow.key" 2>/dev/null
ESCROW_PUB=$(age-keygen -y "$KEYS/escrow.key")
expect "key recipient reads age-keygen's identity" \
	run_cairn key recipient "$KEYS/escrow.key"
expect_stdout "^$ESCROW_PUB\$" "key recipient prints its public key"
echo "to cairn's key" | age -r "$CAIRN_PUB" >"$SCRATCH/m.age" &&
	[ "$(age -d -i "$KEYS/cairn.key" "$SCRATCH/m.age")" = "to cairn's key" ] &&
	ok "age encrypts to and decrypts with cairn's key" ||
	not_ok "age encrypts to and decrypts with cairn's key"
run_cairn key generate "$KEYS/stranger.key" >/dev/null

# First a plain archive, then encryption is configured.
cat >"$CONF" <<EOF
[repository]
path = $REPO

[vol]
plugin = volume
paths = $SRC

[other]
plugin = volume
paths = $SCRATCH/other
EOF
chmod 600 "$CONF"
expect "a plain backup before encryption" run_cairn -c "$CONF" backup vol
PLAIN_ID=$(run_cairn -c "$CONF" --json list |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
cat >>"$CONF" <<EOF

[encryption]
recipients = $CAIRN_PUB
	$ESCROW_PUB
identity-file = $KEYS/cairn.key
EOF
sed '/identity-file/d' "$CONF" >"$SCRATCH/noid.conf"
sed "s#identity-file = .*#identity-file = $KEYS/stranger.key#" "$CONF" \
	>"$SCRATCH/wrong.conf"
chmod 600 "$CONF" "$SCRATCH/noid.conf" "$SCRATCH/wrong.conf"

expect "an encrypted backup needs no identity" \
	run_cairn -c "$SCRATCH/noid.conf" backup vol other
expect "list" run_cairn -c "$CONF" --json list
json_check "plain and encrypted archives side by side" \
	'sorted(a["file"].endswith(".age") for a in doc) == [False, True, True]'
ID=$(python3 -c 'import json,sys
for a in json.load(open(sys.argv[1])):
    if a["job"] == "vol" and a["file"].endswith(".age"): print(a["id"])' \
	"$SCRATCH/last.out")
OTHER_ID=$(python3 -c 'import json,sys
for a in json.load(open(sys.argv[1])):
    if a["job"] == "other": print(a["id"])' "$SCRATCH/last.out")
ARCHIVE=$(ls "$REPO"/archives/vol/*"$ID".tar.zst.age)
OTHER=$(ls "$REPO"/archives/other/*"$OTHER_ID".tar.zst.age)
json_check "the catalogue records format and recipients" \
	"[(a['encryption']['format'], a['encryption']['recipients']) for a in doc if a['id'] == '$ID'] == [('age-v1', ['$CAIRN_PUB', '$ESCROW_PUB'])]"
sum=$(sha256sum "$ARCHIVE" | cut -d' ' -f1)
grep -q "\"sha256\":\"$sum\"" "$REPO/catalog" &&
	ok "the recorded sha256 is the stored file's" ||
	not_ok "the recorded sha256 is the stored file's"
head -c 22 "$ARCHIVE" | grep -q '^age-encryption.org/v1$' &&
	ok "the archive is an age v1 file" || not_ok "the archive is an age v1 file"
grep -q "numbers" "$REPO/catalog" && not_ok "no entry name in the catalogue" ||
	ok "no entry name in the catalogue"

# Stock tools alone, with the escrow key that cairn never saw.
mkdir "$SCRATCH/stock"
age -d -i "$KEYS/escrow.key" "$ARCHIVE" | zstd -dc | tar -x -C "$SCRATCH/stock"
expect "age | zstd | tar gives back the source" \
	diff -r "$SRC" "$SCRATCH/stock$SRC"

expect "restore" run_cairn -c "$CONF" restore "$ID" --to "$SCRATCH/out"
expect "the restored tree matches" diff -r "$SRC" "$SCRATCH/out$SRC"
run_cairn -c "$CONF" cat "$ID" "${SRC#/}/noise" >"$SCRATCH/cat.out"
expect "cat gives the entry" cmp "$SRC/noise" "$SCRATCH/cat.out"
age -d -i "$KEYS/escrow.key" "$ARCHIVE" | zstd -dc |
	tar -xO "${SRC#/}/noise" >"$SCRATCH/stockcat.out"
expect "as stock tar -xO does" cmp "$SRC/noise" "$SCRATCH/stockcat.out"
expect "show with the identity" run_cairn -c "$CONF" show "$ID"
expect_stdout "numbers" "show lists the entries"
expect "restore of the plain archive still works" \
	run_cairn -c "$CONF" restore "$PLAIN_ID" --to "$SCRATCH/plainout"
expect "verify with the identity" run_cairn -c "$CONF" verify
expect "verify without an identity (size, sha256, header)" \
	run_cairn -c "$SCRATCH/noid.conf" verify
expect "drill" run_cairn -c "$CONF" drill vol
expect "prune --dry-run" run_cairn -c "$CONF" prune --dry-run

# No key, wrong key.
expect_exit 77 "restore without an identity exits 77" \
	run_cairn -c "$SCRATCH/noid.conf" restore "$ID" --to "$SCRATCH/x"
expect_stderr "identity-file or passphrase-file" "the message says which key is missing"
expect_exit 77 "cat with a wrong identity exits 77" \
	run_cairn -c "$SCRATCH/wrong.conf" cat "$ID" "${SRC#/}/noise"
[ -s "$SCRATCH/last.out" ] && not_ok "nothing on stdout without the key" ||
	ok "nothing on stdout without the key"

# Damage. Offsets: the payload starts after the header and its nonce.
cp "$ARCHIVE" "$SCRATCH/good.age"
header=$(python3 -c 'import sys
d = open(sys.argv[1], "rb").read(); print(d.index(b"\n---") + 49)' "$ARCHIVE")
payload=$((header + 16))
size=$(stat -c %s "$ARCHIVE")
restore_damaged() { # DESCRIPTION CODE
	rm -rf "$SCRATCH/dmg"
	expect_exit "$2" "$1: restore exits $2" \
		run_cairn -c "$CONF" restore "$ID" --to "$SCRATCH/dmg"
	if [ -e "$SCRATCH/dmg$SRC/noise" ] &&
		! cmp -s "$SRC/noise" "$SCRATCH/dmg$SRC/noise"; then
		not_ok "$1: no damaged file in the target"
	else
		ok "$1: no damaged file in the target"
	fi
	run_cairn -c "$CONF" cat "$ID" "${SRC#/}/noise" >"$SCRATCH/dmg.out" 2>/dev/null
	if cmp -s -n "$(stat -c %s "$SCRATCH/dmg.out")" "$SCRATCH/dmg.out" "$SRC/noise"; then
		ok "$1: cat writes nothing but authentic bytes"
	else
		not_ok "$1: cat writes nothing but authentic bytes"
	fi
	cp "$SCRATCH/good.age" "$ARCHIVE"
}
flip "$ARCHIVE" $((header - 10))
expect_exit 65 "a flipped byte in the header's MAC: verify exits 65" \
	run_cairn -c "$CONF" verify "$ID"
restore_damaged "header" 65
flip "$ARCHIVE" $((payload + 65552 + 1000))
expect_exit 65 "a flipped byte in a middle chunk: verify exits 65" \
	run_cairn -c "$CONF" verify "$ID"
expect_stderr "$ID.*offset $((payload + 65552))" "the message names the archive and the chunk's offset"
restore_damaged "middle chunk" 65
flip "$ARCHIVE" $((size - 20))
expect_exit 65 "a flipped byte in the last chunk: verify exits 65" \
	run_cairn -c "$CONF" verify "$ID"
restore_damaged "last chunk" 65
truncate -s $((payload + 2 * 65552)) "$ARCHIVE"
expect_exit 65 "a file cut at a chunk boundary: verify exits 65" \
	run_cairn -c "$CONF" verify "$ID"
expect_stderr "not marked final|truncated" "the cut is reported as a truncation"
restore_damaged "cut at a chunk boundary" 65
cp "$OTHER" "$ARCHIVE"
expect_exit 65 "another job's archive in its place: verify without identity exits 65" \
	run_cairn -c "$SCRATCH/noid.conf" verify "$ID"
expect_exit 65 "and with the identity, 65" run_cairn -c "$CONF" verify "$ID"
cp "$SCRATCH/good.age" "$ARCHIVE"
flip "$ARCHIVE" $((size / 2))
expect_exit 65 "verify without identity sees a flipped payload byte" \
	run_cairn -c "$SCRATCH/noid.conf" verify "$ID"
cp "$SCRATCH/good.age" "$ARCHIVE"

# A file encrypted by stock age reads through cairn's decryption: the
# plain archive, encrypted with `age -r`, replaces the plain file and the
# catalogue is rebuilt from the files.
PLAIN=$(ls "$REPO"/archives/vol/*"$PLAIN_ID".tar.zst)
age -r "$CAIRN_PUB" -o "$PLAIN.age" "$PLAIN" && rm "$PLAIN"
expect "catalog rebuild reads an archive age encrypted" \
	run_cairn -c "$CONF" catalog rebuild
expect "restore of it" run_cairn -c "$CONF" restore "$PLAIN_ID" --to "$SCRATCH/ageout"
expect "it matches" diff -r "$SRC" "$SCRATCH/ageout$SRC"

# Passphrase, both ways, age driven through a terminal by script(1).
printf 'correct horse battery\n' >"$KEYS/passphrase"
chmod 600 "$KEYS/passphrase"
cat >"$SCRATCH/pass.conf" <<EOF
[repository]
path = $SCRATCH/passrepo

[other]
plugin = volume
paths = $SCRATCH/other

[encryption]
passphrase-file = $KEYS/passphrase
EOF
chmod 600 "$SCRATCH/pass.conf"
expect "backup with a passphrase" run_cairn -c "$SCRATCH/pass.conf" backup
PASS_ARCHIVE=$(ls "$SCRATCH"/passrepo/archives/other/*.age)
grep -q '^-> scrypt ' "$PASS_ARCHIVE" && ok "the header holds one scrypt stanza" ||
	not_ok "the header holds one scrypt stanza"
printf 'correct horse battery\n' | script -qec \
	"age -d -o '$SCRATCH/pass.tar.zst' '$PASS_ARCHIVE'" /dev/null >/dev/null
mkdir "$SCRATCH/passout"
zstd -dc "$SCRATCH/pass.tar.zst" 2>/dev/null | tar -x -C "$SCRATCH/passout"
expect "age -d with the passphrase opens cairn's archive" \
	diff -r "$SCRATCH/other" "$SCRATCH/passout$SCRATCH/other"
# The payload age gave back, encrypted again by age -p in its place.
printf 'correct horse battery\ncorrect horse battery\n' | script -qec \
	"age -p -o '$PASS_ARCHIVE.new' '$SCRATCH/pass.tar.zst'" /dev/null >/dev/null
mv "$PASS_ARCHIVE.new" "$PASS_ARCHIVE"
expect "catalog rebuild after age -p rewrote the archive" \
	run_cairn -c "$SCRATCH/pass.conf" catalog rebuild
expect "restore of the file age -p wrote" \
	run_cairn -c "$SCRATCH/pass.conf" restore other:latest --to "$SCRATCH/passout2"
expect "it matches" diff -r "$SCRATCH/other" "$SCRATCH/passout2$SCRATCH/other"

# Rotation: a new key replaces cairn.key; rekey opens the headers with
# the old identity and re-wraps the file keys for the new recipients.
run_cairn key generate "$KEYS/new.key" >"$SCRATCH/new.pub"
NEW_PUB=$(cat "$SCRATCH/new.pub")
cat "$KEYS/cairn.key" "$KEYS/new.key" >"$KEYS/both.key"
chmod 600 "$KEYS/both.key"
sed -e "s#^recipients = .*#recipients = $NEW_PUB#" \
	-e "s#identity-file = .*#identity-file = $KEYS/both.key#" "$CONF" \
	>"$SCRATCH/rot.conf"
chmod 600 "$SCRATCH/rot.conf"
payload_of() { python3 -c 'import sys
d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(d[d.index(b"\n---") + 49:])' "$1"; }
payload_of "$ARCHIVE" >"$SCRATCH/payload.before"

# Failures at every write, fsync and rename of a rekey: each leaves an
# archive that verify accepts, with and without an identity.
SHIM=$SCRATCH/inject.so
if cc -shared -fPIC -o "$SHIM" "$here/../faults/inject.c" -ldl 2>/dev/null; then
	bad=0 runs=0
	cp "$REPO/catalog" "$SCRATCH/catalog.good"
	cp "$REPO/catalog.copy" "$SCRATCH/catalog.copy.good"
	for call in write fsync rename; do
		for n in 1 2 3 4 5 6 7 8; do
			: >"$SCRATCH/fired"
			CAIRN_FAULT="$call:$n" CAIRN_FAULT_LOG="$SCRATCH/fired" \
				LD_PRELOAD="$SHIM" \
				ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
				"$CAIRN" -c "$SCRATCH/rot.conf" rekey "$ID" >/dev/null 2>&1
			if [ -s "$SCRATCH/fired" ]; then
				runs=$((runs + 1))
				"$CAIRN" -c "$SCRATCH/noid.conf" verify "$ID" >/dev/null 2>&1 &&
					"$CAIRN" -c "$SCRATCH/rot.conf" verify "$ID" >/dev/null 2>&1 ||
					{ bad=$((bad + 1)); echo "# rekey with $call $n failing left an archive verify refuses"; }
			fi
			# Back to the old file and catalogue for the next one.
			cp "$SCRATCH/good.age" "$ARCHIVE"
			cp "$SCRATCH/catalog.good" "$REPO/catalog"
			cp "$SCRATCH/catalog.copy.good" "$REPO/catalog.copy"
		done
	done
	[ "$bad" -eq 0 ] && [ "$runs" -gt 5 ] &&
		ok "a rekey failing at any of $runs writes, fsyncs and renames leaves a verifiable archive" ||
		not_ok "a rekey failing at any of $runs writes, fsyncs and renames leaves a verifiable archive ($bad bad)"
else
	ok "# SKIP no C compiler for the fault injector"
fi
expect "catalog rebuild records encrypted archives as such" \
	run_cairn -c "$CONF" catalog rebuild
grep -q '"encryption"' "$REPO/catalog" && ok "with their sha256" ||
	not_ok "with their sha256"
expect "rekey to the new recipients" run_cairn -c "$SCRATCH/rot.conf" rekey "$ID"
expect_stdout "rekeyed" "rekey says what it did"
expect "list" run_cairn -c "$CONF" --json list
json_check "the catalogue has the new recipients" \
	"[a['encryption']['recipients'] for a in doc if a['id'] == '$ID'] == [['$NEW_PUB', '$ESCROW_PUB']]"
sum=$(sha256sum "$ARCHIVE" | cut -d' ' -f1)
grep -q "\"sha256\":\"$sum\"" "$REPO/catalog" &&
	ok "and the new file's sha256" || not_ok "and the new file's sha256"
payload_of "$ARCHIVE" >"$SCRATCH/payload.after"
expect "the payload is unchanged, byte for byte" \
	cmp "$SCRATCH/payload.before" "$SCRATCH/payload.after"
age -d -i "$KEYS/cairn.key" "$ARCHIVE" >/dev/null 2>&1 &&
	not_ok "the old key no longer opens it" || ok "the old key no longer opens it"
mkdir "$SCRATCH/rotout"
age -d -i "$KEYS/new.key" "$ARCHIVE" | zstd -dc | tar -x -C "$SCRATCH/rotout"
expect "the new key opens it with age" diff -r "$SRC" "$SCRATCH/rotout$SRC"
expect "verify without an identity after rekey" \
	run_cairn -c "$SCRATCH/noid.conf" verify "$ID"
expect_exit 77 "rekey with no identity that opens it exits 77" \
	run_cairn -c "$SCRATCH/wrong.conf" rekey "$ID"

# A second plugin through the same layer: Redis, encrypted, restored by
# cairn into an empty server and by the stock recovery of cairn(8).
if command -v redis-server >/dev/null; then
	rcli() { redis-cli -p "$1" "${@:2}"; }
	src_port=$(free_port)
	start_redis "$SCRATCH/redis-src" "$src_port" --repl-diskless-sync no \
		--repl-diskless-sync-delay 0
	for i in $(seq 1 200); do echo "SET key:$i value-$i-$RANDOM"; done |
		rcli "$src_port" >/dev/null
	cat >>"$CONF" <<EOF

[cache]
plugin = redis
host = 127.0.0.1
port = $src_port
EOF
	expect "an encrypted Redis backup" run_cairn -c "$CONF" backup cache
	dst_port=$(free_port)
	start_redis "$SCRATCH/redis-dst" "$dst_port"
	expect "its restore into an empty server" run_cairn -c "$CONF" \
		restore cache:latest --to "redis://127.0.0.1:$dst_port"
	[ "$(rcli "$src_port" DEBUG DIGEST)" = "$(rcli "$dst_port" DEBUG DIGEST)" ] &&
		ok "the restored server has the same DEBUG DIGEST" ||
		not_ok "the restored server has the same DEBUG DIGEST"
	RDB_ARCHIVE=$(ls "$REPO"/archives/cache/*.tar.zst.age)
	age -d -i "$KEYS/escrow.key" "$RDB_ARCHIVE" | zstd -dc |
		tar -xO --wildcards 'dump.rdb*' >"$SCRATCH/stock.rdb"
	head -c 5 "$SCRATCH/stock.rdb" | grep -q '^REDIS' &&
		ok "age | zstd | tar -xO gives the RDB file" ||
		not_ok "age | zstd | tar -xO gives the RDB file"
else
	ok "# SKIP redis-server is not installed"
fi

# PostgreSQL through the same layer: an encrypted backup of one database,
# restored into a second server with the identity, refused (77) without
# it, and recovered by the stock recovery of cairn(8). pg_restore and
# psql are wrappers (pg-bin-dir) that record what a child of cairn
# inherits while an identity is loaded: its open files, its environment,
# its core limit, and cairn's own limits read while cairn waits for it.
bin=$(pg_bindir)
if [ -x "$bin/initdb" ]; then
	pg_pw=pg-secret
	pg_src=$(free_port)
	pg_dst=$(free_port)
	start_postgres "$SCRATCH/pg-src" "$pg_src" "$pg_pw" &&
		start_postgres "$SCRATCH/pg-dst" "$pg_dst" "$pg_pw" ||
		not_ok "start two PostgreSQL servers"
	printf '127.0.0.1:*:*:postgres:%s\n' "$pg_pw" >"$SCRATCH/test.pgpass"
	printf '%s\n' "$pg_pw" >"$SCRATCH/pg.pw"
	chmod 600 "$SCRATCH/test.pgpass" "$SCRATCH/pg.pw"
	psql_at() { # psql_at PORT DB SQL
		PGPASSFILE=$SCRATCH/test.pgpass "$bin/psql" -X -q -At \
			-v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d "$2" -c "$3"
	}
	sums() { # sums PORT DB: rows and an md5 of each table
		psql_at "$1" "$2" "SELECT 'orders ' || count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t::text)) FROM orders t" &&
			psql_at "$1" "$2" "SELECT 'merchants ' || count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t::text)) FROM merchants t"
	}
	psql_at "$pg_src" postgres "CREATE DATABASE shop" &&
		psql_at "$pg_src" shop "CREATE TABLE merchants (id int PRIMARY KEY, name text);
			INSERT INTO merchants SELECT i, 'merchant ' || i FROM generate_series(1, 50) i;
			CREATE TABLE orders (id bigserial PRIMARY KEY, merchant int REFERENCES merchants,
				amount numeric(12,2), at timestamptz);
			INSERT INTO orders (merchant, amount, at) SELECT 1 + i % 50, i * 1.25,
				'2026-01-01'::timestamptz + i * interval '1 minute' FROM generate_series(1, 5000) i" ||
		not_ok "populate the source database"
	sums "$pg_src" shop >"$SCRATCH/pg.src.sums"

	spy=$SCRATCH/spybin
	mkdir -p "$spy"
	for tool in pg_dump pg_dumpall; do ln -s "$bin/$tool" "$spy/$tool"; done
	for tool in pg_restore psql; do
		cat >"$spy/$tool" <<EOF
#!/bin/sh
case "\$1" in -V|--version) exec "$bin/$tool" "\$@" ;; esac
{
	echo "== $tool"
	ls -l /proc/\$\$/fd/
	echo "core limit: \$(ulimit -c)"
	echo "cairn: \$(grep '^Max core file size' /proc/\$PPID/limits)"
	echo "cairn fds:"
	ls -l /proc/\$PPID/fd/ 2>&1
	echo "environment:"
	env
} >>"$SCRATCH/spy.log" 2>&1
exec "$bin/$tool" "\$@"
EOF
		chmod 755 "$spy/$tool"
	done
	cat >>"$CONF" <<EOF

[shop]
plugin = postgres
host = 127.0.0.1
port = $pg_src
user = postgres
password-file = $SCRATCH/pg.pw
databases = shop
pg-bin-dir = $spy
EOF
	sed -n '/^\[shop\]/,$p' "$CONF" >"$SCRATCH/shop.job"
	cat "$SCRATCH/shop.job" >>"$SCRATCH/noid.conf"
	expect "an encrypted PostgreSQL backup" run_cairn -c "$CONF" backup shop
	PG_ARCHIVE=$(ls "$REPO"/archives/shop/*.tar.zst.age 2>/dev/null | head -n 1)
	[ -n "$PG_ARCHIVE" ] && ok "it is stored as an age file" ||
		not_ok "it is stored as an age file"
	pg_target="postgresql://postgres:$pg_pw@127.0.0.1:$pg_dst"
	expect_exit 77 "its restore without an identity exits 77" \
		run_cairn -c "$SCRATCH/noid.conf" restore shop:latest --to "$pg_target"
	expect_stderr "identity-file or passphrase-file" "naming the missing key"
	[ "$(psql_at "$pg_dst" postgres "SELECT count(*) FROM pg_database WHERE datname = 'shop'")" = 0 ] &&
		ok "and nothing reached the target server" ||
		not_ok "and nothing reached the target server"
	: >"$SCRATCH/spy.log"
	expect "its restore with the identity" \
		run_cairn -c "$CONF" restore shop:latest --to "$pg_target"
	sums "$pg_dst" shop >"$SCRATCH/pg.dst.sums"
	expect "the restored database has the same rows (per-table md5)" \
		cmp "$SCRATCH/pg.src.sums" "$SCRATCH/pg.dst.sums"

	# What the children saw. The secret files by their real paths.
	key_path=$(readlink -f "$KEYS/cairn.key")
	grep -q '^== ' "$SCRATCH/spy.log" &&
		ok "the restore ran the recording pg_restore/psql ($(grep -c '^== ' "$SCRATCH/spy.log") children)" ||
		not_ok "the restore ran the recording pg_restore/psql"
	if sed '/^cairn fds:/,/^environment:/d' "$SCRATCH/spy.log" |
		grep -qF -e "$key_path" -e "$KEYS/passphrase"; then
		not_ok "no child holds the identity file open"
		grep -F "$key_path" "$SCRATCH/spy.log" | sed 's/^/# /'
	else
		ok "no child holds the identity file open"
	fi
	secret=$(grep '^AGE-SECRET' "$KEYS/cairn.key")
	if sed -n '/^environment:/,/^== /p' "$SCRATCH/spy.log" |
		grep -qF -e "$secret" -e "${secret#AGE-SECRET-KEY-1}" -e "$pg_pw" -e "correct horse"; then
		not_ok "no secret in a child's environment"
	else
		ok "no secret in a child's environment"
	fi
	[ "$(grep -c '^core limit: ' "$SCRATCH/spy.log")" -gt 0 ] &&
		! grep '^core limit: ' "$SCRATCH/spy.log" | grep -qv '^core limit: 0$' &&
		ok "every child starts with a core limit of 0" ||
		not_ok "every child starts with a core limit of 0"
	[ "$(grep -c '^cairn: Max core file size  *0  *0 ' "$SCRATCH/spy.log")" = \
		"$(grep -c '^== ' "$SCRATCH/spy.log")" ] &&
		ok "cairn itself runs with a core limit of 0 while its children do" ||
		not_ok "cairn itself runs with a core limit of 0 while its children do"
	if sed -n '/^cairn fds:/,/^environment:/p' "$SCRATCH/spy.log" | grep -qF "$key_path"; then
		not_ok "cairn holds the identity file open no longer than it reads it"
	else
		ok "cairn holds the identity file open no longer than it reads it"
	fi

	# The stock recovery: age, zstd and tar, then pg_restore.
	mkdir "$SCRATCH/pgstock"
	age -d -i "$KEYS/escrow.key" "$PG_ARCHIVE" | zstd -dc | tar -x -C "$SCRATCH/pgstock"
	psql_at "$pg_dst" postgres "CREATE DATABASE by_hand"
	if cat "$SCRATCH"/pgstock/databases/shop.dump* 2>/dev/null |
		PGPASSFILE=$SCRATCH/test.pgpass "$bin/pg_restore" -h 127.0.0.1 \
			-p "$pg_dst" -U postgres --no-owner -d by_hand \
			>"$SCRATCH/by_hand.log" 2>&1 &&
		sums "$pg_dst" by_hand | cmp -s - "$SCRATCH/pg.src.sums"; then
		ok "age | zstd | tar -x gives the dump back: pg_restore restores the same rows"
	else
		not_ok "age | zstd | tar -x gives the dump back: pg_restore restores the same rows"
		ls -R "$SCRATCH/pgstock" | head -n 10 | sed 's/^/# /'
		sed 's/^/# /' "$SCRATCH/by_hand.log" | tail -n 5
	fi
	stop_pid "$(head -n 1 "$SCRATCH/pg-src/data/postmaster.pid")"
	stop_pid "$(head -n 1 "$SCRATCH/pg-dst/data/postmaster.pid")"
else
	ok "# SKIP PostgreSQL is not installed"
fi

# Kong through the same layer: the emulator's gateway, encrypted,
# restored into an empty gateway and recovered by stock tools.
kong_tool=$here/../kong-emulator/kong_tool.py
kong_token=payment-admin-token
ktool() { python3 "$kong_tool" "$@" --token "$kong_token"; }
start_kong kong-src --token "$kong_token"
kong_src=$KONG_URL
start_kong kong-dst --token "$kong_token"
kong_dst=$KONG_URL
ktool seed "$kong_src" || not_ok "seed the gateway"
printf '%s\n' "$kong_token" >"$KEYS/kong-token"
chmod 600 "$KEYS/kong-token"
cat >>"$CONF" <<EOF

[gateway]
plugin = kong
admin-url = $kong_src
token-file = $KEYS/kong-token
EOF
sed -n '/^\[gateway\]/,$p' "$CONF" >>"$SCRATCH/noid.conf"
expect "an encrypted Kong backup" run_cairn -c "$CONF" backup gateway
expect_exit 77 "its restore without an identity exits 77" \
	run_cairn -c "$SCRATCH/noid.conf" restore gateway:latest --to "$kong_dst"
expect_stderr "identity-file or passphrase-file" "naming the missing key"
[ "$(ktool count "$kong_dst")" = 0 ] && ok "and nothing reached the target gateway" ||
	not_ok "and nothing reached the target gateway"
expect "its restore into an empty gateway" \
	run_cairn -c "$CONF" restore gateway:latest --to "$kong_dst"
# Kong hashes basic-auth passwords: the Admin API cannot restore them
# (kong.sh tests that they are named as such).
ktool dump "$kong_src" --skip basicauth_credentials >"$SCRATCH/kong.a"
ktool dump "$kong_dst" --skip basicauth_credentials >"$SCRATCH/kong.b"
[ -s "$SCRATCH/kong.a" ] && cmp -s "$SCRATCH/kong.a" "$SCRATCH/kong.b" &&
	ok "the restored gateway has the same entities, ids and fields (basic-auth aside)" ||
	not_ok "the restored gateway has the same entities, ids and fields (basic-auth aside)"
KONG_ARCHIVE=$(ls "$REPO"/archives/gateway/*.tar.zst.age 2>/dev/null | head -n 1)
mkdir "$SCRATCH/kongstock"
age -d -i "$KEYS/escrow.key" "$KONG_ARCHIVE" | zstd -dc | tar -x -C "$SCRATCH/kongstock"
run_cairn -c "$CONF" --json show gateway:latest >"$SCRATCH/kong.show" 2>/dev/null
if python3 - "$SCRATCH/kongstock" "$SCRATCH/kong.show" <<'EOF'; then
import json, os, sys
root, show = sys.argv[1], json.load(open(sys.argv[2]))
entries = [e for e in show["entries"] if e.get("type", "file") == "file"]
assert entries, "no entries"
for e in entries:
    path = os.path.join(root, e["name"])
    assert os.path.getsize(path) == e["size"], e["name"]
    if path.endswith(".json"):
        json.load(open(path))
EOF
	ok "age | zstd | tar -x gives the gateway's entries back, as show lists them"
else
	not_ok "age | zstd | tar -x gives the gateway's entries back, as show lists them"
fi

# Secrets: nowhere but in their files.
secret=$(grep '^AGE-SECRET' "$KEYS/cairn.key")
run_cairn -c "$CONF" --json show "$ID" >"$SCRATCH/show.json" 2>"$SCRATCH/show.err"
run_cairn -c "$CONF" -v --json list >"$SCRATCH/list.json" 2>"$SCRATCH/list.err"
if grep -rqF -e "$secret" -e "correct horse" "$REPO" "$SCRATCH/passrepo" \
	"$SCRATCH"/*.json "$SCRATCH"/*.err "$SCRATCH/last.out" 2>/dev/null; then
	not_ok "no identity or passphrase in repository, JSON or logs"
else
	ok "no identity or passphrase in repository, JSON or logs"
fi

finish
