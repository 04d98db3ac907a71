#!/usr/bin/env python3
"""Writes the Redis protocol for COUNT session-like keys to stdout, for
`redis-cli --pipe`: JSON values of 80 to 400 bytes (user, merchant,
cart, timestamps), a third with a time to live, as a payment platform's
session and cache keys look. Deterministic for a given COUNT.

usage: gen_redis.py COUNT
"""

import random
import sys


def main():
    count = int(sys.argv[1])
    rng = random.Random(11)
    out = sys.stdout.buffer
    batch = []
    for i in range(count):
        value = ('{"user":"u-%07d","merchant":"m-%04d","cart":[%s],'
                 '"issued":%d,"ip":"10.%d.%d.%d","agent":"%s"}' % (
                     rng.randrange(10**7), rng.randrange(5000),
                     ",".join('{"sku":"%08x","qty":%d}' % (
                         rng.getrandbits(32), rng.randrange(1, 9))
                         for _ in range(rng.randrange(0, 8))),
                     1700000000 + rng.randrange(10**8), rng.randrange(256),
                     rng.randrange(256), rng.randrange(256),
                     rng.choice(("okhttp/4.9", "Mozilla/5.0 (X11; Linux)",
                                 "curl/7.88", "Go-http-client/1.1")))).encode()
        key = b"session:%d" % i
        if i % 3 == 0:
            batch.append(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                         b"$2\r\nEX\r\n$6\r\n864000\r\n" % (
                             len(key), key, len(value), value))
        else:
            batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
                len(key), key, len(value), value))
        if len(batch) == 10000:
            out.write(b"".join(batch))
            batch = []
    out.write(b"".join(batch))


if __name__ == "__main__":
    main()
