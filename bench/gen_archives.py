#!/usr/bin/env python3
"""Writes many distinct, real cairn archives from one that cairn wrote.

usage: gen_archives.py TEMPLATE REPO JOB COUNT (--every SECONDS | --times FILE)
       [--end UNIX_TIME]

A cairn archive ends with a zstd frame holding `.cairn/manifest.json`
(and the tar end marker), then a 24-byte skippable frame giving that
frame's offset (core/zstd_io.c, core/arc_writer.c). Every copy keeps
the template's data and index frames byte for byte and gets a manifest
frame of its own: a new archive id and run id, and start and finish
times moved to the copy's creation time (same text lengths, so the tar
header and every offset stay valid). The frame is compressed again with
libzstd (level 3, content checksum on), as cairn does. Each copy is thus
a complete archive that `cairn verify` accepts and that `cairn catalog
rebuild` adopts under its own id; it is written as
REPO/archives/JOB/STAMP-ID.tar.zst, the name cairn gives it.

Creation times are either every SECONDS back from --end (default: now),
or one UNIX time per line of FILE (COUNT is then the number of lines).
"""

import argparse
import calendar
import ctypes
import json
import os
import struct
import time
import uuid

zstd = ctypes.CDLL("libzstd.so.1")
zstd.ZSTD_isError.restype = ctypes.c_uint
zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]
zstd.ZSTD_decompress.restype = ctypes.c_size_t
zstd.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                                 ctypes.c_void_p, ctypes.c_size_t]
zstd.ZSTD_createCCtx.restype = ctypes.c_void_p
zstd.ZSTD_CCtx_setParameter.restype = ctypes.c_size_t
zstd.ZSTD_CCtx_setParameter.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                        ctypes.c_int]
zstd.ZSTD_compress2.restype = ctypes.c_size_t
zstd.ZSTD_compress2.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                ctypes.c_size_t, ctypes.c_void_p,
                                ctypes.c_size_t]
zstd.ZSTD_compressBound.restype = ctypes.c_size_t
zstd.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
ZSTD_c_compressionLevel = 100
ZSTD_c_checksumFlag = 201

cctx = zstd.ZSTD_createCCtx()
zstd.ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3)
zstd.ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)


def decompress(frame, limit=64 * 1024 * 1024):
    out = ctypes.create_string_buffer(limit)
    n = zstd.ZSTD_decompress(out, limit, frame, len(frame))
    if zstd.ZSTD_isError(n):
        raise SystemExit("cannot decompress the manifest frame")
    return out.raw[:n]


def compress(data):
    capacity = zstd.ZSTD_compressBound(len(data))
    out = ctypes.create_string_buffer(capacity)
    n = zstd.ZSTD_compress2(cctx, out, capacity, data, len(data))
    if zstd.ZSTD_isError(n):
        raise SystemExit("cannot compress")
    return out.raw[:n]


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))) + \
        ".%06dZ" % int((t - int(t)) * 1e6)


def parse(text):
    """Seconds since the epoch of an RFC 3339 UTC time with microseconds."""
    whole, fraction = text.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + \
        int(fraction) / 1e6


def main():
    p = argparse.ArgumentParser()
    p.add_argument("template")
    p.add_argument("repo")
    p.add_argument("job")
    p.add_argument("count", type=int)
    p.add_argument("--every", type=float)
    p.add_argument("--times")
    p.add_argument("--end", type=float, default=time.time())
    a = p.parse_args()

    blob = open(a.template, "rb").read()
    trailer = blob[-24:]
    magic, size, tag = struct.unpack("<II8s", trailer[:16])
    if magic != 0x184D2A50 or size != 16 or tag != b"CAIRNIX1":
        raise SystemExit("%s is not a cairn archive" % a.template)
    offset = struct.unpack("<Q", trailer[16:])[0]
    head, frame = blob[:offset], blob[offset:-24]
    plain = decompress(frame)
    start = plain.index(b"{")
    end = plain.index(b"\n}", start) + 2
    text = plain[start:end].decode()
    manifest = json.loads(text)
    if manifest["job"] != a.job:
        raise SystemExit("the template is of job %r" % manifest["job"])
    old_id, old_run = manifest["id"], manifest["run"]
    old_started, old_finished = manifest["started"], manifest["finished"]
    duration = parse(old_finished) - parse(old_started)

    if a.times:
        times = [float(line) for line in open(a.times) if line.strip()]
    else:
        times = [a.end - i * a.every for i in range(a.count)]
    directory = os.path.join(a.repo, "archives", a.job)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    for t in times:
        new_id, new_run = str(uuid.uuid4()), str(uuid.uuid4())
        started, finished = rfc3339(t), rfc3339(t + duration)
        new = text.replace(old_id, new_id).replace(old_run, new_run)
        new = new.replace('"started": "%s"' % old_started,
                          '"started": "%s"' % started)
        new = new.replace('"finished": "%s"' % old_finished,
                          '"finished": "%s"' % finished)
        if len(new) != len(text):
            raise SystemExit("manifest length changed")
        body = plain[:start] + new.encode() + plain[end:]
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(int(t)))
        path = os.path.join(directory, "%s-%s.tar.zst" % (stamp, new_id))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, head + compress(body) + trailer)
        os.close(fd)


if __name__ == "__main__":
    main()
