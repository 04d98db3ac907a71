#!/bin/bash
# cairn at scale, with the volume plugin:
#
# - a tree of many small files (100,000; 1,000,000 with CAIRN_LONG=1):
#   backup, verify, restore, and the copy compared file by file; the peak
#   RSS of the backup must not grow with the number of files beyond a
#   bound (see below) when the tree grows tenfold;
# - one sparse file of 20 GiB apparent size (4 GiB under AddressSanitizer)
#   holding 4 MiB of data in four places: backed up into a small archive,
#   restored with the same size and data, and still sparse;
# - a catalogue of 10,000 archives: list, list --json, show and prune
#   --dry-run;
# - two cairn processes on one repository: two backups started together
#   (one exits 75 naming the holder, or both succeed with --wait), a list
#   during a backup, a prune during a backup; the catalogue then holds
#   every archive and verify passes.
#
# Seconds and peak RSS are printed as TAP comments; nothing asserts a
# time. Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh); CAIRN_LONG=1
# for the full sizes.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

setup_scratch scale
script_start=$EPOCHREALTIME
if [ "${CAIRN_LONG:-0}" = 1 ]; then
	small=100000
	large=1000000
else
	small=10000
	large=100000
fi
# Under AddressSanitizer memory figures mean little (its quarantine holds
# on to freed memory) and every byte costs more: the sparse file is then
# 4 GiB, still past every 32-bit offset, unless CAIRN_LONG=1.
sanitized=0
ldd "$CAIRN" 2>/dev/null | grep -q libasan && sanitized=1
sparse_gib=20
[ "$sanitized" = 1 ] && [ "${CAIRN_LONG:-0}" != 1 ] && sparse_gib=4

# timed NAME CONF ARGS...: runs cairn -c CONF ARGS with stdout and stderr
# in $SCRATCH/NAME.{out,err}; sets SECONDS_TAKEN and PEAK_KIB (peak RSS).
timed() {
	local name=$1 conf=$2 status
	shift 2
	/usr/bin/time -f '%e %M' -o "$SCRATCH/$name.time" \
		"$CAIRN" -c "$conf" --no-progress "$@" \
		>"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"
	status=$?
	read -r SECONDS_TAKEN PEAK_KIB <"$SCRATCH/$name.time" ||
		{ SECONDS_TAKEN=?; PEAK_KIB=0; }
	return "$status"
}

# make_tree DIR COUNT: COUNT small files (20 to 200 bytes) in
# directories of 1,000.
make_tree() {
	python3 - "$1" "$2" <<'EOF'
import os, sys
top, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    d = os.path.join(top, 'd%04d' % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d)
    with open(os.path.join(d, 'f%07d' % i), 'w') as f:
        f.write(('file %d ' % i) * (2 + i % 20))
EOF
}

conf=$SCRATCH/cairn.conf
cat >"$conf" <<EOF
[repository]
path = $SCRATCH/repo

[small]
plugin = volume
paths = $SCRATCH/tree-small

[large]
plugin = volume
paths = $SCRATCH/tree-large

[sparse]
plugin = volume
paths = $SCRATCH/sparse
EOF
chmod 600 "$conf"
cairn() { "$CAIRN" -c "$conf" --no-progress "$@"; }

# --- many small files ----------------------------------------------------

make_tree "$SCRATCH/tree-small" "$small" && make_tree "$SCRATCH/tree-large" "$large" ||
	not_ok "create the trees"
if timed backup-small "$conf" backup small; then
	small_kib=$PEAK_KIB
	ok "backup of $small files"
	echo "# backup of $small files: $SECONDS_TAKEN s, peak RSS $((PEAK_KIB / 1024)) MiB"
else
	not_ok "backup of $small files"
	sed 's/^/# /' "$SCRATCH/backup-small.err" | tail -n 5
fi
if timed backup-large "$conf" backup large; then
	large_kib=$PEAK_KIB
	ok "backup of $large files"
	echo "# backup of $large files: $SECONDS_TAKEN s, peak RSS $((PEAK_KIB / 1024)) MiB"
else
	not_ok "backup of $large files"
	sed 's/^/# /' "$SCRATCH/backup-large.err" | tail -n 5
fi
# The archive's index and the hard-link table keep a little per file, so
# memory may grow somewhat with the number of files; what must not happen
# is growth in proportion to it. Ten times the files may cost at most
# twice the peak plus 20 MiB: about 200 bytes per file between the two
# trees, well above the index's share and far below what holding every
# path or every file's metadata would take.
limit_kib=$((2 * ${small_kib:-0} + 20 * 1024))
if [ "$sanitized" = 1 ]; then
	ok "# SKIP peak RSS bound under AddressSanitizer ($((${large_kib:-0} / 1024)) MiB for $large files, $((${small_kib:-0} / 1024)) MiB for $small)"
