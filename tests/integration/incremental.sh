#!/bin/bash
# Incremental volume backups: a chain of seven archives over a tree that
# gains, loses and renames files and folders, replaces a symlink by a
# folder and back, changes only permissions, only an xattr or only an
# ACL, adds and breaks hard links, changes a sparse file and changes a
# file twice at the same modification time. A snapshot of the tree is
# taken after each backup; a restore of every point of the chain, and
# the stock-tool recipe of cairn(8), must give it back with all its
# metadata (treecmp.py). Then: unchanged files are not opened (strace),
# prune keeps the parents of what it keeps and says why, verify finds a
# damaged parent and the next backup is a full one, full-every, drill,
# --only, --dry-run and catalog rebuild through chains.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh).

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

setup_scratch incremental
treecmp() { python3 "$here/treecmp.py" "$@"; }

SRC=$SCRATCH/data/src
CONF=$SCRATCH/cairn.conf
mkdir -p "$SRC" "$SCRATCH/snap" "$SCRATCH/out" || exit 1

write_conf() {
	cat >"$CONF" <<EOF
[repository]
path = $SCRATCH/repo

[vol]
plugin = volume
paths = $SRC
incremental = yes
full-every = $1
keep-last = 1
keep-hourly = 0
keep-daily = 0
keep-weekly = 0
keep-monthly = 0
keep-yearly = 0
EOF
	chmod 600 "$CONF"
}
write_conf 10

# py CODE: runs Python on the tree, with helpers, in $SRC.
py() {
	python3 - "$SRC" "$1" <<'EOF' || { echo "Bail out! cannot change the tree"; exit 1; }
import os, struct, sys
os.chdir(sys.argv[1])
def put(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
def acl(entries):
    return struct.pack("<I", 2) + b"".join(
        struct.pack("<HHI", t, p, i) for t, p, i in entries)
NONE = 0xFFFFFFFF
def acl_with(user, perm):
    return acl([(1, 6, NONE), (2, perm, user), (4, 4, NONE), (16, 6, NONE),
                (32, 4, NONE)])
exec(sys.argv[2])
EOF
}

ids=()
# step N: backs up, remembers the id, snapshots the tree.
step() {
	expect "backup $1" run_cairn -c "$CONF" backup vol
	run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
	ids[$1]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$SCRATCH/last.out")
	cp -a --sparse=always "$SRC" "$SCRATCH/snap/$1"
}

py '
put("untouched", os.urandom(256 * 1024))
put("plain", b"plain\n")
put("a", b"a\n")
put("b", b"b\n")
put("perm", b"perm\n", 0o640)
put("xonly", b"xattr\n")
os.setxattr("xonly", "user.v", b"1")
put("aclonly", b"acl\n", 0o640)
os.setxattr("aclonly", "system.posix_acl_access", acl_with(1000, 4))
os.mkdir("dir")
put("dir/inner", b"inner\n")
os.mkdir("dir/sub")
put("dir/sub/deep", b"deep\n")
os.symlink("a", "swap")
put("h1", b"linked\n")
os.link("h1", "h2")
with open("sparse", "wb") as f:
    f.write(b"S" * 4096)
    f.seek(8 * 1024 * 1024)
    f.write(b"E" * 4096)
put("twice", b"AAAA")
os.utime("twice", ns=(1600000000000000000, 1600000000000000000))
put("fileturnsdir", b"file\n")
'
# Older than the timestamp granularity when the first backup starts, so
# later backups may find it unchanged without reading it again.
touch -d '2 hours ago' "$SRC/untouched" "$SRC/plain"
sleep 1.1
step 1
json_check "the first archive is a full one" 'True'
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
json_check "list --json: kind full, no parent" \
	'doc[0]["kind"] == "full" and "parent" not in doc[0]'

# 2: gains, loses, renames a file and a folder, a symlink becomes a
# folder, permissions only.
py '
put("new1", b"new\n")
os.unlink("b")
os.rename("a", "a2")
os.rename("dir", "dir2")
os.unlink("swap")
os.mkdir("swap")
put("swap/in", b"in swap\n")
os.chmod("perm", 0o600)
'
step 2
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
json_check "list --json: the second is incremental on the first" \
	"doc[0]['kind'] == 'incremental' and doc[0]['parent'] == '${ids[1]}'"

# 3: an xattr only, an ACL only, a new hard link, a broken one.
py '
os.setxattr("xonly", "user.v", b"2")
os.setxattr("aclonly", "system.posix_acl_access", acl_with(1000, 6))
os.link("h1", "h3")
put("h2.tmp", b"linked\n")
os.rename("h2.tmp", "h2")
'
strace -f -qq -e trace=open,openat -o "$SCRATCH/trace" \
	"$CAIRN" -c "$CONF" backup vol >/dev/null 2>&1
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
ids[3]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$SCRATCH/last.out")
cp -a --sparse=always "$SRC" "$SCRATCH/snap/3"
# The walk opens files by their name in their directory (openat).
if grep -q '"xonly"' "$SCRATCH/trace" && ! grep -q 'untouched"' "$SCRATCH/trace"; then
	ok "an unchanged file is not opened, a changed one is"
else
	not_ok "an unchanged file is not opened, a changed one is"
	grep -E 'untouched|xonly' "$SCRATCH/trace" | sed 's/^/# /' | head
fi

# 4: the folder becomes a symlink again, the sparse file changes, a file
# is written the first time.
py '
import shutil
shutil.rmtree("swap")
os.symlink("a2", "swap")
with open("sparse", "r+b") as f:
    f.seek(4 * 1024 * 1024)
    f.write(b"M" * 4096)
'
step 4

# 5: the same size and modification time as at 4, other content.
py '
put("twice", b"BBBB")
os.utime("twice", ns=(1600000000000000000, 1600000000000000000))
'
step 5

# 6: a folder with content goes, a file becomes a folder, a hard link
# group loses its first name.
py '
import shutil
shutil.rmtree("dir2/sub")
os.unlink("fileturnsdir")
os.mkdir("fileturnsdir")
put("fileturnsdir/x", b"x\n")
os.unlink("h1")
'
step 6

# 7: nothing changed.
step 7
run_cairn -c "$CONF" --json show vol:latest >"$SCRATCH/last.out"
json_check "an unchanged tree: the old files are not in the archive" \
	'(not any(e["name"].endswith(("/untouched", "/plain", "/a2"))
	 for e in doc["entries"]) and
	 sum(e["type"] == "dir" for e in doc["entries"]) == 3)'

