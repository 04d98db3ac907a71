#!/bin/bash
# The volume plugin through the real cairn binary: a tree holding every
# kind of file (regular, empty, sparse with a 64 MiB hole, symlinks,
# hard links, a fifo, a device node when root, xattrs, ACLs, odd names,
# deep nesting, nanosecond times, foreign owners) goes through
# `cairn backup` and comes back through `cairn restore` and through stock
# `tar --zstd -xpf`, and is compared file by file with treecmp.py. The
# restore goes through the openat2 extraction, and once through
# archive_write_disk (CAIRN_TEST_NO_OPENAT2=1), kept for older kernels.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh).

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

setup_scratch volume
treecmp() { python3 "$here/treecmp.py" "$@"; }

SRC=$SCRATCH/data/vol/_data
SECOND="$SCRATCH/data/second dir"
CONF=$SCRATCH/cairn.conf

# The tree. Python sets what coreutils cannot: ACLs as their xattr
# values, binary xattrs, nanosecond times on symlinks.
mkdir -p "$SRC" "$SECOND" || exit 1
python3 - "$SRC" "$SECOND" <<'EOF' || { echo "Bail out! cannot build the tree"; exit 1; }
import os, struct, sys
src, second = sys.argv[1], sys.argv[2]
j = lambda *p: os.path.join(src, *p)
def put(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
def acl(entries):
    return struct.pack("<I", 2) + b"".join(
        struct.pack("<HHI", t, p, i) for t, p, i in entries)
NONE = 0xFFFFFFFF
put(j("plain"), os.urandom(5 * 1024 * 1024 + 17), 0o640)
os.utime(j("plain"), ns=(1700000000987654321, 1600000000123456789))
put(j("empty"), b"", 0o600)
with open(j("sparse"), "wb") as f:
    f.write(b"A" * 4096)
    f.seek(4096 + 64 * 1024 * 1024)
    f.write(b"B" * 4096)
with open(j("allhole"), "wb") as f:
    f.truncate(1024 * 1024)
os.symlink("plain", j("link"))
os.utime(j("link"), ns=(1500000000000000006, 1500000000000000005),
         follow_symlinks=False)
os.symlink("nowhere/at/all", j("dangling"))
os.mkdir(j("sub"), 0o750)
put(j("sub", "file"), b"in sub\n")
put(j("hard1"), b"linked\n")
os.link(j("hard1"), j("sub", "hard2"))
os.mkfifo(j("fifo"), 0o620)
if os.geteuid() == 0:
    os.mknod(j("null"), 0o666 | 0o020000, os.makedev(1, 3))
    put(j("owned"), b"owned\n", 0o755)
    os.chown(j("owned"), 1234, 5678)
    os.chmod(j("owned"), 0o4755)
    os.setxattr(j("plain"), "trusted.secret", b"t")
put(j("xattr"), b"attributes\n")
os.setxattr(j("xattr"), "user.comment", b"hello")
os.setxattr(j("xattr"), "user.binary", b"a\0b\xff")
os.setxattr(j("sub"), "user.dir", b"d")
put(j("acl"), b"acl\n", 0o640)
os.setxattr(j("acl"), "system.posix_acl_access", acl(
    [(1, 6, NONE), (2, 4, 1000), (4, 5, NONE), (8, 7, 2000), (16, 6, NONE),
     (32, 0, NONE)]))
os.mkdir(j("acldir"), 0o750)
os.setxattr(j("acldir"), "system.posix_acl_access", acl(
    [(1, 7, NONE), (2, 5, 1000), (4, 5, NONE), (16, 5, NONE), (32, 0, NONE)]))
os.setxattr(j("acldir"), "system.posix_acl_default", acl(
    [(1, 7, NONE), (2, 5, 1001), (4, 5, NONE), (16, 5, NONE), (32, 1, NONE)]))
put(j("acldir", "inherits"), b"x", 0o640)
put(j("with space"), b"space\n")
put(j("new\nline"), b"newline\n")
put(j("\u00fcn\u00efc\u00f8d\u00e9 \u2713"), b"utf-8\n")
put(j("scratch.tmp"), b"excluded\n")
d = j("deep")
for _ in range(40):
    d = os.path.join(d, "d")
os.makedirs(d)
put(os.path.join(d, "leaf"), b"deep\n")
os.mkdir(j("ro"))
put(j("ro", "inner"), b"ro\n", 0o444)
os.chmod(j("ro"), 0o555)
os.utime(j("ro"), ns=(1400000000000000222, 1400000000000000111))
os.utime(j("sub"), ns=(1300000000000000001, 1300000000999999999))
put(os.path.join(second, "other"), b"second path\n")
os.utime(src, ns=(1200000000000000043, 1200000000000000042))
EOF

cat >"$CONF" <<EOF
[repository]
path = $SCRATCH/repo

[vol]
plugin = volume
paths = $SRC "$SECOND"
exclude = *.tmp
EOF

expect "backup of the tree" "$CAIRN" -c "$CONF" backup vol
expect "list shows the archive" "$CAIRN" -c "$CONF" list
expect_stdout "vol" "the archive is listed under its job"
expect "verify" "$CAIRN" -c "$CONF" verify
expect "show --json" "$CAIRN" -c "$CONF" --json show vol:latest
expect_stdout '"files"' "the manifest records the file count"

OUT=$SCRATCH/out
expect "restore --to an empty directory" \
	"$CAIRN" -c "$CONF" restore vol:latest --to "$OUT"
expect "the restored tree matches, metadata included" \
	treecmp --atime --ignore '*.tmp' "$SRC" "$OUT$SRC"
expect "the second path matches" treecmp "$SECOND" "$OUT$SECOND"
# The writer kept for kernels without openat2: archive_write_disk.
expect "restore through archive_write_disk (no openat2)" \
	env CAIRN_TEST_NO_OPENAT2=1 "$CAIRN" -c "$CONF" restore vol:latest \
	--to "$SCRATCH/out-libarchive"
expect "the tree restored through archive_write_disk matches" \
	treecmp --atime --ignore '*.tmp' "$SRC" "$SCRATCH/out-libarchive$SRC"
rm -rf "$SCRATCH/out-libarchive"
if [ -e "$OUT$SRC/scratch.tmp" ]; then
	not_ok "excluded file was not archived"
else
	ok "excluded file was not archived"
fi

expect_exit 1 "a non-empty target is refused without --force" \
	"$CAIRN" -c "$CONF" restore vol:latest --to "$OUT"
expect_stderr "not empty" "the refusal says why"
touch -d @1 "$OUT$SRC/sub"
chmod 0700 "$OUT$SRC/sub"
expect "restore --force over the restored tree" \
	"$CAIRN" -c "$CONF" restore vol:latest --to "$OUT" --force
expect "the tree matches after --force" \
	treecmp --atime --ignore '*.tmp' "$SRC" "$OUT$SRC"

expect "dry run" "$CAIRN" -v -c "$CONF" restore vol:latest \
	--to "$SCRATCH/dry" --dry-run
expect_stderr "would restore file '.*/_data/plain'" \
	"the dry run lists what it would restore"
if [ -e "$SCRATCH/dry" ]; then
	not_ok "the dry run wrote nothing"
else
	ok "the dry run wrote nothing"
fi

expect "restore --only" "$CAIRN" -c "$CONF" restore vol:latest \
	--to "$SCRATCH/only" --only '*/_data/sub' --only '*/second dir/other'
if [ -f "$SCRATCH/only$SRC/sub/file" ] &&
	[ -f "$SCRATCH/only$SECOND/other" ] &&
	[ ! -e "$SCRATCH/only$SRC/plain" ]; then
	ok "--only restored the selected paths alone"
else
	not_ok "--only restored the selected paths alone"
fi

# Stock tools alone: GNU tar with zstd.
archive=$(find "$SCRATCH/repo" -name '*.tar.zst' | head -n 1)
mkdir -p "$SCRATCH/tar"
if [ -n "$archive" ] && (cd "$SCRATCH/tar" && tar --zstd -xpf "$archive" \
	--xattrs --xattrs-include='*' --acls --numeric-owner) \
	>"$SCRATCH/last.out" 2>"$SCRATCH/last.err"; then
	ok "tar --zstd -xpf extracts the archive"
else
	not_ok "tar --zstd -xpf extracts the archive"
	sed 's/^/# /' "$SCRATCH/last.err" | tail -n 20
fi
expect "the tree extracted by tar matches" \
	treecmp --ignore '*.tmp' "$SRC" "$SCRATCH/tar$SRC"

# In place: the job's own paths, which needs --force.
rm -rf "$SRC"
# A usage error: the command line lacks --force or --to.
expect_exit 64 "restoring in place without --force is refused" \
	"$CAIRN" -c "$CONF" restore vol:latest
if [ -e "$SRC" ]; then
	not_ok "the refused restore wrote nothing"
else
	ok "the refused restore wrote nothing"
fi
expect "restore in place with --force" \
	"$CAIRN" -c "$CONF" restore vol:latest --force
expect "the tree is back in place" \
	treecmp --atime "$OUT$SRC" "$SRC"

finish
