#!/bin/bash
# The maintenance commands through the real cairn binary, with the volume
# plugin on a tree of a few files:
# - prune: archives with chosen times (bench/gen_archives.py copies a real
#   archive under new ids and times, then `catalog rebuild`); the plan of
#   --dry-run (every archive, keep/remove and its rules, the restic
#   semantics, nothing changed), --json, removal of exactly the planned
#   archives, the newest always kept, failed and partial archives not
#   counted, other jobs untouched, a policy that keeps nothing refused,
#   an interrupted prune finished by the next one;
# - check: table and --json, max-age, a missing source, a repository that
#   is not writable, the lock holder;
# - drill: recorded in the catalogue and shown by list and show, a damaged
#   newest archive named;
# - the lock: the holder named, --wait, a lock file left by a dead process;
# - metrics: rewritten atomically after backup, prune, verify and drill,
#   plausible values, accepted by promtool, a failed backup;
# - logging: log = syslog, the job lines of -v, silence under cron.
# core.sh covers the lock with flock(1) and damage.sh the damaged
# archives and catalogues; neither is repeated here.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh); CAIRN_WRAPPER, a
# command put in front of cairn.

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

setup_scratch maintenance

SRC=$SCRATCH/src
REPO=$SCRATCH/repo
CONF=$SCRATCH/cairn.conf
METRICS_DIR=$SCRATCH/metrics
METRICS=$METRICS_DIR/cairn.prom
GEN=$top/bench/gen_archives.py
background_pids=()

cairn() { run_cairn -c "$CONF" "$@"; }

stop_background() {
	local pid
	for pid in "${background_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
}
trap 'stop_background; cleanup' EXIT

# The repository's state: every file under it with its checksum.
repo_state() {
	(cd "$REPO" && find . -type f ! -name lock -print0 | LC_ALL=C sort -z |
		xargs -0 sha256sum)
}

# ids_of JOB: the ids the catalogue lists for JOB, sorted.
ids_of() {
	cairn --json list --job "$1" | python3 -c '
import json, sys
print("\n".join(sorted(r["id"] for r in json.load(sys.stdin))))'
}

# archives_on_disk JOB: the ids of JOB's archive files, sorted.
archives_on_disk() {
	find "$REPO/archives/$1" -name '*.tar.zst' -printf '%f\n' |
		sed -E 's/^[0-9TZ]+-(.*)\.tar\.zst$/\1/' | LC_ALL=C sort
}

mkdir -p "$SRC/dir" "$METRICS_DIR"
printf 'alpha\n' >"$SRC/a.txt"
printf 'beta\n' >"$SRC/dir/b.txt"
printf 'gamma\n' >"$SRC/dir/c.txt"

# [retention] gives the defaults; `daily` overrides some of them.
cat >"$CONF" <<EOF
[repository]
path = $REPO
metrics = $METRICS

[retention]
keep-last = 2
keep-daily = 4
keep-weekly = 2
keep-monthly = 0

[vol]
plugin = volume
paths = $SRC

[daily]
plugin = volume
paths = $SRC
keep-last = 1
keep-daily = 3
keep-weekly = 0

[other]
plugin = volume
paths = $SRC
max-age = 26h

[old]
plugin = volume
paths = $SRC
max-age = 26h

[gone]
plugin = volume
paths = $SCRATCH/no-such-directory

[flaky]
plugin = volume
paths = $SRC
before = test ! -e '$SCRATCH/flaky.fail'

[slow]
plugin = volume
paths = $SRC
before = touch '$SCRATCH/slow.started'; while [ -e '$SCRATCH/slow.hold' ]; do sleep 0.1; done

[fragile]
plugin = volume
paths = $SRC
EOF
chmod 600 "$CONF"

