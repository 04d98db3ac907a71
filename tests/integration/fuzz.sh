#!/bin/bash
# The parsers under libFuzzer for a short while: tests/fuzz/run.sh builds
# each fuzz target (JSON, configuration, manifest and index records,
# catalogue, whole archives) with AddressSanitizer and UBSan and runs it
# on a copy of its seed corpus. One test per target: ok when nothing
# crashed, leaked, hung or hit undefined behaviour; the number of inputs
# tried is printed as a comment. Skipped when clang has no libFuzzer
# runtime (apt-get install clang libclang-rt-14-dev).
#
# Environment: FUZZ_SECONDS per target (default 12: five targets and the
# core built once for them take about two minutes on two cores);
# FUZZ_SECONDS=600 by hand for a long run. The core is built as the make
# graph of the build tree run-tests.sh made (CAIRN_BUILD_DIR) lists it.

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

setup_scratch fuzz

seconds=${FUZZ_SECONDS:-12}
targets="fuzz_json fuzz_config fuzz_manifest fuzz_catalog fuzz_archive"

if ! command -v clang >/dev/null; then
	for target in $targets; do
		ok "$target # SKIP clang is not installed"
	done
	finish
fi

"$top/tests/fuzz/run.sh" -o "$SCRATCH/build" "$seconds" $targets \
	>"$SCRATCH/run.out" 2>"$SCRATCH/run.err"
status=$?
if [ "$status" -eq 77 ]; then
	for target in $targets; do
		ok "$target # SKIP clang has no libFuzzer runtime"
	done
	finish
fi

for target in $targets; do
	line=$(grep "^$target: " "$SCRATCH/run.out")
	case $line in
	*" runs in "*)
		ok "$target finds no crash, leak, hang or undefined behaviour"
		echo "# $line"
		;;
	"")
		not_ok "$target was not run (run.sh exit $status)"
		sed 's/^/# /' "$SCRATCH/run.err" | tail -n 20
		;;
	*)
		not_ok "$target finds no crash, leak, hang or undefined behaviour"
		echo "# $line"
		# The input that failed, to add to tests/fuzz/corpus/.
		input=$(echo "$line" | sed -n 's/.*input: \([^;]*\);.*/\1/p')
		[ -f "$input" ] && echo "# input (base64): $(base64 -w0 "$input" | head -c 2000)"
		log="$SCRATCH/build/work/$target.log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|    #[0-9] )' \
			"$log" | head -n 15 | sed 's/^/# /'
		;;
	esac
done
finish
