#!/usr/bin/env python3
"""Writes small archives for the seed corpus of fuzz_archive that a
backup of a directory does not make: an entry streamed in two parts (as
the postgres and redis plugins stream dumps), and the same archive with
compression "none" (a plain tar whose frames are plain offsets). Uses
the helpers of tests/integration/craft_archive.py.

usage: make_archive_seeds.py OUTDIR
"""

import hashlib
import io
import json
import os
import struct
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import craft_archive as craft  # noqa: E402


class PlainWriter:
    """The "frames" of an archive without compression: offsets only."""

    def __init__(self, f):
        self.f = f

    def frame(self, chunks):
        offset = self.f.tell()
        for chunk in chunks:
            self.f.write(chunk)
        return offset


def write(path, compressed):
    parts = [b"first part of a dump\n" * 3, b"second part\n"]
    whole = b"".join(parts)
    small = b"a small file\n"
    with open(path, "wb") as f:
        frames = craft.FrameWriter(f) if compressed else PlainWriter(f)
        dump_frame = frames.frame([
            craft.tar_member("dump.part-%06d" % (n + 1), "file", part,
                             mode=0o600)
            for n, part in enumerate(parts)])
        frames.frame([craft.tar_member("small", "file", small),
                      craft.tar_member("dir", "dir")])
        lines = [
            json.dumps({"name": "dump", "type": "file", "size": len(whole),
                        "sha256": hashlib.sha256(whole).hexdigest(),
                        "frame": dump_frame, "parts": len(parts)},
                       separators=(",", ":")).encode() + b"\n",
            craft.index_line("small", "file", small),
            craft.index_line("dir", "dir", b""),
        ]
        index = frames.frame([craft.tar_member(
            ".cairn/index.part-000001", "file", b"".join(lines),
            mode=0o600)])
        manifest = {
            "format": 1, "id": str(uuid.uuid4()), "run": str(uuid.uuid4()),
            "job": "seed", "plugin": "redis", "plugin_version": "seed",
            "host": "seed", "cairn_version": "seed",
            "started": "2026-01-01T00:00:00.000000Z",
            "finished": "2026-01-01T00:00:01.000000Z", "duration": 1,
            "bytes": len(whole) + len(small), "entries": 3,
            "compression": "zstd" if compressed else "none", "level": 3,
            "facts": {}, "warnings": [], "index": [index],
        }
        text = json.dumps(manifest).encode()
        manifest_offset = frames.frame([craft.tar_member(
            ".cairn/manifest.json", "file", text, mode=0o600),
            b"\0" * 1024])
        f.write(struct.pack("<II8sQ", craft.TRAILER_MAGIC, 16, b"CAIRNIX1",
                            manifest_offset))


def main():
    out = sys.argv[1]
    write(os.path.join(out, "parted.tar.zst"), True)
    write(os.path.join(out, "parted-plain.tar"), False)


if __name__ == "__main__":
    main()
