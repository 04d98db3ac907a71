#!/usr/bin/env python3
"""Writes RDB snapshots in the encodings older Redis versions wrote, which
today's server no longer writes but still loads: the files an upgrade or
an old backup brings along.

Each file follows the layout of Redis' rdb.c (rdbSaveObject, rdbSaveLen,
rdbSaveRawString with its integer and LZF forms, the opcodes) and of the
encodings' own sources (ziplist.c, listpack.c, intset.c, zipmap.c,
t_stream.c), with the RDB version that introduced the encoding, and the
CRC-64 trailer from version 5 on:

  v2-zipmap-ziplist-intset   Redis 2.4 (RDB 2): zipmap hash, ziplist list,
                             intsets of 16, 32 and 64 bits, the plain
                             list, set, zset (scores as text) and hash
                             types, integer and LZF strings, an expiry in
                             seconds, two databases; no checksum
  v6-ziplists                Redis 2.6/2.8 (RDB 6): ziplist sorted set and
                             hash, expiry in milliseconds, checksum
  v7-quicklist               Redis 3.2 (RDB 7): quicklist of ziplists, aux
                             fields, RESIZEDB
  v8-zset2-lru               Redis 4.0 (RDB 8): binary-double sorted set,
                             IDLE and FREQ opcodes
  v9-stream                  Redis 5.0 (RDB 9): stream with deleted and
                             same-field entries, consumer groups, PELs
  v10-listpacks              Redis 7.0 (RDB 10): listpack hash and sorted
                             set, quicklist 2 of packed and plain nodes,
                             stream 2
  v10-empty-keys             empty aggregates in every encoding RDB 10
                             can hold, which Redis skips on load, beside
                             keys it keeps: quicklists with one empty node
                             among full or plain ones, an empty string
  v10-empty-intset           an intset of no member, which Redis' integrity
                             check calls corrupt: the load fails

usage: make_rdb.py DIR   (writes DIR/NAME.rdb for every NAME above)
Deterministic: the same bytes on every run.
"""

import os
import struct
import sys

# CRC-64 Jones, reflected, as Redis' crc64.c (check value e9c6d914c4b8d9ca).
_POLY = 0x95AC9329AC4BC9B5
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc64(data):
    crc = 0
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA

# Opcodes and types (rdb.h).
AUX, RESIZEDB, EXPIRETIME_MS, EXPIRETIME, SELECTDB, EOF = 250, 251, 252, 253, 254, 255
IDLE, FREQ = 248, 249
T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_ZSET_2 = 0, 1, 2, 3, 4, 5
T_HASH_ZIPMAP, T_LIST_ZIPLIST, T_SET_INTSET = 9, 10, 11
T_ZSET_ZIPLIST, T_HASH_ZIPLIST, T_LIST_QUICKLIST = 12, 13, 14
T_STREAM, T_HASH_LISTPACK, T_ZSET_LISTPACK = 15, 16, 17
T_LIST_QUICKLIST_2, T_STREAM_2 = 18, 19


def length(n):
    """rdbSaveLen: 6, 14, 32 or 64 bits, big-endian."""
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n < 1 << 32:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def lzf(data):
    """A valid LZF stream: runs of one repeated byte become back references
    to the byte before (what lzf_compress emits for them), the rest
    literal runs of up to 32 bytes."""
    out = bytearray()
    i = 0
    literal = bytearray()

    def flush():
        while literal:
            chunk = literal[:32]
            del literal[:32]
            out.append(len(chunk) - 1)
            out.extend(chunk)

    while i < len(data):
        run = 1
        while i + run < len(data) and data[i + run] == data[i] and run < 265:
            run += 1
        if run >= 4:
            literal.append(data[i])
            flush()
            copy = run - 1  # bytes copied from offset 1 back
            l = copy - 2
            if l < 7:
                out += bytes([l << 5, 0])
            else:
                out += bytes([7 << 5, l - 7, 0])
            i += run
        else:
            literal.append(data[i])
            i += 1
    flush()
    return bytes(out)


