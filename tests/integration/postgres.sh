#!/bin/bash
# Integration test of the postgres plugin against real PostgreSQL servers
# started here: a source cluster with 16 business databases (one whose
# name needs quoting and holds a '/'), roles with grants, most column
# types, sequences, views, functions, large objects and a 200 000-row
# table; a second server to restore into. It backs up, restores the whole
# cluster and compares schema (pg_dump --schema-only) and data (per-table
# checksums), restores one database into a live server, restores with
# stock tar and pg_restore alone, and checks that a wrong password, a
# server that is down, a pg_dump killed mid-stream and a database dropped
# during the backup each fail loudly and catalogue nothing.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
fixtures=$here/postgres

setup_scratch postgres
bin=$(pg_bindir)
src_pw=src-secret
dst_pw=dst-secret
src_port=$(free_port)
start_postgres "$SCRATCH/src" "$src_port" "$src_pw" || { not_ok "start the source server"; finish; }
src_pid=$PG_PID
dst_port=$(free_port)
start_postgres "$SCRATCH/dst" "$dst_port" "$dst_pw" || { not_ok "start the target server"; finish; }
down_port=$(free_port)

# Credentials for the test's own psql and pg_dump, never on a command line.
printf '127.0.0.1:%s:*:postgres:%s\n127.0.0.1:%s:*:postgres:%s\n' \
	"$src_port" "$src_pw" "$dst_port" "$dst_pw" >"$SCRATCH/test.pgpass"
chmod 600 "$SCRATCH/test.pgpass"
export PGPASSFILE=$SCRATCH/test.pgpass

sql() { # sql PORT DB [psql args...]
	local port=$1 db=$2
	shift 2
	"$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres \
		-d "$db" "$@"
}
value() { # value PORT DB QUERY: one value
	sql "$1" "$2" -At -c "$3"
}

databases=(payment_gateway merchant customer wallet ledger settlement refund
	fraud_detection notification reporting audit_log kyc payout billing
	currency_exchange "Partner Portal/Legacy")

# --- the source cluster ------------------------------------------------

populate() {
	local db
	sql "$src_port" postgres -f "$fixtures/roles.sql" || return 1
	for db in "${databases[@]}"; do
		sql "$src_port" postgres -c "CREATE DATABASE \"$db\" OWNER app_owner" || return 1
		if [ "$db" = payment_gateway ]; then
			sql "$src_port" "$db" -f "$fixtures/payment_gateway.sql" >/dev/null || return 1
		else
			sql "$src_port" "$db" -v dbtag="$db" -f "$fixtures/business.sql" || return 1
		fi
	done
	sql "$src_port" "Partner Portal/Legacy" -c \
		"CREATE TABLE \"Odd Table\" (\"Mixed Col\" text); INSERT INTO \"Odd Table\" VALUES ('x'), (NULL)" || return 1
	sql "$src_port" postgres -f "$fixtures/database_settings.sql"
}
if populate >"$SCRATCH/populate.log" 2>&1; then
	ok "populate the source cluster (16 databases, roles, 200000-row table)"
else
	not_ok "populate the source cluster"
	sed 's/^/# /' "$SCRATCH/populate.log" | tail -n 20
	finish
fi

printf '%s\n' "$src_pw" >"$SCRATCH/src.pw"
printf 'wrong-%s\n' "$src_pw" >"$SCRATCH/bad.pw"
chmod 600 "$SCRATCH/src.pw" "$SCRATCH/bad.pw"

# A pg_dump that dies after 64 KiB of output, as if killed mid-stream.
mkdir -p "$SCRATCH/killer"
cat >"$SCRATCH/killer/pg_dump" <<EOF
#!/bin/sh
case "\$1" in -V|--version) exec "$bin/pg_dump" "\$@" ;; esac
"$bin/pg_dump" "\$@" | head -c 65536
kill -KILL \$\$
EOF
chmod 755 "$SCRATCH/killer/pg_dump"
for tool in pg_dumpall pg_restore psql; do
	ln -s "$bin/$tool" "$SCRATCH/killer/$tool"
