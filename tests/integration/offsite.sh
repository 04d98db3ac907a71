#!/bin/bash
# Offsite copies on S3 through the real cairn binary, against an S3 server
# on 127.0.0.1 that checks Signature V4 (@20minutes/s3rver, pinned in
# tests/s3): copy = auto after backup, copy catching up and idempotent,
# what cairn wrote read back by an independent client (Debian's awscli)
# byte for byte, a wrong secret key named SignatureDoesNotMatch, list,
# verify (--deep) and prune on the target, a damaged remote object, the
# target's metrics and check, faults through a proxy of the tests' own
# (SlowDown, a connection dropped mid-part, a permanent failure, kill -9
# during an upload), read errors of restore --from, object lock, a
# disaster recovery with the repository gone (the volume, Redis,
# PostgreSQL and Kong jobs, encrypted, restored from the target alone),
# SFTP against openssh-server with restore --from and a wrong host key
# refused, and configuration errors.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh).

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

setup_scratch offsite

for tool in node npm /usr/bin/aws; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP $tool is missing"; exit 0; }
done
# @20minutes/s3rver 4.x needs Node.js 20 or later (Debian 12's is 18).
node -e 'process.exit(parseInt(process.versions.node, 10) >= 20 ? 0 : 1)' ||
	{ echo "1..0 # SKIP Node.js $(node --version) is older than 20"; exit 0; }

# The S3 server, installed from the lockfile into the scratch directory
# (npm's cache makes the second run local).
mkdir -p "$SCRATCH/s3server" "$SCRATCH/s3data" "$SCRATCH/secrets" ||
	{ echo "Bail out! cannot create directories"; exit 1; }
cp "$here/../s3/package.json" "$here/../s3/package-lock.json" \
	"$here/../s3/server.js" "$SCRATCH/s3server/" || exit 1
(cd "$SCRATCH/s3server" && npm ci --no-audit --no-fund --prefer-offline \
	>npm.log 2>&1) || { echo "Bail out! npm ci failed"; cat "$SCRATCH/s3server/npm.log"; exit 1; }

start_s3() {
	S3_PORT=$(free_port)
	rm -f "$SCRATCH/s3.ready"
	READY_FILE=$SCRATCH/s3.ready node "$SCRATCH/s3server/server.js" \
		"$S3_PORT" "$SCRATCH/s3data" cairn other >"$SCRATCH/s3.log" 2>&1 &
	S3_PID=$!
	server_pids+=("$S3_PID")
	wait_for "$SCRATCH/s3.ready" || { echo "Bail out! the S3 server did not start"; cat "$SCRATCH/s3.log"; exit 1; }
}
start_s3

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
	AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws_s3() { /usr/bin/aws --endpoint-url "http://127.0.0.1:$S3_PORT" s3api "$@"; }

printf 'S3RVER\n' >"$SCRATCH/secrets/access"
printf 'S3RVER\n' >"$SCRATCH/secrets/secret"
printf 'not-the-secret\n' >"$SCRATCH/secrets/wrong"
chmod 600 "$SCRATCH/secrets/"*

SRC=$SCRATCH/src
REPO=$SCRATCH/repo
CONF=$SCRATCH/cairn.conf
mkdir -p "$SRC"
# 12 MiB that zstd cannot shrink: a multipart upload of three 5 MiB parts.
head -c $((12 * 1024 * 1024)) /dev/urandom >"$SRC/big"
echo "first" >"$SRC/small"

write_conf() {
	cat >"$CONF" <<-EOF
	[repository]
	path = $REPO
	metrics = $SCRATCH/metrics.prom

	[vol]
	plugin = volume
	paths = $SRC

	[offsite s3]
	type = s3
	endpoint = http://127.0.0.1:$S3_PORT
	region = us-east-1
	bucket = cairn
	prefix = host1/
	uri-style = path
	access-key-file = $SCRATCH/secrets/access
	secret-key-file = $SCRATCH/secrets/secret
	part-size = 5M
	copy = auto
	keep-last = 1
	keep-daily = 0
	keep-weekly = 0
	keep-monthly = 0

	[offsite wrong]
	type = s3
	endpoint = http://127.0.0.1:$S3_PORT
	region = us-east-1
	bucket = other
	uri-style = path
	access-key-file = $SCRATCH/secrets/access
	secret-key-file = $SCRATCH/secrets/wrong
	copy = manual
	$1
	EOF
	chmod 600 "$CONF"
}
write_conf ""

# ---- configuration errors: file, line, section and key named, exit 78 ----
bad_conf() {
	cp "$CONF" "$SCRATCH/bad.conf"
	printf '%s\n' "$@" >>"$SCRATCH/bad.conf"
	chmod 600 "$SCRATCH/bad.conf"
}
bad_conf "[offsite x]" "type = s3" "endpoint = http://127.0.0.1:1" \
	"region = r" "bucket = bkt" "access-key-file = /a" \
	"secret-key-file = /b" "colour = blue"
expect_exit 78 "an unknown key of an offsite section is refused" \
	run_cairn -c "$SCRATCH/bad.conf" list
expect_stderr "bad.conf:[0-9]+: \[offsite x\] colour: unknown key" \
	"the error names the file, line, section and key"
bad_conf "[offsite y]" "type = s3" "endpoint = ftp://h"
expect_exit 78 "a bad endpoint is refused" run_cairn -c "$SCRATCH/bad.conf" list
expect_stderr "\[offsite y\] endpoint: 'ftp://h' is not an http" \
	"the endpoint error says why"
