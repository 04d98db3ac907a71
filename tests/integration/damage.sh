#!/bin/bash
# Damaged archives and catalogues, one kind of damage at a time, each on a
# fresh copy of the same repository. core.sh checks that verify notices
# flipped bytes and a truncation; this script goes further, for every
# kind of damage:
#
#   - verify exits 65 and names the archive (and the entry, where one
#     entry is damaged), and verify --json reports it;
#   - restore of the damaged archive exits 65 or 1, never claims success,
#     and every file it leaves in the target that differs from the source
#     is named on stderr (compared with treecmp.py);
#   - restore of an intact archive of the same repository still works;
#   - list and catalog rebuild recover, naming what they cannot read;
#   - the intact archive files are byte-identical afterwards: nothing
#     already backed up is modified by verify, restore, list or rebuild.
#
# The repository holds three archives: the victim (compressed, thousands
# of entries, so the index takes two chunks and the archive five zstd
# frames), the same tree without compression (where only the manifest's
# checksums can tell), and a small archive of another job that stays
# intact throughout.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh); CAIRN_WRAPPER, a
# command put in front of cairn.

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

setup_scratch damage

SRC=$SCRATCH/src
OTHER_SRC=$SCRATCH/other-src
PRISTINE=$SCRATCH/pristine-repo
REPO=$SCRATCH/repo
CONF=$SCRATCH/cairn.conf

cairn() { run_cairn -c "$CONF" "$@"; }

# expect_failure DESCRIPTION COMMAND...: ok when the command exits 65
# (damage found) or 1 (the plugin's restore failed on the damage), as the
# SPEC allows for a restore; anything else (0, a crash, a sanitizer's
# status) is not ok.
expect_failure() {
	local description=$1 status
	shift
	"$@" >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
	status=$?
	if [ "$status" -eq 1 ] || [ "$status" -eq 65 ]; then
		ok "$description (exit $status)"
	else
		not_ok "$description (exit $status)"
		sed 's/^/# /' "$SCRATCH/last.err" | tail -n 20
	fi
}

# ---- the sources, the configuration, the pristine repository ---------------
mkdir -p "$SRC" "$OTHER_SRC" || exit 1
python3 - "$SRC" <<'EOF' || exit 1
import os, random, sys
root = sys.argv[1]
rng = random.Random(7)
# 4000 small files in 40 directories, with long names: their index
# records take more than one 1 MiB index chunk, so the index is split.
long_name = "-a-name-long-enough-to-fill-the-index" * 5
for d in range(40):
    os.makedirs(os.path.join(root, "d%02d" % d))
    for f in range(100):
        name = "f%03d%s.txt" % (f, long_name)
        with open(os.path.join(root, "d%02d" % d, name), "w") as out:
            out.write("file %d of directory %d\n" % (f, d) * (1 + f % 7))
# A few larger ones: random bytes, and text that compresses well.
with open(os.path.join(root, "random.bin"), "wb") as out:
    out.write(rng.randbytes(1 << 20))
with open(os.path.join(root, "log.txt"), "w") as out:
    for i in range(60000):
        out.write("line %d of a compressible log\n" % i)
with open(os.path.join(root, "zz-last.bin"), "wb") as out:
    out.write(rng.randbytes(256 << 10))
EOF
printf 'another job\n' >"$OTHER_SRC/note.txt"
head -c 100000 /dev/urandom >"$OTHER_SRC/blob"

cat >"$CONF" <<EOF
[repository]
path = $REPO
level = 3

[vol]
plugin = volume
paths = $SRC

[other]
plugin = volume
paths = $OTHER_SRC
EOF
cat >"$SCRATCH/plain.conf" <<EOF
[repository]
path = $REPO
compression = none

[flat]
plugin = volume
paths = $SRC
EOF
chmod 0600 "$CONF" "$SCRATCH/plain.conf"

backup_id() { # JOB [CONF]: backs JOB up, prints its id
	run_cairn -c "${2:-$CONF}" --json backup "$1" 2>"$SCRATCH/last.err" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])'
}
VICTIM=$(backup_id vol)
OTHER=$(backup_id other)
FLAT=$(backup_id flat "$SCRATCH/plain.conf")
if [ -n "$VICTIM" ] && [ -n "$OTHER" ] && [ -n "$FLAT" ]; then
	ok "three backups"
else
	not_ok "the backups failed"
	sed 's/^/# /' "$SCRATCH/last.err"
	finish