done

# A database that vanishes mid-run: dropped by this pg_dumpall, which runs
# after cairn has listed the databases and before it dumps them. It
# connects with what cairn gives its children (PGHOST, PGPORT, PGUSER and
# a PGPASSFILE in the environment).
mkdir -p "$SCRATCH/vanisher"
cat >"$SCRATCH/vanisher/pg_dumpall" <<EOF
#!/bin/sh
"$bin/psql" -X -q -d postgres -c 'DROP DATABASE IF EXISTS vanishing' >&2 || exit 1
exec "$bin/pg_dumpall" "\$@"
EOF
chmod 755 "$SCRATCH/vanisher/pg_dumpall"
for tool in pg_dump pg_restore psql; do
	ln -s "$bin/$tool" "$SCRATCH/vanisher/$tool"
done

# A pg_dump older than the server, and one that exits 0 having written
# nothing (a wrapper gone wrong, say).
mkdir -p "$SCRATCH/olddump" "$SCRATCH/silent"
cat >"$SCRATCH/olddump/pg_dump" <<EOF
#!/bin/sh
case "\$1" in -V|--version) echo 'pg_dump (PostgreSQL) 9.6.24'; exit 0 ;; esac
exec "$bin/pg_dump" "\$@"
EOF
cat >"$SCRATCH/silent/pg_dump" <<EOF
#!/bin/sh
case "\$1" in -V|--version) exec "$bin/pg_dump" "\$@" ;; esac
exit 0
EOF
chmod 755 "$SCRATCH/olddump/pg_dump" "$SCRATCH/silent/pg_dump"
for tool in pg_dumpall pg_restore psql; do
	ln -s "$bin/$tool" "$SCRATCH/olddump/$tool"
	ln -s "$bin/$tool" "$SCRATCH/silent/$tool"
done

# Drills without drill-target start a throwaway cluster, which cannot run
# as root: as root, the test user runs it (the "postgres" user by default).
drill_user=
[ "$(id -u)" -eq 0 ] && drill_user="drill-user = $TEST_USER"
plain_drill_user=$drill_user
id postgres >/dev/null 2>&1 && plain_drill_user=

# A pg_dumpall that loses a role and a pg_dump that loses a grant: their
# archives look whole, but a drill must see what is missing.
mkdir -p "$SCRATCH/doctor" "$SCRATCH/sigterm"
cat >"$SCRATCH/doctor/pg_dumpall" <<EOF
#!/bin/sh
case "\$1" in -V|--version) exec "$bin/pg_dumpall" "\$@" ;; esac
"$bin/pg_dumpall" "\$@" | grep -v auditor
EOF
cat >"$SCRATCH/doctor/pg_dump" <<EOF
#!/bin/sh
case "\$1" in -V|--version) exec "$bin/pg_dump" "\$@" ;; esac
"$bin/pg_dump" "\$@" | sed '/^GRANT SELECT ON TABLE public.accounts TO readers;\$/d'
EOF
# A pg_restore that has cairn sent SIGTERM mid-drill, the throwaway
# cluster running, and notes the cluster's server process id.
cat >"$SCRATCH/sigterm/pg_restore" <<EOF
#!/bin/sh
case "\$1" in -V|--version) exec "$bin/pg_restore" "\$@" ;; esac
head -n 1 "\$TMPDIR"/cairn-drill-pg-sigterm-*/pg/data/postmaster.pid >"$SCRATCH/sigterm.pid"
kill -TERM "\$PPID"
exec "$bin/pg_restore" "\$@"
EOF
chmod 755 "$SCRATCH/doctor/pg_dumpall" "$SCRATCH/doctor/pg_dump" "$SCRATCH/sigterm/pg_restore"
for tool in pg_restore psql; do
	ln -s "$bin/$tool" "$SCRATCH/doctor/$tool"
done
for tool in pg_dump pg_dumpall psql; do
	ln -s "$bin/$tool" "$SCRATCH/sigterm/$tool"
done