def string(s, compress=False):
    """rdbSaveRawString: integer forms for short decimal text, LZF when
    asked, else length and bytes."""
    if isinstance(s, str):
        s = s.encode()
    try:
        text = s.decode()
        v = int(text)
        if str(v) == text:
            if -(1 << 7) <= v < 1 << 7:
                return b"\xc0" + struct.pack("<b", v)
            if -(1 << 15) <= v < 1 << 15:
                return b"\xc1" + struct.pack("<h", v)
            if -(1 << 31) <= v < 1 << 31:
                return b"\xc2" + struct.pack("<i", v)
    except (UnicodeDecodeError, ValueError):
        pass
    if compress:
        c = lzf(s)
        return b"\xc3" + length(len(c)) + length(len(s)) + c
    return length(len(s)) + s


def double_text(v):
    """rdbSaveDoubleValue (the old ZSET type): a length byte and %.17g."""
    if v == float("inf"):
        return b"\xfe"
    if v == float("-inf"):
        return b"\xff"
    t = ("%.17g" % v).encode()
    return bytes([len(t)]) + t


# ziplist.c


def zl_entry(prevlen, value):
    head = bytes([prevlen]) if prevlen < 254 else b"\xfe" + struct.pack("<I", prevlen)
    if isinstance(value, int):
        if 0 <= value <= 12:
            body = bytes([0xF1 + value])
        elif -128 <= value < 128:
            body = b"\xfe" + struct.pack("<b", value)
        elif -(1 << 15) <= value < 1 << 15:
            body = b"\xc0" + struct.pack("<h", value)
        elif -(1 << 23) <= value < 1 << 23:
            body = b"\xf0" + struct.pack("<i", value)[:3]
        elif -(1 << 31) <= value < 1 << 31:
            body = b"\xd0" + struct.pack("<i", value)
        else:
            body = b"\xe0" + struct.pack("<q", value)
    else:
        value = value.encode() if isinstance(value, str) else value
        n = len(value)
        if n < 64:
            body = bytes([n]) + value
        elif n < 16384:
            body = bytes([0x40 | (n >> 8), n & 0xFF]) + value
        else:
            body = b"\x80" + struct.pack(">I", n) + value
    return head + body


def ziplist(values):
    entries = bytearray()
    prevlen = 0
    tail = 10
    for v in values:
        e = zl_entry(prevlen, v)
        tail = 10 + len(entries)
        entries += e
        prevlen = len(e)
    total = 10 + len(entries) + 1
    count = len(values) if len(values) < 0xFFFF else 0xFFFF
    return struct.pack("<IIH", total, tail, count) + bytes(entries) + b"\xff"


# listpack.c


def lp_backlen(n):
    if n <= 127:
        return bytes([n])
    if n < 16383:
        return bytes([n >> 7, (n & 127) | 128])
    raise ValueError("entry too long for this generator")


def lp_entry(value):
    if isinstance(value, int):
        if 0 <= value <= 127:
            body = bytes([value])
        elif -4096 <= value < 4096:
            u = value & 0x1FFF
            body = bytes([0xC0 | (u >> 8), u & 0xFF])
        elif -(1 << 15) <= value < 1 << 15:
            body = b"\xf1" + struct.pack("<h", value)
        elif -(1 << 23) <= value < 1 << 23:
            body = b"\xf2" + struct.pack("<i", value)[:3]
        elif -(1 << 31) <= value < 1 << 31:
            body = b"\xf3" + struct.pack("<i", value)
        else:
            body = b"\xf4" + struct.pack("<q", value)
    else:
        value = value.encode() if isinstance(value, str) else value
        n = len(value)
        if n < 64:
            body = bytes([0x80 | n]) + value
        elif n < 4096:
            body = bytes([0xE0 | (n >> 8), n & 0xFF]) + value
        else:
            body = b"\xf0" + struct.pack("<I", n) + value
    return body + lp_backlen(len(body))


def listpack(values):
    entries = b"".join(lp_entry(v) for v in values)
    count = len(values) if len(values) < 0xFFFF else 0xFFFF
    return struct.pack("<IH", 6 + len(entries) + 1, count) + entries + b"\xff"


# intset.c: encoding (2, 4 or 8 bytes), count, sorted little-endian values.


def intset(values, width):
    fmt = {2: "<h", 4: "<i", 8: "<q"}[width]
    body = b"".join(struct.pack(fmt, v) for v in sorted(values))
    return struct.pack("<II", width, len(values)) + body


