#!/bin/bash
# What cairn promises about secrets and the files it writes:
#
# - a repository it creates is 0700 and every file in it 0600 (archives,
#   catalogue and copy, lock, status.json, the partial file of a backup
#   in progress) under umask 000 and 022; the metrics file is 0644
#   whatever the umask, as cairn.conf(5) says;
# - a warning naming the file when the configuration is readable by
#   others or writable by group or others, or a password or token file is
#   readable by group or others; none for 0600 (nor 0640 configuration);
# - no password or token in the command line or environment of cairn or
#   any process it starts (sampled from /proc while backups, restores,
#   checks and drills of a password-protected PostgreSQL, a Redis with
#   requirepass and an ACL user, and a Kong with an admin token run), nor
#   in stdout, stderr, JSON output, the archives (manifests included),
#   the catalogue, status.json, the metrics or files left in /tmp and
#   /var/tmp; the PGPASSFILE cairn writes is 0600 and gone afterwards,
#   also after failed runs;
# - symlinks planted in the repository (partial, temporary, status and
#   lock file names, a job directory) are never written through.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

setup_scratch security
script_start=$EPOCHREALTIME
bin=$(pg_bindir)
emulator=$here/../kong-emulator/kong_emulator.py
kong_tool=$here/../kong-emulator/kong_tool.py
out=$SCRATCH/out
mkdir -p "$out" "$SCRATCH/secrets" "$SCRATCH/src"
chmod 700 "$SCRATCH/secrets"
# Distinctive secrets: any occurrence of one of them is a leak.
pg_pw=Pg-Pass-q7Zx41kW
redis_pw=Rds-Req-m3Vb82Lp
acl_pw=Rds-Acl-t5Hn60Qe
kong_token=Kong-Tok-w9Fd27Js
printf '%s\n' "$pg_pw" "$redis_pw" "$acl_pw" "$kong_token" >"$SCRATCH/patterns"
marker=$SCRATCH/started
touch "$marker"

mode_of() { stat -c %a "$1"; }

# --- 1. modes of what cairn writes, whatever the umask -------------------

for i in $(seq 1 40); do
	head -c 4096 /dev/urandom >"$SCRATCH/src/file$i"
done
# A postgres wrapper whose pg_dump lingers 3 s after the dump, so that a
# backup stays in progress long enough to look at its partial file.
mkdir -p "$SCRATCH/slow"
cat >"$SCRATCH/slow/pg_dump" <<EOF
#!/bin/sh
case "\$1" in -V|--version) exec "$bin/pg_dump" "\$@" ;; esac
"$bin/pg_dump" "\$@" || exit \$?
sleep 3
EOF
chmod 755 "$SCRATCH/slow/pg_dump"
for tool in pg_dumpall pg_restore psql; do
	ln -s "$bin/$tool" "$SCRATCH/slow/$tool"
done

pg_port=$(free_port)
start_postgres "$SCRATCH/pg" "$pg_port" "$pg_pw" ||
	{ not_ok "start a password-protected PostgreSQL"; finish; }
printf '127.0.0.1:%s:*:postgres:%s\n' "$pg_port" "$pg_pw" >"$SCRATCH/test.pgpass"
chmod 600 "$SCRATCH/test.pgpass"
sql() { # sql DB [psql args...], credentials through a file of the test's
	local db=$1
	shift
	PGPASSFILE=$SCRATCH/test.pgpass "$bin/psql" -X -q -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$pg_port" -U postgres -d "$db" "$@"
}
if sql postgres -c "CREATE DATABASE ledger" &&
	sql ledger -c "CREATE TABLE entry (id int PRIMARY KEY, memo text);
		INSERT INTO entry SELECT g, 'memo ' || g FROM generate_series(1, 5000) g;
		CREATE ROLE clerk LOGIN PASSWORD 'clerk-pw-not-ours'" >/dev/null; then
	ok "PostgreSQL with scram authentication and a database to back up"
else
	not_ok "populate PostgreSQL"
