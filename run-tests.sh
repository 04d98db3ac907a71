#!/usr/bin/env bash
# Builds cairn from this tree and runs every test: the unit tests (cmocka),
# the plugin tests and the integration scripts against real servers.
# Ends with the line "N passed, N failed"; exits 0 only when none failed.
#
#   ./run-tests.sh                 warnings as errors
#   ./run-tests.sh --sanitizers    AddressSanitizer and UBSan build
#   ./run-tests.sh --valgrind      every cairn run under valgrind memcheck
#
# Set CAIRN_TESTS to a space-separated list of integration script names
# (e.g. "core volume") to run only those, and CAIRN_BUILD_NAME to build
# into build/NAME instead of build/werror or build/sanitizers (two runs
# side by side).
set -u
top=$(cd "$(dirname "$0")" && pwd)
. "$top/scripts/common.sh"

build=werror
configure_flags=(--enable-werror)
valgrind=0
for arg in "$@"; do
	case $arg in
	--sanitizers) build=sanitizers; configure_flags+=(--enable-sanitizers) ;;
	--valgrind) valgrind=1 ;;
	*) echo "usage: $0 [--sanitizers] [--valgrind]" >&2; exit 64 ;;
	esac
done

build=${CAIRN_BUILD_NAME:-$build}
install_dependencies || exit 1
echo "building ($build)..." >&2
build_cairn "$build" "${configure_flags[@]}" || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0
log_dir="$CAIRN_BUILD_DIR/test-logs"
rm -rf "$log_dir"
mkdir -p "$log_dir"

# count_tap NAME LOG STATUS [SECONDS]: adds a TAP log's results to the
# totals; the time it took, when given, goes on the summary line (to see
# where the CI's hour goes).
count_tap() {
	local name=$1 log=$2 status=$3 took=${4:+ ($4 s)} ok bad skip
	skip=$(grep -cE '^(not )?ok .*# SKIP' "$log")
	ok=$(grep -E '^ok ' "$log" | grep -cv '# SKIP')
	bad=$(grep -E '^not ok ' "$log" | grep -cv '# SKIP')
	skipped=$((skipped + skip))
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1 # died before reporting what failed
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$bad" -eq 0 ]; then
		echo "  $name: $ok ok, $skip skipped$took" >&2
	else
		echo "  $name: $ok ok, $bad FAILED$took (log: $log)" >&2
		grep -E '^not ok|^#' "$log" | head -n 20 | sed 's/^/    /' >&2
	fi
}

echo "unit and plugin tests:" >&2
(cd "$CAIRN_BUILD_DIR" && make -j"$(nproc)" check TESTS= >>make.log 2>&1) ||
	{ echo "  building the tests failed (see $CAIRN_BUILD_DIR/make.log)" >&2; failed=$((failed + 1)); }
for program in $(cd "$CAIRN_BUILD_DIR" && make -s print-tests 2>/dev/null); do
	log="$log_dir/$(basename "$program").log"
	(cd "$CAIRN_BUILD_DIR" && CMOCKA_MESSAGE_OUTPUT=TAP "./$program") >"$log" 2>&1
	count_tap "$program" "$log" $?
done

echo "integration tests:" >&2
if [ "$valgrind" -eq 1 ]; then
	# Every cairn the scripts run goes through this wrapper: memcheck
	# exits 99 on any error or definite leak, and keeps one log per
	# process, checked once the scripts are done. Children of cairn
	# (hooks, pg_dump) are not traced.
	if ! command -v valgrind >/dev/null; then
		echo "  --valgrind needs valgrind (apt-get install -y valgrind)" >&2
		echo "$passed passed, $((failed + 1)) failed, $skipped skipped"
		exit 1
	fi
	valgrind_logs="$CAIRN_BUILD_DIR/valgrind-logs"
	rm -rf "$valgrind_logs"
	mkdir -p "$valgrind_logs"
	chmod 1777 "$valgrind_logs"
	wrapper="$CAIRN_BUILD_DIR/cairn-valgrind"
	cat >"$wrapper" <<-WRAPPER
	#!/bin/sh
	# cairn under valgrind memcheck, written by run-tests.sh --valgrind.
	exec valgrind --quiet --error-exitcode=99 --leak-check=full \\
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \\
	    --log-file="$valgrind_logs/cairn.%p.log" "$CAIRN" "\$@"
	WRAPPER
	chmod 0755 "$wrapper"
	export CAIRN="$wrapper"
	export CAIRN_VALGRIND=1
fi
for script in "$top"/tests/integration/*.sh; do
	name=$(basename "$script" .sh)
	[ "$name" = lib ] && continue
	if [ -n "${CAIRN_TESTS:-}" ] && ! [[ " $CAIRN_TESTS " == *" $name "* ]]; then
		continue
	fi
	log="$log_dir/$name.log"
	start=$SECONDS
	timeout 1800 bash "$script" >"$log" 2>&1
	count_tap "$name" "$log" $? $((SECONDS - start))
done

if [ "$valgrind" -eq 1 ]; then
	# A run whose exit status no script looked at still counts.
	runs=$(find "$valgrind_logs" -name 'cairn.*.log' | wc -l)
	reported=$(grep -l -E '^==[0-9]+== +[A-Za-z]' "$valgrind_logs"/cairn.*.log 2>/dev/null)
	if [ -z "$reported" ]; then
		echo "  valgrind: $runs cairn runs, no error, no definite leak" >&2
		passed=$((passed + 1))
	else
		echo "  valgrind: $(echo "$reported" | wc -l) of $runs cairn runs reported (logs: $valgrind_logs)" >&2
		echo "$reported" | head -n 5 | sed 's/^/    /' >&2
		failed=$((failed + 1))
	fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