# zipmap.c: count byte, then <len>key<len><free>value ..., 0xff.


def zipmap(pairs):
    out = bytearray([len(pairs) if len(pairs) < 254 else 254])
    for k, v in pairs:
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        assert len(k) < 254 and len(v) < 254
        out += bytes([len(k)]) + k + bytes([len(v), 0]) + v
    out.append(0xFF)
    return bytes(out)


# t_stream.c: listpack nodes of entries, with a master entry.


def stream_node(master_id, entries):
    """entries: (ms, seq, fields dict, deleted). The master fields are the
    first entry's; entries with the same fields are stored SAMEFIELDS."""
    master_fields = list(entries[0][2].keys())
    live = sum(1 for e in entries if not e[3])
    dead = len(entries) - live
    items = [live, dead, len(master_fields)] + master_fields + [0]
    for ms, seq, fields, deleted in entries:
        flags = 1 if deleted else 0
        same = list(fields.keys()) == master_fields
        if same:
            flags |= 2
        items += [flags, ms - master_id[0], seq - master_id[1]]
        if same:
            items += list(fields.values())
            items.append(len(fields) + 3)
        else:
            items.append(len(fields))
            for k, v in fields.items():
                items += [k, v]
            items.append(2 * len(fields) + 4)
    return struct.pack(">QQ", *master_id), listpack(items)


def stream_id(ms, seq):
    return struct.pack(">QQ", ms, seq)


def stream_value(version2):
    """A stream of two nodes: 5 entries, one deleted, one with other
    fields; one group with two pending entries owned by one consumer."""
    node1 = [
        (1700000000000, 0, {"temp": "21", "unit": "C"}, False),
        (1700000000000, 1, {"temp": "22", "unit": "C"}, False),
        (1700000000500, 0, {"temp": "19", "unit": "C"}, True),
    ]
    node2 = [
        (1700000001000, 0, {"temp": "23", "unit": "C"}, False),
        (1700000002000, 0, {"humidity": "40"}, False),
    ]
    out = bytearray(length(2))
    for node in (node1, node2):
        key, lp = stream_node((node[0][0], node[0][1]), node)
        out += string(key) + string(lp)
    out += length(4)  # entries alive
    out += length(1700000002000) + length(0)  # last id
    if version2:
        out += length(1700000000000) + length(0)  # first id
        out += length(1700000000500) + length(0)  # max deleted id
        out += length(5)  # entries added
    out += length(1)  # groups
    out += string("readers")
    out += length(1700000000000) + length(1)  # last delivered
    if version2:
        out += length(2)  # entries read
    pending = [(1700000000000, 0), (1700000000000, 1)]
    out += length(len(pending))
    for ms, seq in pending:
        out += stream_id(ms, seq) + struct.pack("<q", 1700000003000) + length(1)
    out += length(1)  # consumers
    out += string("alice") + struct.pack("<q", 1700000003000)
    out += length(len(pending))
    for ms, seq in pending:
        out += stream_id(ms, seq)
    return bytes(out)


class Rdb:
    def __init__(self, version):
        self.version = version
        self.data = bytearray(b"REDIS%04d" % version)

    def aux(self, key, value):
        self.data += bytes([AUX]) + string(key) + string(value)

    def select(self, db, keys=None, expires=0):
        self.data += bytes([SELECTDB]) + length(db)
        if keys is not None:
            self.data += bytes([RESIZEDB]) + length(keys) + length(expires)

    def key(self, type_, name, value, expire_ms=None, expire_s=None,
            idle=None, freq=None):
        if expire_ms is not None:
            self.data += bytes([EXPIRETIME_MS]) + struct.pack("<q", expire_ms)
        if expire_s is not None:
            self.data += bytes([EXPIRETIME]) + struct.pack("<i", expire_s)
        if idle is not None:
            self.data += bytes([IDLE]) + length(idle)
        if freq is not None:
            self.data += bytes([FREQ, freq])
        self.data += bytes([type_]) + string(name) + value

    def finish(self):
        self.data.append(EOF)
        if self.version >= 5:
            self.data += struct.pack("<Q", crc64(self.data))
        return bytes(self.data)