fi
mv "$REPO" "$PRISTINE"
archive_of() { ls "$1"/archives/*/*"$2".tar.zst; }
VICTIM_FILE=$(archive_of "$PRISTINE" "$VICTIM")
FLAT_FILE=$(archive_of "$PRISTINE" "$FLAT")
entries=$(find "$SRC" | wc -l)
frames=$(python3 - "$VICTIM_FILE" <<'EOF'
import sys
# Counts the zstd frames by walking their headers and block headers.
data = open(sys.argv[1], "rb").read()
pos = frames = 0
while pos < len(data):
    magic = int.from_bytes(data[pos:pos + 4], "little")
    if magic & 0xFFFFFFF0 == 0x184D2A50:          # skippable frame
        pos += 8 + int.from_bytes(data[pos + 4:pos + 8], "little")
        continue
    frames += 1
    fhd = data[pos + 4]
    single = (fhd >> 5) & 1
    pos += 5 + (0 if single else 1) + [0, 1, 2, 4][fhd & 3] + \
        [0 if not single else 1, 2, 4, 8][fhd >> 6]
    while True:
        header = int.from_bytes(data[pos:pos + 3], "little")
        size = header >> 3
        kind = (header >> 1) & 3
        pos += 3 + (1 if kind == 1 else size)
        if header & 1:
            break
    pos += 4 if (fhd >> 2) & 1 else 0
print(frames)
EOF
)
echo "# victim archive: $entries entries, $(stat -c %s "$VICTIM_FILE") bytes compressed in $frames zstd frames;" \
	"uncompressed: $(stat -c %s "$FLAT_FILE") bytes"
[ "${frames:-0}" -ge 4 ] && ok "the victim archive has several zstd frames ($frames)" ||
	not_ok "the victim archive has $frames frames"

# Where things are in an archive: the manifest frame's offset is in the
# trailer, the index chunks' in the manifest.
layout() { # FILE: prints "index_offset manifest_offset size"
	python3 - "$1" <<'EOF'
import json, struct, subprocess, sys, tarfile, io
path = sys.argv[1]
data = open(path, "rb").read()
manifest_offset = struct.unpack("<Q", data[-8:])[0]
tail = data[manifest_offset:-24]
if tail[:4] == b"\x28\xb5\x2f\xfd":
    tail = subprocess.run(["zstd", "-dc"], input=tail, stdout=subprocess.PIPE,
                          check=True).stdout
with tarfile.open(fileobj=io.BytesIO(tail)) as t:
    manifest = json.load(t.extractfile(".cairn/manifest.json"))
print(manifest["index"][-1], manifest_offset, len(data))
EOF
}
read -r v_index v_manifest v_size <<<"$(layout "$VICTIM_FILE")"
read -r f_index f_manifest f_size <<<"$(layout "$FLAT_FILE")"
echo "# victim: last index chunk at $v_index, manifest at $v_manifest, size $v_size"

# The offset of a byte of one entry's data in the uncompressed archive.
data_offset() { grep -abo "$2" "$1" | head -n 1 | cut -d: -f1; }
flat_middle=$(data_offset "$FLAT_FILE" 'line 30000 of a compressible log')
flat_header=$(data_offset "$FLAT_FILE" "${SRC#/}/d00/f000")
# In the uncompressed archive, a byte of the index's text (a checksum)
# and of the manifest's (the archive's id), past their tar headers.
flat_index_text=$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(d.find(b"\"sha256\":\"", int(sys.argv[2])) + 20)' "$FLAT_FILE" "$f_index")
flat_manifest_id=$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(d.find(b"\"id\": \"", int(sys.argv[2])) + 12)' "$FLAT_FILE" "$f_manifest")

# ---- one kind of damage ----------------------------------------------------
# restore_claims_nothing_false TARGET: every regular file restored from the
# source tree that differs from its source is named on stderr.
silent_differences() {
	local target=$1 rel
	[ -d "$target$SRC" ] || return 0
	python3 "$here/treecmp.py" --no-blocks --no-owner "$SRC" "$target$SRC" |
		grep -E "': (content differs|size [0-9]+, wanted|in the copy only)" |
		while IFS= read -r line; do
			rel=${line#\'}
			rel=${rel%%\': *}
			if ! grep -qF -- "$rel" "$SCRATCH/last.err"; then
				echo "$rel"
			fi
		done
}

# damage_case NAME ARCHIVE_ID ENTRY DAMAGE...: ENTRY is the entry the
# message must name, or "" when the damage is not in one entry.
damage_case() {
	local name=$1 id=$2 entry=$3 file silent
	shift 3
	rm -rf "$REPO" "$SCRATCH/target"
	cp -a "$PRISTINE" "$REPO"
	file=$(archive_of "$REPO" "$id" 2>/dev/null)
	"$@"

	expect_exit 65 "$name: verify exits 65" cairn verify
	expect_stderr "archive '$id'" "$name: verify names the archive"
	if [ -n "$entry" ]; then
		expect_stderr "entry '$entry'" "$name: verify names the entry"
	fi
	expect_exit 65 "$name: verify --json exits 65" cairn --json verify
	json_check "$name: verify --json reports it" \
		"[(r['status'], '$id' in r.get('error', '')) for r in doc if r['id'] == '$id'] in ([('damaged', True)], [('missing', True)]) and all(r['status'] == 'ok' for r in doc if r['id'] != '$id')"

	expect_failure "$name: restore fails" \
		cairn restore "$id" --to "$SCRATCH/target"
	if grep -qE "archive '$id' restored" "$SCRATCH/last.err"; then
		not_ok "$name: restore claims success"
	else
		ok "$name: restore does not claim success"
	fi
	expect_stderr "$id" "$name: restore names the archive"
	silent=$(silent_differences "$SCRATCH/target")
	if [ -z "$silent" ]; then
		ok "$name: no file in the target differs from its source unannounced"
	else
		not_ok "$name: files differ from their source and nothing says so"
		echo "$silent" | head -n 5 | sed 's/^/# /'
	fi

	rm -rf "$SCRATCH/target"
	expect "$name: restore of an intact archive" \
		cairn restore "$OTHER" --to "$SCRATCH/target"
	python3 "$here/treecmp.py" --no-blocks "$OTHER_SRC" "$SCRATCH/target$OTHER_SRC" \
		>"$SCRATCH/cmp.out" 2>&1 &&
		ok "$name: the intact archive restores identical" ||
		{ not_ok "$name: the intact archive restores different"; sed 's/^/# /' "$SCRATCH/cmp.out" | head -n 5; }

	intact_unchanged "$name" "$id"
}

# intact_unchanged NAME DAMAGED_ID: every archive file but the damaged
# one is byte-identical to the pristine repository's.
intact_unchanged() {
	local name=$1 id=$2 path changed=""
	for path in "$PRISTINE"/archives/*/*.tar.zst; do
		case $path in *"$id".tar.zst) continue ;; esac
		cmp -s "$path" "$REPO/${path#"$PRISTINE"/}" || changed="$changed $path"
	done
	[ -z "$changed" ] && ok "$name: the intact archives are byte-identical" ||
		not_ok "$name: intact archives changed:$changed"
}