bad_conf "[offsite z]" "type = s3" "endpoint = http://h" "region = r"
expect_exit 78 "a target without a bucket is refused" \
	run_cairn -c "$SCRATCH/bad.conf" list
expect_stderr "\[offsite z\]: missing required key 'bucket'" \
	"the missing key is named"

# ---- backup with copy = auto -------------------------------------------
expect "backup copies the new archive to the copy = auto target" \
	run_cairn -c "$CONF" backup
expect "list --json" run_cairn -c "$CONF" --json list
json_check "the archive's copies: s3 ok, with size, sha256, uploaded, verified" \
	"len(doc) == 1 and [c['target'] for c in doc[0]['copies']] == ['s3'] and doc[0]['copies'][0]['status'] == 'ok' and doc[0]['copies'][0]['size'] == doc[0]['stored'] and len(doc[0]['copies'][0]['sha256']) == 64 and 'uploaded' in doc[0]['copies'][0] and 'verified' in doc[0]['copies'][0]"
FIRST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$SCRATCH/last.out")
FILE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["file"])' "$SCRATCH/last.out")
SHA=$(sha256sum "$REPO/$FILE" | cut -d' ' -f1)

expect "awscli reads the object back" \
	aws_s3 get-object --bucket cairn --key "host1/$FILE" "$SCRATCH/readback"
if cmp -s "$SCRATCH/readback" "$REPO/$FILE"; then
	ok "the object holds the same bytes as the local archive"
else
	not_ok "the object holds the same bytes as the local archive"
fi
expect "awscli heads the object" \
	aws_s3 head-object --bucket cairn --key "host1/$FILE"
expect_stdout "\"sha256\": \"$SHA\"" "the object carries the archive's SHA-256 as metadata"
expect "awscli lists the prefix" \
	aws_s3 list-objects-v2 --bucket cairn --prefix host1/catalog/
expect_stdout "host1/catalog/[0-9TZ]+-[0-9a-f]{8}\.catalog" \
	"a catalogue snapshot was written to the target"
expect "awscli lists the uploads in progress" \
	aws_s3 list-objects-v2 --bucket cairn --prefix host1/archives/
json_check "only the whole archive is under archives/" \
	"[o['Key'] for o in doc['Contents']] == ['host1/$FILE']"

# ---- copy: idempotent, resumable -----------------------------------------
expect "copy with nothing to do succeeds" run_cairn -c "$CONF" -v copy --to s3
expect_stderr "offsite s3: 0 archives copied \(0 bytes sent\), 0 failed" \
	"copy sends nothing twice"

# A run killed after the upload but before the catalogue: the object is
# found whole on the target and recorded without being sent again.
cp "$REPO/offsite/s3/catalog" "$SCRATCH/held.catalog"
python3 - "$REPO/catalog" "$REPO/catalog.copy" <<'EOF'
import json, hashlib, sys
for path in sys.argv[1:]:
    lines = open(path).read().splitlines()[:-1]
    out = []
    for line in lines:
        record = json.loads(line)
        record.pop("copies", None)
        out.append(json.dumps(record, separators=(",", ":")))
    body = "".join(l + "\n" for l in out)
    digest = hashlib.sha256(body.encode()).hexdigest()
    open(path, "w").write(body + '{"sha256":"%s"}\n' % digest)
EOF
rm -rf "$REPO/offsite/s3"
expect "copy after losing the record of a copy" run_cairn -c "$CONF" -v copy --to s3
expect_stderr "offsite s3: $FIRST is already there, verified" \
	"the copy found on the target is verified, not sent again"
expect "list --json" run_cairn -c "$CONF" --json list
json_check "the copy is recorded again" \
	"doc[0]['copies'][0]['target'] == 's3' and doc[0]['copies'][0]['sha256'] == '$SHA'"

# ---- a wrong secret key ----------------------------------------------------
expect_exit 1 "a copy with a wrong secret key fails" \
	run_cairn -c "$CONF" copy --to wrong
expect_stderr "offsite wrong: .*403 SignatureDoesNotMatch" \
	"the server's SignatureDoesNotMatch is named"
if grep -q "not-the-secret\|S3RVER" "$SCRATCH/last.err"; then
	not_ok "no credential appears in the messages"
else
	ok "no credential appears in the messages"
fi
expect "list --json" run_cairn -c "$CONF" --json list
json_check "no copy on the failed target is recorded" \
	"[c['target'] for c in doc[0]['copies']] == ['s3']"
expect_exit 66 "copy to an unknown target is refused" \
	run_cairn -c "$CONF" copy --to nowhere

# ---- list and verify on the target ----------------------------------------
expect "list --remote" run_cairn -c "$CONF" --json list --remote s3
json_check "list --remote shows the copy, present" \
	"[(r['id'], r['status']) for r in doc] == [('$FIRST', 'ok')]"
expect "verify --remote" run_cairn -c "$CONF" verify --remote s3
expect "verify --remote --deep" run_cairn -c "$CONF" verify --remote s3 --deep
expect_stdout "ok +$FIRST" "deep verify reads the copy back whole"

# ---- check -------------------------------------------------------------------
expect_exit 1 "check fails with the target whose secret is wrong" \
	run_cairn -c "$CONF" check
