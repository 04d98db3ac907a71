#!/usr/bin/env python3
"""Writes the generated part of the benchmark's volume-like tree.

usage: gen_volume.py DIR SCALE

Under DIR it writes, for SCALE 1.0 (sizes and counts scale linearly):
  logs/      application and access logs, 600 MiB of text in 24 files
  csv/       ledger exports, 250 MiB of CSV in 10 files
  json/      event dumps, 200 MiB of JSON Lines in 8 files
  small/     50 000 small files (0.2 to 8 KiB of config, JSON, text)
             in 500 directories, a few symlinks and hard links
  sparse/    disk.img: 512 MiB long, 32 MiB of data in 16 extents

The binaries (copies of /usr/lib files) and the incompressible part
(/dev/urandom) are added by run.sh. The content is deterministic for a
given SCALE, varied enough that zstd -3 compresses it about as it
compresses real logs (4x to 8x), not the 100x of repeated lines.
"""

import json
import os
import random
import sys

MIB = 1024 * 1024


def words(rng, n):
    pool = ("payment", "merchant", "refund", "settlement", "customer",
            "wallet", "ledger", "kafka", "consumer", "partition", "offset",
            "timeout", "retry", "upstream", "route", "service", "token",
            "session", "invoice", "currency", "fraud", "score", "batch",
            "commit", "rollback", "checkpoint", "replica", "primary",
            "queue", "worker", "shard", "cache", "miss", "hit", "latency")
    return " ".join(rng.choice(pool) for _ in range(n))


def hexid(rng, n=16):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def ip(rng):
    return "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256),
                            rng.randrange(1, 255))


def stamp(t):
    s = int(t)
    day = 1 + (s // 86400) % 28
    return "2026-03-%02dT%02d:%02d:%02d.%03dZ" % (
        day, (s // 3600) % 24, (s // 60) % 60, s % 60, int(t * 1000) % 1000)


def log_line(rng, t):
    kind = rng.random()
    if kind < 0.55:
        return ('%s - - [%s] "%s /api/v1/%s/%s HTTP/1.1" %d %d %.3f "%s"\n'
                % (ip(rng), stamp(t), rng.choice(("GET", "POST", "PUT")),
                   rng.choice(("payments", "merchants", "refunds",
                               "wallets", "sessions")),
                   hexid(rng, 12), rng.choice((200, 200, 200, 201, 204,
                                               400, 404, 500, 502)),
                   rng.randrange(120, 90000), rng.random() * 2,
                   rng.choice(("okhttp/4.9.3", "curl/7.88.1",
                               "Go-http-client/1.1", "python-requests/2.31"))))
    level = rng.choice(("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"))
    return ("%s %-5s [%s-%d] %s: %s id=%s amount=%d.%02d trace=%s\n"
            % (stamp(t), level, rng.choice(("http", "kafka", "sched")),
               rng.randrange(64), rng.choice(("PaymentService",
                                              "LedgerWriter", "FraudCheck",
                                              "SettlementJob")),
               words(rng, rng.randrange(3, 12)), hexid(rng, 8),
               rng.randrange(100000), rng.randrange(100), hexid(rng)))


def csv_line(rng, i):
    return "%d,%s,%s,%d.%02d,%s,%s,%s,%d\n" % (
        i, hexid(rng, 12), rng.choice(("EUR", "USD", "GBP", "CHF")),
        rng.randrange(1000000), rng.randrange(100),
        rng.choice(("captured", "authorized", "refunded", "failed")),
        "2026-%02d-%02d" % (rng.randrange(1, 13), rng.randrange(1, 29)),
        "m-%04d" % rng.randrange(5000), rng.randrange(10))


def json_line(rng, i):
    return json.dumps({
        "id": i, "event": rng.choice(("payment.created", "payment.captured",
                                      "refund.requested", "wallet.topup")),
        "merchant": "m-%04d" % rng.randrange(5000),
        "amount": {"value": rng.randrange(1000000),
                   "currency": rng.choice(("EUR", "USD", "GBP"))},
        "customer": {"id": hexid(rng, 12), "ip": ip(rng),
                     "country": rng.choice(("DE", "FR", "NL", "GB", "US"))},
        "tags": [words(rng, 1) for _ in range(rng.randrange(4))],
        "note": words(rng, rng.randrange(0, 10)),
    }, separators=(",", ":")) + "\n"


def write_files(directory, prefix, count, total, make, rng):
    os.makedirs(directory, exist_ok=True)
    per_file = max(1, total // count)
    n = 0
    t = 1e6
    for f in range(count):
        parts, size = [], 0
        while size < per_file:
            if make is log_line:
                t += rng.random() * 0.05
                line = make(rng, t)
            else:
                n += 1
                line = make(rng, n)
            parts.append(line)
            size += len(line)
        with open(os.path.join(directory, "%s-%03d" % (prefix, f)), "w") as out:
            out.write("".join(parts))


def small_files(directory, count, rng):
    per_dir = 100
    for i in range(count):
        d = os.path.join(directory, "d%03d" % (i // per_dir))
        if i % per_dir == 0:
            os.makedirs(d, exist_ok=True)
        kind = i % 4
        size = rng.choice((200, 600, 1500, 4000, 8000))
        if kind == 0:
            name, text = "app-%d.conf" % i, "".join(
                "%s.%s = %s\n" % (words(rng, 1), words(rng, 1), hexid(rng, 8))
                for _ in range(size // 30 + 1))
        elif kind == 1:
            name, text = "event-%d.json" % i, json_line(rng, i) * (size // 300 + 1)
        elif kind == 2:
            name, text = "note-%d.txt" % i, words(rng, size // 7 + 1) + "\n"
        else:
            name, text = "row-%d.csv" % i, "".join(
                csv_line(rng, i * 100 + j) for j in range(size // 60 + 1))
        with open(os.path.join(d, name), "w") as out:
            out.write(text[:size])
    # A few links, as real volumes have.
    for i in range(0, min(count, 50 * per_dir), per_dir):
        d = os.path.join(directory, "d%03d" % (i // per_dir))
        os.symlink("app-%d.conf" % i, os.path.join(d, "current.conf"))
        os.link(os.path.join(d, "app-%d.conf" % i),
                os.path.join(d, "app-%d.conf.bak" % i))


def sparse_file(path, length, extents, extent_size, rng):
    with open(path, "wb") as out:
        out.truncate(length)
        step = length // extents
        for i in range(extents):
            out.seek(i * step + step // 3)
            block = "".join(log_line(rng, 1e6 + i * 1000 + j)
                            for j in range(extent_size // 100))
            out.write(block.encode()[:extent_size])


def main():
    directory, scale = sys.argv[1], float(sys.argv[2])
    rng = random.Random(7)
    write_files(os.path.join(directory, "logs"), "app.log", 24,
                int(600 * MIB * scale), log_line, rng)
    write_files(os.path.join(directory, "csv"), "ledger.csv", 10,
                int(250 * MIB * scale), csv_line, rng)
    write_files(os.path.join(directory, "json"), "events.jsonl", 8,
                int(200 * MIB * scale), json_line, rng)
    small_files(os.path.join(directory, "small"),
                max(100, int(50000 * scale)), rng)
    os.makedirs(os.path.join(directory, "sparse"), exist_ok=True)
    sparse_file(os.path.join(directory, "sparse", "disk.img"),
                max(16 * MIB, int(512 * MIB * scale)), 16,
                max(64 * 1024, int(2 * MIB * scale)), rng)


if __name__ == "__main__":
    main()