fi
printf '%s\n' "$pg_pw" >"$SCRATCH/secrets/pg"
printf 'wrong-password\n' >"$SCRATCH/secrets/pg-wrong"
chmod 600 "$SCRATCH/secrets/"*

# write_conf FILE REPO METRICS: a volume job and a slow postgres job.
write_conf() {
	cat >"$1" <<EOF
[repository]
path = $2
metrics = $3

[files]
plugin = volume
paths = $SCRATCH/src

[pg-slow]
plugin = postgres
host = 127.0.0.1
port = $pg_port
user = postgres
password-file = $SCRATCH/secrets/pg
databases = ledger
pg-bin-dir = $SCRATCH/slow
EOF
	chmod 600 "$1"
}

for um in 000 022; do
	repo=$SCRATCH/nested-$um/repo
	conf=$SCRATCH/umask-$um.conf
	write_conf "$conf" "$repo" "$SCRATCH/metrics-$um.prom"
	(umask "$um" && exec "$CAIRN" -c "$conf" backup files pg-slow) \
		>"$out/umask-$um.out" 2>"$out/umask-$um.err" &
	pid=$!
	# The slow job's partial file: it lives for 3 s at least.
	partial="" partial_mode=""
	for _ in $(seq 1 400); do
		partial=$(find "$repo/archives/pg-slow" -name '.*.partial' 2>/dev/null | head -n 1)
		[ -n "$partial" ] && partial_mode=$(mode_of "$partial" 2>/dev/null) &&
			break
		sleep 0.05
	done
	wait "$pid"
	status=$?
	[ "$status" -eq 0 ] && ok "umask $um: backup of two jobs" ||
		{ not_ok "umask $um: backup of two jobs (exit $status)"; sed 's/^/# /' "$out/umask-$um.err"; }
	[ "$partial_mode" = 600 ] && ok "umask $um: the partial file of a running backup is 0600" ||
		not_ok "umask $um: the partial file of a running backup is 0600 (found '${partial:-none}' mode '${partial_mode:-}')"
	bad=$(find "$repo" \( -type d ! -perm 700 \) -o \( ! -type d ! -perm 600 \) | sed "s|$SCRATCH/||")
	files=$(find "$repo" ! -type d | sed "s|$repo/||" | sort | tr '\n' ' ')
	[ -z "$bad" ] && ok "umask $um: the repository and its directories are 0700, its files 0600 ($files)" ||
		not_ok "umask $um: wrong modes: $(echo "$bad" | while read -r f; do printf '%s=%s ' "$f" "$(mode_of "$SCRATCH/$f")"; done)"
	for f in lock status.json catalog catalog.copy; do
		[ -f "$repo/$f" ] || not_ok "umask $um: no $f in the repository"
	done
	[ "$(mode_of "$SCRATCH/metrics-$um.prom" 2>/dev/null)" = 644 ] &&
		ok "umask $um: the metrics file is 0644" ||
		not_ok "umask $um: the metrics file is 0644 (mode $(mode_of "$SCRATCH/metrics-$um.prom" 2>&1))"
done
# A umask that would hide the metrics from node_exporter.
(umask 077 && exec "$CAIRN" -c "$SCRATCH/umask-022.conf" backup files) \
	>"$out/umask-077.out" 2>"$out/umask-077.err"
[ "$(mode_of "$SCRATCH/metrics-022.prom")" = 644 ] &&
	ok "umask 077: the metrics file is still 0644" ||
	not_ok "umask 077: the metrics file is still 0644 (mode $(mode_of "$SCRATCH/metrics-022.prom"))"

# --- 2. warnings about readable configuration and secret files ----------

