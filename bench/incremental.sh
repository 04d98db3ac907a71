#!/bin/bash
# Incremental volume backups against full ones, restic and borg, on the
# same tree in the same run (issue 16's targets):
#
#   - a second run over an unchanged tree: cairn incremental vs cairn full
#     and vs restic's (and borg's) unchanged re-run; the archive's size;
#   - 1 % of the files changed: cairn incremental vs cairn full, restic;
#   - restore of the 7th archive of a chain vs a restore of a full archive
#     of the same tree (each twice, in the order chain, full, full, chain,
#     each after a sync, so that neither pays for the other's writeback);
#   - peak RSS of an incremental backup and restore over BENCH_FILES files.
#
# usage: bench/incremental.sh [CAIRN_BUILD_DIR]
#   BENCH_SCALE  size of the generated tree (gen_volume.py; 1.0 = 2 GiB)
#   BENCH_FILES  files of the many-files case (default 1000000; 0 skips it)
#   BENCH_WORK   scratch directory (default /var/tmp/cairn-bench-incr)
#
# Prints a Markdown table (the figures of bench/RESULTS.md's incremental
# section) and leaves nothing behind. Times are wall-clock seconds of one
# run with a warm page cache; RSS is /usr/bin/time's maximum resident set.
set -u
bench=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$bench")
build=${1:-$top/build/bench}
SCALE=${BENCH_SCALE:-1.0}
FILES=${BENCH_FILES:-1000000}
WORK=${BENCH_WORK:-/var/tmp/cairn-bench-incr}
CAIRN=$build/inst/bin/cairn
export CAIRN_PLUGIN_DIR=$build/inst/lib/cairn/plugins
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$WORK/restic-cache
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_BASE_DIR=$WORK/borg-base

die() { echo "incremental.sh: $*" >&2; exit 1; }
[ -x "$CAIRN" ] || die "no cairn in $build (build it: CAIRN_BUILD_NAME=bench ./run-tests.sh or configure there)"
command -v restic >/dev/null && command -v borg >/dev/null &&
	[ -x /usr/bin/time ] || die "restic, borg and /usr/bin/time are needed"

rm -rf "$WORK"
mkdir -p "$WORK/tree" "$WORK/out"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
trap 'rm -rf "$WORK"' EXIT
TREE=$WORK/tree

# measure NAME COMMAND...: wall seconds and peak RSS (KiB) into $WORK/NAME.
measure() {
	local name=$1
	shift
	/usr/bin/time -f "%e %M" -o "$WORK/$name.time" "$@" >/dev/null 2>"$WORK/$name.err" ||
		{ cat "$WORK/$name.err" >&2; die "$name failed"; }
}
secs() { cut -d' ' -f1 "$WORK/$1.time"; }
rss() { echo $(($(cut -d' ' -f2 "$WORK/$1.time") / 1024)); }
newest_stored() {
	"$CAIRN" -c "$1" --json list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stored"])'
}
conf() { # conf FILE REPO INCREMENTAL PATH
	cat >"$1" <<EOF
[repository]
path = $2
[vol]
plugin = volume
paths = $4
incremental = $3
EOF
	chmod 600 "$1"
}
# change PERCENT: appends a line to that share of the regular files.
change() {
	python3 - "$TREE" "$1" "$2" <<'EOF'
import os, sys, random
root, share, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
               if os.path.isfile(os.path.join(d, f)) and not os.path.islink(os.path.join(d, f)))
rng = random.Random(seed)
for path in rng.sample(files, max(1, int(len(files) * share / 100))):
    with open(path, "a") as f:
        f.write("changed %d\n" % seed)
EOF
}
warm() { tar -cf - "$1" 2>/dev/null | cat >/dev/null; }

python3 "$bench/gen_volume.py" "$TREE" "$SCALE" >/dev/null || die "cannot generate the tree"
head -c "$(python3 -c "print(int(200 * 1024 * 1024 * $SCALE))")" /dev/urandom >"$TREE/random.bin"
# Older than the timestamp granularity when the first backup starts.
sleep 1.1
warm "$TREE"

conf "$WORK/inc.conf" "$WORK/repo-inc" yes "$TREE"
conf "$WORK/full.conf" "$WORK/repo-full" no "$TREE"
restic -q -r "$WORK/restic" init >/dev/null 2>&1
borg init --encryption=none "$WORK/borg" >/dev/null 2>&1

measure cairn_first "$CAIRN" -c "$WORK/inc.conf" backup vol
full_stored=$(newest_stored "$WORK/inc.conf")
measure cairn_unchanged "$CAIRN" -c "$WORK/inc.conf" backup vol
unchanged_stored=$(newest_stored "$WORK/inc.conf")
measure cairn_full "$CAIRN" -c "$WORK/full.conf" backup vol
measure restic_first restic -q -r "$WORK/restic" backup "$TREE"
measure restic_unchanged restic -q -r "$WORK/restic" backup "$TREE"
measure borg_first borg create "$WORK/borg::a" "$TREE"
measure borg_unchanged borg create "$WORK/borg::b" "$TREE"

change 1 1
sleep 1.1
warm "$TREE"
measure cairn_1pct "$CAIRN" -c "$WORK/inc.conf" backup vol
measure cairn_full_1pct "$CAIRN" -c "$WORK/full.conf" backup vol
measure restic_1pct restic -q -r "$WORK/restic" backup "$TREE"
measure borg_1pct borg create "$WORK/borg::c" "$TREE"