# The drill connects to the target as another user, through PGPASSFILE.
sql "$dst_port" postgres -c "CREATE ROLE drill LOGIN SUPERUSER PASSWORD 'drill-pw'"
printf '127.0.0.1:%s:*:drill:drill-pw\n' "$dst_port" >>"$SCRATCH/test.pgpass"

conf=$SCRATCH/cairn.conf
cat >"$conf" <<EOF
[repository]
path = $SCRATCH/repo

[pg]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/src.pw
databases = all
drill-target = postgresql://drill@127.0.0.1:$dst_port/postgres

[pg-parallel]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/src.pw
jobs = 2
exclude-databases = reporting audit_*
$drill_user

[pg-plain]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/src.pw
format = plain
databases = merchant "Partner Portal/Legacy"
$plain_drill_user

[pg-doctored]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/src.pw
format = plain
databases = merchant
pg-bin-dir = $SCRATCH/doctor
$drill_user

[pg-sigterm]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/src.pw
databases = merchant
pg-bin-dir = $SCRATCH/sigterm
$drill_user

[pg-badpw]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/bad.pw

[pg-down]
plugin = postgres
host = 127.0.0.1
port = $down_port
user = postgres
password-file = $SCRATCH/src.pw
connect-timeout = 5

[pg-killed]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/src.pw
databases = payment_gateway
pg-bin-dir = $SCRATCH/killer

[pg-old]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/src.pw
databases = merchant
pg-bin-dir = $SCRATCH/olddump

[pg-silent]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/src.pw
databases = merchant
pg-bin-dir = $SCRATCH/silent

[pg-vanish]
plugin = postgres
host = 127.0.0.1
port = $src_port
user = postgres
password-file = $SCRATCH/src.pw
databases = merchant vanishing
pg-bin-dir = $SCRATCH/vanisher
EOF

cairn() { "$CAIRN" -c "$conf" --no-progress "$@"; }

# --- backup --------------------------------------------------------------

expect "backup of the whole cluster" cairn backup pg
expect "the archive is listed" cairn --json list
id=$(python3 -c 'import json,sys; a=json.load(sys.stdin); print(a[0]["id"] if len(a)==1 and a[0]["status"]=="ok" else "")' <"$SCRATCH/last.out")
[ -n "$id" ] && ok "one good archive in the catalogue" || not_ok "one good archive in the catalogue"

cairn --json show "$id" >"$SCRATCH/show.json" 2>"$SCRATCH/last.err"
if python3 - "$SCRATCH/show.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
names = {e["name"] for e in m["entries"]}
facts = m.get("facts") or m.get("source") or {}
text = json.dumps(m)
want = {"globals.sql", "databases/payment_gateway.dump",
        "databases/Partner%20Portal%2FLegacy.dump",
        "databases/payment_gateway.rowcounts"}
assert want <= names, want - names
assert len([n for n in names if n.endswith(".dump")]) == 17, names
assert "15." in text and "server.version" in text, "server version"
assert "client.version" in text and "database.payment_gateway.size" in text
assert "Partner Portal/Legacy" in text, "real name recorded"
assert "secret" not in text, "no secret in the manifest"
EOF
then ok "manifest: entries per database, versions, sizes, real names, no secret"
else not_ok "manifest: entries per database, versions, sizes, real names, no secret"
fi
expect "verify the archive" cairn verify "$id"

# --- full restore into the second server -------------------------------

target="postgresql://postgres:$dst_pw@127.0.0.1:$dst_port"
expect "dry run of a full restore" cairn -v restore "$id" --to "$target" --dry-run
expect_stderr "would" "the dry run says what it would do"
[ "$(value "$dst_port" postgres "SELECT count(*) FROM pg_database WHERE datname = 'merchant'")" = 0 ] &&
	ok "the dry run changed nothing" || not_ok "the dry run changed nothing"

expect "full restore into the second server" cairn restore "$id" --to "$target"