# rebuild_case NAME ID UNREADABLE: catalog rebuild on the damaged
# repository; UNREADABLE is 1 when the archive's manifest is beyond
# reach (then rebuild must name it and exit 65).
rebuild_case() {
	local name=$1 id=$2 unreadable=$3 status
	cairn catalog rebuild >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
	status=$?
	if [ "$unreadable" = 1 ]; then
		[ "$status" -eq 65 ] && ok "$name: catalog rebuild exits 65" ||
			{ not_ok "$name: catalog rebuild exits $status"; sed 's/^/# /' "$SCRATCH/last.err"; }
		expect_stderr "$id" "$name: catalog rebuild names the unreadable archive"
	else
		[ "$status" -eq 0 ] && ok "$name: catalog rebuild exits 0 (the manifest is intact)" ||
			{ not_ok "$name: catalog rebuild exits $status"; sed 's/^/# /' "$SCRATCH/last.err"; }
	fi
	expect "$name: list after the rebuild" cairn --json list
	json_check "$name: the rebuilt catalogue lists every intact archive" \
		"set(r['id'] for r in doc) >= set(['$OTHER', '$VICTIM', '$FLAT']) - set(['$id'])"
	intact_unchanged "$name (after the rebuild)" "$id"
}

flip_victim() { flip "$file" "$1"; }
truncate_victim() { truncate -s "$1" "$file"; }

