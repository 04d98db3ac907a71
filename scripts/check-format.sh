#!/usr/bin/env bash
# Reports the C files of the tree that do not follow .clang-format: one
# line per file with how many of its lines clang-format would change,
# then a total. Exits 0 when every file follows it, 1 otherwise, 2 when
# clang-format is missing. Changes nothing (run clang-format -i on a file
# to format it).
#
#   scripts/check-format.sh            every tracked *.c and *.h
#   scripts/check-format.sh FILE...    only those
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
if ! command -v clang-format >/dev/null; then
	echo "check-format: clang-format not found (apt-get install clang-format)" >&2
	exit 2
fi
if [ $# -gt 0 ]; then
	files=("$@")
elif [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find core lib include plugins tests -name '*.[ch]' | sort)
fi
bad=0
lines=0
for file in "${files[@]}"; do
	n=$(clang-format --style=file "$file" | diff -- "$file" - | grep -c '^<')
	if [ "$n" -gt 0 ]; then
		echo "$file: $n lines differ from .clang-format"
		bad=$((bad + 1))
		lines=$((lines + n))
	fi
done
echo "check-format: ${#files[@]} files, $bad not formatted ($lines lines)"
[ "$bad" -eq 0 ]