conf=$SCRATCH/umask-022.conf
warn_case() { # warn_case CONF_MODE SECRET_MODE WANT_CONF WANT_SECRET
	chmod "$1" "$conf"
	chmod "$2" "$SCRATCH/secrets/pg"
	"$CAIRN" -c "$conf" check pg-slow >"$out/warn-$1-$2.out" 2>"$out/warn-$1-$2.err"
	local err=$out/warn-$1-$2.err saw_conf=no saw_secret=no
	grep -q "warning.*'$conf'" "$err" && saw_conf=yes
	grep -q "warning.*'$SCRATCH/secrets/pg'" "$err" && saw_secret=yes
	if [ "$saw_conf" = "$3" ] && [ "$saw_secret" = "$4" ]; then
		ok "configuration $1, password file $2: warning about the configuration: $3, about the password file: $4"
	else
		not_ok "configuration $1, password file $2: wanted warnings $3/$4, got $saw_conf/$saw_secret"
		sed 's/^/# /' "$err"
	fi
}
warn_case 600 600 no no
warn_case 640 600 no no
warn_case 644 600 yes no
warn_case 660 600 yes no
warn_case 602 600 yes no
warn_case 600 640 no yes
warn_case 600 604 no yes
warn_case 600 400 no no
chmod 600 "$conf" "$SCRATCH/secrets/pg"

# --- 3. no secret anywhere -----------------------------------------------

# sample.py PREFIX COMMAND...: runs COMMAND and, until it exits, samples
# /proc/PID/{cmdline,environ} of it and all its descendants as fast as it
# can; writes what it saw to PREFIX.cmdline, PREFIX.environ and
# PREFIX.passfiles (each PGPASSFILE path with the modes of the file and
# of its directory while it existed), a summary to PREFIX.summary, and
# exits with COMMAND's status.
cat >"$SCRATCH/sample.py" <<'EOF'
import os, subprocess, sys
prefix, command = sys.argv[1], sys.argv[2:]
cmdlines, environ, passfiles, programs = set(), set(), {}, set()
parents = {}  # pid -> ppid, read once per process
samples = 0
child = subprocess.Popen(command)
root = child.pid
def ppid_of(pid):
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            s = f.read()
    except OSError:
        return None
    return int(s[s.rindex(b')') + 2:].split()[1])