# ---- the compressed archive ----------------------------------------------------
damage_case "first tar header" "$VICTIM" "" flip_victim 600
rebuild_case "first tar header" "$VICTIM" 0
damage_case "middle of the data" "$VICTIM" "" flip_victim $((v_index / 2))
rebuild_case "middle of the data" "$VICTIM" 0
damage_case "index chunk" "$VICTIM" "" flip_victim $((v_index + 200))
rebuild_case "index chunk" "$VICTIM" 0
damage_case "manifest" "$VICTIM" "" flip_victim $((v_manifest + 100))
rebuild_case "manifest" "$VICTIM" 1
damage_case "trailer" "$VICTIM" "" flip_victim $((v_size - 5))
rebuild_case "trailer" "$VICTIM" 1
damage_case "trailer magic" "$VICTIM" "" flip_victim $((v_size - 24))
rebuild_case "trailer magic" "$VICTIM" 1
damage_case "truncated to half" "$VICTIM" "" truncate_victim $((v_size / 2))
rebuild_case "truncated to half" "$VICTIM" 1
damage_case "truncated by 1 byte" "$VICTIM" "" truncate_victim $((v_size - 1))
rebuild_case "truncated by 1 byte" "$VICTIM" 1
damage_case "trailer cut off" "$VICTIM" "" truncate_victim $((v_size - 24))
rebuild_case "trailer cut off" "$VICTIM" 1
damage_case "zero-length file" "$VICTIM" "" truncate_victim 0
rebuild_case "zero-length file" "$VICTIM" 1

# Random bytes are stored in raw zstd blocks: a flipped byte there
# decompresses to a wrong byte of that one file, which only the entry's
# checksum catches (the frame's comes later), so the entry is named.
raw=$(python3 - "$VICTIM_FILE" "$SRC/random.bin" <<'EOF'
import sys
archive = open(sys.argv[1], "rb").read()
sample = open(sys.argv[2], "rb").read()[500000:500064]
print(archive.find(sample))
EOF
)
if [ "${raw:--1}" -ge 0 ]; then
	damage_case "a byte of one file's data" "$VICTIM" "${SRC#/}/random.bin" flip_victim $((raw + 10))
	rebuild_case "a byte of one file's data" "$VICTIM" 0
else
	not_ok "random.bin's bytes are not stored raw in the archive"
fi

# ---- the uncompressed archive ----------------------------------------------
flip_flat() { flip "$file" "$1"; }
truncate_flat() { truncate -s "$1" "$file"; }
damage_case "uncompressed: first tar header" "$FLAT" "" flip_flat 100
damage_case "uncompressed: a file's header" "$FLAT" "" flip_flat "$flat_header"
damage_case "uncompressed: middle of the data" "$FLAT" "${SRC#/}/log.txt" flip_flat "$flat_middle"
rebuild_case "uncompressed: middle of the data" "$FLAT" 0
damage_case "uncompressed: index chunk" "$FLAT" "" flip_flat "$flat_index_text"
damage_case "uncompressed: manifest" "$FLAT" "" flip_flat "$flat_manifest_id"
rebuild_case "uncompressed: manifest" "$FLAT" 1
damage_case "uncompressed: trailer" "$FLAT" "" flip_flat $((f_size - 5))
rebuild_case "uncompressed: trailer" "$FLAT" 1
damage_case "uncompressed: truncated to half" "$FLAT" "" truncate_flat $((f_size / 2))
rebuild_case "uncompressed: truncated to half" "$FLAT" 1

# ---- a missing archive file ------------------------------------------------------
remove_victim() { rm -f "$file"; }
damage_case "missing file" "$VICTIM" "" remove_victim
cairn --json list >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
json_check "missing file: list marks the archive missing" \
	"[r['status'] for r in doc if r['id'] == '$VICTIM'] == ['missing']"
cairn catalog rebuild >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
expect_stderr "$VICTIM.*gone|gone.*$VICTIM" "missing file: catalog rebuild reports the archive whose file is gone"
expect "missing file: list after the rebuild" cairn --json list
json_check "missing file: the rebuilt catalogue lists the intact archives only" \
	"sorted(r['id'] for r in doc) == sorted(['$OTHER', '$FLAT'])"
intact_unchanged "missing file (after the rebuild)" "$VICTIM"

# ---- the catalogue ------------------------------------------------------------
# catalog_case DAMAGE...: a fresh repository, its catalogue damaged.
catalog_case() {
	rm -rf "$REPO" "$SCRATCH/target"
	cp -a "$PRISTINE" "$REPO"
	"$@"
}
all_ids="sorted(['$VICTIM', '$OTHER', '$FLAT'])"