expect_stdout "^offsite s3: ok" "check finds the good target ok"
expect_stdout "probe +written, read back, removed" \
	"check writes, reads back and removes a probe object"
expect_stdout "clock skew +[+-][0-9]+ s" "check measures the clock skew"
expect_stdout "^offsite wrong: PROBLEM" "check names the target in trouble"
expect "awscli lists the probes" \
	aws_s3 list-objects-v2 --bucket cairn --prefix host1/check/
if [ -s "$SCRATCH/last.out" ] && grep -q '"Key"' "$SCRATCH/last.out"; then
	not_ok "no probe object is left behind"
else
	ok "no probe object is left behind"
fi

# ---- metrics ---------------------------------------------------------------
if grep -q "^cairn_offsite_last_copy_timestamp_seconds{target=\"s3\"} [0-9]" "$SCRATCH/metrics.prom" &&
	grep -q "^cairn_offsite_copies{target=\"s3\"} 1$" "$SCRATCH/metrics.prom" &&
	grep -q "^cairn_offsite_failures_total{target=\"wrong\"} [1-9]" "$SCRATCH/metrics.prom"; then
	ok "the metrics give each target's last copy, copies and failures"
else
	not_ok "the metrics give each target's last copy, copies and failures"
	grep offsite "$SCRATCH/metrics.prom" | sed 's/^/# /'
fi

# ---- a second archive, then prune on the target ----------------------------
echo "second" >>"$SRC/small"
expect "a second backup" run_cairn -c "$CONF" backup
expect "prune" run_cairn -c "$CONF" --json prune
json_check "the target's keep-last = 1 removes the older copy there only" \
	"[(r['id'], r['action']) for r in doc if r.get('target') == 's3' and r['action'] == 'remove'] == [('$FIRST', 'remove')] and not [r for r in doc if 'target' not in r and r['action'] == 'remove']"
expect "awscli lists the archives" \
	aws_s3 list-objects-v2 --bucket cairn --prefix host1/archives/
json_check "the older object is gone from the target" \
	"len(doc['Contents']) == 1 and '$FIRST' not in doc['Contents'][0]['Key']"
expect "list" run_cairn -c "$CONF" --json list
json_check "both archives stay in the local repository" "len(doc) == 2"

# ---- a damaged copy ---------------------------------------------------------
expect "list --remote" run_cairn -c "$CONF" --json list --remote s3
SECOND=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$SCRATCH/last.out")
FILE2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["file"])' "$SCRATCH/last.out")
cp "$REPO/$FILE2" "$SCRATCH/damaged"
flip "$SCRATCH/damaged" 1000
SHA2=$(sha256sum "$REPO/$FILE2" | cut -d' ' -f1)
expect "the object is replaced by damaged bytes (same size and metadata)" \
	aws_s3 put-object --bucket cairn --key "host1/$FILE2" \
	--body "$SCRATCH/damaged" --metadata "sha256=$SHA2"
expect "verify --remote (size and metadata only) still passes" \
	run_cairn -c "$CONF" verify --remote s3
expect_exit 65 "verify --remote --deep finds the damage" \
	run_cairn -c "$CONF" verify --remote s3 --deep
expect_stderr "archive $SECOND: the copy on s3 .* is damaged" \
	"the damaged copy is named"

# ---- faults, through a proxy of the tests' own in front of the server ------
PROXY_PORT=$(free_port)
CONTROL=$SCRATCH/proxy.json
echo '{"lock_until": "2099-01-01T00:00:00.000Z"}' >"$CONTROL"
python3 "$here/../s3/faultproxy.py" "$PROXY_PORT" "$S3_PORT" "$CONTROL" \
	"$SCRATCH/proxy.ready" &
server_pids+=("$!")
wait_for "$SCRATCH/proxy.ready" || { echo "Bail out! the proxy did not start"; exit 1; }
cat >>"$CONF" <<EOF

[offsite flaky]
type = s3
endpoint = http://127.0.0.1:$PROXY_PORT
region = us-east-1
bucket = cairn
prefix = flaky
uri-style = path
access-key-file = $SCRATCH/secrets/access
secret-key-file = $SCRATCH/secrets/secret
part-size = 5M
object-lock-days = 1
keep-last = 1
keep-daily = 0
keep-weekly = 0
keep-monthly = 0
EOF
flaky_objects() {
	aws_s3 list-objects-v2 --bucket cairn --prefix flaky/archives/ \
		--query 'Contents[].Key' --output text
}
control() { echo "$1" >"$CONTROL.tmp" && mv "$CONTROL.tmp" "$CONTROL"; }

control '{"slowdown": 2, "drop_parts": 1, "lock_until": "2099-01-01T00:00:00.000Z"}'
expect "copy through 503 SlowDown and a connection dropped mid-part" \
	run_cairn -c "$CONF" -v copy --to flaky
parts=$(grep -c 'partNumber=' "$CONTROL.log")
if python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); sys.exit(c["slowdown"] or c["drop_parts"])' "$CONTROL" &&
	[ "$parts" -gt 6 ]; then
	ok "the faults were served (two SlowDown, one dropped part) and retried"
else
	not_ok "the faults were served (two SlowDown, one dropped part) and retried ($parts parts sent)"
fi
if grep -q '"x-amz-object-lock-mode": "COMPLIANCE"' "$CONTROL.log" &&
	grep -q '"x-amz-object-lock-retain-until-date": "20[0-9-]*T[0-9:]*Z"' "$CONTROL.log"; then
	ok "object-lock-days sends COMPLIANCE and a retain-until date"
