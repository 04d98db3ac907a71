#!/usr/bin/env python3
"""Turns the benchmark's raw runs into bench/RESULTS.md.

usage: report.py --results TSV --commands TSV --facts TSV --retention FILE
                 --analysis FILE --out FILE

results: group, label, run, seconds, rss_kib, user, sys, bytes per run;
commands: group, label, command line; facts: key, value (machine,
versions, data). The analysis file (written by hand after profiling) is
included as it stands.
"""

import argparse
import datetime
import os
import re
import statistics

MIB = 1024 * 1024

# (group, cairn label, peer label, what, limit, wording of the target)
TARGETS = [
    ("volume", "cairn backup", "tar -cf - | zstd -3 -T0", "time", 0.9,
     "volume backup time <= 0.9x tar | zstd -3 -T0"),
    ("volume", "cairn backup", "tar -cf - | zstd -3 -T0", "bytes", 1.01,
     "archive size within 1 % of tar | zstd -3 -T0"),
    ("volume", "cairn backup", "restic backup (first)", "time", 0.4,
     "volume backup time <= 0.4x restic's first backup"),
    ("restore", "cairn restore", "zstd -dc | tar -xf -", "time", 0.7,
     "volume restore time <= 0.7x zstd -dc | tar -xf -"),
    ("verify", "cairn verify", "zstd -t", "time", 1 / 0.9,
     "verify speed >= 0.9x zstd -t (time <= 1.11x)"),
    ("postgres", "cairn backup, jobs = 2", "pg_dumpall | zstd -3 -T0", "time",
     0.7, "PostgreSQL backup (jobs = 2) <= 0.7x pg_dumpall | zstd -3 -T0"),
    ("redis", "cairn backup (BGSAVE)", "BGSAVE + cp + zstd -3 -T0", "time",
     1.0, "Redis backup <= 1.0x BGSAVE + cp + zstd -3 -T0"),
    ("redis", "cairn backup (rdb-path = remote)",
     "redis-cli --rdb + zstd -3 -T0", "time", 1.0,
     "Redis replication path <= 1.0x redis-cli --rdb + zstd -3 -T0"),
]
# Other comparisons worth a ratio, without a target.
OTHER = [
    ("volume", "cairn backup", "tar -cf - | zstd -3 -T0, then sync"),
    ("restore-tmpfs", "cairn restore", "zstd -dc | tar -xf -"),
    ("volume", "cairn backup", "zstd -3 -T0 of the tar in /dev/shm (ceiling)"),
    ("volume", "cairn backup", "tar -S -cf - | zstd -3 -T0"),
    ("volume", "cairn backup", "tar -czf"),
    ("volume", "cairn backup", "borg create --compression zstd,3 (first)"),
    ("postgres", "cairn backup, jobs = 1", "pg_dumpall | zstd -3 -T0"),
    ("postgres", "cairn backup, jobs = 2",
     "pg_dump -Fc per database, 2 in parallel"),
    ("pg-restore", "cairn restore --only pgbench",
     "pg_restore -C (pgbench, pg_dump -Fc)"),
    ("pg-restore", "cairn restore (all)", "zstd -dc dumpall | psql -f - (all)"),
]
# Issue 17's targets: (key, group, cairn label, peer label, limit, wording,
# the profiles in bench/profile/ that show where the time goes).
TARGETS_17 = [
    ("backup", "volume", "cairn backup", "tar -cf - | zstd -3 -T0, then sync",
     0.9, "backup time <= 0.9x tar -cf - | zstd -3 -T0, then fsync",
     ["backup", "tar-zstd"]),
    ("restore-tmpfs", "restore-tmpfs", "cairn restore", "zstd -dc | tar -xf -",
     0.7, "restore into tmpfs <= 0.7x zstd -dc | tar -xf -",
     ["restore-tmpfs", "zstd-dc-tar-tmpfs"]),
    ("restore-ext4", "restore", "cairn restore", "zstd -dc | tar -xf -",
     0.8, "restore onto ext4 <= 0.8x zstd -dc | tar -xf -",
     ["restore", "zstd-dc-tar"]),
    ("verify", "verify", "cairn verify", "zstd -t", 1.0,
     "verify time <= 1.0x zstd -t", ["verify", "zstd-t"]),
]
CATALOG_LIMITS = {"cairn list": 0.1, "cairn prune --dry-run": 1.0}
RSS_LIMIT_MIB = 64