def look(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            argv = f.read().split(b'\0')
        with open('/proc/%d/environ' % pid, 'rb') as f:
            env = f.read().split(b'\0')
    except OSError:
        return
    cmdlines.add(b' '.join(argv).strip())
    if argv and argv[0]:
        programs.add(os.path.basename(argv[0]).decode(errors='replace'))
    for var in env:
        environ.add(var)
        if var.startswith(b'PGPASSFILE='):
            path = var[len('PGPASSFILE='):].decode()
            try:
                passfiles[path] = '%o %o' % (
                    os.lstat(path).st_mode & 0o7777,
                    os.lstat(os.path.dirname(path)).st_mode & 0o7777)
            except OSError:
                passfiles.setdefault(path, 'gone')
while child.poll() is None:
    live = set()
    for name in os.listdir('/proc'):
        if name.isdigit():
            pid = int(name)
            live.add(pid)
            if pid not in parents:
                parents[pid] = ppid_of(pid)
    for pid in list(parents):
        if pid not in live:
            del parents[pid]
    family, stack = set(), [root]
    children = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    while stack:
        pid = stack.pop()
        family.add(pid)
        stack.extend(children.get(pid, []))
    for pid in family:
        look(pid)
    samples += 1
with open(prefix + '.cmdline', 'wb') as f:
    f.write(b'\n'.join(sorted(cmdlines)) + b'\n')
with open(prefix + '.environ', 'wb') as f:
    f.write(b'\n'.join(sorted(environ)) + b'\n')
with open(prefix + '.passfiles', 'w') as f:
    for path, modes in sorted(passfiles.items()):
        f.write('%s %s\n' % (path, modes))
with open(prefix + '.summary', 'w') as f:
    f.write('%d samples, %d command lines, programs: %s\n' % (
        samples, len(cmdlines), ' '.join(sorted(programs))))
sys.exit(child.returncode)
EOF

# watched NAME WANT DESCRIPTION ARGS...: runs cairn -c $conf ARGS under
# the sampler; ok when it exits WANT.
watched() {
	local name=$1 want=$2 description=$3 status
	shift 3
	python3 "$SCRATCH/sample.py" "$out/$name" "$CAIRN" -c "$conf" "$@" \
		>"$out/$name.out" 2>"$out/$name.err"
	status=$?
	if [ "$status" -eq "$want" ]; then
		ok "$description ($(cat "$out/$name.summary"))"
	else
		not_ok "$description (exit $status, wanted $want)"
		sed 's/^/# /' "$out/$name.err" | tail -n 20
	fi
}

# Redis: requirepass for the default user, and an ACL user.
redis_port=$(free_port)
REDISCLI_AUTH=$redis_pw start_redis "$SCRATCH/redis" "$redis_port" \
	--requirepass "$redis_pw" \
	--user backup on ">$acl_pw" '~*' '&*' '+@all' ||
	{ not_ok "start a password-protected Redis"; }
for i in $(seq 1 2000); do echo "SET key:$i value-$i"; done |
	REDISCLI_AUTH=$redis_pw redis-cli -p "$redis_port" --no-auth-warning >/dev/null
printf '%s\n' "$redis_pw" >"$SCRATCH/secrets/redis"
printf '%s\n' "$acl_pw" >"$SCRATCH/secrets/redis-acl"

# Kong: the source gateway, a target to restore into, a scratch one for
# drills, all behind the admin token.
start_kong() { # start_kong NAME: sets KONG_URL
	local name=$1 tries=100
	python3 "$emulator" --port 0 --token "$kong_token" >"$SCRATCH/$name.port" \
		2>"$SCRATCH/$name.log" &
	server_pids+=("$!")
	while ! grep -q '^[0-9]*$' "$SCRATCH/$name.port" 2>/dev/null &&
		[ "$tries" -gt 0 ]; do
		sleep 0.05
		tries=$((tries - 1))
	done
	KONG_URL=http://127.0.0.1:$(head -n 1 "$SCRATCH/$name.port")
}
start_kong kong-source
kong_source=$KONG_URL
start_kong kong-target
kong_target=$KONG_URL
start_kong kong-scratch
kong_scratch=$KONG_URL
python3 "$kong_tool" seed "$kong_source" --token "$kong_token" >/dev/null ||
	not_ok "seed the gateway"
printf '%s\n' "$kong_token" >"$SCRATCH/secrets/kong"
chmod 600 "$SCRATCH/secrets/"*

# A pg_dump that dies after 64 KiB, for a run that fails mid-dump.
mkdir -p "$SCRATCH/killer"
cat >"$SCRATCH/killer/pg_dump" <<EOF
#!/bin/sh
case "\$1" in -V|--version) exec "$bin/pg_dump" "\$@" ;; esac
sleep 1
"$bin/pg_dump" "\$@" | head -c 65536
kill -KILL \$\$
EOF
chmod 755 "$SCRATCH/killer/pg_dump"
for tool in pg_dumpall pg_restore psql; do
	ln -s "$bin/$tool" "$SCRATCH/killer/$tool"
done

# The PostgreSQL client programs, each behind a wrapper that records
# its command line, its environment and the mode of the PGPASSFILE it
# was handed (with its directory's), then runs the real program: every
# invocation is seen, however short.
mkdir -p "$SCRATCH/spy"
for tool in pg_dump pg_dumpall pg_restore psql; do
	cat >"$SCRATCH/spy/$tool" <<EOF
#!/bin/sh
{ printf '%s\n' "$tool \$*"; } >>"$out/spy.argv"
env >>"$out/spy.env"
if [ -n "\$PGPASSFILE" ]; then
	echo "$tool \$(stat -c %a "\$PGPASSFILE" 2>&1) \$(stat -c %a "\$(dirname "\$PGPASSFILE")" 2>&1) \$PGPASSFILE" >>"$out/spy.pgpass"
else
	echo "$tool no PGPASSFILE" >>"$out/spy.pgpass"
fi
exec "$bin/$tool" "\$@"
EOF
	chmod 755 "$SCRATCH/spy/$tool"
done

conf=$SCRATCH/secret.conf
cat >"$conf" <<EOF
[repository]
path = $SCRATCH/repo
metrics = $SCRATCH/secret.prom

[pg]
plugin = postgres
host = 127.0.0.1
port = $pg_port
user = postgres
password-file = $SCRATCH/secrets/pg
databases = all
drill-target = postgresql://postgres@127.0.0.1:$pg_port/postgres
pg-bin-dir = $SCRATCH/spy