# Per-table checksums of every user table of a database.
checksums() { # checksums PORT DB
	local port=$1 db=$2 table
	value "$port" "$db" "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1" |
	while read -r table; do
		printf '%s %s\n' "$table" "$(value "$port" "$db" \
			"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM $table t")"
	done
	value "$port" "$db" "SELECT 'sequences ' || coalesce(string_agg(format('%s=%s', sequencename, last_value), ',' ORDER BY sequencename), '-') FROM pg_sequences"
	value "$port" "$db" "SELECT 'large objects ' || count(*) || ':' || coalesce(md5(string_agg(oid::text || encode(lo_get(oid), 'hex'), ',' ORDER BY oid)), '-') FROM pg_largeobject_metadata"
	value "$port" "$db" "SELECT 'settings ' || coalesce(string_agg(array_to_string(setconfig, ','), ';'), '-') FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()"
}
# Database-level properties: owner, limits, encoding, locale, ACL, comment,
# settings of the database and of roles in it.
dbprops() { # dbprops PORT DB
	sql "$1" postgres -At -v db="$2" <<'EOF'
SELECT concat_ws(' | ', d.datname, pg_get_userbyid(d.datdba), d.datconnlimit,
	pg_encoding_to_char(d.encoding), d.datcollate, d.datctype,
	array_to_string(ARRAY(SELECT x::text FROM unnest(coalesce(d.datacl,
		acldefault('d', d.datdba))) x ORDER BY 1), ','),
	shobj_description(d.oid, 'pg_database'),
	(SELECT string_agg(coalesce(r.rolname, '-') || ':' || array_to_string(s.setconfig, ','),
		';' ORDER BY r.rolname NULLS FIRST)
	 FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
	 WHERE s.setdatabase = d.oid))
FROM pg_database d WHERE d.datname = :'db'
EOF
}
same_dbprops() { # same_dbprops DB DESCRIPTION
	if diff <(dbprops "$src_port" "$1") <(dbprops "$dst_port" "$1") >"$SCRATCH/diff" 2>&1 &&
		[ -n "$(dbprops "$src_port" "$1")" ]; then
		ok "$2"
	else
		not_ok "$2"
		sed 's/^/# /' "$SCRATCH/diff" | head -n 10
	fi
}
schema() { # schema PORT DB
	"$bin/pg_dump" -h 127.0.0.1 -p "$1" -U postgres --schema-only -d "$2" |
		grep -v '^\\\(un\)\?restrict '
}

same=0
for db in "${databases[@]}" postgres; do
	if ! diff <(schema "$src_port" "$db") <(schema "$dst_port" "$db") >"$SCRATCH/diff" 2>&1; then
		not_ok "schema of '$db' restored exactly"
		sed 's/^/# /' "$SCRATCH/diff" | head -n 20
		continue
	fi
	if ! diff <(checksums "$src_port" "$db") <(checksums "$dst_port" "$db") >"$SCRATCH/diff" 2>&1; then
		not_ok "data of '$db' restored exactly"
		sed 's/^/# /' "$SCRATCH/diff" | head -n 20
		continue
	fi
	if ! diff <(dbprops "$src_port" "$db") <(dbprops "$dst_port" "$db") >"$SCRATCH/diff" 2>&1; then
		not_ok "database-level properties of '$db' restored exactly"
		sed 's/^/# /' "$SCRATCH/diff" | head -n 20
		continue
	fi
	same=$((same + 1))
done
[ "$same" -eq 17 ] && ok "schema, per-table checksums and database properties (settings, role settings, comment, owner, ACL, limit) equal for all 17 databases"
[ "$(value "$dst_port" payment_gateway "SELECT count(*) FROM gateway.payments")" = 200000 ] &&
	ok "the 200000-row table is whole" || not_ok "the 200000-row table is whole"

roles() { # roles PORT: roles, attributes, memberships and settings
	value "$1" postgres "SELECT rolname, rolsuper, rolcreatedb, rolcanlogin, rolconnlimit, rolvaliduntil,
		(SELECT string_agg(b.rolname, ',' ORDER BY b.rolname) FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid),
		(SELECT string_agg(array_to_string(setconfig, ','), ';') FROM pg_db_role_setting WHERE setrole = r.oid AND setdatabase = 0)
		FROM pg_roles r WHERE rolname NOT LIKE 'pg\_%' AND rolname NOT IN ('postgres', 'drill') ORDER BY 1"
}
if diff <(roles "$src_port") <(roles "$dst_port") >"$SCRATCH/diff"; then
	ok "roles, attributes, memberships and settings restored"