def load_tsv(path):
    rows = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def load_pairs(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if "\t" in line:
                key, value = line.rstrip("\n").split("\t", 1)
                out[key] = value
    return out


class Case:
    def __init__(self):
        self.seconds, self.rss, self.bytes, self.cpu = [], [], [], []
        self.failed = 0

    def median(self, what):
        values = getattr(self, what)
        return statistics.median(values) if values else None


def gather(rows):
    cases, order = {}, []
    for r in rows:
        key = (r["group"], r["label"])
        if key not in cases:
            cases[key] = Case()
            order.append(key)
        c = cases[key]
        if r["seconds"] == "failed":
            c.failed += 1
            continue
        c.seconds.append(float(r["seconds"]))
        c.rss.append(int(r["rss_kib"]))
        c.bytes.append(int(r["bytes"] or 0))
        c.cpu.append(float(r["user"]) + float(r["sys"]))
    return cases, order


def md(text):
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|")


def fmt_s(x):
    if x is None:
        return "-"
    return "%.3f" % x if x < 10 else "%.2f" % x


def fmt_mib(kib):
    return "-" if kib is None else "%.0f" % (kib / 1024)


def fmt_bytes(b):
    if not b:
        return "-"
    return "%.1f MiB" % (b / MIB)


def sections(path):
    """The '## KEY' sections of a Markdown file, by key."""
    out, key = {}, None
    if path and os.path.exists(path):
        for line in open(path):
            if line.startswith("## "):
                key = line[3:].strip()
                out[key] = []
            elif key is not None:
                out[key].append(line)
    return {k: "".join(v).strip() for k, v in out.items()}


def profile_excerpt(w, directory, name):
    """The thread and shared-object parts of a profile, and its system
    calls, as written by bench/profile.sh."""
    for suffix, stop in (("", "# CPU by function"), ("-syscalls", None)):
        path = os.path.join(directory, name + suffix + ".txt")
        if not os.path.exists(path):
            continue
        w("```")
        for line in open(path):
            if stop and line.startswith(stop):
                break
            w(line.rstrip())
        w("```")


def age_ratios(path):
    """Case -> (encrypted/plain ratio of medians, RSS difference, ratio of
    the fastest runs or None), from bench/age.sh's table (the tables of
    older runs have no fastest column)."""
    out = {}
    if path and os.path.exists(path):
        for line in open(path):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) in (11, 12) and cells[0] in ("backup", "restore",
                                                       "verify"):
                fastest = float(cells[5]) if len(cells) == 12 else None
                out[cells[0]] = (float(cells[3]), cells[-1], fastest)
    return out


