#!/bin/bash
# Hostile input: archives crafted by craft_archive.py (correct checksums,
# index and manifest, so only what their entries would do is wrong),
# names that are legal but awkward, an archive of very many entries, and
# broken configuration files.
#
# For every hostile archive, restore into a target must write nothing
# outside it (a listing of the parent directory is compared before and
# after), and either succeed or fail with a message naming the entry and
# a documented exit code. core.sh covers '..', absolute names, symlinks
# and hard links out of the target; this script adds absolute hard
# links, symlink loops, fifos and device nodes, lying sizes, names of
# 4097 bytes and 64 KiB, newlines and invalid UTF-8 in names, and
# 50,000 entries (2 million with CAIRN_LONG=1), whose restore's peak RSS
# is printed. Every crafted archive is restored twice: through the
# openat2 extraction, and through archive_write_disk, the fallback for
# kernels without openat2 (CAIRN_TEST_NO_OPENAT2=1).
#
# Configuration files must exit 78 with the file, the line and the key
# where there is one.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh); CAIRN_WRAPPER, a
# command put in front of cairn; CAIRN_LONG=1 for the long run.

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

setup_scratch hostile

REPO=$SCRATCH/repo
CONF=$SCRATCH/cairn.conf
OUTSIDE=$SCRATCH/outside
mkdir -p "$OUTSIDE" || exit 1

cairn() { run_cairn -c "$CONF" "$@"; }

cat >"$CONF" <<EOF
[repository]
path = $REPO

[names]
plugin = volume
paths = $SCRATCH/names
EOF
chmod 0600 "$CONF"

craft() { python3 "$here/craft_archive.py" "$REPO" crafted "$1" "$OUTSIDE" ${2:+"$2"}; }

# A listing of the scratch directory with the targets, the repository and
# the last command's output left out: what must not change.
snapshot() {
	(cd "$SCRATCH" && find . \( -path ./repo -o -path './target-*' -o \
		-name 'last.*' -o -name 'time.*' -o -name cmp.out \) -prune -o \
		-printf '%p %y %s %m %l\n' | sort)
}

# expect_refused_or_ok KIND: the last restore exited 0, or 1 or 65 with
# the entry named (the pattern in $2).
expect_documented() {
	local kind=$1 status=$2 pattern=$3
	case $status in
	0) ok "$kind: restore exits 0" ;;
	1 | 65)
		ok "$kind: restore exits $status"
		expect_stderr "$pattern" "$kind: the message names the entry"
		;;
	*)
		not_ok "$kind: restore exits $status"
		sed 's/^/# /' "$SCRATCH/last.err" | tail -n 20
		;;
	esac
}

# hostile KIND PATTERN [refused]: crafts an archive of KIND, restores it
# with each writer, checks that nothing escaped; with "refused", the
# restore must fail.
hostile() {
	local kind=$1 pattern=$2 must_fail=${3:-} id via
	id=$(craft "$kind") || { not_ok "$kind: cannot craft"; return; }
	for via in openat2 libarchive; do
		restore_hostile "$kind ($via)" "$id" "$pattern" "$must_fail" "$via"
	done
}

restore_hostile() {
	local kind=$1 id=$2 pattern=$3 must_fail=$4 via=$5 before after status
	local off=0 target=$SCRATCH/target-$via
	[ "$via" = libarchive ] && off=1
	before=$(snapshot)
	CAIRN_TEST_NO_OPENAT2=$off cairn restore "$id" --to "$target" \
		>"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
	status=$?
	after=$(snapshot)
	if [ "$must_fail" = refused ] && [ "$status" -eq 0 ]; then
		not_ok "$kind: restore succeeded"
		sed 's/^/# /' "$SCRATCH/last.err" | tail -n 5
	else
		expect_documented "$kind" "$status" "$pattern"
	fi
	if [ "$status" -ne 0 ] && grep -q "archive '$id' restored" "$SCRATCH/last.err"; then
		not_ok "$kind: a failed restore claims success"
	fi
	if [ "$before" = "$after" ] && [ -z "$(ls -A "$OUTSIDE")" ]; then
		ok "$kind: nothing written outside the target"
	else
		not_ok "$kind: something was written outside the target"
		diff <(echo "$before") <(echo "$after") | head -n 5 | sed 's/^/# /'
		ls -lA "$OUTSIDE" | sed 's/^/# /'
	fi
	rm -rf "$target"
}

