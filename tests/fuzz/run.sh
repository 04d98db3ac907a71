#!/usr/bin/env bash
# Builds cairn's fuzz targets with clang's libFuzzer, AddressSanitizer
# and UBSan from the sources of lib/ and of the core's library, as the
# make graph lists them (`make print-fuzz-build` in a configured build
# tree), and runs each for a while on a copy of its seed corpus in
# tests/fuzz/corpus/.
#
#   tests/fuzz/run.sh [-o DIR] [-b BUILD] [SECONDS] [TARGET...]
#
# BUILD (or FUZZ_MAKE_DIR, else CAIRN_BUILD_DIR, which run-tests.sh
# sets) is a build tree configured by ./configure; without one, DIR gets
# one of its own.
#
# SECONDS per target: the argument, else FUZZ_SECONDS, else 20; by hand,
# FUZZ_SECONDS=600 for a long run. TARGETs are names such as fuzz_config
# (default: all). DIR (or FUZZ_BUILD_DIR) keeps the build and the work
# corpora, and lets a later run skip compiling when no source changed;
# without it a temporary directory is used and removed, unless a target
# failed.
#
# FUZZ_SEED (default 1) fixes libFuzzer's random seed, so that a run in CI
# tries the same inputs as the same run here and a failure there can be
# replayed; FUZZ_SEED=0 lets libFuzzer pick one (long runs by hand).
#
# For each target one line "NAME: N runs in S s" on stdout, or "NAME:
# FAILED ..." with the path of the input that crashed, leaked or hung.
# Exits 0 when all passed, 1 when one failed, 77 when clang cannot build
# fuzzers (no libFuzzer runtime: apt-get install libclang-rt-14-dev),
# 64 on a usage error.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)

all_targets="fuzz_json fuzz_config fuzz_manifest fuzz_catalog fuzz_archive"

# Each target's longest input in bytes: a configuration's lines may be
# longer than inih's buffer; an archive seed is a few KiB of zstd frames,
# or a plain tar of 512-byte blocks.
target_max_len() {
	case $1 in
	fuzz_archive) echo 65536 ;;
	fuzz_config | fuzz_catalog) echo 16384 ;;
	*) echo 8192 ;;
	esac
}
# Targets that read files by path get the fuzz_scratch helper.
target_helpers() {
	case $1 in
	fuzz_config | fuzz_catalog | fuzz_archive) echo "fuzz_scratch" ;;
	esac
}

usage() {
	echo "usage: $0 [-o DIR] [-b BUILD] [SECONDS] [TARGET...]" >&2
	exit 64
}

dir=${FUZZ_BUILD_DIR:-}
make_dir=${FUZZ_MAKE_DIR:-${CAIRN_BUILD_DIR:-}}
seconds=${FUZZ_SECONDS:-20}
targets=""
while [ $# -gt 0 ]; do
	case $1 in
	-o) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
	-b) [ $# -ge 2 ] || usage; make_dir=$2; shift 2 ;;
	-h | --help) usage ;;
	[0-9]*) seconds=$1; shift ;;
	fuzz_*)
		[[ " $all_targets " == *" $1 "* ]] || usage
		targets="$targets $1"
		shift
		;;
	*) usage ;;
	esac
done
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage
targets=${targets:-$all_targets}

temporary=0
if [ -z "$dir" ]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-fuzz-run.XXXXXX") || exit 1
	temporary=1
fi
mkdir -p "$dir/obj" "$dir/work" || exit 1
dir=$(cd "$dir" && pwd)

# What the make graph builds the core from. SYSCONFDIR and PLUGINDIR
# only name defaults no target reaches.
if [ -z "$make_dir" ]; then
	make_dir=$dir/configured
	if [ ! -e "$make_dir/Makefile" ]; then
		mkdir -p "$make_dir" || exit 1
		{ [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi); } &&
			(cd "$make_dir" && "$top/configure") >"$dir/configure.log" 2>&1 || {
			echo "configure failed (log: $dir/configure.log)" >&2
			exit 1
		}
	fi
fi
graph=$(make -s -C "$make_dir" print-fuzz-build) || {
	echo "cannot ask the make graph in $make_dir for the core's sources" >&2
	exit 1
}
graph_field() { printf '%s\n' "$graph" | sed -n "s/^$1: *//p"; }
# only PATTERN WORD...: the words that match the glob PATTERN.
only() {
	local pattern=$1 word
	shift
	for word in "$@"; do
		# shellcheck disable=SC2053
		[[ $word == $pattern ]] && printf '%s ' "$word"
	done
}
# shellcheck disable=SC2046
core_sources=$(only '*.c' $(graph_field sources))

CC=${FUZZ_CC:-clang}
# -fno-sanitize-recover: UB stops the target like a crash does.
CFLAGS="-g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wcast-qual
	-fsanitize=fuzzer-no-link,address,undefined
	-fno-sanitize-recover=undefined -D_GNU_SOURCE
	-DSYSCONFDIR=\"/etc\" -DPLUGINDIR=\"/nowhere\"
	-I$make_dir/config -I$top/include -I$top/lib -I$top/core -I$top/tests/fuzz
	$(only '-I*' $(graph_field cflags))"
# shellcheck disable=SC2046
LIBS="$(only '-[lL]*' $(graph_field libs)) -lpthread"