def issue_17(w, cases, profiles, obstacles, ages):
    """The targets of issue 17: met, or missed by how much, what stands in
    the way and the profile that shows it."""
    why = sections(obstacles)
    rows, missed = [], []
    for key, group, mine, peer, limit, text, names in TARGETS_17:
        c, q = cases.get((group, mine)), cases.get((group, peer))
        if c is None or q is None or not c.seconds or not q.seconds:
            rows.append("| %s | not run | | | | | |" % md(text))
            continue
        ratio = c.median("seconds") / q.median("seconds")
        cpu = c.median("cpu") / q.median("cpu") if q.median("cpu") else 0
        met = ratio <= limit
        rows.append("| %s | %s s | %s s | %.2f | %.2f | %s | %.2f |" % (
            md(text), fmt_s(c.median("seconds")), fmt_s(q.median("seconds")),
            ratio, limit, "yes" if met else "**no**, by %.2f" % (ratio - limit),
            cpu))
        if not met:
            missed.append((key, text, ratio, limit, names))
    size_c = cases.get(("volume", "cairn backup"))
    size_q = cases.get(("volume", "tar -cf - | zstd -3 -T0"))
    if size_c and size_q and size_c.bytes and size_q.bytes:
        ratio = size_c.median("bytes") / size_q.median("bytes")
        rows.append("| archive size within 1 %% of tar \\| zstd -3 -T0 | %s | %s "
                    "| %.4f | 1.01 | %s | |" % (
                        fmt_bytes(size_c.median("bytes")),
                        fmt_bytes(size_q.median("bytes")), ratio,
                        "yes" if ratio <= 1.01 else "**no**"))
    backups = [c for (g, label), c in cases.items()
               if label.startswith("cairn backup") and g in ("volume", "rss")
               and c.rss]
    if backups:
        worst = max(c.median("rss") for c in backups)
        rows.append("| backup peak RSS <= %d MiB | %s MiB | | | %d MiB | %s | |"
                    % (RSS_LIMIT_MIB, fmt_mib(worst), RSS_LIMIT_MIB,
                       "yes" if worst <= RSS_LIMIT_MIB * 1024 else "**no**"))
    one = cases.get(("rss", "cairn backup, 1g source"))
    ten = cases.get(("rss", "cairn backup, 10g source"))
    if one and ten and one.rss and ten.rss:
        ratio = ten.median("rss") / one.median("rss")
        rows.append("| backup memory flat from 1 GiB to 10 GiB | %s MiB | "
                    "%s MiB | %.2f | 1.05 | %s | |" % (
                        fmt_mib(one.median("rss")), fmt_mib(ten.median("rss")),
                        ratio, "yes" if ratio <= 1.05 else "**no**"))
        if ratio > 1.05:
            missed.append(("memory-flat", "backup memory flat from 1 GiB to "
                           "10 GiB (peak RSS)", ratio, 1.05, []))
    for case, (ratio, rss, fastest) in sorted(ages.items()):
        met = ratio <= 1.05
        extra = "" if fastest is None else "; fastest runs %.3f" % fastest
        rows.append("| encrypted %s within 5 %% of plain (RSS %s%s) | | | "
                    "%.3f | 1.05 | %s | |" %
                    (case, rss, extra, ratio, "yes" if met else
                     "**no**, by %.3f" % (ratio - 1.05)))
        if not met:
            missed.append(("encrypted", "encrypted %s within 5 %% of plain"
                           % case, ratio, 1.05, []))
    w("## Summary against the targets of issue 17\n")
    w("Wall-clock medians of this run; the last column is the ratio of CPU "
      "seconds. The memory rows compare the 1 GiB source (cairn) with the "
      "10 GiB one (peer column).\n")
    w("| target | cairn | peer | ratio | limit | met | CPU ratio |")
    w("|---|---|---|---|---|---|---|")
    for row in rows:
        w(row)
    w("")
    explained = set()
    for key, text, ratio, limit, names in missed:
        digits = 3 if key == "encrypted" else 2
        w("### Missed: %s (%.*f, by %.*f)\n" % (text, digits, ratio, digits,
                                                ratio - limit))
        if key in explained:
            w("As above.\n")
            continue
        explained.add(key)
        w(why.get(key, "(no analysis written for this target: "
                  "bench/obstacles.md, section '%s')" % key) + "\n")
        present = [n for n in names if profiles and
                   os.path.exists(os.path.join(profiles, n + ".txt"))]
        if present:
            w("The profiles of this run (`bench/profile.sh`): %s.\n" %
              ", then ".join("`%s`" % n for n in present))
            for name in present:
                profile_excerpt(w, profiles, name)
            w("")