elif [ -n "${small_kib:-}" ] && [ -n "${large_kib:-}" ] && [ "$large_kib" -le "$limit_kib" ]; then
	ok "peak RSS of the backup: $((large_kib / 1024)) MiB for $large files, $((small_kib / 1024)) MiB for $small (bound $((limit_kib / 1024)) MiB)"
else
	not_ok "peak RSS of the backup: ${large_kib:-?} KiB for $large files, over the bound of $limit_kib KiB (2 x ${small_kib:-?} KiB + 20 MiB)"
fi
stored=$(cairn --json list --job large | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stored"])')
echo "# archive of $large files: $stored bytes stored"
if timed verify-large "$conf" verify large:latest; then
	ok "verify of the archive of $large files"
	echo "# verify of $large files: $SECONDS_TAKEN s, peak RSS $((PEAK_KIB / 1024)) MiB"
else
	not_ok "verify of the archive of $large files"
fi
if timed restore-large "$conf" restore large:latest --to "$SCRATCH/restored-large"; then
	ok "restore of $large files"
	echo "# restore of $large files: $SECONDS_TAKEN s, peak RSS $((PEAK_KIB / 1024)) MiB"
else
	not_ok "restore of $large files"
	sed 's/^/# /' "$SCRATCH/restore-large.err" | tail -n 5
fi
# The restore recreates each path under the target.
copy=$SCRATCH/restored-large$SCRATCH/tree-large
start=$EPOCHREALTIME
if python3 "$here/treecmp.py" "$SCRATCH/tree-large" "$copy" >"$SCRATCH/treecmp.out" 2>&1; then
	ok "the restored tree is the same, file by file ($(tail -n 1 "$SCRATCH/treecmp.out"))"
else
	not_ok "the restored tree differs"
	head -n 10 "$SCRATCH/treecmp.out" | sed 's/^/# /'
fi
echo "# treecmp of $large files: $(python3 -c "print('%.1f' % ($EPOCHREALTIME - $start))") s"
rm -rf "$SCRATCH/restored-large" "$SCRATCH/tree-small"

# --- one sparse file of 20 GiB (4 GiB under AddressSanitizer) --------------

mkdir -p "$SCRATCH/sparse"
sparse=$SCRATCH/sparse/disk.img
gib=$((1024 * 1024 * 1024))
offsets="0 $((sparse_gib * gib / 3 + 12345)) $((sparse_gib * gib * 2 / 3)) $((sparse_gib * gib - 1024 * 1024))"
truncate -s "${sparse_gib}G" "$sparse"
for offset in $offsets; do
	head -c 1048576 /dev/urandom |
		dd of="$sparse" bs=1M seek="$offset" oflag=seek_bytes conv=notrunc status=none
done
# region_sums FILE: the SHA-256 of each 1 MiB data region.
region_sums() {
	local offset
	for offset in $offsets; do
		dd if="$1" bs=1M skip="$offset" iflag=skip_bytes count=1 status=none | sha256sum
	done
}
region_sums "$sparse" >"$SCRATCH/regions.want"
echo "# sparse file: $(stat -c %s "$sparse") bytes apparent, $(du -k "$sparse" | cut -f1) KiB allocated"
if timed backup-sparse "$conf" backup sparse; then
	ok "backup of a $sparse_gib GiB sparse file"
	echo "# backup of the sparse file: $SECONDS_TAKEN s, peak RSS $((PEAK_KIB / 1024)) MiB"
else
	not_ok "backup of a $sparse_gib GiB sparse file"
	sed 's/^/# /' "$SCRATCH/backup-sparse.err" | tail -n 5
fi
archive=$(find "$SCRATCH/repo/archives/sparse" -name '*.tar.zst' | head -n 1)
archive_kib=$(( $(stat -c %s "$archive" 2>/dev/null || echo 0) / 1024 ))
[ -n "$archive" ] && [ "$archive_kib" -lt 16384 ] &&
	ok "the archive stays small: $archive_kib KiB for 4 MiB of data" ||
	not_ok "the archive stays small: $archive_kib KiB for 4 MiB of data"
if timed restore-sparse "$conf" restore sparse:latest --to "$SCRATCH/restored-sparse"; then
	ok "restore of the sparse file"
	echo "# restore of the sparse file: $SECONDS_TAKEN s, peak RSS $((PEAK_KIB / 1024)) MiB"
else
	not_ok "restore of the sparse file"
	sed 's/^/# /' "$SCRATCH/restore-sparse.err" | tail -n 5
fi
restored=$SCRATCH/restored-sparse$sparse
[ "$(stat -c %s "$restored" 2>/dev/null)" = "$(stat -c %s "$sparse")" ] &&
	ok "the restored file has the same apparent size" ||
	not_ok "the restored file has the same apparent size ($(stat -c %s "$restored" 2>&1))"
region_sums "$restored" >"$SCRATCH/regions.got" 2>/dev/null
cmp -s "$SCRATCH/regions.want" "$SCRATCH/regions.got" &&
	ok "the four data regions are the same (SHA-256 of each)" ||
	not_ok "the data regions differ"
# Holes read as zeros: between the regions, a few samples.
zeros=$(head -c 1048576 /dev/zero | sha256sum)
holes_ok=1
for offset in $((gib / 2)) $((sparse_gib * gib / 2)) $((sparse_gib * gib - gib / 2)); do
	[ "$(dd if="$restored" bs=1M skip="$offset" iflag=skip_bytes count=1 status=none | sha256sum)" = "$zeros" ] ||
		holes_ok=0
done
[ "$holes_ok" = 1 ] && ok "the holes read as zeros" || not_ok "the holes read as zeros"
allocated=$(du -k "$restored" 2>/dev/null | cut -f1)
[ -n "$allocated" ] && [ "$allocated" -lt 65536 ] &&
	ok "the restored file is still sparse: $allocated KiB allocated" ||
	not_ok "the restored file is still sparse: ${allocated:-?} KiB allocated"
# The restore checked every entry's SHA-256 already; a verify (which
# hashes the 20 GiB again) only in the long run.
if [ "${CAIRN_LONG:-0}" = 1 ]; then
	if timed verify-sparse "$conf" verify sparse:latest; then
		ok "verify of the sparse archive"
		echo "# verify of the sparse file: $SECONDS_TAKEN s"
	else
		not_ok "verify of the sparse archive"
	fi
fi
rm -rf "$SCRATCH/restored-sparse"

# --- a catalogue of 10,000 archives ------------------------------------------

generator=$here/../../bench/gen_archives.py
catalog_conf=$SCRATCH/catalog.conf
mkdir -p "$SCRATCH/tiny"
printf 'a small file\n' >"$SCRATCH/tiny/a"
template_conf=$SCRATCH/template.conf
cat >"$template_conf" <<EOF
[repository]
path = $SCRATCH/template-repo

[tiny]
plugin = volume
paths = $SCRATCH/tiny
EOF
cat >"$catalog_conf" <<EOF
[repository]
path = $SCRATCH/catalog-repo

[tiny]
plugin = volume
paths = $SCRATCH/tiny
EOF
chmod 600 "$catalog_conf" "$template_conf"
cairn10k() { "$CAIRN" -c "$catalog_conf" --no-progress "$@"; }
if [ ! -f "$generator" ]; then
	ok "# SKIP a catalogue of 10,000 archives: $generator not found"
else
	"$CAIRN" -c "$template_conf" backup tiny >/dev/null 2>&1
	template=$(find "$SCRATCH/template-repo" -name '*.tar.zst')
	start=$EPOCHREALTIME
	# One archive every 6 hours: about 7 years of a busy schedule.
	python3 "$generator" "$template" "$SCRATCH/catalog-repo" tiny 10000 \
		--every 21600 >/dev/null && cairn10k catalog rebuild >/dev/null 2>&1 &&
		ok "10,000 archives written and catalogued" ||
		not_ok "10,000 archives written and catalogued"
	echo "# 10,000 archives and catalog rebuild: $(python3 -c "print('%.1f' % ($EPOCHREALTIME - $start))") s"
	timed list "$catalog_conf" list && [ "$(grep -c tiny "$SCRATCH/list.out")" -eq 10000 ] &&
		ok "list shows 10,000 rows ($SECONDS_TAKEN s)" ||
		not_ok "list shows 10,000 rows"
	timed list-json "$catalog_conf" --json list &&
		count=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$SCRATCH/list-json.out") &&
		[ "$count" -eq 10000 ] &&
		ok "list --json holds 10,000 objects ($SECONDS_TAKEN s)" ||
		not_ok "list --json holds 10,000 objects (${count:-?})"
	middle=$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print(a[len(a)//2]["id"])' "$SCRATCH/list-json.out")
	timed show "$catalog_conf" show "$middle" && grep -q "$middle" "$SCRATCH/show.out" &&
		ok "show of an archive in the middle ($SECONDS_TAKEN s)" ||
		not_ok "show of an archive in the middle"
	timed prune "$catalog_conf" prune --dry-run && [ -s "$SCRATCH/prune.out" ] &&
		ok "prune --dry-run plans over 10,000 archives ($SECONDS_TAKEN s)" ||
		not_ok "prune --dry-run plans over 10,000 archives"
	echo "# prune plan: $(awk '{print $1}' "$SCRATCH/prune.out" | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')"
	echo "# seconds: list $(cut -d' ' -f1 "$SCRATCH/list.time"), list --json $(cut -d' ' -f1 "$SCRATCH/list-json.time"), show $(cut -d' ' -f1 "$SCRATCH/show.time"), prune --dry-run $(cut -d' ' -f1 "$SCRATCH/prune.time")"
	rm -rf "$SCRATCH/catalog-repo"
fi

# --- two cairn processes on one repository -----------------------------------

mkdir -p "$SCRATCH/a" "$SCRATCH/b"
printf 'a\n' >"$SCRATCH/a/file"
printf 'b\n' >"$SCRATCH/b/file"
lock_conf=$SCRATCH/lock.conf
cat >"$lock_conf" <<EOF
[repository]
path = $SCRATCH/lock-repo

[retention]
keep-last = 1

[slow]
plugin = volume
paths = $SCRATCH/a
before = sleep 3

[quick]
plugin = volume
paths = $SCRATCH/b
EOF
chmod 600 "$lock_conf"
lcairn() { "$CAIRN" -c "$lock_conf" --no-progress "$@"; }
ids() { # ids [JOB]: the catalogue's ids, one per line
	lcairn --json list ${1:+--job "$1"} |
		python3 -c 'import json,sys; print("\n".join(a["id"] for a in json.load(sys.stdin)))'
}

# Two backups started together: the second finds the lock taken.
"$CAIRN" -c "$lock_conf" backup slow >"$SCRATCH/c1.out" 2>"$SCRATCH/c1.err" &
first=$!
sleep 1
expect_exit 75 "a second backup while one runs exits 75" lcairn backup quick
expect_stderr "locked by another cairn \(pid $first on [^ ]+ since [0-9]{4}-[0-9]{2}-[0-9]{2}T" \
	"it names the holder: pid, host and start time"
wait "$first" && ok "the first backup succeeds" || not_ok "the first backup succeeds"

# With --wait, both succeed.
lcairn backup slow --wait 30 >"$SCRATCH/c2.out" 2>"$SCRATCH/c2.err" &
first=$!
lcairn backup quick --wait 30 >"$SCRATCH/c3.out" 2>"$SCRATCH/c3.err" &
second=$!
wait "$first" && status1=0 || status1=$?
wait "$second" && status2=0 || status2=$?
[ "$status1" = 0 ] && [ "$status2" = 0 ] &&
	ok "two backups started together with --wait both succeed" ||
	{ not_ok "two backups started together with --wait both succeed ($status1, $status2)"; sed 's/^/# /' "$SCRATCH/c2.err" "$SCRATCH/c3.err"; }
[ "$(ids | wc -l)" -eq 3 ] && ok "the catalogue lists the 3 archives" ||
	not_ok "the catalogue lists the 3 archives ($(ids | wc -l))"

# A list while a backup runs: it needs no lock, and shows no partial.
lcairn backup slow >"$SCRATCH/c4.out" 2>"$SCRATCH/c4.err" &
first=$!
sleep 1
expect "list while a backup runs" lcairn --json list
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$SCRATCH/last.out")" -eq 3 ] &&
	ok "it lists the 3 committed archives, not the one in progress" ||
	not_ok "it lists the 3 committed archives, not the one in progress"
expect_exit 75 "a prune while a backup runs exits 75" lcairn prune
wait "$first" && ok "the backup succeeds" || not_ok "the backup succeeds"

# A prune that waits for a backup plans with that backup's archive: with
# keep-last 1 it keeps the new archive and removes the older ones.
before_slow=$(ids slow)
lcairn backup slow >"$SCRATCH/c5.out" 2>"$SCRATCH/c5.err" &
first=$!
sleep 1
expect "a prune --wait during a backup" lcairn prune --wait 30
wait "$first" && ok "the backup succeeds" || not_ok "the backup succeeds"
newest=$(ids slow | grep -vxF -f <(echo "$before_slow"))
remaining=$(ids slow)
[ -n "$newest" ] && [ "$remaining" = "$newest" ] &&
	ok "the prune kept the archive the backup committed while it waited, and only it" ||
	not_ok "the prune kept '$(echo $remaining)', wanted the new '$newest'"
grep -q "\"$newest\"" "$SCRATCH/lock-repo/catalog" &&
	ok "the catalogue file itself holds that archive" ||
	not_ok "the catalogue file lost the archive committed during the prune's wait"
expect "verify passes" lcairn verify
[ -z "$(find "$SCRATCH/lock-repo" -name '*.partial')" ] &&
	ok "no partial file is left" || not_ok "a partial file is left"

echo "# scale.sh: $(python3 -c "print('%.0f' % ($EPOCHREALTIME - $script_start))") s in all"
finish