[pg-wrong]
plugin = postgres
host = 127.0.0.1
port = $pg_port
user = postgres
password-file = $SCRATCH/secrets/pg-wrong

[pg-killed]
plugin = postgres
host = 127.0.0.1
port = $pg_port
user = postgres
password-file = $SCRATCH/secrets/pg
databases = ledger
pg-bin-dir = $SCRATCH/killer

[redis]
plugin = redis
host = 127.0.0.1
port = $redis_port
password-file = $SCRATCH/secrets/redis

[redis-acl]
plugin = redis
host = 127.0.0.1
port = $redis_port
user = backup
password-file = $SCRATCH/secrets/redis-acl
rdb-path = remote

[kong]
plugin = kong
admin-url = $kong_source
token-file = $SCRATCH/secrets/kong
drill-target = $kong_scratch
EOF
chmod 600 "$conf"

# The drills scratch under a TMPDIR of their own, which must be empty
# afterwards: /tmp and /var/tmp are shared with whatever else runs on the
# machine, other drills included.
drill_tmp=$SCRATCH/tmp-drill
mkdir -p "$drill_tmp"
watched pg-backup 0 "backup of PostgreSQL" -v --json backup pg
watched pg-show 0 "show --json of the PostgreSQL archive" --json show pg:latest
watched pg-restore 0 "restore of one database into the same server (--force)" \
	-v restore pg:latest --to "postgresql://postgres@127.0.0.1:$pg_port/postgres" \
	--only ledger --force
[ "$(sql ledger -At -c 'SELECT count(*) FROM entry')" = 5000 ] &&
	ok "the restored database holds its 5000 rows" ||
	not_ok "the restored database holds its 5000 rows"
watched pg-check 0 "check of PostgreSQL" -v --json check pg
TMPDIR=$drill_tmp watched pg-drill 0 "drill of PostgreSQL" -v --json drill pg
watched pg-verify 0 "verify of the PostgreSQL archive" -v verify pg:latest
mkdir -p "$SCRATCH/tmp-fail"
TMPDIR=$SCRATCH/tmp-fail watched pg-wrong 1 "a backup with a wrong password fails" \
	-v --json backup pg-wrong
TMPDIR=$SCRATCH/tmp-fail watched pg-killed 1 "a backup whose pg_dump is killed fails" \
	-v --json backup pg-killed
watched redis-backup 0 "backup of Redis (requirepass) and Redis as an ACL user over replication" \
	-v --json backup redis redis-acl
watched redis-show 0 "show --json of the Redis archive" --json show redis-acl:latest
watched redis-restore 0 "restore of the Redis archive into a directory" \
	-v restore redis-acl:latest --to "$SCRATCH/redis-restore"
watched redis-check 0 "check of both Redis jobs" -v --json check redis redis-acl
TMPDIR=$drill_tmp watched redis-drill 0 "drill of both Redis jobs" -v --json drill redis redis-acl
watched kong-backup 0 "backup of Kong with a token" -v --json backup kong
watched kong-show 0 "show --json of the Kong archive" --json show kong:latest
watched kong-restore 0 "restore of Kong into another gateway" \
	-v restore kong:latest --to "$kong_target"
watched kong-check 0 "check of Kong" -v --json check kong
TMPDIR=$drill_tmp watched kong-drill 0 "drill of Kong" -v --json drill kong
watched list 0 "list --json of everything" --json list
watched verify 0 "verify of everything" -v verify