FUTURE_S = 2000000000  # 2033, within the 32 bits of EXPIRETIME
FUTURE_MS = 4102444800000  # 2100-01-01


def v2():
    r = Rdb(2)
    r.select(0)
    r.key(T_STRING, "plain", string("a string value"))
    r.key(T_STRING, "number", string("12345"))
    r.key(T_STRING, "big-number", string("3000000000"))
    r.key(T_STRING, "compressed", string(b"x" * 300 + b"tail", compress=True))
    r.key(T_STRING, "expiring", string("soon"), expire_s=FUTURE_S)
    r.key(T_HASH_ZIPMAP, "hash-zipmap",
          string(zipmap([("name", "cairn"), ("kind", "backup"), ("n", "7")])))
    r.key(T_LIST_ZIPLIST, "list-ziplist",
          string(ziplist(["head", 7, -100, 3000, 70000, 5000000000, "x" * 80, "tail"])))
    r.key(T_SET_INTSET, "intset-16", string(intset([1, 2, 3, -4, 300], 2)))
    r.key(T_SET_INTSET, "intset-32", string(intset([1, 70000, -70000], 4)))
    r.key(T_SET_INTSET, "intset-64", string(intset([1, 1 << 40], 8)))
    r.key(T_LIST, "list-plain", length(3) + string("a") + string("b") + string("42"))
    r.key(T_SET, "set-plain", length(3) + string("red") + string("green") + string("blue"))
    r.key(T_ZSET, "zset-text", length(4)
          + string("one") + double_text(1.0)
          + string("half") + double_text(0.5)
          + string("top") + double_text(float("inf"))
          + string("bottom") + double_text(float("-inf")))
    pairs = [("f%d" % i, "v%d" % i) for i in range(3)]
    r.key(T_HASH, "hash-plain", length(len(pairs))
          + b"".join(string(k) + string(v) for k, v in pairs))
    r.select(1)
    r.key(T_STRING, "in-db1", string("db one"))
    r.key(T_LIST_ZIPLIST, "list-db1", string(ziplist([1, 2, 3])))
    return r.finish()


def v6():
    r = Rdb(6)
    r.select(0)
    r.key(T_ZSET_ZIPLIST, "zset-ziplist",
          string(ziplist(["alpha", "1", "beta", "2.5", "gamma", 10, "delta", "-3"])))
    r.key(T_HASH_ZIPLIST, "hash-ziplist",
          string(ziplist(["name", "cairn", "count", 42, "big", 1 << 40, "long", "y" * 60])))
    r.key(T_LIST_ZIPLIST, "list-ziplist", string(ziplist(["a", "b", "c"])),
          expire_ms=FUTURE_MS)
    r.key(T_SET_INTSET, "intset", string(intset([5, 10, 15], 2)))
    r.key(T_STRING, "compressed", string(b"ab" + b"z" * 200, compress=True))
    return r.finish()


def v7():
    r = Rdb(7)
    r.aux("redis-ver", "3.2.12")
    r.aux("redis-bits", "64")
    r.select(0, 3, 1)
    nodes = [ziplist(["n%d-%d" % (n, i) for i in range(5)]) for n in range(3)]
    r.key(T_LIST_QUICKLIST, "list-quicklist",
          length(len(nodes)) + b"".join(string(n) for n in nodes))
    r.key(T_LIST_QUICKLIST, "list-quicklist-ints",
          length(1) + string(ziplist([1, 2, 300, -5, 1 << 33])), expire_ms=FUTURE_MS)
    r.key(T_HASH_ZIPLIST, "hash-ziplist", string(ziplist(["a", "1", "b", "2"])))
    return r.finish()


def v8():
    r = Rdb(8)
    r.aux("redis-ver", "4.0.14")
    r.select(0, 3, 0)
    members = [("m1", 1.5), ("m2", -2.25), ("m3", 1e100)]
    r.key(T_ZSET_2, "zset-binary", length(len(members))
          + b"".join(string(m) + struct.pack("<d", s) for m, s in members),
          idle=3600)
    r.key(T_STRING, "with-freq", string("lfu"), freq=5)
    nodes = [ziplist(["q%d" % i for i in range(4)])]
    r.key(T_LIST_QUICKLIST, "list-quicklist",
          length(len(nodes)) + b"".join(string(n) for n in nodes))
    return r.finish()


