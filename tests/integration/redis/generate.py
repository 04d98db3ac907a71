#!/usr/bin/env python3
"""Writes the Redis protocol for a dataset of every type to stdout, for
`redis-cli --pipe`: binary strings (some with a time to live), integer and
long key names, small and big hashes, lists, sets (intsets, listpacks and
hash tables), sorted sets small and big, a stream with consumer groups and
pending entries, and keys in several databases. Deterministic for a given
--keys, so two runs give the same DEBUG DIGEST."""

import argparse
import random
import sys


def command(out, *args):
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, int):
            arg = str(arg).encode()
        elif isinstance(arg, str):
            arg = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    out.write(b"".join(parts))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=300000)
    args = parser.parse_args()
    rng = random.Random(42)
    out = sys.stdout.buffer
    n = args.keys
    share = {
        "string": n * 50 // 100,
        "hash": n * 12 // 100,
        "list": n * 10 // 100,
        "intset": n * 8 // 100,
        "set": n * 8 // 100,
        "zset": n * 10 // 100,
    }
    command(out, "SELECT", 0)
    for i in range(share["string"]):
        value = rng.randbytes(rng.choice((1, 8, 40, 200)))
        if i % 10 == 0:
            command(out, "SET", "s:%d" % i, value, "PX", 3600000 + i)
        elif i % 10 == 1:
            command(out, "SET", str(100000 + i), value)  # integer key name
        elif i % 10 == 2:
            command(out, "SET", ("long-key-name-" * 4) + str(i), value)
        else:
            command(out, "SET", b"bin:\x00\r\n%d" % i, value)
    for i in range(share["hash"]):
        size = 3 if i % 500 else 1000
        fields = []
        for f in range(size):
            fields += ["f%d" % f, rng.randbytes(8)]
        command(out, "HSET", "h:%d" % i, *fields)
    for i in range(share["list"]):
        size = 4 if i % 500 else 5000
        command(out, "RPUSH", "l:%d" % i,
                *[rng.randbytes(6) for _ in range(size)])
    for i in range(share["intset"]):
        command(out, "SADD", "is:%d" % i, *[rng.randrange(-10**9, 10**9)
                                            for _ in range(5)])
    for i in range(share["set"]):
        size = 5 if i % 500 else 2000
        command(out, "SADD", "ss:%d" % i,
                *["m%d" % rng.randrange(10**6) for _ in range(size)])
    for i in range(share["zset"]):
        size = 4 if i % 500 else 1000
        members = []
        for m in range(size):
            members += [repr(rng.uniform(-1e6, 1e6)), "z%d" % m]
        command(out, "ZADD", "z:%d" % i, *members)
    for i in range(10000):
        command(out, "XADD", "events", "%d-1" % (i + 1), "n", i,
                "payload", rng.randbytes(10))
    command(out, "XGROUP", "CREATE", "events", "readers", "0")
    command(out, "XGROUP", "CREATE", "events", "late", "5000-1")
    command(out, "XREADGROUP", "GROUP", "readers", "alice", "COUNT", 100,
            "STREAMS", "events", ">")
    command(out, "XREADGROUP", "GROUP", "readers", "bob", "COUNT", 50,
            "STREAMS", "events", ">")
    command(out, "XACK", "events", "readers", "1-1", "2-1")
    for db in (1, 3):
        command(out, "SELECT", db)
        for i in range(1000):
            command(out, "SET", "db%d:%d" % (db, i), rng.randbytes(16))
        command(out, "HSET", "db%d:hash" % db, "a", 1, "b", 2)
    command(out, "SELECT", 0)


if __name__ == "__main__":
    main()