else
	not_ok "object-lock-days sends COMPLIANCE and a retain-until date"
fi
for name in $(cd "$REPO/archives/vol" && ls); do
	aws_s3 get-object --bucket cairn --key "flaky/archives/vol/$name" \
		"$SCRATCH/flaky.out" >/dev/null 2>&1
	cmp -s "$SCRATCH/flaky.out" "$REPO/archives/vol/$name" || echo "$name"
done >"$SCRATCH/differ"
if [ ! -s "$SCRATCH/differ" ]; then
	ok "what went through the faults is byte for byte the archives"
else
	not_ok "what went through the faults is byte for byte the archives"
fi

# A permanent failure: every part refused. No object, no copy recorded.
echo "third" >>"$SRC/small"
expect "a third backup (copied to s3 by copy = auto)" run_cairn -c "$CONF" backup
control '{"fail_parts": true}'
expect_exit 1 "a copy whose parts always fail exits 1" \
	run_cairn -c "$CONF" copy --to flaky
expect_stderr "503 SlowDown.*after every retry" \
	"the failure names the server's SlowDown and the retries"
if [ "$(flaky_objects | wc -w)" -eq 2 ]; then
	ok "the failed upload left no object visible"
else
	not_ok "the failed upload left no object visible ($(flaky_objects))"
fi
if grep -q "^DELETE .*uploadId=" "$CONTROL.log"; then
	ok "the failed multipart upload was aborted"
else
	not_ok "the failed multipart upload was aborted"
fi
expect "list --json" run_cairn -c "$CONF" --json list
json_check "the archive has no copy on the failed target" \
	"'flaky' not in [c['target'] for c in doc[0].get('copies', [])] and 's3' in [c['target'] for c in doc[0]['copies']]"

# kill -9 during an upload, then a rerun: no duplicate, no partial object.
control '{"block_part": 2, "lock_until": "2099-01-01T00:00:00.000Z"}'
rm -f "$CONTROL.blocked"
# cairn itself, not a shell function's subshell: kill -9 must reach it.
"$CAIRN" -c "$CONF" -v copy --to flaky >/dev/null 2>"$SCRATCH/killed.err" &
copy_pid=$!
if wait_for "$CONTROL.blocked"; then
	kill -9 "$copy_pid"
	wait "$copy_pid" 2>/dev/null
	ok "a copy is killed with -9 during its second part"
else
	kill -9 "$copy_pid" 2>/dev/null
	not_ok "a copy is killed with -9 during its second part"
	sed 's/^/# /' "$SCRATCH/killed.err"
fi
control '{"lock_until": "2099-01-01T00:00:00.000Z"}'
if [ "$(flaky_objects | wc -w)" -eq 2 ]; then
	ok "the killed upload left no object visible"
else
	not_ok "the killed upload left no object visible"
fi
expect "the copy after the kill" run_cairn -c "$CONF" -v copy --to flaky
expect_stderr "the upload of flaky/archives/.* left by an interrupted run" \
	"the upload the killed run left is aborted"
if [ "$(flaky_objects | wc -w)" -eq 3 ] &&
	[ "$(flaky_objects | tr '\t' '\n' | sort | uniq -d | wc -l)" -eq 0 ]; then
	ok "each archive is on the target once"
else
	not_ok "each archive is on the target once ($(flaky_objects))"
fi
expect "verify --remote --deep after the faults" \
	run_cairn -c "$CONF" verify --remote flaky --deep
expect "list --remote" run_cairn -c "$CONF" --json list --remote flaky
json_check "the target's catalogue holds the three copies, with their lock" \
	"len(doc) == 3 and all(r['status'] == 'ok' and r['copy']['lock-until'] == '2099-01-01T00:00:00Z' for r in doc)"
expect "prune --remote under object lock" \
	run_cairn -c "$CONF" --json prune --remote flaky
json_check "copies under object lock are kept, with the lock's end" \
	"[r['action'] for r in doc] == ['keep'] * 3 and [r['rules'] for r in doc][1:] == ['object lock until 2099-01-01T00:00:00Z'] * 2"

# restore --from reads through connections of its own, ahead of the
# reader; a failed read is reported when the reader reaches its bytes.
expect "restore --from through the proxy" \
	run_cairn -c "$CONF" restore vol:latest --from flaky --to "$SCRATCH/via-proxy"
if cmp -s "$SRC/big" "$SCRATCH/via-proxy$SRC/big"; then
	ok "what restore --from read through the proxy is the source"
else
	not_ok "what restore --from read through the proxy is the source"
fi
: >"$CONTROL.log"
control '{"deny_range": [0, 1], "lock_until": "2099-01-01T00:00:00.000Z"}'
expect_exit 65 "restore --from fails when the archive's first bytes are refused" \
	run_cairn -c "$CONF" restore vol:latest --from flaky --to "$SCRATCH/denied"
expect_stderr "403 AccessDenied" "the refusal is named"
if grep -q "^GET /cairn/flaky/archives/" "$CONTROL.log" &&
	[ "$(grep -c "^GET /cairn/flaky/archives/" "$CONTROL.log")" -le 4 ]; then
	ok "the refused read is not retried"
else
	not_ok "the refused read is not retried"
	sed 's/^/# /' "$CONTROL.log"