for k in 1 2 3 4 5 6 7; do
	expect "restore point $k of the chain" \
		run_cairn -c "$CONF" restore "${ids[$k]}" --to "$SCRATCH/out/$k"
	expect "point $k equals the tree as it was then" \
		treecmp "$SCRATCH/snap/$k" "$SCRATCH/out/$k$SRC"
done

# The stock recipe of cairn(8), literally: each archive of the chain in
# order, its removals first.
mkdir -p "$SCRATCH/stock"
chain=$(for k in 1 2 3 4 5 6 7; do
	find "$SCRATCH/repo/archives/vol" -name "*-${ids[$k]}.tar.zst"
done)
(
	cd "$SCRATCH/stock" || exit 1
	for a in $chain; do
		tar --zstd -xOf "$a" --wildcards '.cairn/removed.part-*' 2>/dev/null |
			xargs -0r rm -rf --
		tar --zstd -xpf "$a" --xattrs --xattrs-include='*' --acls \
			--numeric-owner --exclude=.cairn || exit 1
	done
) >"$SCRATCH/last.out" 2>"$SCRATCH/last.err"
expect "the stock recipe gives the tree as it was at 7" \
	treecmp "$SCRATCH/snap/7" "$SCRATCH/stock$SRC"

expect "restore --dry-run of an incremental" run_cairn -v -c "$CONF" \
	restore "${ids[6]}" --to "$SCRATCH/dry" --dry-run
expect_stderr "would restore file '.*/src/fileturnsdir/x'" \
	"the dry run lists an entry of the newest archive"
expect_stderr "would restore file '.*/src/untouched'" \
	"the dry run lists an entry of the full archive"
if [ -e "$SCRATCH/dry" ]; then
	not_ok "the dry run wrote nothing"
else
	ok "the dry run wrote nothing"
fi
expect "restore --only of an incremental" run_cairn -c "$CONF" restore \
	"${ids[7]}" --to "$SCRATCH/only" --only '*/src/dir2' --only '*/untouched'
if [ -f "$SCRATCH/only$SRC/dir2/inner" ] &&
	[ -f "$SCRATCH/only$SRC/untouched" ] && [ ! -e "$SCRATCH/only$SRC/a2" ]; then
	ok "--only restored the selected paths alone"
else
	not_ok "--only restored the selected paths alone"
