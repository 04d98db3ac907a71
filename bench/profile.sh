#!/usr/bin/env bash
# Where cairn spends its time on the benchmark's data: a sampling profile
# (perf record, software clock, no call graphs: the release build has no
# frame pointers) split by thread and by function, and the system calls
# counted by strace, for volume backup, restore (onto the disk and into
# tmpfs), verify, their stock peers and the catalogue commands.
# bench/run.sh runs it last (group "profile") and quotes in RESULTS.md the
# parts behind each missed target; by hand, once the data is prepared:
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

# profile NAME PREPARE COMMAND...: perf by thread, by shared object and by
# function, then strace -c, each run after PREPARE.
FREQ=999
profile() {
	local name=$1 prepare=$2
	shift 2
	eval "$prepare"
	if command -v perf >/dev/null; then
		perf record -q -F $FREQ -o "$WORK/perf.data" -- "$@" >/dev/null 2>"$WORK/err" ||
			{ cat "$WORK/err"; return 1; }
		{
			echo "# $name: perf record -F $FREQ -- $*"
			echo "# CPU by thread (tid:name; samples at $FREQ Hz, and the seconds they make)"
			perf report -i "$WORK/perf.data" --stdio --no-children -n --sort pid \
				2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 12 |
				awk -v hz=$FREQ '{ printf "%8s %8d %6.2f s  %s\n", $1, $2, $2 / hz, $3 }'
			echo
			echo "# CPU by shared object"
			perf report -i "$WORK/perf.data" --stdio --no-children --sort dso \
				2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 8
			echo
			echo "# CPU by function (libzstd and libcrypto have no symbols here)"
			perf report -i "$WORK/perf.data" --stdio --no-children \
				--sort dso,sym --percent-limit 1 2>/dev/null |
				grep -v '^#' | grep -v '^$' | head -n 20
		} | sed "s|$WORK|WORK|g; s|$DATA|DATA|g" >"$OUT/$name.txt"
	fi
	eval "$prepare"
	if command -v strace >/dev/null; then
		strace -f -c -o "$WORK/strace" "$@" >/dev/null 2>&1
		{
			echo "# $name: strace -f -c -- $*"
			head -n 17 "$WORK/strace"
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
# Into tmpfs, where no disk waits: the CPU and the system calls alone.
shm=/dev/shm/cairn-profile.$$
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	profile restore-tmpfs "rm -rf '$shm'; drop" \
		"$CAIRN" -c "$conf" --no-progress restore vol:latest --to "$shm/cairn"
	profile zstd-dc-tar-tmpfs "rm -rf '$shm'; mkdir -p '$shm/tar'; drop" \
		sh -c "zstd -dc '$archive' | tar -xf - -C '$shm/tar'"
	rm -rf "$shm"
fi
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
