#!/usr/bin/env bash
# Static analysis of the C of core/, lib/, include/ and plugins/ (not of
# the tests): clang-tidy with the checks of .clang-tidy, and cppcheck.
# The compile commands come from a build of its own in build/lint, made
# under bear so that each file is analysed with its real flags (a plugin
# with its include path, the core with its own).
#
#   scripts/lint.sh     prints each finding, then one line
#                       "lint: N findings (clang-tidy T, cppcheck C)";
#                       exits 0 only when there is none
#
# A finding that is known and judged is listed, with its reason, in
# scripts/lint-suppressions.txt (file, check, reason); a finding in code
# that can say why by itself carries a NOLINT(check) comment with the
# reason, or cppcheck's inline suppression.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
dir="$top/build/lint"
suppressions="$top/scripts/lint-suppressions.txt"
jobs=$(nproc)

for tool in clang-tidy run-clang-tidy cppcheck bear; do
	if ! command -v "$tool" >/dev/null; then
		echo "lint: $tool not found (apt-get install clang-tidy cppcheck bear)" >&2
		echo "lint: 1 findings (missing tools)"
		exit 1
	fi
done

cd "$top" || exit 1
if ! { [ -x configure ] && [ configure -nt configure.ac ] &&
	[ configure -nt Makefile.am ]; }; then
	autoreconf -fi >/dev/null 2>&1 || { echo "lint: autoreconf failed"; exit 1; }
fi
mkdir -p "$dir"
cd "$dir" || exit 1
# No optimisation: the build only has to run for bear to see each compile.
if ! "$top/configure" CFLAGS="-O0" >configure.log 2>&1 ||
	! make clean >/dev/null 2>&1 ||
	! bear --output compile_commands.json -- make -j"$jobs" >make.log 2>&1; then
	tail -n 20 configure.log make.log >&2
	echo "lint: 1 findings (the lint build failed, see $dir)"
	exit 1
fi

# path:line:col: warning|error: message [checks] -> relative path.
tidy_raw="$dir/clang-tidy.txt"
run-clang-tidy -p "$dir" -j "$jobs" -quiet "$top/(core|lib|plugins)/" \
	>"$tidy_raw" 2>&1
sed -e 's/\x1b\[[0-9;]*m//g' "$tidy_raw" |
	grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' |
	sed -e "s|^$dir/\.\./\.\./||" -e "s|^$top/||" -e 's|^\(\.\./\)*||' |
	sed -e 's/,-warnings-as-errors\]$/]/' | sort -u >"$dir/tidy.txt"

cppcheck --project="$dir/compile_commands.json" -j "$jobs" --quiet \
	--enable=warning,portability,performance --inline-suppr \
	--suppress=missingIncludeSystem --suppress=missingInclude \
	--suppress=unmatchedSuppression \
	--file-filter="$top/core/*" --file-filter="$top/lib/*" \
	--file-filter="$top/plugins/*" \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	2>"$dir/cppcheck-raw.txt" >/dev/null
sed -e "s|^$top/||" "$dir/cppcheck-raw.txt" |
	grep -E '^[^ ]+:[0-9]+:[0-9]+: ' | sort -u >"$dir/cppcheck.txt"

# suppressed FILE CHECKS: whether the suppressions file covers the pair
# (checks as clang-tidy lists them, e.g. "bugprone-x,cert-y").
suppressed() {
	local file=$1 checks=$2 s_file s_check reason check
	while read -r s_file s_check reason; do
		case $s_file in '#'* | '') continue ;; esac
		[ "$s_file" = "$file" ] || continue
		for check in ${checks//,/ }; do
			[ "$check" = "$s_check" ] && return 0
		done
	done <"$suppressions"
	return 1
}

count() {
	local out=$1 n=0 line file checks
	while IFS= read -r line; do
		file=${line%%:*}
		checks=${line##*[}
		checks=${checks%]}
		if suppressed "$file" "$checks"; then
			continue
		fi
		echo "$line" >&2
		n=$((n + 1))
	done <"$out"
	echo "$n"
}

tidy_findings=$(count "$dir/tidy.txt")
cppcheck_findings=$(count "$dir/cppcheck.txt")
total=$((tidy_findings + cppcheck_findings))
echo "lint: $total findings (clang-tidy $tidy_findings, cppcheck $cppcheck_findings)"
[ "$total" -eq 0 ]