fi
control '{"lock_until": "2099-01-01T00:00:00.000Z"}'

# ---- catalog rebuild --from: a new host ------------------------------------
expect "awscli puts the good bytes back" \
	aws_s3 put-object --bucket cairn --key "host1/$FILE2" \
	--body "$REPO/$FILE2" --metadata "sha256=$SHA2"
expect "list --remote on the old host" \
	run_cairn -c "$CONF" --json list --remote s3
HELD=$(python3 -c 'import json,sys; print(" ".join(r["id"] for r in json.load(open(sys.argv[1]))))' "$SCRATCH/last.out")
NEWEST=${HELD%% *}
NEW=$SCRATCH/newhost
expect "catalog rebuild --from on a new host" \
	run_cairn -c "$CONF" -r "$NEW" catalog rebuild --from s3
expect_stdout "^$(echo $HELD | wc -w) archives on offsite target s3" \
	"the target's catalogue is rebuilt from its newest snapshot"
expect "list --remote on the new host" \
	run_cairn -c "$CONF" -r "$NEW" --json list --remote s3
json_check "the new host knows every copy on the target" \
	"' '.join(r['id'] for r in doc) == '$HELD' and all(r['status'] == 'ok' for r in doc)"
expect "verify --remote --deep on the new host" \
	run_cairn -c "$CONF" -r "$NEW" verify --remote s3 --deep
expect "restore --from on the new host" \
	run_cairn -c "$CONF" -r "$NEW" restore vol:latest --from s3 \
	--to "$SCRATCH/restored"
if cmp -s "$SRC/big" "$SCRATCH/restored$SRC/big" &&
	cmp -s "$SRC/small" "$SCRATCH/restored$SRC/small"; then
	ok "the files restored from the target are the sources'"
else
	not_ok "the files restored from the target are the sources'"
	find "$SCRATCH/restored" | head -n 5 | sed 's/^/# /'
fi
expect "cat --from on the new host" \
	run_cairn -c "$CONF" -r "$NEW" cat "$NEWEST" "${SRC#/}/small" --from s3
if cmp -s "$SCRATCH/last.out" "$SRC/small"; then
	ok "cat --from streams the entry from the target"
else
	not_ok "cat --from streams the entry from the target"
fi
if [ -z "$(ls "$NEW/archives" 2>/dev/null)" ]; then
	ok "reading from the target made no local copy"
else
	not_ok "reading from the target made no local copy"
fi

# ---- disaster recovery: the repository is lost; the target alone -----------
# Every plugin, encrypted, copied by copy = auto; then the repository is
# gone and a fresh one with the same configuration and identity is
# rebuilt from the target, and every job restored from it.
DR_JOBS="vol"
mkdir -p "$SCRATCH/keys" && chmod 700 "$SCRATCH/keys"
run_cairn key generate "$SCRATCH/keys/dr.key" >/dev/null
DR_PUB=$(run_cairn key recipient "$SCRATCH/keys/dr.key")
cat >>"$CONF" <<EOF

[encryption]
recipients = $DR_PUB
identity-file = $SCRATCH/keys/dr.key
EOF
if command -v redis-server >/dev/null; then
	REDIS_SRC=$(free_port)
	REDIS_DST=$(free_port)
	start_redis "$SCRATCH/redis-src" "$REDIS_SRC" ||
		{ echo "Bail out! redis-server did not start"; exit 1; }
	redis-cli -p "$REDIS_SRC" debug populate 5000 dr >/dev/null
	redis-cli -p "$REDIS_SRC" hset dr:hash a 1 b 2 >/dev/null
	cat >>"$CONF" <<-EOF

	[cache]
	plugin = redis
	host = 127.0.0.1
	port = $REDIS_SRC
	EOF
	DR_JOBS="$DR_JOBS cache"
fi
# One PostgreSQL server: the database is dropped after the backup and
# comes back from the target.
pg_bin=$(pg_bindir)
if [ -x "$pg_bin/initdb" ]; then
	PG_PW=pg-secret
	PG_PORT=$(free_port)
	start_postgres "$SCRATCH/pg" "$PG_PORT" "$PG_PW" ||
		{ echo "Bail out! PostgreSQL did not start"; exit 1; }
	printf '127.0.0.1:*:*:postgres:%s\n' "$PG_PW" >"$SCRATCH/test.pgpass"
	printf '%s\n' "$PG_PW" >"$SCRATCH/secrets/pg"
	chmod 600 "$SCRATCH/test.pgpass" "$SCRATCH/secrets/pg"
	psql_at() { # psql_at DB SQL
		PGPASSFILE=$SCRATCH/test.pgpass "$pg_bin/psql" -X -q -At \
			-v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres \
			-d "$1" -c "$2"
	}
	pg_sums() {
		psql_at shop "SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t::text)) FROM orders t"
	}
	psql_at postgres "CREATE DATABASE shop" &&
		psql_at shop "CREATE TABLE orders (id int PRIMARY KEY, amount numeric(12,2), note text);
			INSERT INTO orders SELECT i, i * 1.25, 'order ' || i FROM generate_series(1, 2000) i" ||
		{ echo "Bail out! cannot populate the database"; exit 1; }
	pg_sums >"$SCRATCH/pg.before"
	cat >>"$CONF" <<-EOF

	[shop]
	plugin = postgres
	host = 127.0.0.1
	port = $PG_PORT
	user = postgres
	password-file = $SCRATCH/secrets/pg
	databases = shop
	pg-bin-dir = $pg_bin
	EOF
	DR_JOBS="$DR_JOBS shop"