# ---- hostile archives --------------------------------------------------
hostile dotdot "'\.\./escape'" refused
hostile absolute "'$OUTSIDE/absolute'" refused
hostile symlink "evil" refused
hostile hardlink "'hl'" refused
hostile hardlink-absolute "'hl'" refused
hostile mismatch "escape|innocent" refused
hostile symlink-loop "loop-a" refused
hostile hardlink-symlink "'hl'" refused
hostile dotdot-inner "'docs/\.\./\.\./escape'" refused
# A symlink where a later entry of the same name goes is replaced, never
# written through.
hostile symlink-file "'evil'"
hostile symlink-dir "'evil'"
hostile huge-size "'huge'" refused
hostile negative-size "'negative'" refused
hostile nan-size "'nan'" refused
# Long names are legal: libarchive walks down to them a component at a
# time. They restore or fail, inside the target either way.
hostile long-name "dddddddddddddddd"
hostile name-4097 "nnnnnnnnnnnnnnnn"

# A fifo restores for anyone; device nodes only as root (mknod), and a
# restore that cannot make one fails naming it.
hostile fifo "'pipe'"
if [ "$(id -u)" -eq 0 ]; then
	id=$(craft devices)
	expect "devices: restore as root" cairn restore "$id" --to "$SCRATCH/target-devices"
	[ -c "$SCRATCH/target-devices/null" ] && [ -b "$SCRATCH/target-devices/loop0" ] &&
		ok "devices: the nodes are restored as root" ||
		not_ok "devices: the nodes are missing"
	rm -rf "$SCRATCH/target-devices"
fi

# ---- awkward but legal names: a newline, invalid UTF-8 -------------------
mkdir -p "$SCRATCH/names"
python3 - "$SCRATCH/names" <<'EOF'
import os, sys
root = os.fsencode(sys.argv[1])
for name in (b"new\nline", b"latin1-\xe9t\xe9", b"\xff\xfe", b"tab\there"):
    with open(os.path.join(root, name), "wb") as f:
        f.write(name + b"\n")
EOF
expect "awkward names: backup" cairn backup names
before=$(snapshot)
expect "awkward names: restore" cairn restore names:latest --to "$SCRATCH/target-names"
python3 "$here/treecmp.py" --no-blocks "$SCRATCH/names" "$SCRATCH/target-names$SCRATCH/names" \
	>"$SCRATCH/cmp.out" 2>&1 && ok "awkward names: the restored tree is identical" ||
	{ not_ok "awkward names: the restored tree differs"; sed 's/^/# /' "$SCRATCH/cmp.out" | head -n 5; }
[ "$before" = "$(snapshot)" ] && ok "awkward names: nothing written outside the target" ||
	not_ok "awkward names: something was written outside the target"
expect "awkward names: verify" cairn verify names:latest
expect "awkward names: list --json is valid JSON" cairn --json show names:latest
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$SCRATCH/last.out" &&
	ok "awkward names: show --json parses" || not_ok "awkward names: show --json is not JSON"
rm -rf "$SCRATCH/target-names"

# ---- very many entries ---------------------------------------------------
if [ "${CAIRN_LONG:-0}" = 1 ]; then many=2000000; else many=50000; fi
start=$(date +%s.%N)
id=$(craft many "$many")
crafted=$(date +%s.%N)
before=$(snapshot)
/usr/bin/time -v -o "$SCRATCH/time.restore" "$CAIRN" -c "$CONF" restore "$id" \
	--to "$SCRATCH/target-many" >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
status=$?
restored=$(date +%s.%N)
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$SCRATCH/time.restore")
files=$(find "$SCRATCH/target-many" -type f | wc -l)
echo "# $many empty files: crafted in $(echo "$crafted - $start" | bc) s," \
	"restored in $(echo "$restored - $crafted" | bc) s, $files files, peak RSS $rss KiB"
if [ "$status" -eq 0 ] && [ "$files" -eq "$many" ]; then
	ok "many: $many entries restored"
elif [ "$status" -eq 1 ] || [ "$status" -eq 65 ]; then
	ok "many: the restore failed cleanly (exit $status)"
else
	not_ok "many: restore exits $status with $files files"
	sed 's/^/# /' "$SCRATCH/last.err" | tail -n 5
