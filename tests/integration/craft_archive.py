#!/usr/bin/env python3
"""Writes a cairn archive by hand, harmless or hostile, into a repository.

The archive follows the format cairn writes (core/zstd_io.h,
core/manifest.h, core/arc_writer.c): a pax tar stream cut into zstd
frames with content checksums -- the entries, then a frame holding the
JSON Lines index `.cairn/index.part-000001`, then a frame holding
`.cairn/manifest.json` and the tar end marker -- followed by a 24-byte
skippable frame that gives the manifest frame's offset:

    50 2A 4D 18 | 10 00 00 00 | "CAIRNIX1" | offset (64-bit LE)

Checksums, index and manifest are all correct, so the only thing wrong
with a hostile archive is what its entries would do on restore. It is
written as REPO/archives/JOB/STAMP-ID.tar.zst, where cairn finds it
although the catalogue does not list it, and its id is printed.

usage: craft_archive.py REPO JOB KIND OUTSIDE [COUNT]

KIND is one of:
  plain             two files and a directory: restores fine
  dotdot            a file named ../escape
  absolute          a file named OUTSIDE/absolute (an absolute path)
  symlink           a symlink evil -> OUTSIDE, then a file evil/planted
  symlink-relative  a symlink evil -> ../outside, then evil/planted
  hardlink          a hard link to ../outside/victim
  mismatch          the index says "innocent", the tar header ../escape
  hardlink-absolute a hard link to OUTSIDE/victim
  symlink-loop      symlinks loop-a -> loop-b -> loop-a, then loop-a/x
  symlink-file      a symlink evil -> OUTSIDE/victim, then a file evil
  symlink-dir       a symlink evil -> OUTSIDE, then a directory evil and
                    evil/planted
  hardlink-symlink  a symlink evil -> OUTSIDE, then a hard link to
                    evil/victim
  dotdot-inner      a file named docs/../../escape
  fifo              a fifo
  devices           a character device (1,3) and a block device (7,0)
  huge-size         a file whose header says 8 GiB, in a tiny archive
  negative-size     a file whose pax header says size=-1
  nan-size          a file whose header's size field is not a number
  long-name         a file named by a 64 KiB path
  name-4097         a file named by a path of 4097 bytes
  many              COUNT empty files (default 200000) in 1000 per
                    directory
OUTSIDE is the directory the hostile entries aim at.
"""

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import time
import uuid

TRAILER_MAGIC = 0x184D2A50


def tar_member(name, kind="file", data=b"", link="", mode=0o644):
    """One tar header (pax when needed) and its padded content."""
    info = tarfile.TarInfo(name)
    info.mode = mode
    info.mtime = int(time.time())
    info.uid = os.getuid()
    info.gid = os.getgid()
    if kind == "file":
        info.type = tarfile.REGTYPE
        info.size = len(data)
    elif kind == "dir":
        info.type = tarfile.DIRTYPE
        data = b""
    elif kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = link
        data = b""
    elif kind == "hardlink":
        info.type = tarfile.LNKTYPE
        info.linkname = link
        data = b""
    elif kind == "fifo":
        info.type = tarfile.FIFOTYPE
        data = b""
    elif kind in ("chardev", "blockdev"):
        info.type = tarfile.CHRTYPE if kind == "chardev" else tarfile.BLKTYPE
        info.devmajor, info.devminor = link
        data = b""
    header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    padding = (512 - len(data) % 512) % 512
    return header + data + b"\0" * padding


def padded(data):
    return data + b"\0" * ((512 - len(data) % 512) % 512)


def with_checksum(header):
    """The 512-byte header with its checksum field recomputed."""
    header = bytearray(header)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def raw_header(name, size_field, typeflag=tarfile.REGTYPE):
    """A ustar header whose 12-byte size field holds `size_field`,
    whatever it says."""
    info = tarfile.TarInfo(name)
    info.type = typeflag
    info.mtime = int(time.time())
    header = bytearray(info.tobuf(tarfile.USTAR_FORMAT, "utf-8"))
    header[124:136] = size_field.ljust(12, b"\0")[:12]
    return with_checksum(header)