def v9():
    r = Rdb(9)
    r.aux("redis-ver", "5.0.14")
    r.select(0, 2, 0)
    r.key(T_STREAM, "stream-v1", stream_value(False))
    r.key(T_STRING, "plain", string("beside the stream"))
    return r.finish()


def v10():
    r = Rdb(10)
    r.aux("redis-ver", "7.0.15")
    r.select(0, 5, 0)
    r.key(T_HASH_LISTPACK, "hash-listpack",
          string(listpack(["name", "cairn", "n", 5, "neg", -3000, "big", 1 << 40,
                           "long", "w" * 100])))
    r.key(T_ZSET_LISTPACK, "zset-listpack",
          string(listpack(["low", "-1.5", "mid", 2, "high", "1000000"])))
    packed = listpack(["p%d" % i for i in range(3)] + [77])
    r.key(T_LIST_QUICKLIST_2, "list-quicklist2",
          length(3) + length(2) + string(packed)
          + length(1) + string(b"P" * 50)
          + length(2) + string(listpack(["last"])))
    r.key(T_STREAM_2, "stream-v2", stream_value(True))
    r.key(T_SET_INTSET, "intset", string(intset([7, 8, 9], 2)))
    return r.finish()


def v10_empty():
    r = Rdb(10)
    r.aux("redis-ver", "7.0.15")
    r.select(0)
    # Skipped by Redis.
    r.key(T_LIST, "empty-list", length(0))
    r.key(T_SET, "empty-set", length(0))
    r.key(T_ZSET, "empty-zset", length(0))
    r.key(T_ZSET_2, "empty-zset2", length(0))
    r.key(T_HASH, "empty-hash", length(0))
    r.key(T_LIST_ZIPLIST, "empty-list-ziplist", string(ziplist([])))
    r.key(T_ZSET_ZIPLIST, "empty-zset-ziplist", string(ziplist([])))
    r.key(T_HASH_ZIPLIST, "empty-hash-ziplist", string(ziplist([])))
    r.key(T_HASH_LISTPACK, "empty-hash-listpack", string(listpack([])))
    r.key(T_ZSET_LISTPACK, "empty-zset-listpack", string(listpack([])))
    r.key(T_LIST_QUICKLIST, "empty-quicklist", length(0))
    r.key(T_LIST_QUICKLIST, "empty-quicklist-nodes",
          length(2) + string(ziplist([])) + string(ziplist([])))
    r.key(T_LIST_QUICKLIST_2, "empty-quicklist2", length(0))
    r.key(T_LIST_QUICKLIST_2, "empty-quicklist2-nodes",
          length(1) + length(2) + string(listpack([])))
    r.select(2)
    r.key(T_HASH, "empty-in-db2", length(0), expire_ms=FUTURE_MS)
    # Kept by Redis.
    r.select(0)
    r.key(T_LIST_QUICKLIST, "quicklist-one-empty-node",
          length(2) + string(ziplist([])) + string(ziplist(["kept"])))
    r.key(T_LIST_QUICKLIST_2, "quicklist2-plain-node",
          length(2) + length(2) + string(listpack([])) + length(1) + string("plain"))
    r.key(T_STRING, "empty-string", string(""))
    r.key(T_STRING, "kept", string("a value"))
    return r.finish()


def v10_empty_intset():
    r = Rdb(10)
    r.select(0)
    r.key(T_STRING, "before", string("a value"))
    r.key(T_SET_INTSET, "empty-intset", string(intset([], 2)))
    return r.finish()


FILES = {
    "v2-zipmap-ziplist-intset": v2,
    "v6-ziplists": v6,
    "v7-quicklist": v7,
    "v8-zset2-lru": v8,
    "v9-stream": v9,
    "v10-listpacks": v10,
    "v10-empty-keys": v10_empty,
    "v10-empty-intset": v10_empty_intset,
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[-2])
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, make in FILES.items():
        with open(os.path.join(sys.argv[1], name + ".rdb"), "wb") as f:
            f.write(make())


if __name__ == "__main__":
    main()