fi
kong_token=dr-admin-token
KONG_EMULATOR=$here/../kong-emulator
ktool() { python3 "$KONG_EMULATOR/kong_tool.py" "$@" --token "$kong_token"; }
start_kong kong-src --token "$kong_token"
KONG_SRC=$KONG_URL
start_kong kong-dst --token "$kong_token"
KONG_DST=$KONG_URL
ktool seed "$KONG_SRC" || { echo "Bail out! cannot seed the gateway"; exit 1; }
printf '%s\n' "$kong_token" >"$SCRATCH/secrets/kong"
chmod 600 "$SCRATCH/secrets/kong"
cat >>"$CONF" <<EOF

[gateway]
plugin = kong
admin-url = $KONG_SRC
token-file = $SCRATCH/secrets/kong
EOF
DR_JOBS="$DR_JOBS gateway"

# An incremental volume job: a full archive and two incremental ones,
# each copied as it is made; the restore from the target alone reads the
# whole chain there.
INC=$SCRATCH/inc-src
mkdir -p "$INC/etc" "$INC/data/old"
head -c 300000 /dev/urandom >"$INC/data/blob"
echo "kept from the full archive" >"$INC/etc/kept"
echo "changed later" >"$INC/etc/changed"
echo "removed later" >"$INC/data/old/gone"
cat >>"$CONF" <<EOF

[files]
plugin = volume
paths = $INC
incremental = yes
EOF
expect "incremental job: the full archive" run_cairn -c "$CONF" backup files
echo "changed once" >"$INC/etc/changed"
echo "new in the first incremental" >"$INC/etc/added"
expect "incremental job: the first incremental archive" \
	run_cairn -c "$CONF" backup files
rm -r "$INC/data/old"
echo "changed twice" >"$INC/etc/changed"
expect "incremental job: the second incremental archive" \
	run_cairn -c "$CONF" backup files
expect "list --json" run_cairn -c "$CONF" --json list
json_check "the files job is a chain of three archives, all on the target" \
	"sorted(a['kind'] for a in doc if a['job'] == 'files') == ['full', 'incremental', 'incremental'] and all([c for c in a.get('copies', []) if c['target'] == 's3' and c['status'] == 'ok'] for a in doc if a['job'] == 'files')"
# The middle archive: the incremental one whose parent is the full one.
INC_MIDDLE=$(python3 -c '
import json, sys
files = [a for a in json.load(open(sys.argv[1])) if a["job"] == "files"]
full = [a["id"] for a in files if a["kind"] == "full"]
print(" ".join(a["id"] for a in files if a.get("parent") in full))' "$SCRATCH/last.out")
DR_JOBS="$DR_JOBS files"

echo "before the disaster" >>"$SRC/small"
expect "back up every job encrypted, copied by copy = auto" \
	run_cairn -c "$CONF" backup $DR_JOBS
expect "list --json" run_cairn -c "$CONF" --json list
json_check "every job's newest archive is encrypted and on the target" \
	"sorted(set(a['job'] for a in doc if a['file'].endswith('.age') and [c for c in a.get('copies', []) if c['target'] == 's3' and c['status'] == 'ok'])) == sorted('$DR_JOBS'.split())"
# The newest snapshot is lost and a stale one put after it: the archives
# it lacks come from older snapshots, or from their own manifests.
aws_s3 list-objects-v2 --bucket cairn --prefix host1/catalog/ \
	--query 'Contents[].Key' --output text | tr '\t' '\n' | sort >"$SCRATCH/snapshots"
aws_s3 get-object --bucket cairn --key "$(head -n 1 "$SCRATCH/snapshots")" \
	"$SCRATCH/stale.catalog" >/dev/null &&
	aws_s3 put-object --bucket cairn \
		--key host1/catalog/99991231T235959Z-00000000.catalog \
		--body "$SCRATCH/stale.catalog" >/dev/null &&
	aws_s3 delete-object --bucket cairn \
		--key "$(tail -n 1 "$SCRATCH/snapshots")" >/dev/null ||
	not_ok "replace the newest snapshot by a stale one"
mv "$REPO" "$SCRATCH/repo.lost"
expect "catalog rebuild --from s3 into a fresh repository" \
	run_cairn -c "$CONF" -v catalog rebuild --from s3
expect_stderr "taken from the older snapshot" \
	"an archive the stale snapshot lacks is taken from an older one"
expect_stderr "is in no catalogue snapshot: taken from its manifest" \
	"an archive no snapshot knows is taken from its manifest"
expect "restore --from s3 of the volume job" \
	run_cairn -c "$CONF" restore vol:latest --from s3 --to "$SCRATCH/dr-vol"
if cmp -s "$SRC/big" "$SCRATCH/dr-vol$SRC/big" &&
	cmp -s "$SRC/small" "$SCRATCH/dr-vol$SRC/small"; then
	ok "the volume is back from the target alone"
else
	not_ok "the volume is back from the target alone"
fi
case " $DR_JOBS " in *" cache "*)
	start_redis "$SCRATCH/redis-dst" "$REDIS_DST"
	expect "restore --from s3 of the Redis job" \
		run_cairn -c "$CONF" restore cache:latest --from s3 \
		--to "redis://127.0.0.1:$REDIS_DST"
	if [ "$(redis-cli -p "$REDIS_SRC" debug digest)" = \
		"$(redis-cli -p "$REDIS_DST" debug digest)" ]; then
		ok "Redis is back from the target alone (same DEBUG DIGEST)"
	else
		not_ok "Redis is back from the target alone (same DEBUG DIGEST)"
	fi ;;