# Whether clang has its fuzzer runtime at all.
probe() {
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
		'{ (void)d; (void)n; return 0; }' >"$dir/probe.c"
	"$CC" -fsanitize=fuzzer,address,undefined "$dir/probe.c" \
		-o "$dir/probe" >"$dir/probe.log" 2>&1
}
if ! probe; then
	echo "clang cannot build libFuzzer targets (see $dir/probe.log;" \
		"apt-get install clang libclang-rt-14-dev)" >&2
	[ "$temporary" = 1 ] && rm -rf "$dir"
	exit 77
fi

# compile SOURCE OBJECT: one translation unit, unless already up to date.
compile() {
	[ "$2" -nt "$1" ] && return 0
	# shellcheck disable=SC2086
	"$CC" $CFLAGS -c "$1" -o "$2"
}

# object SOURCE: the object file of a source file (path without .c).
object() { echo "$dir/obj/$(echo "${1%.c}" | tr / _).o"; }

build() {
	local sources target source pids=() pid failed=0 core_objects=""
	# Any changed header rebuilds everything: there are few files.
	if [ -n "$(find "$top/core" "$top/lib" "$top/include" "$top/tests/fuzz" \
		-name '*.h' -newer "$dir/headers.stamp" 2>/dev/null | head -n 1)" ] ||
		[ ! -e "$dir/headers.stamp" ]; then
		rm -f "$dir"/obj/*.o "$dir/core.a"
	fi
	touch "$dir/headers.stamp.new"
	sources=$core_sources
	for target in $targets; do
		for source in $(target_helpers "$target"); do
			sources="$sources tests/fuzz/$source.c"
		done
		sources="$sources tests/fuzz/$target.c"
	done
	# Two compilers at a time per core, each source once.
	for source in $(printf '%s\n' $sources | sort -u); do
		compile "$top/$source" "$(object "$source")" &
		pids+=($!)
		if [ "${#pids[@]}" -ge "$(($(nproc) * 2))" ]; then
			wait "${pids[0]}" || failed=1
			pids=("${pids[@]:1}")
		fi
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || failed=1
	done
	[ "$failed" = 0 ] || return 1
	mv "$dir/headers.stamp.new" "$dir/headers.stamp"
	# The core as an archive: each target links what it uses.
	for source in $core_sources; do
		core_objects="$core_objects $(object "$source")"
	done
	rm -f "$dir/core.a"
	# shellcheck disable=SC2086
	ar rcs "$dir/core.a" $core_objects || return 1
	for target in $targets; do
		local objects
		objects=$(object "tests/fuzz/$target.c")
		for source in $(target_helpers "$target"); do
			objects="$objects $(object "tests/fuzz/$source.c")"
		done
		# shellcheck disable=SC2086
		"$CC" -fsanitize=fuzzer,address,undefined $objects "$dir/core.a" \
			$LIBS -o "$dir/$target" || return 1
	done
}

if ! build >"$dir/build.log" 2>&1; then
	cat "$dir/build.log" >&2
	echo "building the fuzz targets failed (log: $dir/build.log)" >&2
	exit 1
fi

# The targets that read files by path write every input to a file: in
# memory (/dev/shm) that costs little, on a disk it halves their speed.
scratch=$(mktemp -d /dev/shm/cairn-fuzz.XXXXXX 2>/dev/null ||
	mktemp -d "$dir/work/tmp.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT

# run_target NAME: fuzzes one target on a fresh copy of its corpus.
run_target() {
	local name=$1 corpus="$dir/work/${1#fuzz_}" log="$dir/work/$1.log"
	local seeds="$top/tests/fuzz/corpus/${1#fuzz_}" status runs crash
	rm -rf "$corpus" "$dir/work/$name-crashes"
	mkdir -p "$corpus" "$dir/work/$name-crashes"
	[ -d "$seeds" ] && cp "$seeds"/* "$corpus"/ 2>/dev/null
	# -timeout: an input that takes this long is a hang. -rss_limit_mb
	# bounds memory (the archive target decompresses). Leaks are
	# reported by AddressSanitizer's leak checker after each input.
	TMPDIR=$scratch \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1 \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1 \
		"$dir/$name" -max_total_time="$seconds" -seed="${FUZZ_SEED:-1}" \
		-max_len="$(target_max_len "$name")" -rss_limit_mb=2048 \
		-timeout=25 -print_final_stats=1 \
		-artifact_prefix="$dir/work/$name-crashes/" \
		"$corpus" >"$log" 2>&1
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crash=$(find "$dir/work/$name-crashes" -type f | head -n 1)
	if [ "$status" -ne 0 ] || [ -n "$crash" ]; then
		echo "$name: FAILED (exit $status) after ${runs:-?} runs;" \
			"input: ${crash:-none saved}; log: $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" |
			head -n 5 | sed 's/^/    /'
		return 1
	fi
	echo "$name: ${runs:-0} runs in $seconds s"
}

failed=0
for target in $targets; do
	run_target "$target" || failed=1
done
if [ "$failed" = 0 ] && [ "$temporary" = 1 ]; then
	rm -rf "$dir"
elif [ "$failed" != 0 ]; then
	echo "build and inputs kept in $dir" >&2
fi
exit "$failed"
