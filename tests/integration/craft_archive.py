#!/usr/bin/env python3
"""Writes a cairn archive by hand, harmless or hostile, into a repository.

The archive follows the format cairn writes (core/zstd_io.h,
core/manifest.h, core/archive_writer.c): a pax tar stream cut into zstd
frames with content checksums -- the entries, then a frame holding the
JSON Lines index `.cairn/index.part-000001`, then a frame holding
`.cairn/manifest.json` and the tar end marker -- followed by a 24-byte
skippable frame that gives the manifest frame's offset:

    50 2A 4D 18 | 10 00 00 00 | "CAIRNIX1" | offset (64-bit LE)

Checksums, index and manifest are all correct, so the only thing wrong
with a hostile archive is what its entries would do on restore. It is
written as REPO/archives/JOB/STAMP-ID.tar.zst, where cairn finds it
although the catalogue does not list it, and its id is printed.

usage: craft_archive.py REPO JOB KIND OUTSIDE

KIND is one of:
  plain             two files and a directory: restores fine
  dotdot            a file named ../escape
  absolute          a file named OUTSIDE/absolute (an absolute path)
  symlink           a symlink evil -> OUTSIDE, then a file evil/planted
  symlink-relative  a symlink evil -> ../outside, then evil/planted
  hardlink          a hard link to ../outside/victim
  mismatch          the index says "innocent", the tar header ../escape
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
    header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    padding = (512 - len(data) % 512) % 512
    return header + data + b"\0" * padding


def zstd_frame(data):
    """One zstd frame with a content checksum, by the stock zstd tool."""
    return subprocess.run(["zstd", "-q", "-c", "-3", "--check", "-T1"],
                          input=data, stdout=subprocess.PIPE,
                          check=True).stdout


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
    raise SystemExit("unknown kind '%s'" % kind)


def rfc3339(when):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(when))


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    repo, job, kind, outside = sys.argv[1:]
    archive_id = str(uuid.uuid4())
    now = time.time()

    data_frame = io.BytesIO()
    index = io.BytesIO()
    total = 0
    for tar_name, index_name, entry_type, content, link in \
            entries_for(kind, outside):
        data_frame.write(tar_member(tar_name, entry_type, content, link))
        record = {"name": index_name, "type": entry_type,
                  "size": len(content) if entry_type == "file" else 0,
                  "frame": 0}
        if entry_type == "file":
            record["sha256"] = hashlib.sha256(content).hexdigest()
            total += len(content)
        index.write(json.dumps(record, separators=(",", ":")).encode())
        index.write(b"\n")
    count = len(entries_for(kind, outside))

    first = zstd_frame(data_frame.getvalue())
    index_offset = len(first)
    second = zstd_frame(tar_member(".cairn/index.part-000001", "file",
                                   index.getvalue(), mode=0o600))
    manifest_offset = index_offset + len(second)
    manifest = {
        "format": 1, "id": archive_id, "run": str(uuid.uuid4()),
        "job": job, "plugin": "volume", "plugin_version": "crafted",
        "host": "crafted", "cairn_version": "crafted",
        "started": rfc3339(now), "finished": rfc3339(now),
        "duration": 0, "bytes": total, "entries": count,
        "compression": "zstd", "level": 3,
        "facts": {"paths": "/crafted"}, "warnings": [],
        "index": [index_offset],
    }
    text = json.dumps(manifest, indent=2).encode()
    third = zstd_frame(tar_member(".cairn/manifest.json", "file", text,
                                  mode=0o600) + b"\0" * 1024)
    trailer = struct.pack("<II8sQ", TRAILER_MAGIC, 16, b"CAIRNIX1",
                          manifest_offset)

    directory = os.path.join(repo, "archives", job)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    path = os.path.join(directory, "%s-%s.tar.zst" % (stamp, archive_id))
    with open(path, "wb") as f:
        f.write(first + second + third + trailer)
    os.chmod(path, 0o600)
    print(archive_id)


if __name__ == "__main__":
    main()