esac
case " $DR_JOBS " in *" shop "*)
	psql_at postgres "DROP DATABASE shop"
	expect "restore --from s3 of the PostgreSQL job, the database dropped" \
		run_cairn -c "$CONF" restore shop:latest --from s3 \
		--to "postgresql://postgres:$PG_PW@127.0.0.1:$PG_PORT"
	if pg_sums >"$SCRATCH/pg.after" 2>&1 &&
		cmp -s "$SCRATCH/pg.before" "$SCRATCH/pg.after"; then
		ok "PostgreSQL is back from the target alone (same rows, same md5)"
	else
		not_ok "PostgreSQL is back from the target alone (same rows, same md5)"
	fi ;;
esac
expect "restore --from s3 of the Kong job into an empty gateway" \
	run_cairn -c "$CONF" restore gateway:latest --from s3 --to "$KONG_DST"
# Kong hashes basic-auth passwords: the Admin API cannot restore them.
ktool dump "$KONG_SRC" --skip basicauth_credentials >"$SCRATCH/kong.a"
ktool dump "$KONG_DST" --skip basicauth_credentials >"$SCRATCH/kong.b"
if [ -s "$SCRATCH/kong.a" ] && cmp -s "$SCRATCH/kong.a" "$SCRATCH/kong.b"; then
	ok "Kong is back from the target alone (same entities, basic-auth aside)"
else
	not_ok "Kong is back from the target alone (same entities, basic-auth aside)"
fi
expect "restore --from s3 of the incremental job's newest archive" \
	run_cairn -c "$CONF" restore files:latest --from s3 --to "$SCRATCH/dr-files"
if python3 "$here/treecmp.py" --no-blocks "$INC" "$SCRATCH/dr-files$INC" \
	>"$SCRATCH/treecmp.out" 2>&1; then
	ok "the incremental job is back from the target alone, through its chain"
else
	not_ok "the incremental job is back from the target alone, through its chain"
	sed 's/^/# /' "$SCRATCH/treecmp.out" | head -n 10
fi
expect "cat --from s3 of a file only the full archive holds" \
	run_cairn -c "$CONF" cat files:latest "${INC#/}/etc/kept" --from s3
if cmp -s "$SCRATCH/last.out" "$INC/etc/kept"; then
	ok "cat --from reads an unchanged file through the chain"
else
	not_ok "cat --from reads an unchanged file through the chain"
fi
# The middle archive's object is lost on the target: the chain is broken,
# and the restore says which archive is missing.
INC_MIDDLE_KEY=$(aws_s3 list-objects-v2 --bucket cairn --prefix host1/ \
	--query 'Contents[].Key' --output text | tr '\t' '\n' | grep -- "-$INC_MIDDLE.tar.zst")
aws_s3 get-object --bucket cairn --key "$INC_MIDDLE_KEY" "$SCRATCH/middle.object" >/dev/null &&
	aws_s3 delete-object --bucket cairn --key "$INC_MIDDLE_KEY" >/dev/null ||
	not_ok "remove the middle archive of the chain from the target"
expect_exit 65 "restore --from with a parent lost on the target exits 65" \
	run_cairn -c "$CONF" restore files:latest --from s3 --to "$SCRATCH/dr-files-broken"
expect_stderr "$INC_MIDDLE" \
	"the message names the archive the chain lacks"
if [ -z "$(ls -A "$SCRATCH/dr-files-broken$INC/etc" 2>/dev/null)" ]; then
	ok "nothing was restored from the broken chain"
else
	not_ok "nothing was restored from the broken chain"
fi
aws_s3 put-object --bucket cairn --key "$INC_MIDDLE_KEY" \
	--body "$SCRATCH/middle.object" >/dev/null ||
	not_ok "put the middle archive back on the target"
if [ -z "$(ls "$REPO/archives" 2>/dev/null)" ]; then
	ok "the recovery made no local copy of any archive"
else
	not_ok "the recovery made no local copy of any archive"
fi
rm -rf "$REPO"
mv "$SCRATCH/repo.lost" "$REPO"

# ---- a local archive damaged after its first copy -------------------------
# A copy to another target takes the SHA-256 recorded by the first one
# instead of reading the file before the upload, and checks the bytes it
# sends against it.
cat >>"$CONF" <<EOF

[offsite second]
type = s3
endpoint = http://127.0.0.1:$S3_PORT
region = us-east-1
bucket = cairn
prefix = host2
uri-style = path
access-key-file = $SCRATCH/secrets/access
secret-key-file = $SCRATCH/secrets/secret
part-size = 5M
EOF
NEWEST=$(ls -t "$REPO/archives/vol" | head -n 1)
flip "$REPO/archives/vol/$NEWEST" 6000000
expect_exit 1 "a copy of a locally damaged archive to a second target fails" \
	run_cairn -c "$CONF" copy --to second
expect_stderr "has SHA-256 '[0-9a-f]{64}', not the '[0-9a-f]{64}' recorded for it" \
	"the failure names both checksums"