else
	not_ok "roles, attributes, memberships and settings restored"
	sed 's/^/# /' "$SCRATCH/diff" | head -n 20
fi
if PGPASSWORD=rw-pw "$bin/psql" -X -h 127.0.0.1 -p "$dst_port" -U app_rw -d payment_gateway \
	-Atc "SELECT count(*) FROM gateway.payments WHERE id < 10" >/dev/null 2>&1; then
	ok "a restored role logs in with its password and its grants"
else
	not_ok "a restored role logs in with its password and its grants"
fi
[ "$(value "$dst_port" postgres "SELECT 1")" = 1 ] &&
	ok "the target's superuser keeps its own password" ||
	not_ok "the target's superuser keeps its own password"

# --- refusals and --only ------------------------------------------------

expect_exit 1 "restoring over non-empty databases without --force is refused" \
	cairn restore "$id" --to "$target"
expect_stderr "merchant.*'127\.0\.0\.1:$dst_port'.*not empty|not empty.*--force" \
	"the refusal names the database and the server"
expect_exit 1 "--only with an unknown database" cairn restore "$id" --to "$target" --only nosuchdb
expect_stderr "'nosuchdb'.*'payment_gateway'" "the error names it and lists the archive's databases"

# One database into a live server with other databases in it.
sql "$dst_port" postgres -c 'DROP DATABASE merchant'
sql "$dst_port" wallet -c "INSERT INTO accounts (reference, opened) VALUES ('live', '2024-01-01')"
sql "$dst_port" postgres -c "CREATE DATABASE live_app"
sql "$dst_port" live_app -c "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"
exec 9< <(sql "$dst_port" live_app -c "SELECT pg_sleep(3600)" 2>/dev/null)
expect "--only merchant into the live server" cairn restore "$id" --to "$target" --only merchant
if diff <(checksums "$src_port" merchant) <(checksums "$dst_port" merchant) >/dev/null &&
	[ "$(value "$dst_port" live_app "SELECT x FROM t")" = 42 ] &&
	[ "$(value "$dst_port" wallet "SELECT count(*) FROM accounts WHERE reference = 'live'")" = 1 ]; then
	ok "merchant restored, the other databases untouched"
else
	not_ok "merchant restored, the other databases untouched"
fi
same_dbprops merchant "--only merchant (custom, created by pg_restore): database properties restored"
sql "$dst_port" merchant -c "DELETE FROM accounts WHERE id % 2 = 0"
exec 8< <(sql "$dst_port" merchant -c "SELECT pg_sleep(3600)" 2>/dev/null)
expect "--only merchant --force over a changed database in use" \
	cairn restore "$id" --to "$target" --only merchant --force
diff <(checksums "$src_port" merchant) <(checksums "$dst_port" merchant) >/dev/null &&
	ok "--force dropped and recreated it" || not_ok "--force dropped and recreated it"
exec 8<&- 9<&-
# Into an existing empty database pg_restore cannot create: the
# archive's database.sql entry gives the properties back.
sql "$dst_port" postgres -c 'DROP DATABASE merchant WITH (FORCE)' -c 'CREATE DATABASE merchant'
expect "--only merchant into an existing empty database" cairn restore "$id" --to "$target" --only merchant
same_dbprops merchant "--only merchant (custom, existing empty database): database properties restored"

# The core refuses this before the plugin runs: a usage error.
expect_exit 64 "restoring into the job's own server needs --force" cairn restore "$id"
expect_stderr "force" "the refusal says --force"

# --- drill and check ------------------------------------------------------

expect "drill restores under scratch names and compares row counts" cairn drill pg
[ "$(value "$dst_port" postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'cairn_drill_%'")" = 0 ] &&
	ok "the drill dropped its scratch databases" || not_ok "the drill dropped its scratch databases"