def forged_member(name, size_field, data, pax_size=None):
    """A file whose header lies about its size, followed by `data`;
    with pax_size, a pax header claims that size instead."""
    out = b""
    if pax_size is not None:
        record = " size=%s\n" % pax_size
        length = len(record)
        while len(str(length)) + len(record) != length:
            length = len(str(length)) + len(record)
        body = ("%d%s" % (length, record)).encode()
        out = raw_header("PaxHeader/" + name, b"%011o\0" % len(body),
                         tarfile.XHDTYPE) + padded(body)
    return out + raw_header(name, size_field) + padded(data)


class FrameWriter:
    """Appends zstd frames with content checksums (by the stock zstd
    tool) to an open file, and remembers where each one starts."""

    def __init__(self, f):
        self.f = f

    def frame(self, chunks):
        """Writes one frame holding the byte strings of `chunks`;
        returns its offset."""
        self.f.flush()
        offset = self.f.tell()
        zstd = subprocess.Popen(["zstd", "-q", "-c", "-3", "--check",
                                 "-T1"], stdin=subprocess.PIPE,
                                stdout=self.f)
        for chunk in chunks:
            zstd.stdin.write(chunk)
        zstd.stdin.close()
        if zstd.wait() != 0:
            raise SystemExit("zstd failed")
        self.f.seek(0, os.SEEK_END)
        return offset


def entries_for(kind, outside):
    """(tar name, index name, type, content, link) of each entry."""
    if kind == "plain":
        return [("docs", "docs", "dir", b"", ""),
                ("docs/readme.txt", "docs/readme.txt", "file",
                 b"crafted, harmless\n", ""),
                ("data.bin", "data.bin", "file", bytes(range(256)) * 8, "")]
    if kind == "dotdot":
        return [("ok.txt", "ok.txt", "file", b"fine\n", ""),
                ("../escape", "../escape", "file", b"escaped\n", "")]
    if kind == "absolute":
        path = os.path.join(outside, "absolute")
        return [("ok.txt", "ok.txt", "file", b"fine\n", ""),
                (path, path, "file", b"absolute\n", "")]
    if kind == "symlink":
        return [("evil", "evil", "symlink", b"", outside),
                ("evil/planted", "evil/planted", "file", b"planted\n", "")]
    if kind == "symlink-relative":
        return [("evil", "evil", "symlink", b"", "../outside"),
                ("evil/planted", "evil/planted", "file", b"planted\n", "")]
    if kind == "hardlink":
        return [("ok.txt", "ok.txt", "file", b"fine\n", ""),
                ("hl", "hl", "hardlink", b"", "../outside/victim")]
    if kind == "mismatch":
        return [("../escape", "innocent", "file", b"escaped\n", "")]
    if kind == "hardlink-absolute":
        return [("ok.txt", "ok.txt", "file", b"fine\n", ""),
                ("hl", "hl", "hardlink", b"",
                 os.path.join(outside, "victim"))]
    if kind == "symlink-loop":
        return [("loop-a", "loop-a", "symlink", b"", "loop-b"),
                ("loop-b", "loop-b", "symlink", b"", "loop-a"),
                ("loop-a/x", "loop-a/x", "file", b"through a loop\n", "")]
    if kind == "symlink-file":
        victim = os.path.join(outside, "victim")
        return [("evil", "evil", "symlink", b"", victim),
                ("evil", "evil", "file", b"planted\n", "")]
    if kind == "symlink-dir":
        return [("evil", "evil", "symlink", b"", outside),
                ("evil", "evil", "dir", b"", ""),
                ("evil/planted", "evil/planted", "file", b"planted\n", "")]
    if kind == "hardlink-symlink":
        return [("evil", "evil", "symlink", b"", outside),
                ("hl", "hl", "hardlink", b"", "evil/victim")]
    if kind == "dotdot-inner":
        return [("docs", "docs", "dir", b"", ""),
                ("docs/../../escape", "docs/../../escape", "file",
                 b"escaped\n", "")]
    if kind == "fifo":
        return [("pipe", "pipe", "fifo", b"", "")]
    if kind == "devices":
        return [("null", "null", "chardev", b"", (1, 3)),
                ("loop0", "loop0", "blockdev", b"", (7, 0))]
    if kind == "long-name":
        return [(LONG_NAME, LONG_NAME, "file", b"long\n", "")]
    if kind == "name-4097":
        return [(NAME_4097, NAME_4097, "file", b"4097\n", "")]
    raise SystemExit("unknown kind '%s'" % kind)


