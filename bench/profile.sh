#!/usr/bin/env bash
# Where cairn spends its time on the benchmark's data: a sampling profile
# (perf record, software clock, no call graphs: the release build has no
# frame pointers) split by thread and by function, and the system calls
# counted by strace, for volume backup, restore, verify and the
# catalogue commands. Run after bench/run.sh has prepared the data:
#
#   BENCH_SCALE=1 bench/profile.sh
#
# Writes bench/profile/*.txt. Without perf, falls back to valgrind
# --tool=callgrind on the backup of a smaller tree (PROFILE_TREE=DIR).
set -u
bench=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$bench")
SCALE=${BENCH_SCALE:-1}
CACHE=${BENCH_CACHE:-$bench/cache}
DATA=$CACHE/scale-$SCALE
VOLUME=${PROFILE_TREE:-$DATA/volume}
OUT=$bench/profile
CAIRN=${CAIRN:-$top/build/bench/inst/bin/cairn}
CAIRN_PLUGIN_DIR=${CAIRN_PLUGIN_DIR:-$top/build/bench/inst/lib/cairn/plugins}
export CAIRN_PLUGIN_DIR
[ -x "$CAIRN" ] || { echo "profile: build cairn first (bench/run.sh)" >&2; exit 1; }
[ -d "$VOLUME" ] || { echo "profile: no data at $VOLUME (run bench/run.sh)" >&2; exit 1; }
mkdir -p "$OUT"
WORK=$(mktemp -d "$CACHE/profile.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
conf=$WORK/cairn.conf
printf '[repository]\npath = %s/repo\n\n[vol]\nplugin = volume\npaths = %s\n' \
	"$WORK" "$VOLUME" >"$conf"
chmod 600 "$conf"
cairn() { "$CAIRN" -c "$conf" --no-progress "$@"; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; }

# profile NAME PREPARE COMMAND...: perf by thread and by symbol, strace -c.
profile() {
	local name=$1 prepare=$2
	shift 2
	eval "$prepare"
	if command -v perf >/dev/null; then
		perf record -q -F 999 -o "$WORK/perf.data" -- "$@" >/dev/null 2>"$WORK/err" ||
			{ cat "$WORK/err"; return 1; }
		{
			echo "# $name: perf record -F 999 -- $*"
			echo "# CPU samples by thread (comm/tid)"
			perf report -i "$WORK/perf.data" --stdio --no-children --sort pid \
				2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 12
			echo
			echo "# CPU samples by shared object"
			perf report -i "$WORK/perf.data" --stdio --no-children --sort dso \
				2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 12
			echo
			echo "# CPU samples by function (libzstd and libcrypto have no symbols here)"
			perf report -i "$WORK/perf.data" --stdio --no-children \
				--sort dso,sym --percent-limit 0.7 2>/dev/null |
				grep -v '^#' | grep -v '^$' | head -n 30
		} | sed "s|$WORK|WORK|g; s|$DATA|DATA|g" >"$OUT/$name.txt"
	fi
	eval "$prepare"
	if command -v strace >/dev/null; then
		strace -f -c -o "$WORK/strace" "$@" >/dev/null 2>&1
		{
			echo "# $name: strace -f -c -- $*"
			head -n 22 "$WORK/strace"
		} | sed "s|$WORK|WORK|g; s|$DATA|DATA|g" >"$OUT/$name-syscalls.txt"
	fi
}

profile backup "rm -rf '$WORK/repo'" "$CAIRN" -c "$conf" --no-progress backup vol
# Keep one archive for what follows.
rm -rf "$WORK/repo"
cairn backup vol >/dev/null
profile restore "rm -rf '$WORK/restore'; drop" "$CAIRN" -c "$conf" --no-progress restore vol:latest --to "$WORK/restore"
profile verify "drop" "$CAIRN" -c "$conf" --no-progress verify
archive=$(ls "$WORK"/repo/archives/vol/*.tar.zst)
profile zstd-t "drop" zstd -t -q "$archive"
profile tar-zstd "" sh -c "tar -cf - -C '$(dirname "$VOLUME")' '$(basename "$VOLUME")' | zstd -3 -T0 -q -c >/dev/null"
profile zstd-dc-tar "rm -rf '$WORK/x'; mkdir -p '$WORK/x'; drop" \
	sh -c "zstd -dc '$archive' | tar -xf - -C '$WORK/x'"
rm -rf "$WORK/x" "$WORK/restore"

catalog=$CACHE/catalog-10000
if [ -d "$catalog" ]; then
	printf '[repository]\npath = %s\n\n[tiny]\nplugin = volume\npaths = %s\n' \
		"$catalog" "$WORK" >"$WORK/catalog.conf"
	chmod 600 "$WORK/catalog.conf"
	conf=$WORK/catalog.conf
	profile catalog-list "" "$CAIRN" -c "$conf" list
	profile catalog-prune "" "$CAIRN" -c "$conf" prune --dry-run
fi

if ! command -v perf >/dev/null && command -v valgrind >/dev/null; then
	valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
		"$CAIRN" -c "$conf" --no-progress backup vol >/dev/null 2>&1
	callgrind_annotate "$WORK/cg.out" | head -n 60 >"$OUT/backup-callgrind.txt"
fi
echo "profiles in $OUT" >&2