expect "check" cairn check pg
expect_stdout "15\." "check reports the server version"
expect_stdout "drill +scratch databases in drill-target" "check says where the drill goes"
expect "check of a job without drill-target" cairn check pg-parallel
expect_stdout "drill +throwaway cluster, PostgreSQL 15" "check names the throwaway cluster a drill would start"

# --- other formats and parallel dumps -----------------------------------

expect "backup with jobs = 2 and exclusions" cairn backup pg-parallel
cairn --json show pg-parallel:latest >"$SCRATCH/show2.json" 2>/dev/null
if grep -q 'databases/payment_gateway.dump' "$SCRATCH/show2.json" &&
	! grep -q 'databases/reporting.dump\|databases/audit_log.dump' "$SCRATCH/show2.json"; then
	ok "exclude-databases leaves reporting and audit_* out"
else
	not_ok "exclude-databases leaves reporting and audit_* out"
fi
expect "backup in plain format" cairn backup pg-plain
sql "$dst_port" postgres -c 'DROP DATABASE merchant' -c 'DROP DATABASE "Partner Portal/Legacy"'
expect "restore of a plain-format archive" cairn restore pg-plain:latest --to "$target"
if diff <(checksums "$src_port" merchant) <(checksums "$dst_port" merchant) >/dev/null &&
	diff <(schema "$src_port" "Partner Portal/Legacy") <(schema "$dst_port" "Partner Portal/Legacy") >/dev/null; then
	ok "plain format round-trips"
else
	not_ok "plain format round-trips"
fi
same_dbprops merchant "plain format, whole restore: database properties of merchant restored"
same_dbprops "Partner Portal/Legacy" "plain format, whole restore: database properties of 'Partner Portal/Legacy' restored"
sql "$dst_port" postgres -c 'DROP DATABASE "Partner Portal/Legacy"' -c 'CREATE DATABASE "Partner Portal/Legacy"'
expect "plain format, --only into an existing empty database" \
	cairn restore pg-plain:latest --to "$target" --only "Partner Portal/Legacy"
same_dbprops "Partner Portal/Legacy" "plain format, --only: database properties restored"

# --- drills in a throwaway cluster ----------------------------------------

# Scratch directories land here, where the test can see them.
mkdir -p "$SCRATCH/tmp"
export TMPDIR=$SCRATCH/tmp
cluster_gone() { # cluster_gone DESCRIPTION: no directory, no process left
	if [ -z "$(ls -A "$TMPDIR")" ] &&
		! ps -eo args | grep -F "$TMPDIR/cairn-drill" | grep -qv grep; then
		ok "$1"
	else
		not_ok "$1"
		ls -la "$TMPDIR" | sed 's/^/# /'
	fi
}
report_has() { # report_has PATTERN DESCRIPTION: in the drill's report
	if grep -qE -- "$1" "$SCRATCH/last.out" "$SCRATCH/last.err"; then
		ok "$2"
	else
		not_ok "$2 ('$1' not found)"
		sed 's/^/# /' "$SCRATCH/last.out" | tail -n 30
	fi
}

expect "drill of 15 databases into a throwaway cluster" cairn drill pg-parallel
report_has "cluster +throwaway, PostgreSQL 15" "the report names the throwaway cluster"
report_has "roles +ok: [0-9]+ attributes and memberships" "roles, attributes and memberships compared"
report_has "database payment_gateway +ok: .* [0-9]+ properties, owners and grants" \
	"owners, grants and database properties compared"
sed -n 's/^ *checks  */# drill of pg-parallel: checks /p' "$SCRATCH/last.out"
cluster_gone "after a drill that passed, the cluster is gone"
expect "drill of a plain-format archive into a throwaway cluster" cairn drill pg-plain
report_has "database merchant +ok" "plain format: database properties, owners and grants compared"
cluster_gone "after the plain-format drill, the cluster is gone"

