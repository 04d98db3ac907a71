#!/usr/bin/env python3
"""Compare two directory trees file by file, metadata included.

usage: treecmp.py [options] ORIGINAL COPY

Walks ORIGINAL without following symlinks and checks that COPY holds
the same names and, for each: type, permission bits, owner (numeric),
modification time to the nanosecond, size, content (SHA-256), symlink
target, device numbers, extended attributes of every namespace listed
(POSIX ACLs included, as system.posix_acl_* values), the hard link
structure, and that holes were kept (COPY uses no more blocks than
ORIGINAL, give or take one filesystem block). Prints one line per
difference and exits 1 when there is any; prints a summary and exits 0
otherwise. Files are read with O_NOATIME so access times stay put.

options:
  --atime        also compare access times of regular files
  --no-owner     do not compare owners (always skipped unless root)
  --no-blocks    do not compare allocated blocks
  --ignore GLOB  skip names matching GLOB (relative to the roots); repeatable
"""

import argparse
import fnmatch
import hashlib
import os
import stat
import sys


def digest(path):
    flags = os.O_RDONLY | getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY)
    h = hashlib.sha256()
    try:
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            h.update(block)
    finally:
        os.close(fd)
    return h.hexdigest()


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    values = {}
    for name in names:
        try:
            values[name] = os.getxattr(path, name, follow_symlinks=False)
        except OSError as e:
            values[name] = "<unreadable: %s>" % e.strerror
    return values


def walk(root, ignore):
    """Yields relative names, parents before children, root as ''."""
    yield ""
    for parent, dirs, files in os.walk(root):
        dirs.sort()
        rel_parent = os.path.relpath(parent, root)
        for name in sorted(dirs + files):
            rel = name if rel_parent == "." else os.path.join(rel_parent, name)
            if any(fnmatch.fnmatch(rel, g) for g in ignore):
                if name in dirs:
                    dirs.remove(name)
                continue
            yield rel


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("original")
    parser.add_argument("copy")
    parser.add_argument("--atime", action="store_true")
    parser.add_argument("--no-owner", action="store_true")
    parser.add_argument("--no-blocks", action="store_true")
    parser.add_argument("--ignore", action="append", default=[])
    args = parser.parse_args()

    owners = os.geteuid() == 0 and not args.no_owner
    problems = []
    links = {}  # original inode -> copy inode
    seen = set()
    count = 0

    def problem(rel, text):
        problems.append("%r: %s" % (rel or ".", text))

    for rel in walk(args.original, args.ignore):
        a = os.path.join(args.original, rel) if rel else args.original
        b = os.path.join(args.copy, rel) if rel else args.copy
        seen.add(rel)
        count += 1
        try:
            sa = os.lstat(a)
        except FileNotFoundError:
            problem(rel, "vanished from the original while comparing")
            continue
        try:
            sb = os.lstat(b)
        except FileNotFoundError:
            problem(rel, "missing from the copy")
            continue
        if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode):
            problem(rel, "type %o, wanted %o"
                    % (stat.S_IFMT(sb.st_mode), stat.S_IFMT(sa.st_mode)))
            continue
        if stat.S_IMODE(sa.st_mode) != stat.S_IMODE(sb.st_mode):
            problem(rel, "mode %04o, wanted %04o"
                    % (stat.S_IMODE(sb.st_mode), stat.S_IMODE(sa.st_mode)))
        if owners and (sa.st_uid, sa.st_gid) != (sb.st_uid, sb.st_gid):
            problem(rel, "owner %d:%d, wanted %d:%d"
                    % (sb.st_uid, sb.st_gid, sa.st_uid, sa.st_gid))
        if sa.st_mtime_ns != sb.st_mtime_ns:
            problem(rel, "mtime %d, wanted %d"
                    % (sb.st_mtime_ns, sa.st_mtime_ns))
        xa, xb = xattrs(a), xattrs(b)
        if xa != xb:
            problem(rel, "extended attributes %s, wanted %s"
                    % (sorted(xb), sorted(xa)))
        if stat.S_ISDIR(sa.st_mode):
            continue
        if sa.st_nlink > 1:
            first = links.setdefault(sa.st_ino, sb.st_ino)
            if first != sb.st_ino:
                problem(rel, "not hard-linked as in the original")
        if sa.st_nlink != sb.st_nlink:
            problem(rel, "%d links, wanted %d" % (sb.st_nlink, sa.st_nlink))
        if stat.S_ISREG(sa.st_mode):
            if sa.st_size != sb.st_size:
                problem(rel, "size %d, wanted %d" % (sb.st_size, sa.st_size))
            elif digest(a) != digest(b):
                problem(rel, "content differs")
            if args.atime and sa.st_atime_ns != sb.st_atime_ns:
                problem(rel, "atime %d, wanted %d"
                        % (sb.st_atime_ns, sa.st_atime_ns))
            slack = max(sb.st_blksize, 4096) // 512
            if not args.no_blocks and sb.st_blocks > sa.st_blocks + slack:
                problem(rel, "%d blocks, the original has %d (holes lost)"
                        % (sb.st_blocks, sa.st_blocks))
        elif stat.S_ISLNK(sa.st_mode):
            if os.readlink(a) != os.readlink(b):
                problem(rel, "symlink to %r, wanted %r"
                        % (os.readlink(b), os.readlink(a)))
        elif stat.S_ISCHR(sa.st_mode) or stat.S_ISBLK(sa.st_mode):
            if sa.st_rdev != sb.st_rdev:
                problem(rel, "device %d:%d, wanted %d:%d"
                        % (os.major(sb.st_rdev), os.minor(sb.st_rdev),
                           os.major(sa.st_rdev), os.minor(sa.st_rdev)))

    for rel in walk(args.copy, args.ignore):
        if rel not in seen:
            problem(rel, "in the copy only")

    for line in problems:
        print(line)
    if problems:
        print("%d difference(s) in %d entries" % (len(problems), count))
        return 1
    print("%d entries identical" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
