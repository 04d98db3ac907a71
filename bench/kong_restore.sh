#!/usr/bin/env bash
# A restore of a Kong gateway of ~7,000 entities into an empty Admin API
# (issue 12): the time it takes and the requests it sends, reads and
# writes, by kind; then the same restore again, which must write nothing.
# Runs against tests/kong-emulator (Kong cannot be installed here), so the
# time is cairn's and the emulator's together: a measure of the requests
# more than of Kong.
#
#   bench/kong_restore.sh [OUTPUT.md]
#
# prints the figures and writes them as a Markdown section to OUTPUT.md
# (bench/run.sh passes bench/kong-restore.md, which report.py puts into
# RESULTS.md). Each of KONG_BENCH_RUNS rounds (default 3) restores into
# a freshly started empty emulator, then again; the table gives the
# median time and every round's time, and the requests (the same each
# round). Environment: CAIRN and CAIRN_PLUGIN_DIR (default: the
# build/werror tree), KONG_BENCH_ENTITIES (default 7000).
set -u
bench=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$bench")
if [ -z "${CAIRN:-}" ]; then
	CAIRN=$top/build/werror/inst/bin/cairn
	CAIRN_PLUGIN_DIR=$top/build/werror/inst/lib/cairn/plugins
fi
export CAIRN CAIRN_PLUGIN_DIR
. "$top/tests/integration/lib.sh"

output=${1:-}
want=${KONG_BENCH_ENTITIES:-7000}
rounds=${KONG_BENCH_RUNS:-3}
kong_tool=$top/tests/kong-emulator/kong_tool.py
# The seeded platform holds 114 entities; each bulk consumer brings 4
# (itself, a key-auth credential, an ACL, a membership), the bulk group 1.
scale=$(((want - 115 + 3) / 4))

setup_scratch kong-bench
conf=$SCRATCH/cairn.conf

# requests LOG FROM: the requests of LOG after line FROM, by method and
# kind, as "reads writes kind=count..." on one line.
requests() {
	tail -n +"$(($2 + 1))" "$1" | python3 -c '
import collections, re, sys
reads, writes = collections.Counter(), collections.Counter()
for line in sys.stdin:
    m = re.search(r"\"([A-Z]+) ([^ ?]*)", line)
    if not m:
        continue
    parts = [p for p in m.group(2).split("/") if p]
    kind = parts[2] if len(parts) >= 3 else (parts[0] if parts else "/")
    if kind == "consumers" and parts[0] == "consumer_groups":
        kind = "memberships"
    (reads if m.group(1) == "GET" else writes)[kind] += 1
def show(c):
    return ", ".join("%s %d" % kv for kv in sorted(c.items())) or "none"
print("%d\t%d\t%s\t%s" % (sum(reads.values()), sum(writes.values()),
                          show(reads), show(writes)))'
}

start_kong source
source_url=$KONG_URL
python3 "$kong_tool" seed "$source_url" --scale "$scale" ||
	{ echo "bench: seeding failed" >&2; exit 1; }
entities=$(python3 "$kong_tool" count "$source_url")
cat >"$conf" <<EOF
[repository]
path = $SCRATCH/repo

[gateway]
plugin = kong
admin-url = $source_url
EOF
chmod 600 "$conf"
"$CAIRN" -c "$conf" backup gateway >/dev/null 2>"$SCRATCH/backup.err" ||
	{ cat "$SCRATCH/backup.err" >&2; exit 1; }

# restore NAME: one restore into node NAME, timed; appends "seconds
# reads writes reads-by-kind writes-by-kind" to $SCRATCH/NAME.runs.
restore() {
	local from start end reads writes by_read by_write
	from=$(wc -l <"$SCRATCH/$1.log")
	start=$EPOCHREALTIME
	/usr/bin/time -f "%U %S %M" -o "$SCRATCH/time.out" \
		"$CAIRN" -c "$conf" restore gateway:latest --to "$target_url" \
		>/dev/null 2>"$SCRATCH/restore.err" ||
		{ cat "$SCRATCH/restore.err" >&2; exit 1; }
	end=$EPOCHREALTIME
	read -r user sys rss < <(tail -n 1 "$SCRATCH/time.out")
	IFS=$'\t' read -r reads writes by_read by_write < <(requests "$SCRATCH/$1.log" "$from")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(python3 -c "print('%.2f' % ($end - $start))")" \
		"$reads" "$writes" "$by_read" "$by_write" \
		"$(python3 -c "print('%.2f' % ($user + $sys))")" "$rss" >>"$SCRATCH/$2.runs"
}

# row LABEL FILE: the table row of the rounds in FILE.
row() {
	python3 - "$1" "$2" <<'PY'
import statistics, sys
label, path = sys.argv[1], sys.argv[2]
rows = [line.rstrip("\n").split("\t") for line in open(path)]
times = [float(r[0]) for r in rows]
cpu = [float(r[5]) for r in rows]
rss = [int(r[6]) for r in rows]
first = rows[0]
print("| %s | %.2f (%s) | %.2f | %d | %d | %s | %s | %s | %s |" % (
    label, statistics.median(times), ", ".join("%.2f" % t for t in times),
    statistics.median(cpu), max(rss) // 1024,
    int(first[1]) + int(first[2]), first[1], first[2], first[3], first[4]))
PY
}

for round in $(seq "$rounds"); do
	start_kong "target-$round" --verbose
	target_url=$KONG_URL
	restore "target-$round" empty
	restore "target-$round" again
	kill "${server_pids[-1]}"
done

{
	echo "## Kong: a restore of $entities entities into an empty Admin API (issue 12)"
	echo
	echo "Written by \`bench/kong_restore.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'):"
	echo "the platform's gateway of \`tests/kong-emulator/kong_tool.py seed\`"
	echo "plus $scale bulk consumers (each with a key-auth credential, an ACL and"
	echo "a membership of one group), backed up, then, $rounds times, restored into"
	echo "a freshly started empty emulator and restored again. Requests counted"
	echo "from the emulator's log; time is the wall clock of \`cairn restore\`"
	echo "against the emulator (Python, same machine, load average $(cut -d' ' -f1 /proc/loadavg)"
	echo "when written), so it measures the requests and the machine as much as"
	echo "cairn; cairn's own CPU time is the steadier figure. Basic-auth"
	echo "credentials (2) are not written through the Admin API."
	echo
	echo "| run | seconds, median (each round) | cairn CPU s (user + sys, median) | cairn peak RSS MiB | requests | reads | writes | reads by kind | writes by kind |"
	echo "|---|---|---|---|---|---|---|---|---|"
	row "into the empty Admin API" "$SCRATCH/empty.runs"
	row "the same archive again" "$SCRATCH/again.runs"
} >"$SCRATCH/section.md"
cat "$SCRATCH/section.md"
[ -n "$output" ] && cp "$SCRATCH/section.md" "$output"
finish >/dev/null