expect "backup through a pg_dumpall and a pg_dump that lose a role and a grant" cairn backup pg-doctored
expect_exit 1 "drill of that archive fails" cairn drill pg-doctored
report_has "role 'auditor' is missing after the restore" "the drill names the missing role"
report_has "membership 'auditor in readers' is missing" "the drill names the missing membership"
report_has "database 'merchant': table 'public.accounts': acl is '[^']*' after the restore, '[^']*readers=r/postgres[^']*' at backup time" \
	"the drill names the missing grant, before and after"
cluster_gone "after a drill that failed, the cluster is gone"

expect "backup for the interrupted drill" cairn backup pg-sigterm
expect_exit 143 "cairn sent SIGTERM mid-drill exits 143" cairn drill pg-sigterm
server=$(cat "$SCRATCH/sigterm.pid" 2>/dev/null)
[ -n "$server" ] && ok "the drill's cluster was running when cairn was stopped" ||
	not_ok "the drill's cluster was running when cairn was stopped"
# The keeper outlives cairn to clean up: a bounded wait for it.
[ -n "$server" ] && wait_gone "$server" 60
tries=300
while [ -n "$(ls -A "$TMPDIR")" ] && [ "$tries" -gt 0 ]; do
	sleep 0.1
	tries=$((tries - 1))
done
[ -n "$server" ] && ! kill -0 "$server" 2>/dev/null && ok "after SIGTERM, the cluster's server is gone" ||
	not_ok "after SIGTERM, the cluster's server is gone"
cluster_gone "after SIGTERM, the cluster's directory is gone"
unset TMPDIR

# --- stock tools alone ---------------------------------------------------

archive=$(find "$SCRATCH/repo" -name "*$id*" -name '*.tar.zst' | head -n 1)
sql "$dst_port" postgres -c 'CREATE DATABASE by_hand'
if [ -n "$archive" ] &&
	tar --zstd -xOf "$archive" --wildcards 'databases/payment_gateway.dump.part-*' |
	"$bin/pg_restore" -h 127.0.0.1 -p "$dst_port" -U postgres --no-owner -d by_hand \
		>"$SCRATCH/by_hand.log" 2>&1 &&
	[ "$(value "$dst_port" by_hand "SELECT count(*) FROM gateway.payments")" = 200000 ]; then
	ok "tar --zstd and pg_restore alone restore a database"
else
	not_ok "tar --zstd and pg_restore alone restore a database"
	sed 's/^/# /' "$SCRATCH/by_hand.log" | tail -n 10
fi

# --- failures: loud, and nothing catalogued ------------------------------

cairn --json list >"$SCRATCH/list.before" 2>/dev/null
failure() { # failure JOB PATTERN DESCRIPTION
	expect_exit 1 "$3: backup fails" cairn backup "$1"
	expect_stderr "$2" "$3: the message names the server or database"
	cairn --json list >"$SCRATCH/list.after" 2>/dev/null
	cmp -s "$SCRATCH/list.before" "$SCRATCH/list.after" &&
		ok "$3: nothing catalogued" || not_ok "$3: nothing catalogued"
}
failure pg-badpw "127\.0\.0\.1:$src_port.*password authentication failed" "wrong password"
failure pg-down "127\.0\.0\.1:$down_port" "server down"
failure pg-killed "payment_gateway.*127\.0\.0\.1:$src_port.*killed by signal 9" "pg_dump killed mid-stream"
failure pg-old "pg_dump 9\.6\.24 in '.*' is older than the server '127\.0\.0\.1:$src_port'" \
	"a pg_dump older than the server"
failure pg-silent "merchant.*127\.0\.0\.1:$src_port.*wrote nothing" "a pg_dump that writes nothing"
sql "$src_port" postgres -c 'CREATE DATABASE vanishing'
failure pg-vanish "database 'vanishing' on '127\.0\.0\.1:$src_port' vanished during the backup" \
	"a database dropped mid-run"

# A server that stops during a backup is covered by "server down" above;
# last, stop the source and check that even check fails loudly.
stop_pid "$src_pid"
expect_exit 1 "check of a stopped server fails" cairn check pg
expect_stdout "127\.0\.0\.1:$src_port" "check names the server"

finish