# ---- archives with chosen times -----------------------------------------------
# One real archive per job, the template of its copies.
TEMPLATES=$SCRATCH/templates
expect "template archives" cairn -r "$TEMPLATES" backup vol daily old
now=$(date +%s)
gen() { # gen JOB COUNT EVERY END
	python3 "$GEN" "$(ls "$TEMPLATES/archives/$1"/*.tar.zst)" "$REPO" "$1" \
		"$2" --every "$3" --end "$4"
}
# vol: every 20 hours; daily: every 10 hours; old: hourly, ending at noon
# (UTC) three days ago, so that its four archives fall on one day whatever
# the time the test runs (across midnight, keep-daily would keep a third).
old_end=$(((now - 3 * 86400) / 86400 * 86400 + 43200))
if gen vol 12 72000 $((now - 3600)) && gen daily 12 36000 $((now - 3600)) &&
	gen old 4 3600 "$old_end"; then
	ok "gen_archives.py wrote archives with chosen times"
else
	not_ok "gen_archives.py"
fi
expect "catalog rebuild adopts them" cairn catalog rebuild
expect "backups of daily and other" cairn backup daily other
[ "$(ids_of vol | wc -l)" -eq 12 ] && [ "$(ids_of daily | wc -l)" -eq 13 ] &&
	ok "the catalogue lists the generated archives" ||
	not_ok "the catalogue lists $(ids_of vol | wc -l) vol and $(ids_of daily | wc -l) daily archives"

# ---- prune --dry-run ----------------------------------------------------------------
# A partial archive newer than every complete one must count for nothing.
partial=$REPO/archives/daily/.00000000-0000-4000-8000-000000000000.partial
cp "$(ls "$TEMPLATES/archives/daily"/*.tar.zst)" "$partial"
touch -d '+1 hour' "$partial"
repo_state >"$SCRATCH/state.before"
expect "prune --dry-run" cairn prune --dry-run
cp "$SCRATCH/last.out" "$SCRATCH/plan.txt"
repo_state >"$SCRATCH/state.after"
cmp -s "$SCRATCH/state.before" "$SCRATCH/state.after" &&
	ok "prune --dry-run changes nothing (catalogue and files byte-identical)" ||
	{ not_ok "prune --dry-run changed the repository"; diff "$SCRATCH/state.before" "$SCRATCH/state.after" | sed 's/^/# /'; }