if aws_s3 list-objects-v2 --bucket cairn --prefix "host2/archives/vol/$NEWEST" \
	--query 'Contents[].Key' --output text | grep -q "$NEWEST"; then
	not_ok "no object of the damaged archive on the second target"
else
	ok "no object of the damaged archive on the second target"
fi
flip "$REPO/archives/vol/$NEWEST" 6000000

# ---- SFTP, against openssh-server on loopback (as root: sshd needs it) -----
if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/sbin/sshd ]; then
	ok "SFTP target # SKIP needs root and /usr/sbin/sshd"
	finish
fi
SSH=$SCRATCH/ssh
mkdir -p "$SSH/data" /run/sshd && chmod 700 "$SSH"
ssh-keygen -q -t ed25519 -N '' -f "$SSH/host_key" -C cairn-test-host &&
	ssh-keygen -q -t ed25519 -N '' -f "$SSH/client" -C cairn-test &&
	ssh-keygen -q -t ed25519 -N '' -f "$SSH/impostor" -C impostor &&
	cp "$SSH/client.pub" "$SSH/authorized_keys" ||
	{ echo "Bail out! ssh-keygen failed"; exit 1; }
SSH_PORT=$(free_port)
cat >"$SSH/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH/host_key
PidFile $SSH/sshd.pid
AuthorizedKeysFile $SSH/authorized_keys
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
EOF
/usr/sbin/sshd -D -f "$SSH/sshd_config" -E "$SSH/sshd.log" &
server_pids+=("$!")
wait_for "$SSH/sshd.pid" || { echo "Bail out! sshd did not start"; cat "$SSH/sshd.log"; exit 1; }
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH/host_key.pub")" >"$SSH/known_hosts"
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH/impostor.pub")" >"$SSH/wrong_hosts"
write_conf "
[encryption]
recipients = $DR_PUB
identity-file = $SCRATCH/keys/dr.key

[offsite vault]
type = sftp
url = sftp://root@127.0.0.1:$SSH_PORT$SSH/data/host1
identity-file = $SSH/client
known-hosts = $SSH/known_hosts
keep-last = 1
keep-daily = 0
keep-weekly = 0
keep-monthly = 0"
expect "copy to the SFTP target" run_cairn -c "$CONF" copy --to vault
# check: the wrong S3 target fails it; the SFTP target's lines are read.
run_cairn -c "$CONF" check >"$SCRATCH/check.out" 2>&1
sed -n '/^offsite vault:/,/^[^ ]/p' "$SCRATCH/check.out" >"$SCRATCH/last.out"
expect_stdout "^offsite vault: ok" "check finds the SFTP target ok"
expect_stdout "probe +written, read back, removed" \
	"check writes, reads back and removes a probe on the SFTP target"
expect_stdout "clock skew +[+-][0-9]+ s" \
	"check measures the clock skew of the SFTP server (the probe's mtime)"
missing=""
for name in $(cd "$REPO/archives/vol" && ls); do
	cmp -s "$REPO/archives/vol/$name" "$SSH/data/host1/archives/vol/$name" ||
		missing="$missing $name"
done
if [ -z "$missing" ]; then
	ok "the SFTP target holds every archive byte for byte"
else
	not_ok "the SFTP target holds every archive byte for byte (not:$missing)"
fi
if ls -a "$SSH/data/host1/archives/vol/" | grep -q partial; then
	not_ok "no temporary file is left on the SFTP target"
else
	ok "no temporary file is left on the SFTP target"
fi
expect "verify --remote --deep on SFTP" \
	run_cairn -c "$CONF" verify --remote vault --deep
expect "restore --from the SFTP target" \
	run_cairn -c "$CONF" restore vol:latest --from vault --to "$SCRATCH/from-vault"
if cmp -s "$SRC/big" "$SCRATCH/from-vault$SRC/big"; then
	ok "the files restored from the SFTP target are the sources'"
else
	not_ok "the files restored from the SFTP target are the sources'"
fi
sed -i "s|^known-hosts = .*|known-hosts = $SSH/wrong_hosts|" "$CONF"
expect_exit 1 "a changed host key is refused" \
	run_cairn -c "$CONF" verify --remote vault
expect_stderr "host key is not the one in known-hosts" \
	"the refusal names the host key"
: >"$SSH/empty_hosts"
sed -i "s|^known-hosts = .*|known-hosts = $SSH/empty_hosts|" "$CONF"
expect_exit 1 "an unknown host key is refused" \
	run_cairn -c "$CONF" copy --to vault
sed -i "s|^known-hosts = .*|known-hosts = $SSH/known_hosts|" "$CONF"
expect "prune on the SFTP target" run_cairn -c "$CONF" --json prune --remote vault
json_check "the SFTP target's keep-last = 1 keeps one copy of each job there" \
	"sorted(r['action'] for r in doc if r['job'] == 'vol') == ['keep'] + ['remove'] * (len([r for r in doc if r['job'] == 'vol']) - 1) and len(doc) > 2"
expect "list --remote vault after the prune" \
	run_cairn -c "$CONF" --json list --remote vault
held=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$SCRATCH/last.out")
left=$(find "$SSH/data/host1/archives" -type f | wc -l)
if [ "$left" -eq $((2 * held)) ]; then
	ok "the copies held and their checksum files are what is left on the SFTP target"
else
	not_ok "the copies held and their checksum files are what is left on the SFTP target ($left files, $held held)"
fi

finish