fi
# Bounded: a restore holds one entry at a time, whatever their number.
# AddressSanitizer's quarantine alone keeps up to 256 MiB of freed memory
# resident, so the bound means nothing there.
if ldd "$CAIRN" 2>/dev/null | grep -q libasan; then
	ok "# SKIP peak RSS bound under AddressSanitizer ($((${rss:-0} / 1024)) MiB)"
elif [ -n "$rss" ] && [ "$rss" -lt 262144 ]; then
	ok "many: peak RSS under 256 MiB"
else
	not_ok "many: peak RSS $rss KiB"
fi
[ "$before" = "$(snapshot)" ] && ok "many: nothing written outside the target" ||
	not_ok "many: something was written outside the target"
/usr/bin/time -v -o "$SCRATCH/time.verify" "$CAIRN" -c "$CONF" verify "$id" \
	>"$SCRATCH/last.out" 2>"$SCRATCH/last.err" &&
	ok "many: verify" || not_ok "many: verify exits $?"
echo "# verify of $many entries: peak RSS $(awk -F': ' '/Maximum resident/ {print $2}' "$SCRATCH/time.verify") KiB"
rm -rf "$SCRATCH/target-many"

# ---- configuration files ----------------------------------------------
# bad_config NAME PATTERN: the configuration in $SCRATCH/bad.conf (or
# given as the third argument) exits 78 with a message matching PATTERN.
bad_config() {
	local name=$1 pattern=$2 file=${3:-$SCRATCH/bad.conf}
	expect_exit 78 "configuration with $name exits 78" run_cairn -c "$file" backup
	expect_stderr "$pattern" "configuration with $name: the message names it"
}
good="[repository]\npath = $REPO\n"
conf() { printf "$good$1" >"$SCRATCH/bad.conf"; chmod 0600 "$SCRATCH/bad.conf"; }

head -c 4096 /dev/urandom | tr -d '\0' >"$SCRATCH/bad.conf"
bad_config "binary junk" "bad\.conf:[0-9]+"
conf "[vol\nplugin = volume\n"
bad_config "a missing ]" "bad\.conf:3: .*\]"
conf "[vol]\nplugin = volume\npaths = /srv\n[vol]\nplugin = volume\n"
bad_config "a duplicate section" "bad\.conf:6: \[vol\].*twice"
conf "[vol]\nplugin = volume\npaths = /srv\npaths = /srv\n"
bad_config "a duplicate key" "bad\.conf:6: \[vol\] paths.*twice"
conf "[vol]\nplugin = volume\npaths = /srv\nfrobnicate = 1\n"
bad_config "an unknown key" "bad\.conf:6: \[vol\] frobnicate"
conf "level = 99\n"
bad_config "level 99" "bad\.conf:3: \[repository\] level"
conf "threads = -1\n"
bad_config "threads -1" "bad\.conf:3: \[repository\] threads"
conf "[vol]\nplugin = volume\npaths = /srv\nmax-age = abc\n"
bad_config "max-age abc" "bad\.conf:6: \[vol\] max-age"
conf "[vol]\nplugin = volume\npaths = /srv $(head -c 1048576 /dev/zero | tr '\0' x)\n"
bad_config "a 1 MiB line" "bad\.conf:5"
mkdir -p "$SCRATCH/dir.conf"
bad_config "a directory" "dir\.conf" "$SCRATCH/dir.conf"
if [ "$(id -u)" -ne 0 ]; then
	conf ""
	chmod 0000 "$SCRATCH/bad.conf"
	bad_config "an unreadable file" "bad\.conf"
else
	# root reads anything: the test user cannot.
	conf ""
	chmod 0000 "$SCRATCH/bad.conf"
	as_test_user "$CAIRN" -c "$SCRATCH/bad.conf" backup >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
	status=$?
	[ "$status" -eq 78 ] && ok "configuration unreadable (as the test user) exits 78" ||
		{ not_ok "configuration unreadable exits $status"; sed 's/^/# /' "$SCRATCH/last.err"; }
	expect_stderr "bad\.conf" "configuration unreadable: the message names it"
fi
printf '[repository]\npath = %s\nlevel = 3\0junk\n' "$REPO" >"$SCRATCH/bad.conf"
bad_config "a NUL byte" "bad\.conf:3"

finish