catalog_case flip "$REPO/catalog" 40
expect "damaged catalogue: list" cairn --json list
expect_stderr "using its copy" "damaged catalogue: list warns that it uses the copy"
json_check "damaged catalogue: list shows every archive" "sorted(r['id'] for r in doc) == $all_ids"
expect "damaged catalogue: verify" cairn verify
expect "damaged catalogue: restore" cairn restore "$VICTIM" --to "$SCRATCH/target"
python3 "$here/treecmp.py" --no-blocks "$SRC" "$SCRATCH/target$SRC" >"$SCRATCH/cmp.out" 2>&1 &&
	ok "damaged catalogue: the restored tree is identical" ||
	{ not_ok "damaged catalogue: the restored tree differs"; sed 's/^/# /' "$SCRATCH/cmp.out" | head -n 5; }
intact_unchanged "damaged catalogue" none

expect_exit 1 "damaged catalogue: check exits 1" cairn check
expect_stdout "catalogue file '.*/catalog' is damaged" "damaged catalogue: check names the file"

# The copy is read only when the catalogue fails, and the next write
# replaces it: a damaged copy alone loses nothing, but verify and check
# say so, before the day it is needed.
catalog_case flip "$REPO/catalog.copy" 40
expect "damaged copy: list" cairn --json list
json_check "damaged copy: list shows every archive" "sorted(r['id'] for r in doc) == $all_ids"
expect "damaged copy: verify" cairn verify
expect_stderr "warning: catalogue file '.*/catalog.copy' is damaged" "damaged copy: verify warns, naming the copy"
expect_exit 1 "damaged copy: check exits 1" cairn check
expect_stdout "catalogue file '.*/catalog.copy' is damaged" "damaged copy: check names the copy"
catalog_case rm -f "$REPO/catalog.copy"
expect_exit 1 "copy deleted: check exits 1" cairn check
expect_stdout "catalogue file '.*/catalog.copy' is missing" "copy deleted: check names the copy"

both_damaged() { flip "$REPO/catalog" 40; flip "$REPO/catalog.copy" 40; }
catalog_case both_damaged
expect_exit 65 "both damaged: list exits 65" cairn list
expect_stderr "catalog rebuild" "both damaged: list points at catalog rebuild"
expect_exit 65 "both damaged: verify exits 65" cairn verify
expect "both damaged: catalog rebuild" cairn catalog rebuild
expect_stdout "3 archives, 0 unreadable" "both damaged: catalog rebuild finds the three archives"
expect "both damaged: list after the rebuild" cairn --json list
json_check "both damaged: the rebuilt catalogue lists every archive" "sorted(r['id'] for r in doc) == $all_ids"
expect "both damaged: verify after the rebuild" cairn verify
cmp -s "$REPO/catalog" "$REPO/catalog.copy" && ok "both damaged: catalogue and copy agree" ||
	not_ok "both damaged: catalogue and copy differ"
intact_unchanged "both damaged" none

# Both damaged and an archive unreadable: the rebuild says which.
both_and_archive() { both_damaged; truncate -s 1000 "$(archive_of "$REPO" "$VICTIM")"; }
catalog_case both_and_archive
expect_exit 65 "both damaged, one archive truncated: catalog rebuild exits 65" cairn catalog rebuild
expect_stderr "$VICTIM" "both damaged, one archive truncated: the rebuild names the unreadable archive"
expect_stdout "2 archives, 1 unreadable" "both damaged, one archive truncated: two archives, one unreadable"
expect "both damaged, one archive truncated: list" cairn --json list
json_check "both damaged, one archive truncated: the intact archives are listed" \
	"sorted(r['id'] for r in doc) == sorted(['$OTHER', '$FLAT'])"
intact_unchanged "both damaged, one archive truncated" "$VICTIM"

catalog_case rm -f "$REPO/catalog"
expect "catalogue deleted: list" cairn --json list
json_check "catalogue deleted: list shows every archive" "sorted(r['id'] for r in doc) == $all_ids"
expect "catalogue deleted: verify" cairn verify

both_deleted() { rm -f "$REPO/catalog" "$REPO/catalog.copy"; }
catalog_case both_deleted
cairn --json list >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
json_check "catalogue and copy deleted: list finds every archive from its manifest" "sorted(r['id'] for r in doc) == $all_ids"
expect "catalogue and copy deleted: catalog rebuild" cairn catalog rebuild
expect_stdout "3 archives, 0 unreadable" "catalogue and copy deleted: the rebuild finds the three archives"
intact_unchanged "catalogue and copy deleted" none

finish