# 64 KiB and 4097 bytes, in components of at most 255 bytes.
LONG_NAME = "/".join(["d" * 254] * 256)[:65535] + "f"
NAME_4097 = "/".join(["n" * 200] * 21)[:4096] + "f"

# Entries whose tar header lies about the size: (forged member, index
# record). Their content is five bytes.
FORGED = {
    "huge-size": lambda: forged_member("huge", b"%011o\0" % ((1 << 33) - 1),
                                       b"short"),
    "negative-size": lambda: forged_member("negative", b"%011o\0" % 5,
                                           b"short", pax_size="-1"),
    "nan-size": lambda: forged_member("nan", b"notanumber\0", b"short"),
}


def index_line(name, entry_type, content, frame=0):
    record = {"name": name, "type": entry_type,
              "size": len(content) if entry_type == "file" else 0,
              "frame": frame}
    if entry_type == "file":
        record["sha256"] = hashlib.sha256(content).hexdigest()
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def many_entries(count):
    """Tar members and index lines of `count` empty files, 1000 to a
    directory, generated as they are written."""
    directories = (count + 999) // 1000

    def members():
        for d in range(directories):
            yield tar_member("many/d%04d" % d, "dir")
            for f in range(d * 1000, min(count, (d + 1) * 1000)):
                yield tar_member("many/d%04d/f%07d" % (d, f))

    def lines():
        for d in range(directories):
            yield b'{"name":"many/d%04d","type":"dir","size":0,' \
                  b'"frame":0}\n' % d
            for f in range(d * 1000, min(count, (d + 1) * 1000)):
                yield b'{"name":"many/d%04d/f%07d","type":"file",' \
                      b'"size":0,"sha256":"%s","frame":0}\n' \
                      % (d, f, EMPTY_SHA256.encode())

    return members, lines, count + directories


def rfc3339(when):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(when))


def index_chunks(lines, limit=1024 * 1024):
    """Groups index lines into chunks of about `limit` bytes, as cairn
    writes them."""
    chunk = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line)
        if size >= limit:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


def main():
    if len(sys.argv) not in (5, 6):
        raise SystemExit(__doc__)
    repo, job, kind, outside = sys.argv[1:5]
    count = int(sys.argv[5]) if len(sys.argv) == 6 else 200000
    archive_id = str(uuid.uuid4())
    now = time.time()
    total = 0

    if kind == "many":
        members, lines, entries = many_entries(count)
    elif kind in FORGED:
        member = FORGED[kind]()
        members = lambda: [member]
        name = kind.split("-")[0]
        lines = lambda: [index_line(name, "file", b"short")]
        entries = 1
        total = 5
    else:
        listed = entries_for(kind, outside)
        members = lambda: [tar_member(tar_name, entry_type, content, link)
                           for tar_name, _, entry_type, content, link
                           in listed]
        lines = lambda: [index_line(index_name, entry_type, content)
                         for _, index_name, entry_type, content, _
                         in listed]
        entries = len(listed)
        total = sum(len(e[3]) for e in listed if e[2] == "file")

    directory = os.path.join(repo, "archives", job)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    path = os.path.join(directory, "%s-%s.tar.zst" % (stamp, archive_id))
    with open(path, "wb") as f:
        frames = FrameWriter(f)
        frames.frame(members())
        index = []
        for number, chunk in enumerate(index_chunks(lines()), 1):
            index.append(frames.frame([tar_member(
                ".cairn/index.part-%06d" % number, "file", chunk,
                mode=0o600)]))
        manifest = {
            "format": 1, "id": archive_id, "run": str(uuid.uuid4()),
            "job": job, "plugin": "volume", "plugin_version": "crafted",
            "host": "crafted", "cairn_version": "crafted",
            "started": rfc3339(now), "finished": rfc3339(now),
            "duration": 0, "bytes": total, "entries": entries,
            "compression": "zstd", "level": 3,
            "facts": {"paths": "/crafted"}, "warnings": [],
            "index": index,
        }
        text = json.dumps(manifest, indent=2).encode()
        manifest_offset = frames.frame([tar_member(
            ".cairn/manifest.json", "file", text, mode=0o600),
            b"\0" * 1024])
        f.write(struct.pack("<II8sQ", TRAILER_MAGIC, 16, b"CAIRNIX1",
                            manifest_offset))
    os.chmod(path, 0o600)
    print(archive_id)


if __name__ == "__main__":
    main()
