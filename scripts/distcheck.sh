#!/usr/bin/env bash
# make distcheck in a build tree of its own (build/distcheck), then a
# check that the tarball holds every file git tracks but those listed
# below as not shipped: automake only ships what the make graph names, so
# a test script or fixture someone adds and forgets in EXTRA_DIST would
# otherwise go missing from the release without a word.
#
#   scripts/distcheck.sh        exits 0 when both pass
#
# Prints one line per problem and, last, "distcheck: ok" or
# "distcheck: FAILED".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
dir="$top/build/distcheck"

# Tracked files that are not part of a release, each with its reason.
not_shipped() {
	case $1 in
	.gitignore) ;;  # git's own
	.ci/*) ;;       # this CI, run from a checkout
	bench/*) ;;     # benchmarks, run by hand from a checkout
	m4/.keep | config/.keep) ;; # keep empty folders in git
	debian/*) ;;    # the Debian packaging builds from the checkout
	*) return 1 ;;
	esac
}

fail() {
	echo "distcheck: FAILED"
	exit 1
}

cd "$top" || fail
if ! { [ -x configure ] && [ configure -nt configure.ac ] &&
	[ configure -nt Makefile.am ]; }; then
	autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed" >&2; fail; }
fi
rm -rf "$dir"
mkdir -p "$dir" || fail
cd "$dir" || fail
if ! "$top/configure" >configure.log 2>&1; then
	tail -n 20 configure.log >&2
	fail
fi
# The tarball's own build and tests with warnings as errors, as CI's.
if ! make -j"$(nproc)" distcheck \
	DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.log 2>&1; then
	grep -E 'error|Error|FAIL' distcheck.log | head -n 20 >&2
	echo "(log: $dir/distcheck.log)" >&2
	fail
fi
tarball=$(ls -t ./*.tar.gz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "no tarball in $dir" >&2; fail; }
prefix=$(basename "$tarball" .tar.gz)
tar -tzf "$tarball" | sed "s|^$prefix/||" | sort >shipped.txt
missing=0
while IFS= read -r file; do
	not_shipped "$file" && continue
	if ! grep -qxF -- "$file" shipped.txt; then
		echo "not in $prefix.tar.gz: $file (add it to EXTRA_DIST)"
		missing=$((missing + 1))
	fi
done < <(git -C "$top" ls-files)
[ "$missing" -eq 0 ] || fail
echo "distcheck: ok ($(wc -l <shipped.txt) files in $prefix.tar.gz)"