# The sampler saw the long-lived children; the wrappers saw every
# PostgreSQL client program.
programs=$(cat "$out"/*.summary)
for program in pg_dump redis-server; do
	grep -qw -- "$program" <<<"$programs" &&
		ok "$program was sampled in /proc while it ran" ||
		not_ok "$program was sampled in /proc while it ran"
done
for program in pg_dump pg_dumpall psql pg_restore; do
	n=$(grep -c "^$program " "$out/spy.argv" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] && ok "$program ran $n times behind its wrapper" ||
		not_ok "$program ran behind its wrapper"
done
spied=$(grep -c . "$out/spy.pgpass" 2>/dev/null)
bad=$(grep -v '^[a-z_]* 600 700 /' "$out/spy.pgpass")
[ "${spied:-0}" -gt 0 ] && [ -z "$bad" ] &&
	ok "each of the $spied client runs got a PGPASSFILE, 0600 in a 0700 directory" ||
	{ not_ok "client runs without a 0600 PGPASSFILE"; echo "$bad" | head -n 5 | sed 's/^/# /'; }
hits=$(grep -l -F -f "$SCRATCH/patterns" "$out/spy.argv" "$out/spy.env")
[ -z "$hits" ] && ok "no secret in the arguments or environment of the $spied client runs" ||
	not_ok "a secret in the arguments or environment of a client program: $hits"
hits=$(grep -l -F -f "$SCRATCH/patterns" "$out"/*.cmdline)
[ -z "$hits" ] && ok "no secret in the command line of cairn or any process it started ($(cat "$out"/*.cmdline | sort -u | wc -l) command lines)" ||
	{ not_ok "a secret in a command line: $hits"; grep -h -F -f "$SCRATCH/patterns" "$out"/*.cmdline | head -n 5 | sed 's/^/# /'; }
hits=$(grep -l -F -f "$SCRATCH/patterns" "$out"/*.environ)
[ -z "$hits" ] && ok "no secret in the environment of cairn or any process it started ($(cat "$out"/*.environ | sort -u | wc -l) variables)" ||
	{ not_ok "a secret in an environment: $hits"; grep -h -F -f "$SCRATCH/patterns" "$out"/*.environ | cut -c1-60 | head -n 5 | sed 's/^/# /'; }
passfiles=$( (cat "$out"/*.passfiles; awk '{print $4, $2, $3}' "$out/spy.pgpass") |
	grep -v "^$SCRATCH/test.pgpass" | sort -u)
seen=$(echo "$passfiles" | grep -c ' ')
if [ "$seen" -gt 0 ] && ! echo "$passfiles" | grep -v ' 600 700$' | grep -v ' gone$' | grep -q .; then
	ok "PGPASSFILE: $seen temporary files seen, each 0600 in a 0700 directory"
else
	not_ok "PGPASSFILE: temporary files 0600 in a 0700 directory"
	echo "$passfiles" | sed 's/^/# /'
fi
left=$(echo "$passfiles" | awk '{print $1}' | while read -r f; do
	[ -n "$f" ] && { [ -e "$f" ] || [ -e "$(dirname "$f")" ]; } && echo "$f"; done)
[ -z "$left" ] && ok "every temporary PGPASSFILE and its directory is removed" ||
	not_ok "temporary PGPASSFILEs left behind: $left"
[ -z "$(ls -A "$SCRATCH/tmp-fail")" ] &&
	ok "failed runs (wrong password, pg_dump killed) leave nothing in TMPDIR" ||
	not_ok "failed runs leave $(ls -A "$SCRATCH/tmp-fail") in TMPDIR"

# The search itself finds a secret where one is (a control).
grep -q -F -f "$SCRATCH/patterns" "$SCRATCH/secrets/kong" &&
	ok "the search finds the token in its own file (control)" ||
	not_ok "the search finds the token in its own file (control)"

# Everything cairn printed and wrote.
mkdir -p "$out/archives"
for archive in $(find "$SCRATCH/repo" -name '*.tar.zst'); do
	zstd -dcq "$archive" >"$out/archives/$(basename "$archive" .zst)"
done
archives=$(ls "$out/archives" | wc -l)
for archive in $(find "$SCRATCH/repo" -name '*.tar.zst'); do
	tar --zstd -xOf "$archive" .cairn/manifest.json \
		>"$out/manifest-$(basename "$archive" .tar.zst).json"
done
manifests=$(grep -l '"entries"' "$out"/manifest-*.json | wc -l)
hits=$(grep -l -F -f "$SCRATCH/patterns" "$out"/*.out "$out"/*.err "$out"/manifest-*.json \
	"$out/archives/"* "$SCRATCH/repo/catalog" "$SCRATCH/repo/catalog.copy" \
	"$SCRATCH/repo/status.json" "$SCRATCH/repo/lock" "$SCRATCH/secret.prom")
[ -z "$hits" ] && ok "no secret in stdout, stderr, JSON, $archives decompressed archives, $manifests manifests, the catalogue, status.json, the lock or the metrics" ||
	{ not_ok "a secret in: $hits"; }
tmp_hits=$(find /tmp /var/tmp -xdev -newer "$marker" -type f -size -64M \
	! -path "$SCRATCH/*" -print0 2>/dev/null |
	xargs -0 -r grep -l -F -f "$SCRATCH/patterns" 2>/dev/null)
[ -z "$tmp_hits" ] && ok "no secret in any file written to /tmp or /var/tmp since the start" ||
	not_ok "a secret in: $tmp_hits"
drills_left=$(find "$drill_tmp" -mindepth 1 -maxdepth 1 2>/dev/null)
[ -z "$drills_left" ] && ok "drills leave no scratch directory behind" ||
	not_ok "drills left: $drills_left"

# --- 4. symlinks planted in the repository -------------------------------

conf=$SCRATCH/umask-022.conf
repo=$SCRATCH/nested-022/repo
mkdir -p "$SCRATCH/outside/dir"
echo untouched >"$SCRATCH/outside/victim"
victim_sum=$(sha256sum <"$SCRATCH/outside/victim")
victim_ok() { [ "$(sha256sum <"$SCRATCH/outside/victim")" = "$victim_sum" ]; }

plant() { # plant NAME...: each a symlink to the victim, in the repository
	local name
	for name in "$@"; do
		rm -f "$repo/$name"
		ln -s "$SCRATCH/outside/victim" "$repo/$name"
	done
}
plant archives/files/.00000000-0000-4000-8000-000000000000.partial \
	catalog.tmp catalog.new catalog.copy.tmp status.json.tmp lock.tmp
ln -sf "$SCRATCH/outside/victim" "$SCRATCH/metrics-022.prom.tmp"
expect "a backup with symlinks at the partial and temporary names" \
	"$CAIRN" -c "$conf" backup files
victim_ok && ok "no write through them: the outside file is unchanged" ||
	not_ok "a write through a planted symlink changed the outside file"
[ -L "$repo/archives/files/.00000000-0000-4000-8000-000000000000.partial" ] &&
	not_ok "the stale partial symlink is still there" ||
	ok "the stale partial symlink was removed, its target kept"

plant status.json
expect "a backup with status.json a symlink" "$CAIRN" -c "$conf" backup files
victim_ok && [ ! -L "$repo/status.json" ] &&
	ok "status.json is replaced, not written through" ||
	not_ok "status.json: written through the symlink or still a symlink"

mv "$repo/lock" "$SCRATCH/lock.saved"
plant lock
expect_exit 1 "a backup with the lock file a symlink fails" \
	"$CAIRN" -c "$conf" backup files
expect_stderr "lock" "it names the lock file"
victim_ok && ok "the lock symlink's target is unchanged" ||
	not_ok "the lock was written through its symlink"
rm -f "$repo/lock"

count_before=$(find "$SCRATCH/outside" -type f | wc -l)
rm -rf "$repo/archives/files"
ln -s "$SCRATCH/outside/dir" "$repo/archives/files"
expect_exit 1 "a backup whose job directory is a symlink fails" \
	"$CAIRN" -c "$conf" backup files
expect_stderr "archives/files" "it names the job directory"
[ "$(find "$SCRATCH/outside" -type f | wc -l)" -eq "$count_before" ] && victim_ok &&
	ok "nothing was written into the directory it points to" ||
	not_ok "an archive was written through the symlinked job directory"
rm -f "$repo/archives/files"
expect "a backup once the symlinks are gone" "$CAIRN" -c "$conf" backup files

echo "# security.sh: $(python3 -c "print('%.0f' % ($EPOCHREALTIME - $script_start))") s in all"
finish