listed=$(cairn --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$(wc -l <"$SCRATCH/plan.txt")" -eq "$listed" ] &&
	ok "the plan lists every archive ($listed)" ||
	not_ok "the plan has $(wc -l <"$SCRATCH/plan.txt") lines for $listed archives"
grep -qvE '^(keep|remove) ' "$SCRATCH/plan.txt" &&
	not_ok "a plan line is neither keep nor remove" ||
	ok "every plan line is keep or remove"
awk '$1 == "keep" && NF < 5 { bad = 1 } END { exit bad }' "$SCRATCH/plan.txt" &&
	ok "every kept archive names the rules that keep it" ||
	not_ok "a kept archive without rules"
grep -q 00000000-0000-4000 "$SCRATCH/plan.txt" &&
	not_ok "the partial archive is in the plan" ||
	ok "the partial archive is not in the plan"

# The plan against the restic semantics, worked out here from the times.
expect "prune --dry-run --json" cairn --json prune --dry-run
cp "$SCRATCH/last.out" "$SCRATCH/plan.json"
json_check "prune --json has id, job, created, action and rules" \
	'all(set(r) >= {"id", "job", "created", "action", "rules"} and r["action"] in ("keep", "remove") and isinstance(r["rules"], list) and (r["action"] == "remove") == (r["rules"] == []) and r["created"].endswith("Z") for r in doc)'
cairn --json list >"$SCRATCH/list.json"
if python3 - "$SCRATCH/list.json" "$SCRATCH/plan.json" <<'EOF'; then
import json, sys, time
archives = json.load(open(sys.argv[1]))
plan = {r["id"]: r for r in json.load(open(sys.argv[2]))}
policies = {"vol": dict(last=2, daily=4, weekly=2),
            "daily": dict(last=1, daily=3),
            "other": dict(last=2, daily=4, weekly=2),
            "old": dict(last=2, daily=4, weekly=2)}
formats = {"daily": "%Y-%m-%d", "weekly": "%G-W%V"}
def parse(t):
    return time.strptime(t.split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S")
bad = 0
for job, policy in policies.items():
    mine = sorted((a for a in archives if a["job"] == job),
                  key=lambda a: a["created"], reverse=True)
    want = {}
    for a in mine[:policy["last"]]:
        want.setdefault(a["id"], set()).add("last")
    for rule, fmt in formats.items():
        left, seen = policy.get(rule, 0), None
        for a in mine:
            if left == 0:
                break
            period = time.strftime(fmt, parse(a["created"]))
            if period != seen:
                want.setdefault(a["id"], set()).add(rule)
                seen, left = period, left - 1
    want.setdefault(mine[0]["id"], set()).add("newest")
    for a in mine:
        got = plan[a["id"]]
        if set(got["rules"]) != want.get(a["id"], set()):
            print("# %s %s: plan %s, expected %s" % (job, a["created"], got["rules"], sorted(want.get(a["id"], []))))
            bad = 1
sys.exit(bad)
EOF
	ok "the plan follows the policies ([retention] and the job's overrides)"
else
	not_ok "the plan differs from the policies"
fi
json_check "the newest archive of each job is kept, by 'newest' among others" \
	'all(any(r["job"] == j and "newest" in r["rules"] for r in doc) for j in ("vol", "daily", "other", "old"))'

# A failed backup leaves no archive and changes no plan.
touch "$SCRATCH/flaky.fail"
expect_exit 1 "a failed backup exits 1" cairn backup flaky
rm -f "$SCRATCH/flaky.fail"
expect "prune --dry-run after a failed backup" cairn --json prune --dry-run
cmp -s "$SCRATCH/last.out" "$SCRATCH/plan.json" &&
	ok "a failed backup does not change the plan" ||
	not_ok "the plan changed after a failed backup"

# ---- prune ---------------------------------------------------------------------------
ids_of vol >"$SCRATCH/vol.before"
ids_of other >"$SCRATCH/other.before"
rm -f "$METRICS"
expect "prune --job daily" cairn prune --job daily
python3 -c '
import json, sys
for r in json.load(open(sys.argv[1])):
    if r["job"] == "daily":
        print(r["id"], r["action"])' "$SCRATCH/plan.json" | LC_ALL=C sort >"$SCRATCH/daily.plan"
awk '$2 == "keep" { print $1 }' "$SCRATCH/daily.plan" >"$SCRATCH/daily.keep"
[ "$(ids_of daily)" = "$(cat "$SCRATCH/daily.keep")" ] &&
	ok "prune keeps exactly the archives the plan kept (catalogue)" ||
	not_ok "catalogue after prune: $(ids_of daily | tr '\n' ' ')"
[ "$(archives_on_disk daily)" = "$(cat "$SCRATCH/daily.keep")" ] &&
	ok "prune removes exactly the files the plan removed" ||
	not_ok "files after prune: $(archives_on_disk daily | tr '\n' ' ')"
[ "$(grep -c remove "$SCRATCH/daily.plan")" -gt 0 ] &&
	ok "the plan removed some archives ($(grep -c remove "$SCRATCH/daily.plan"))" ||
	not_ok "the plan removed nothing"
[ ! -e "$partial" ] && ok "prune cleans up the partial archive" ||
	not_ok "the partial archive is left"
[ "$(ids_of vol)" = "$(cat "$SCRATCH/vol.before")" ] &&
	[ "$(archives_on_disk vol)" = "$(cat "$SCRATCH/vol.before")" ] &&
	[ "$(ids_of other)" = "$(cat "$SCRATCH/other.before")" ] &&
	ok "prune --job daily leaves the other jobs' archives alone" ||
	not_ok "prune --job daily touched another job"
cmp -s "$REPO/catalog" "$REPO/catalog.copy" && ok "catalogue and copy agree" ||
	not_ok "catalogue and copy differ"
[ -f "$METRICS" ] && ok "prune writes the metrics" || not_ok "no metrics after prune"

# An interrupted prune: some archives marked "removing" in the catalogue,
# one of their files already deleted, as a crash between the steps leaves
# them. The next prune, even of another job, finishes the removal.
head -n 3 "$SCRATCH/vol.before" >"$SCRATCH/removing"
python3 - "$REPO" "$SCRATCH/removing" <<'EOF'
import hashlib, json, sys
repo, marked = sys.argv[1], set(open(sys.argv[2]).read().split())
lines = open(repo + "/catalog").read().splitlines(keepends=True)[:-1]
out = []
for line in lines:
    r = json.loads(line)
    if r["id"] in marked:
        r["status"] = "removing"
        line = json.dumps(r, separators=(",", ":")) + "\n"
    out.append(line)
body = "".join(out)
text = body + '{"sha256":"%s"}\n' % hashlib.sha256(body.encode()).hexdigest()
for name in ("catalog", "catalog.copy"):
    open(repo + "/" + name, "w").write(text)
EOF
rm -f "$REPO"/archives/vol/*"$(head -n 1 "$SCRATCH/removing")".tar.zst
expect "prune after an interrupted prune" cairn prune --job other
left=$(cat "$REPO/catalog" | grep -c -F -f "$SCRATCH/removing")
[ "$left" -eq 0 ] && ok "the next prune drops the marked lines" ||
	not_ok "$left marked lines are left"
ls "$REPO/archives/vol" | grep -q -F -f "$SCRATCH/removing" &&
	not_ok "files of marked archives are left" ||
	ok "the next prune deletes the marked archives' files"
grep -v -x -F -f "$SCRATCH/removing" "$SCRATCH/vol.before" >"$SCRATCH/vol.rest"
[ "$(ids_of vol)" = "$(cat "$SCRATCH/vol.rest")" ] &&
	[ "$(archives_on_disk vol)" = "$(cat "$SCRATCH/vol.rest")" ] &&
	ok "the other archives of the job are intact" ||
	not_ok "archives of vol after finishing: $(ids_of vol | wc -l)"

# A job no longer configured keeps its archives, unless named.
sed '/^\[old\]/,/^$/d' "$CONF" >"$SCRATCH/without-old.conf"
chmod 600 "$SCRATCH/without-old.conf"
ids_of old >"$SCRATCH/old.before"
expect "prune with a job no longer configured" run_cairn -c "$SCRATCH/without-old.conf" prune
[ "$(ids_of old)" = "$(cat "$SCRATCH/old.before")" ] &&
	ok "the archives of a job no longer configured are kept" ||
	not_ok "archives of a job no longer configured were removed"
expect "prune --job of a job no longer configured" \
	run_cairn -c "$SCRATCH/without-old.conf" prune --job old
[ "$(ids_of old | wc -l)" -eq 2 ] && ok "prune --job prunes it with [retention]" ||
	not_ok "$(ids_of old | wc -l) archives of old are left, wanted 2"
expect_exit 66 "prune --job of an unknown job exits 66" cairn prune --job nosuch
expect_exit 66 "check of an unknown job exits 66" cairn check nosuch
expect_exit 66 "check of a known and an unknown job exits 66" cairn check vol nosuch
[ ! -s "$SCRATCH/last.out" ] && grep -q "no job 'nosuch'" "$SCRATCH/last.err" &&
	ok "it names the unknown job and checks nothing" ||
	not_ok "check of a known and an unknown job: $(head -c 300 "$SCRATCH/last.out")"
expect_exit 66 "drill of an unknown job exits 66" cairn drill nosuch
repo_state >"$SCRATCH/state.before"
expect_exit 66 "drill of a known and an unknown job exits 66" cairn -v drill vol nosuch
repo_state >"$SCRATCH/state.after"
cmp -s "$SCRATCH/state.before" "$SCRATCH/state.after" &&
	! grep -q drilling "$SCRATCH/last.err" &&
	ok "a drill naming an unknown job drills nothing" ||
	{ not_ok "a drill naming an unknown job drilled"; sed 's/^/# /' "$SCRATCH/last.err"; }

expect "prune of every job" cairn prune
expect "verify after prune" cairn verify

# A policy that keeps nothing is refused, and nothing is removed.
cat >"$SCRATCH/none.conf" <<EOF
[repository]
path = $SCRATCH/repo-none

[none]
plugin = volume
paths = $SRC
keep-last = 0
keep-daily = 0
keep-weekly = 0
keep-monthly = 0
EOF
chmod 600 "$SCRATCH/none.conf"
expect "backup of a job without a policy" run_cairn -c "$SCRATCH/none.conf" backup none
expect "a second backup of it" run_cairn -c "$SCRATCH/none.conf" backup none
expect_exit 1 "prune of a job whose policy keeps nothing exits 1" \
	run_cairn -c "$SCRATCH/none.conf" prune
expect_stderr "job 'none'.*keeps nothing" "the refusal names the job and says why"
[ "$(ls "$SCRATCH"/repo-none/archives/none/*.tar.zst | wc -l)" -eq 2 ] &&
	ok "the refused prune removes nothing" || not_ok "the refused prune removed archives"

# ---- check ---------------------------------------------------------------------------
expect "check of healthy jobs exits 0" cairn check vol daily other
expect_stdout '^repository: ok' "check prints the repository's health"
expect_stdout '^vol: ok' "check prints each job's health"
expect "check --json" cairn --json check vol
json_check "check --json: the job and the repository, with no problem" \
	'doc["vol"]["problems"] == [] and doc["vol"]["plugin"] == "volume" and doc["repository"]["problems"] == [] and doc["repository"]["writable"] == "yes" and doc["repository"]["lock"] == "free"'
expect_exit 1 "check exits 1 when the newest archive is older than max-age" cairn check old
expect_stdout 'max-age' "check names max-age"
expect_exit 1 "check exits 1 when a source path is missing" cairn check gone
expect_stdout 'no-such-directory' "check names the missing path"
cairn --json check gone old other >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
json_check "check --json lists the problems of each job" \
	'len(doc["gone"]["problems"]) > 0 and len(doc["old"]["problems"]) > 0 and doc["other"]["problems"] == []'

# check writes nothing, not even the lock file of a fresh repository.
rm -f "$REPO/lock"
repo_state >"$SCRATCH/state.before"
cairn check vol >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
repo_state >"$SCRATCH/state.after"
cmp -s "$SCRATCH/state.before" "$SCRATCH/state.after" && [ ! -e "$REPO/lock" ] &&
	ok "check writes nothing in the repository" ||
	not_ok "check wrote in the repository$([ -e "$REPO/lock" ] && echo ' (the lock file)')"
expect_stdout '^  lock +free' "check shows the lock free without a lock file"

# A repository that is not writable: as an unprivileged user when root.
RO=$SCRATCH/ro
cp -a "$REPO" "$RO"
sed "s|^path = .*|path = $RO|; /^metrics/d" "$CONF" >"$SCRATCH/ro.conf"
if [ "$(id -u)" -eq 0 ]; then
	as_test_user true
	chown -R "$TEST_USER" "$RO" "$SCRATCH/ro.conf"
	chmod 0500 "$RO"
	as_test_user "$CAIRN" -c "$SCRATCH/ro.conf" check vol >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
else
	chmod 0500 "$RO"
	"$CAIRN" -c "$SCRATCH/ro.conf" check vol >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
fi
status=$?
[ "$status" -eq 1 ] && ok "check exits 1 when the repository is not writable" ||
	{ not_ok "check of a read-only repository exited $status"; sed 's/^/# /' "$SCRATCH/last.err"; }
expect_stdout 'not writable' "check says the repository is not writable"
chmod 0700 "$RO"

# ---- the lock ------------------------------------------------------------------------
# The processes put in the background are cairn itself (not a function
# in a subshell), so that $! is the pid the lock file names.
touch "$SCRATCH/slow.hold"
"$CAIRN" -c "$CONF" backup slow >"$SCRATCH/slow.out" 2>"$SCRATCH/slow.err" &
slow_pid=$!
background_pids+=("$slow_pid")
if wait_for "$SCRATCH/slow.started"; then
	expect_exit 75 "a second backup while a backup runs exits 75" cairn backup vol
	expect_stderr "pid $slow_pid on $(hostname)" "the refusal names the holder's pid and host"
	expect_stderr "since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z" "the refusal names when the holder started"
	expect_exit 75 "prune while a backup runs exits 75" cairn prune
	expect_exit 75 "drill while a backup runs exits 75" cairn drill vol
	cairn check vol >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
	expect_stdout "lock +pid $slow_pid on" "check shows the lock holder"
	expect "prune --dry-run takes no lock" cairn prune --dry-run
	expect "verify takes no lock" cairn verify latest
	"$CAIRN" -c "$CONF" backup --wait 60 vol >"$SCRATCH/wait.out" 2>"$SCRATCH/wait.err" &
	wait_pid=$!
	background_pids+=("$wait_pid")
	sleep 0.5
	kill -0 "$wait_pid" 2>/dev/null && ok "backup --wait waits for the holder" ||
		not_ok "backup --wait did not wait"
	rm -f "$SCRATCH/slow.hold"
	wait "$slow_pid"
	status=$?
	[ "$status" -eq 0 ] && ok "the holding backup succeeds" ||
		not_ok "the holding backup exited $status"
	wait "$wait_pid"
	status=$?
	[ "$status" -eq 0 ] && ok "backup --wait succeeds once the holder is gone" ||
		{ not_ok "backup --wait exited $status"; sed 's/^/# /' "$SCRATCH/wait.err"; }
else
	not_ok "the slow backup's before hook never ran"
	rm -f "$SCRATCH/slow.hold"
fi
# A lock file left by a process that is gone.
# (The pid of a shell that has exited: a process killed here between
# fork and exec would run this script's exit trap.)
dead=$(sh -c 'echo $$')
printf 'pid %s on %s since 2026-01-01T00:00:00Z\n' "$dead" "$(hostname)" >"$REPO/lock"
expect "a lock file left by a dead process is no obstacle" cairn backup vol
cairn --json check vol >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
json_check "check shows the lock free" 'doc["repository"]["lock"] == "free"'

# ---- drill ---------------------------------------------------------------------------
expect "backup of fragile" cairn backup fragile
fragile_id=$(ids_of fragile)
rm -f "$METRICS"
expect "drill of a volume job" cairn drill vol fragile
expect_stdout "^fragile: ok \(archive $fragile_id\)" "drill names the archive it drilled"
[ -f "$METRICS" ] && ok "drill writes the metrics" || not_ok "no metrics after drill"
cairn list --job fragile >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
expect_stdout "$fragile_id .*drill ok" "list shows the drill"
cairn --json list --job fragile >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
json_check "list --json has the drill's time and status" \
	'doc[0]["drill"]["status"] == "ok" and abs(time.time() - __import__("calendar").timegm(time.strptime(doc[0]["drill"]["time"], "%Y-%m-%dT%H:%M:%SZ"))) < 120'
cairn show "$fragile_id" >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
expect_stdout '^drill: +ok at [0-9]{4}-' "show shows the drill"
cairn --json show "$fragile_id" >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
json_check "show --json has the drill's status" 'doc["drill"]["status"] == "ok"'
expect "drill --json" cairn --json drill fragile
json_check "drill --json: job, id and status" \
	'doc[0]["job"] == "fragile" and doc[0]["id"] == "'"$fragile_id"'" and doc[0]["status"] == "ok"'
archive=$(ls "$REPO"/archives/fragile/*.tar.zst)
# 100 bytes in: inside the compressed entries of the first frame, whatever
# the length of the names. (A quarter in, as this once was, can land on the
# unused bit of the next frame's header descriptor, a change no zstd
# decoder notices and which leaves the content whole.)
flip "$archive" 100
expect_exit 1 "drill of a damaged newest archive exits 1" cairn drill fragile
expect_stdout "FAILED \(archive $fragile_id\)" "the failed drill names the archive"
cairn --json list --job fragile >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
json_check "the failed drill is recorded" 'doc[0]["drill"]["status"] == "failed"'
rm -f "$archive"
expect "catalog rebuild without the damaged archive" cairn catalog rebuild

# ---- metrics -------------------------------------------------------------------------
metrics_value() { # metrics_value NAME [JOB]
	awk -v name="$1" -v job="${2:-}" '
		job == "" && $1 == name { print $2 }
		job != "" && $1 == name "{job=\"" job "\"}" { print $2 }' "$METRICS"
}
for step in backup verify prune drill; do
	rm -f "$METRICS"
	case $step in
	backup) cairn backup vol ;;
	verify) cairn verify ;;
	prune) cairn prune ;;
	drill) cairn drill vol ;;
	esac >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
	status=$?
	if [ "$status" -eq 0 ] && [ -f "$METRICS" ]; then
		ok "$step rewrites the metrics file"
	else
		not_ok "$step: exit $status, metrics file $([ -f "$METRICS" ] && echo present || echo absent)"
		sed 's/^/# /' "$SCRATCH/last.err"
	fi
done
[ "$(stat -c %a "$METRICS")" = 644 ] && ok "the metrics file is mode 0644" ||
	not_ok "metrics file mode $(stat -c %a "$METRICS")"
[ "$(ls -A "$METRICS_DIR")" = cairn.prom ] &&
	ok "no temporary file is left beside the metrics file" ||
	not_ok "beside the metrics: $(ls -A "$METRICS_DIR" | tr '\n' ' ')"
missing=""
for name in cairn_last_success_timestamp_seconds cairn_last_attempt_timestamp_seconds \
	cairn_last_status cairn_last_duration_seconds cairn_last_bytes \
	cairn_last_stored_bytes cairn_archives; do
	[ -n "$(metrics_value "$name" vol)" ] || missing="$missing $name"
done
for name in cairn_repository_stored_bytes cairn_repository_free_bytes; do
	[ -n "$(metrics_value "$name")" ] || missing="$missing $name"
done
[ -z "$missing" ] && ok "the metrics of the man page are there" ||
	not_ok "missing metrics:$missing"
success=$(metrics_value cairn_last_success_timestamp_seconds vol)
python3 -c "import sys, time; sys.exit(0 if abs(time.time() - float('$success')) < 60 else 1)" 2>/dev/null &&
	ok "the last success is within the last minute" ||
	not_ok "last success $success, now $(date +%s)"
[ "$(metrics_value cairn_archives vol)" = "$(ids_of vol | wc -l)" ] &&
	ok "cairn_archives matches list ($(ids_of vol | wc -l))" ||
	not_ok "cairn_archives $(metrics_value cairn_archives vol), list $(ids_of vol | wc -l)"
[ "$(metrics_value cairn_last_status vol)" = 1 ] && ok "the last status of vol is 1" ||
	not_ok "cairn_last_status{vol} = $(metrics_value cairn_last_status vol)"
stored=$(cairn --json list | python3 -c 'import json,sys; print(sum(r["stored"] for r in json.load(sys.stdin) if r["status"] == "ok"))')
[ "$(metrics_value cairn_repository_stored_bytes)" = "$stored" ] &&
	ok "cairn_repository_stored_bytes is the sum of the archives" ||
	not_ok "cairn_repository_stored_bytes $(metrics_value cairn_repository_stored_bytes), archives $stored"
if command -v promtool >/dev/null; then
	promtool check metrics <"$METRICS" >"$SCRATCH/last.out" 2>&1 &&
		ok "promtool accepts the metrics" ||
		{ not_ok "promtool check metrics"; sed 's/^/# /' "$SCRATCH/last.out"; }
else
	ok "promtool accepts the metrics # SKIP promtool not installed"
fi

# A failed backup: the status drops to 0, the last success stays.
expect "backup of flaky" cairn backup flaky
success=$(metrics_value cairn_last_success_timestamp_seconds flaky)
touch "$SCRATCH/flaky.fail"
expect_exit 1 "a failing backup of flaky" cairn backup flaky
rm -f "$SCRATCH/flaky.fail"
[ "$(metrics_value cairn_last_status flaky)" = 0 ] &&
	ok "a failed backup sets cairn_last_status to 0" ||
	not_ok "cairn_last_status{flaky} = $(metrics_value cairn_last_status flaky)"
[ -n "$success" ] && [ "$(metrics_value cairn_last_success_timestamp_seconds flaky)" = "$success" ] &&
	ok "a failed backup leaves the last success time alone" ||
	not_ok "last success $success became $(metrics_value cairn_last_success_timestamp_seconds flaky)"

# ---- logging -------------------------------------------------------------------------
sed 's|^metrics = .*|log = syslog|' "$CONF" >"$SCRATCH/syslog.conf"
chmod 600 "$SCRATCH/syslog.conf"
expect "log = syslog is accepted$([ -S /dev/log ] || echo ', without /dev/log')" \
	run_cairn -c "$SCRATCH/syslog.conf" backup vol
if [ -S /dev/log ]; then
	[ ! -s "$SCRATCH/last.err" ] && ok "log = syslog prints nothing on stderr" ||
		{ not_ok "log = syslog printed on stderr"; sed 's/^/# /' "$SCRATCH/last.err"; }
else
	expect_stderr "no syslog socket at /dev/log: logging to stderr" \
		"without /dev/log, cairn says it logs to stderr"
	expect_exit 1 "a failing job under log = syslog without /dev/log" \
		run_cairn -c "$SCRATCH/syslog.conf" backup gone
	expect_stderr "error: " "its error still reaches stderr"
fi

expect "backup -v" cairn -v backup vol
grep -v '^$' "$SCRATCH/last.err" >"$SCRATCH/lines"
[ "$(wc -l <"$SCRATCH/lines")" -eq 2 ] && ok "backup -v prints two lines on stderr" ||
	{ not_ok "backup -v printed $(wc -l <"$SCRATCH/lines") lines"; sed 's/^/# /' "$SCRATCH/lines"; }
grep -qE '^cairn: vol: start' "$SCRATCH/lines" && ok "one line at the start of the job" ||
	not_ok "no line at the start of the job"
grep -qE '^cairn: vol: ok, archive [0-9a-f-]{36}, [0-9]+ entries, .*[0-9]' "$SCRATCH/lines" &&
	ok "one line at the end of the job, with its figures" ||
	not_ok "no line at the end of the job with figures"

# As under cron: stdout and stderr are files, not terminals.
cairn backup vol >"$SCRATCH/cron.out" 2>"$SCRATCH/cron.err" </dev/null
status=$?
[ "$status" -eq 0 ] && [ ! -s "$SCRATCH/cron.out" ] && [ ! -s "$SCRATCH/cron.err" ] &&
	ok "under cron a successful backup prints nothing" ||
	{ not_ok "under cron: exit $status, $(wc -c <"$SCRATCH/cron.out") bytes out, $(wc -c <"$SCRATCH/cron.err") bytes err"; sed 's/^/# /' "$SCRATCH/cron.err" | head; }

finish