def main():
    p = argparse.ArgumentParser()
    for name in ("results", "commands", "facts", "retention", "analysis",
                 "out"):
        p.add_argument("--" + name, required=True)
    # Sections written whole by another bench script (bench/kong_restore.sh).
    p.add_argument("--section", action="append", default=[])
    # Profiles (bench/profile.sh) and the hand-written reasons of a miss.
    p.add_argument("--profiles", default="")
    p.add_argument("--obstacles", default="")
    # bench/age.sh's table: encrypted against plain archives.
    p.add_argument("--age", default="")
    a = p.parse_args()
    rows = load_tsv(a.results)
    cases, order = gather(rows)
    facts = load_pairs(a.facts)
    commands = {}
    if os.path.exists(a.commands):
        for line in open(a.commands):
            g, l, c = line.rstrip("\n").split("\t", 2)
            commands[(g, l)] = c
    out = []
    w = out.append

    w("# cairn benchmark results (issue 7)\n")
    w("Written by `bench/run.sh` on %s UTC; scale %s (`BENCH_SCALE`), %s "
      "runs of each case (`BENCH_RUNS`), cairn and its peers alternating "
      "within each round. Times are wall-clock medians; peak RSS is "
      "`/usr/bin/time`'s maximum resident set of the largest process "
      "(for a shell pipeline, its biggest member). Page cache: backups "
      "read a warm cache (the tree is read once before the first round); "
      "restores and verifies start from a dropped cache%s.\n" % (
          facts.get("date") or
          datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"),
          facts.get("scale", "?"), facts.get("runs", "?"),
          "" if facts.get("drop_caches") == "1"
          else " (**not permitted here: warm cache**)"))

    w("## Machine\n")
    w("| | |\n|---|---|")
    for key, name in (("nproc", "cores"), ("cpu", "CPU"),
                      ("cpu_flags", "CPU flags of note"),
                      ("memory", "memory"), ("disk", "disk"),
                      ("kernel", "kernel"), ("os", "system")):
        w("| %s | %s |" % (name, facts.get(key, "?")))
    w("")
    w("## Versions\n")
    w("| tool | version |\n|---|---|")
    for key in sorted(k for k in facts if k.startswith("v_")):
        w("| %s | %s |" % (key[2:], facts[key]))
    w("")
    w("## Data\n")
    for key, name in (
            ("volume_apparent", "volume tree, apparent bytes"),
            ("volume_disk", "volume tree, bytes on disk"),
            ("volume_files", "volume tree, names"),
            ("volume_sparse", "sparse file"),
            ("volume_cairn_entries", "cairn archive of it"),
            ("ceiling_tar_bytes", "the tar held in /dev/shm, bytes"),
            ("verify_archive_bytes", "cairn archive verified, bytes"),
            ("pg_cluster", "PostgreSQL cluster"),
            ("redis_keys", "Redis keyspace"),
            ("redis_rdb", "Redis snapshot"),
            ("catalog_archives", "catalogue, archives"),
            ("catalog_rebuild_seconds",
             "`catalog rebuild` of the 10 000 archives, seconds (once)"),
            ("catalog_prune_plan", "prune plan of the 10 000"),
            ("rss_sources", "RSS sources"),
            ("sparse_cairn", "sparse file restored by cairn"),
            ("sparse_tar", "sparse file restored by zstd -dc | tar -x")):
        if key in facts:
            w("- %s: %s" % (name, facts[key]))
    w("")

    w("## Summary against the targets of issue 7\n")
    w("The last column is the ratio of CPU seconds (user + system, every "
      "process and thread), less sensitive than wall-clock time to other "
      "work on the machine.\n")
    w("| target | cairn | peer | ratio cairn/peer | limit | met | CPU ratio |")
    w("|---|---|---|---|---|---|---|")
    for group, mine, peer, what, limit, text in TARGETS:
        c, q = cases.get((group, mine)), cases.get((group, peer))
        if c is None or q is None or not c.seconds or not q.seconds:
            w("| %s | not run | | | | | |" % md(text))
            continue
        if what == "time":
            x, y = c.median("seconds"), q.median("seconds")
            cv, qv = fmt_s(x) + " s", fmt_s(y) + " s"
        else:
            x, y = c.median("bytes"), q.median("bytes")
            cv, qv = fmt_bytes(x), fmt_bytes(y)
        ratio = x / y if y else float("inf")
        cpu = "%.2f" % (c.median("cpu") / q.median("cpu")) \
            if what == "time" and q.median("cpu") else ""
        w("| %s | %s | %s | %.2f | %.2f | %s | %s |" % (
            md(text), cv, qv, ratio, limit,
            "yes" if ratio <= limit else "**no**", cpu))
    rss_rows = [(k, c) for k, c in cases.items()
                if k[1].startswith("cairn") and c.rss]
    if rss_rows:
        worst = max(rss_rows, key=lambda kc: kc[1].median("rss"))
        w("| peak RSS <= %d MiB (every cairn case, median) | %s MiB (%s / %s) "
          "| | | %d MiB | %s | |" % (
              RSS_LIMIT_MIB, fmt_mib(worst[1].median("rss")), worst[0][0],
              worst[0][1], RSS_LIMIT_MIB,
              "yes" if worst[1].median("rss") <= RSS_LIMIT_MIB * 1024
              else "**no**"))
    one = cases.get(("rss", "cairn backup, 1g source"))
    ten = cases.get(("rss", "cairn backup, 10g source"))
    if one and ten and one.rss and ten.rss:
        w("| backup peak RSS the same for 1 GiB and 10 GiB | %s MiB / %s MiB "
          "| | %.2f | 1.00 (+5 %%) | %s | |" % (
              fmt_mib(one.median("rss")), fmt_mib(ten.median("rss")),
              ten.median("rss") / one.median("rss"),
              "yes" if ten.median("rss") <= one.median("rss") * 1.05
              else "**no**"))
    for label, limit in CATALOG_LIMITS.items():
        c = cases.get(("catalog", label))
        if c and c.seconds:
            w("| `%s` of 10 000 archives <= %g s | %s s | | | %g s | %s | |" % (
                label[6:], limit, fmt_s(c.median("seconds")), limit,
                "yes" if c.median("seconds") <= limit else "**no**"))
    w("")

    issue_17(w, cases, a.profiles, a.obstacles, age_ratios(a.age))

    w("## Other ratios (no target)\n")
    w("| cairn | peer | cairn | peer | ratio | CPU ratio |\n|---|---|---|---|---|---|")
    for group, mine, peer in OTHER:
        c, q = cases.get((group, mine)), cases.get((group, peer))
        if c and q and c.seconds and q.seconds:
            w("| %s | %s | %s s | %s s | %.2f | %s |" % (
                md(mine), md(peer), fmt_s(c.median("seconds")),
                fmt_s(q.median("seconds")),
                c.median("seconds") / q.median("seconds"),
                "%.2f" % (c.median("cpu") / q.median("cpu"))
                if q.median("cpu") else "-"))
    w("")

    w("## All cases\n")
    w("Median, fastest and slowest wall-clock seconds, median CPU seconds "
      "(user + system, all processes), median peak RSS, median output "
      "size.\n")
    current = None
    for key in order:
        group, label = key
        c = cases[key]
        if group != current:
            current = group
            w("\n### %s\n" % group)
            w("| case | runs | median s | min s | max s | CPU s | peak RSS MiB "
              "| output |")
            w("|---|---|---|---|---|---|---|---|")
        if not c.seconds:
            w("| %s | %d failed | | | | | | |" % (md(label), c.failed))
            continue
        w("| %s | %d%s | %s | %s | %s | %s | %s | %s |" % (
            md(label), len(c.seconds), " (+%d failed)" % c.failed if c.failed else "",
            fmt_s(c.median("seconds")), fmt_s(min(c.seconds)),
            fmt_s(max(c.seconds)), fmt_s(c.median("cpu")),
            fmt_mib(c.median("rss")), fmt_bytes(c.median("bytes"))))
    w("")

    if os.path.exists(a.retention):
        w("## Retention: a prune plan of ~60 archives over 18 months (issue 3)\n")
        w("Real archives (one cairn archive copied with new ids and creation "
          "times, `bench/gen_archives.py`), adopted by `cairn catalog "
          "rebuild`; policy `keep-last 3, keep-daily 7, keep-weekly 4, "
          "keep-monthly 12, keep-yearly 2`; output of `cairn prune "
          "--dry-run`:\n")
        w("```")
        w(open(a.retention).read().rstrip())
        w("```\n")
        c = cases.get(("catalog", "cairn prune --dry-run"))
        if c and c.seconds:
            w("`prune --dry-run` on the catalogue of 10 000 archives: median "
              "%s s (%d runs).\n" % (fmt_s(c.median("seconds")),
                                     len(c.seconds)))

    for section in a.section:
        if os.path.exists(section):
            w(open(section).read().rstrip() + "\n")

    w("## Commands\n")
    w("Exactly as run (`WORK` is the run's scratch directory, `DATA` the "
      "cached data).\n")
    w("| case | command |\n|---|---|")
    for (g, l), cmd in commands.items():
        w("| %s / %s | `%s` |" % (md(g), md(l), md(cmd)))
    w("")

    if os.path.exists(a.analysis):
        w(open(a.analysis).read().rstrip() + "\n")

    # Keep the inputs next to the report, so it can be written again.
    here = os.path.dirname(os.path.abspath(a.out))
    for source, name in ((a.facts, "facts.tsv"), (a.commands, "commands.tsv")):
        target = os.path.join(here, name)
        if os.path.exists(source) and \
                os.path.abspath(source) != os.path.abspath(target):
            with open(source) as f, open(target, "w") as g:
                g.write(f.read())
    text = "\n".join(out) + "\n"
    # The run's scratch directory (setup_scratch names it cairn-run.*).
    for work in set(re.findall(r"/[^\s'\"]*/cairn-run\.\w+", text)):
        text = text.replace(work, "WORK")
    if facts.get("data_dir"):
        text = text.replace(facts["data_dir"], "DATA")
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
