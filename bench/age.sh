#!/bin/bash
# Encrypted against plain archives, same tree, same run: backup, restore
# and verify (with the identity) times and peak RSS, each case alternating
# plain/encrypted BENCH_RUNS times; the medians and their ratios go to
# stdout as a Markdown table (bench/run.sh puts it in bench/age.md, which
# bench/RESULTS.md includes).
#
#   bench/age.sh [CAIRN]      BENCH_TREE (a tree to back up; bench/run.sh
#                             gives its volume tree, the data of every other
#                             case), or else one generated: BENCH_SCALE
#                             (default 0.4 of gen_volume.py's scale 1: about
#                             0.45 GiB of text) plus 256 MiB of noise;
#                             BENCH_RUNS (default 3)
#
# Restores go into a tmpfs (/dev/shm, when it has room for the tree
# twice; BENCH_RESTORE_DIR chooses another place), each removed after it
# is measured. On a disk file system they would measure the disk and the
# kernel more than cairn: on ext4, files created in the minute after many
# were deleted cost several times as much (ext4_create skips the inodes
# freed last, recently_deleted() in the profile), whoever creates them:
# one archive took 0.9 s to restore into new directories, 3.2 s to 8.6 s
# into one just emptied. Plain and encrypted take turns going first.
#
# On a loaded machine the medians of each kind drift with the load; the
# "paired" column is the median of each run's encrypted/plain ratio, the
# two measured back to back, which the load disturbs less; "fastest" is
# the ratio of each kind's fastest run, as what disturbs a run here (the
# other tenants of the host, the kernel's page cache) adds time and
# never takes any away. The load
# average before and after goes to stderr. The CPU columns (user plus
# system time of each command) are the medians of what the commands
# themselves spent, which the load changes much less than elapsed time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
CAIRN=${1:-${CAIRN:-cairn}}
scale=${BENCH_SCALE:-0.4}
runs=${BENCH_RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/cairn-bench-age.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

tree=${BENCH_TREE:-}
if [ -z "$tree" ]; then
	tree=$work/tree
	mkdir -p "$tree"
	python3 "$here/gen_volume.py" "$tree" "$scale" >/dev/null || exit 1
	head -c $((256 * 1024 * 1024)) /dev/urandom >"$tree/noise.bin"
fi
"$CAIRN" key generate "$work/id" >"$work/pub" || exit 1
for kind in plain age; do
	{
		echo "[repository]"
		echo "path = $work/repo-$kind"
		echo "[tree]"
		echo "plugin = volume"
		echo "paths = $tree"
		if [ "$kind" = age ]; then
			echo "[encryption]"
			echo "recipients = $(cat "$work/pub")"
			echo "identity-file = $work/id"
		fi
	} >"$work/$kind.conf"
	chmod 600 "$work/$kind.conf"
done
tree_bytes=$(du -sb "$tree" | cut -f1)
echo "tree: $tree_bytes bytes" >&2
restore_dir=${BENCH_RESTORE_DIR:-}
if [ -z "$restore_dir" ]; then
	restore_dir=$work
	shm_free=$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -n 1)
	if [ -n "$shm_free" ] && [ "$shm_free" -gt $((2 * tree_bytes)) ]; then
		restore_dir=$(mktemp -d /dev/shm/cairn-bench-age.XXXXXX) || exit 1
		trap 'rm -rf "$work" "$restore_dir"' EXIT
	fi
fi
echo "restores into: $restore_dir" >&2

# measure NAME COMMAND...: appends "NAME seconds kib cpu-seconds" to
# results (cpu: user plus system time, which the load disturbs less than
# the elapsed time).
measure() {
	local name=$1
	shift
	sync
	/usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/err" ||
		{ echo "$name failed:" >&2; cat "$work/err" >&2; exit 1; }
	echo "$name $(cat "$work/time")" >>"$work/results"
}

tar -cf - -C "$tree" . | cat >/dev/null # into the page cache
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for run in $(seq "$runs"); do
	kinds="plain age"
	[ $((run % 2)) = 0 ] && kinds="age plain"
	for kind in $kinds; do
		measure "backup-$kind" "$CAIRN" -q -c "$work/$kind.conf" backup
		measure "restore-$kind" "$CAIRN" -q -c "$work/$kind.conf" \
			restore tree:latest --to "$restore_dir/out"
		rm -rf "$restore_dir/out"
		measure "verify-$kind" "$CAIRN" -q -c "$work/$kind.conf" \
			verify tree:latest
		# Each run into an empty repository: the archives of the runs
		# before, kept, filled the page cache and had the kernel
		# reclaim it under the later backups (their system time rose
		# from 0.9 s to 2-3 s over 9 runs).
		du -sb "$work/repo-$kind/archives" >>"$work/sizes"
		rm -rf "$work/repo-$kind"
	done
	echo "run $run done" >&2
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "archives (bytes, in the order made):" >&2
cut -f1 "$work/sizes" | tr '\n' ' ' >&2
echo >&2
echo "each run (name, seconds, peak KiB, user s, system s):" >&2
cat "$work/results" >&2

python3 - "$work/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, secs, kib, user, system = line.split()
    rows.setdefault(name, []).append((float(secs), int(kib),
                                      float(user) + float(system)))

def ratio(a, b):
    # /usr/bin/time counts in hundredths: a tiny tree can take 0.00 s.
    return a / b if b > 0 else float("nan")

print("| case | plain s | encrypted s | ratio | paired ratio (min-max) | fastest ratio | CPU s plain | CPU s encrypted | CPU ratio | plain peak RSS | encrypted peak RSS | RSS difference |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for case in ("backup", "restore", "verify"):
    p, a = rows[case + "-plain"], rows[case + "-age"]
    ps = statistics.median(r[0] for r in p)
    as_ = statistics.median(r[0] for r in a)
    pc = statistics.median(r[2] for r in p)
    ac = statistics.median(r[2] for r in a)
    pairs = sorted(ratio(b[0], c[0]) for c, b in zip(p, a))
    paired = "%.3f (%.2f-%.2f)" % (statistics.median(pairs), pairs[0], pairs[-1])
    fastest = ratio(min(r[0] for r in a), min(r[0] for r in p))
    pk = max(r[1] for r in p)
    ak = max(r[1] for r in a)
    print("| %s | %.2f | %.2f | %.3f | %s | %.3f | %.2f | %.2f | %.3f | %.1f MiB | %.1f MiB | %+.2f MiB |" %
          (case, ps, as_, ratio(as_, ps), paired, fastest, pc, ac, ratio(ac, pc),
           pk / 1024, ak / 1024, (ak - pk) / 1024))
PY