# The chain to 7 archives (a full and 6 incrementals), 1 % more each time.
for k in 2 3 4 5; do
	change 1 "$k"
	sleep 1.1
	"$CAIRN" -c "$WORK/inc.conf" backup vol >/dev/null 2>&1 || die "chain backup $k failed"
done
"$CAIRN" -c "$WORK/full.conf" backup vol >/dev/null 2>&1 || die "full backup failed"
chain=$("$CAIRN" -c "$WORK/inc.conf" --json list | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%d archives, the newest %s" % (len(d), d[0]["kind"]))')
restore_pass() { # restore_pass NAME CONF
	sync
	measure "$1" "$CAIRN" -c "$2" restore vol:latest --to "$WORK/out/$1"
	rm -rf "${WORK:?}/out/$1"
}
restore_pass restore_chain7 "$WORK/inc.conf"
restore_pass restore_full "$WORK/full.conf"
restore_pass restore_full_b "$WORK/full.conf"
restore_pass restore_chain7_b "$WORK/inc.conf"
rm -rf "$WORK/restic" "$WORK/borg" "$WORK/repo-full"

# Many files: RSS of an incremental backup and of a chain restore.
if [ "$FILES" -gt 0 ]; then
	mkdir -p "$WORK/many"
	python3 - "$WORK/many" "$FILES" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in range((n + 999) // 1000):
    os.mkdir(os.path.join(root, "d%04d" % d))
    for f in range(min(1000, n - d * 1000)):
        with open(os.path.join(root, "d%04d" % d, "f%04d" % f), "w") as fh:
            fh.write("x")
EOF
	sleep 1.1
	conf "$WORK/many.conf" "$WORK/repo-many" yes "$WORK/many"
	measure many_first "$CAIRN" -c "$WORK/many.conf" backup vol
	echo y >"$WORK/many/d0000/f0000"
	sleep 1.1
	measure many_unchanged "$CAIRN" -c "$WORK/many.conf" backup vol
	sync
	measure many_restore "$CAIRN" -c "$WORK/many.conf" restore vol:latest --to "$WORK/out/many"
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { python3 -c "print('%.3f' % ($1 / $2))"; }
cat <<EOF
| case | seconds | peak RSS MiB | ratio | target |
|---|---|---|---|---|
| cairn first (full) backup | $(secs cairn_first) | $(rss cairn_first) | | |
| cairn full backup of the same tree (incremental = no) | $(secs cairn_full) | $(rss cairn_full) | | |
| cairn second run, unchanged tree | $(secs cairn_unchanged) | $(rss cairn_unchanged) | $(ratio "$(secs cairn_unchanged)" "$(secs cairn_full)") of cairn full | <= 0.1 |
| restic first backup | $(secs restic_first) | $(rss restic_first) | | |
| restic unchanged re-run | $(secs restic_unchanged) | $(rss restic_unchanged) | cairn/restic $(ratio "$(secs cairn_unchanged)" "$(secs restic_unchanged)") | <= 0.5 |
| borg first backup | $(secs borg_first) | $(rss borg_first) | | |
| borg unchanged re-run | $(secs borg_unchanged) | $(rss borg_unchanged) | cairn/borg $(ratio "$(secs cairn_unchanged)" "$(secs borg_unchanged)") | |
| unchanged archive size | $unchanged_stored B | | $(ratio "$unchanged_stored * 100" "$full_stored") % of the full ($full_stored B) | <= 0.5 % |
| cairn 1 % of files changed, incremental | $(secs cairn_1pct) | $(rss cairn_1pct) | $(ratio "$(secs cairn_1pct)" "$(secs cairn_full_1pct)") of cairn full | <= 0.15 |
| cairn 1 % changed, full | $(secs cairn_full_1pct) | $(rss cairn_full_1pct) | | |
| restic 1 % changed | $(secs restic_1pct) | $(rss restic_1pct) | cairn/restic $(ratio "$(secs cairn_1pct)" "$(secs restic_1pct)") | |
| borg 1 % changed | $(secs borg_1pct) | $(rss borg_1pct) | cairn/borg $(ratio "$(secs cairn_1pct)" "$(secs borg_1pct)") | |
| restore of the last of a chain ($chain), twice | $(secs restore_chain7) + $(secs restore_chain7_b) | $(rss restore_chain7) | $(ratio "($(secs restore_chain7) + $(secs restore_chain7_b))" "($(secs restore_full) + $(secs restore_full_b))") of the full restore | <= 1.2 |
| restore of a full archive of the same tree, twice | $(secs restore_full) + $(secs restore_full_b) | $(rss restore_full) | | |
EOF
if [ "$FILES" -gt 0 ]; then
	cat <<EOF
| $FILES files: first backup | $(secs many_first) | $(rss many_first) | | |
| $FILES files: incremental, one changed | $(secs many_unchanged) | $(rss many_unchanged) | | RSS <= 64 |
| $FILES files: restore of the chain | $(secs many_restore) | $(rss many_restore) | | RSS <= 64 |
EOF
fi
echo
echo "load average (1, 5, 15 min): $load_start at the start, $load_end at the end"