fi
expect "cat of an entry that only the full archive holds" \
	run_cairn -c "$CONF" cat "${ids[7]}" "${SRC#/}/plain"
expect_stdout "^plain$" "cat gives its content"

expect "drill through the chain" run_cairn -c "$CONF" drill vol
expect "show names kind and parent" run_cairn -c "$CONF" show "${ids[7]}"
expect_stdout "kind: +incremental, on ${ids[6]}" "show says incremental and on what"
expect "list shows the kind" run_cairn -c "$CONF" list
expect_stdout "${ids[7]} .* incremental " "the list table has a kind column"

expect "prune --dry-run" run_cairn -c "$CONF" prune --dry-run
expect_stdout "keep +${ids[1]} .*parent of ${ids[2]}" \
	"prune keeps the full archive as a parent and says of which"
if grep -q "^remove" "$SCRATCH/last.out"; then
	not_ok "keep-last 1 removes nothing of a chain in use"
else
	ok "keep-last 1 removes nothing of a chain in use"
fi
expect "prune" run_cairn -c "$CONF" prune
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
json_check "the seven archives are still there" 'len(doc) == 7'

expect "catalog rebuild" run_cairn -c "$CONF" catalog rebuild
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
json_check "catalog rebuild recovers kind and parent" \
	"[d.get('parent') for d in doc] == ['${ids[6]}', '${ids[5]}', '${ids[4]}', '${ids[3]}', '${ids[2]}', '${ids[1]}', None]"

# A missing view file is rebuilt from the chain.
rm -f "$SCRATCH/repo/cache/vol.view"
echo more >"$SRC/new1"
expect "backup without the view file" run_cairn -v -c "$CONF" backup vol
expect_stderr "rebuilding the view" "the view is rebuilt from the chain"
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
json_check "and the backup is still an incremental one" \
	"doc[0]['kind'] == 'incremental' and doc[0]['parent'] == '${ids[7]}'"
ids[8]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$SCRATCH/last.out")
cp -a --sparse=always "$SRC" "$SCRATCH/snap/8"
expect "restore point 8" run_cairn -c "$CONF" restore "${ids[8]}" \
	--to "$SCRATCH/out/8"
expect "point 8 equals the tree" treecmp "$SCRATCH/snap/8" "$SCRATCH/out/8$SRC"

# A damaged parent: verify says so, for it and for what builds on it,
# and the next backup is a full one.
victim=$(find "$SCRATCH/repo/archives/vol" -name "*-${ids[2]}.tar.zst")
# Inside the compressed entries of its first frame (a flip in a frame
# header field such as the window size may decode all the same).
flip "$victim" 100
expect_exit 65 "verify finds the damaged parent" run_cairn -c "$CONF" verify
expect_stderr "archive '${ids[8]}': its chain is broken: archive '${ids[2]}'" \
	"verify reports the chain of the newest broken"
expect "the backup after it" run_cairn -c "$CONF" backup vol
expect_stderr "'${ids[2]}' of the chain was found damaged by verify: this backup is a full one" \
	"the backup says why it is a full one"
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
json_check "the backup after a damaged parent is a full one" \
	'doc[0]["kind"] == "full"'
ids[9]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$SCRATCH/last.out")

# full-every as a count: 2 archives per chain.
write_conf 2
expect "an incremental on the new full" run_cairn -c "$CONF" backup vol
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
json_check "the next is incremental" 'doc[0]["kind"] == "incremental"'
expect "full-every 2" run_cairn -v -c "$CONF" backup vol
expect_stderr "full-every 2" "the backup says full-every made it a full one"
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
json_check "the third is full again" 'doc[0]["kind"] == "full"'

# Now keep-last 1 keeps only the newest full archive: the old chain goes.
expect "prune of the old chains" run_cairn -c "$CONF" prune
run_cairn -c "$CONF" --json list >"$SCRATCH/last.out"
json_check "only the newest full archive is left" \
	'len(doc) == 1 and doc[0]["kind"] == "full"'

# Drill reads every frame of the index to its end. A full archive whose
# index takes two chunks (1 MiB each), so that the first one starts a
# frame that goes on with entries (more than zstd decompresses for a
# reader at once), then an incremental that changes
# every file: a drill of it reads only the index chunks of the full
# archive. A changed byte of that frame's checksum (the last bytes
# before the second chunk's frame) is damage that verify finds, and
# drill must too.
WIDE=$SCRATCH/data/wide
WIDE_CONF=$SCRATCH/wide.conf
python3 - "$WIDE" <<'EOF' || { echo "Bail out! cannot write the wide tree"; exit 1; }
import os, sys
folder = os.path.join(sys.argv[1], "d" * 200, "e" * 200)
os.makedirs(folder)
for i in range(1400):
    open(os.path.join(folder, "%04d" % i + "f" * 196), "w").close()
