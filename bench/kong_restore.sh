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
# RESULTS.md). Environment: CAIRN and CAIRN_PLUGIN_DIR (default: the
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
emulator=$top/tests/kong-emulator/kong_emulator.py
kong_tool=$top/tests/kong-emulator/kong_tool.py
# The seeded platform holds 114 entities; each bulk consumer brings 4
# (itself, a key-auth credential, an ACL, a membership), the bulk group 1.
scale=$(((want - 115 + 3) / 4))

setup_scratch kong-bench
conf=$SCRATCH/cairn.conf

# start_kong NAME [emulator arguments]: sets KONG_URL.
start_kong() {
	local name=$1 tries=200
	shift
	python3 "$emulator" --port 0 "$@" >"$SCRATCH/$name.port" \
		2>"$SCRATCH/$name.log" &
	server_pids+=("$!")
	while ! grep -q '^[0-9][0-9]*$' "$SCRATCH/$name.port" 2>/dev/null &&
		[ "$tries" -gt 0 ]; do
		sleep 0.05
		tries=$((tries - 1))
	done
	KONG_URL=http://127.0.0.1:$(head -n 1 "$SCRATCH/$name.port")
}

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
start_kong target --verbose
target_url=$KONG_URL
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

# run LABEL: one restore into the target, timed, with its requests.
run() {
	local from start end
	from=$(wc -l <"$SCRATCH/target.log")
	start=$EPOCHREALTIME
	"$CAIRN" -c "$conf" restore gateway:latest --to "$target_url" \
		>/dev/null 2>"$SCRATCH/restore.err" ||
		{ cat "$SCRATCH/restore.err" >&2; exit 1; }
	end=$EPOCHREALTIME
	IFS=$'\t' read -r reads writes by_read by_write < <(requests "$SCRATCH/target.log" "$from")
	seconds=$(python3 -c "print('%.2f' % ($end - $start))")
	printf '| %s | %s | %d | %d | %d | %s | %s |\n' "$1" "$seconds" \
		"$((reads + writes))" "$reads" "$writes" "$by_read" "$by_write"
}

{
	echo "## Kong: a restore of $entities entities into an empty Admin API (issue 12)"
	echo
	echo "Written by \`bench/kong_restore.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'):"
	echo "the platform's gateway of \`tests/kong-emulator/kong_tool.py seed\`"
	echo "plus $scale bulk consumers (each with a key-auth credential, an ACL and"
	echo "a membership of one group), backed up, then restored into an empty"
	echo "emulator and restored again. Requests counted from the emulator's log;"
	echo "time is wall-clock of \`cairn restore\` against the emulator (Python,"
	echo "same machine), so it measures the requests as much as cairn."
	echo "Basic-auth credentials (2) are not written through the Admin API."
	echo
	echo "| run | seconds | requests | reads | writes | reads by kind | writes by kind |"
	echo "|---|---|---|---|---|---|---|"
	run "into the empty Admin API"
	run "the same archive again"
} >"$SCRATCH/section.md"
cat "$SCRATCH/section.md"
[ -n "$output" ] && cp "$SCRATCH/section.md" "$output"
finish >/dev/null