# After the first chunk, more than the 1 MiB zstd gives a reader at once.
with open(os.path.join(folder, "zz-random"), "wb") as f:
    f.write(os.urandom(3 * 1024 * 1024))
EOF
cat >"$WIDE_CONF" <<EOF
[repository]
path = $SCRATCH/wide-repo

[wide]
plugin = volume
paths = $WIDE
incremental = yes
EOF
chmod 600 "$WIDE_CONF"
expect "full backup of 1400 long names" run_cairn -c "$WIDE_CONF" backup wide
wide_full=$(find "$SCRATCH/wide-repo/archives/wide" -name '*.tar.zst')
find "$WIDE" -type f -exec touch {} +
expect "incremental backup, every file changed" \
	run_cairn -c "$WIDE_CONF" backup wide
tar -I zstd -xOf "$wide_full" .cairn/manifest.json >"$SCRATCH/last.out"
json_check "the full archive's index has two chunks" 'len(doc["index"]) >= 2'
second_chunk=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["index"][1])' "$SCRATCH/last.out")
expect "drill of the intact chain" run_cairn -c "$WIDE_CONF" drill wide
flip "$wide_full" $((second_chunk - 2))
expect_exit 1 "drill finds a damaged checksum at the end of an index frame" \
	run_cairn -c "$WIDE_CONF" drill wide
expect_stdout "archive '.*' is damaged in the zstd frame at byte [0-9]+: Restored data doesn't match checksum" \
	"drill names the archive and the frame"

# Encrypted to a recipient, on a host without the identity: a chain
# builds on the view file alone; without the view the backup is a full
# one and says why; restores with the identity give each point back.
SEALED=$SCRATCH/data/sealed
SEALED_CONF=$SCRATCH/sealed.conf
mkdir -p "$SEALED" && echo one >"$SEALED/one"
expect "key generate" run_cairn key generate "$SCRATCH/sealed.key"
sealed_pub=$(run_cairn key recipient "$SCRATCH/sealed.key")
cat >"$SEALED_CONF" <<EOF
[repository]
path = $SCRATCH/sealed-repo

[encryption]
recipients = $sealed_pub

[sealed]
plugin = volume
paths = $SEALED
incremental = yes
EOF
chmod 600 "$SEALED_CONF"
sed "s#^recipients = .*#&\nidentity-file = $SCRATCH/sealed.key#" "$SEALED_CONF" \
	>"$SCRATCH/sealed-id.conf"
chmod 600 "$SCRATCH/sealed-id.conf"
sealed_backup() { # sealed_backup N: a backup, its id and a snapshot
	expect "encrypted backup $1 without identity" \
		run_cairn -c "$SEALED_CONF" backup sealed
	cp "$SCRATCH/last.err" "$SCRATCH/sealed.err"
	run_cairn -c "$SEALED_CONF" --json list >"$SCRATCH/last.out"
	sealed_ids[$1]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$SCRATCH/last.out")
	cp -a "$SEALED" "$SCRATCH/snap/sealed$1"
}
sealed_ids=()
sealed_backup 1
echo two >"$SEALED/two"
sealed_backup 2
rm "$SEALED/one"
sealed_backup 3
json_check "the chain builds on the view without the identity" \
	"[d['kind'] for d in doc] == ['incremental', 'incremental', 'full']"
rm -f "$SCRATCH/sealed-repo/cache/sealed.view"
echo three >"$SEALED/three"
sealed_backup 4
json_check "without the view the backup is a full one" \
	"doc[0]['kind'] == 'full'"
cp "$SCRATCH/sealed.err" "$SCRATCH/last.err"
expect_stderr "cannot be rebuilt from the encrypted chain without an identity: this backup is a full one" \
	"the backup says why it is a full one"
for n in 3 4; do
	expect "restore of encrypted point $n with the identity" \
		run_cairn -c "$SCRATCH/sealed-id.conf" restore "${sealed_ids[$n]}" \
		--to "$SCRATCH/out/sealed$n"
	expect "encrypted point $n equals the tree" \
		treecmp "$SCRATCH/snap/sealed$n" "$SCRATCH/out/sealed$n$SEALED"
done

finish
