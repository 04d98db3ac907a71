#!/bin/bash
# Offsite copies, by hand (not in CI): a 1 GiB archive copied to the
# loopback S3 server of the tests (@20minutes/s3rver, from tests/s3)
# against `aws s3 cp` of the same file in the same run, cairn's peak RSS,
# and `restore --from` against a local restore of the same archive: from
# that server, and from the same objects behind bench/s3_static.py, which
# costs the client's two cores nearly nothing (sendfile), as a real
# endpoint on another machine would.
#
#   bench/offsite.sh [BUILD_DIR]     (default: build/werror, as built by
#                                     run-tests.sh); BENCH_RUNS (default 3);
#                                     BENCH_CASES="copy restore" (default
#                                     both; restore alone copies once)
#
# Prints a Markdown section for bench/RESULTS.md on stdout.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build/werror}
cairn=$build/inst/bin/cairn
export CAIRN_PLUGIN_DIR=$build/inst/lib/cairn/plugins
runs=${BENCH_RUNS:-3}
cases=${BENCH_CASES:-copy restore}
work=$(mktemp -d /var/tmp/cairn-bench-offsite.XXXXXX)
s3_pid=""
static_pid=""
trap '[ -n "$s3_pid" ] && kill "$s3_pid" 2>/dev/null
	[ -n "$static_pid" ] && kill "$static_pid" 2>/dev/null
	rm -rf "$work"' EXIT

mkdir -p "$work/src" "$work/s3data" "$work/server" "$work/secrets"
cp "$top/tests/s3/package.json" "$top/tests/s3/package-lock.json" \
	"$top/tests/s3/server.js" "$work/server/"
(cd "$work/server" && npm ci --no-audit --no-fund --prefer-offline >/dev/null 2>&1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
READY_FILE=$work/ready node "$work/server/server.js" "$port" "$work/s3data" \
	bench >/dev/null 2>&1 &
s3_pid=$!
while [ ! -e "$work/ready" ]; do sleep 0.1; done

printf 'S3RVER\n' >"$work/secrets/access"
printf 'S3RVER\n' >"$work/secrets/secret"
chmod 600 "$work/secrets/"*
head -c $((1024 * 1024 * 1024)) /dev/urandom >"$work/src/random.bin"
cat >"$work/cairn.conf" <<EOF
[repository]
path = $work/repo
compression = none

[vol]
plugin = volume
paths = $work/src

[offsite bench]
type = s3
endpoint = http://127.0.0.1:$port
region = us-east-1
bucket = bench
uri-style = path
access-key-file = $work/secrets/access
secret-key-file = $work/secrets/secret
EOF
chmod 600 "$work/cairn.conf"
"$cairn" -c "$work/cairn.conf" -q backup
archive=$(ls "$work"/repo/archives/vol/*.tar.zst)
size=$(stat -c %s "$archive")

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
	AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws_s3() { /usr/bin/aws --endpoint-url "http://127.0.0.1:$port" "$@"; }

# The S3 server's CPU time so far, in clock ticks.
server_ticks() { awk '{print $14 + $15}' "/proc/$s3_pid/stat"; }

# measure NAME COMMAND...: wall seconds, peak RSS (KiB), CPU seconds
# (user, system) and the server's CPU ticks during the run into results.
measure() {
	local name=$1 ticks
	shift
	sync
	ticks=$(server_ticks)
	/usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/err" ||
		{ cat "$work/err" >&2; exit 1; }
	echo "$name $(cat "$work/time") $(($(server_ticks) - ticks))" >>"$work/results"
}
# Each restore starts from a dropped page cache (when permitted), so that
# none reads its archive from memory and another from the disk.
drop() { sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
has_case() { case " $cases " in *" $1 "*) return 0 ;; esac; return 1; }

# What cairn copied, read back by an independent client, behind the
# server of no cost: the same target, another endpoint. Once, at the
# first restore, when the archive is on the target whichever cases run.
static_start() {
	[ -z "$static_pid" ] || return 0
	aws_s3 s3 cp --recursive --quiet --exclude aws-copy.bin s3://bench/ \
		"$work/static/"
	static_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	python3 "$top/bench/s3_static.py" "$static_port" "$work/static" bench \
		"$work/static-ready" &
	static_pid=$!
	while [ ! -e "$work/static-ready" ]; do sleep 0.1; done
	sed "s|^endpoint = http://127.0.0.1:$port\$|endpoint = http://127.0.0.1:$static_port|" \
		"$work/cairn.conf" >"$work/static.conf"
	chmod 600 "$work/static.conf"
}
has_case copy || "$cairn" -c "$work/cairn.conf" -q copy
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$runs"); do
	if has_case copy; then
		rm -rf "$work/repo/offsite"
		aws_s3 s3 rm --recursive --quiet s3://bench/archives/ >/dev/null 2>&1 || true
		measure cairn-copy "$cairn" -c "$work/cairn.conf" -q copy
		measure aws-cp /usr/bin/aws --endpoint-url "http://127.0.0.1:$port" \
			s3 cp --quiet "$archive" s3://bench/aws-copy.bin
	fi
	has_case restore || continue
	rm -rf "$work/restored-local" "$work/restored-remote"
	drop
	measure restore-local "$cairn" -c "$work/cairn.conf" -q restore \
		vol:latest --to "$work/restored-local"
	drop
	measure restore-from "$cairn" -c "$work/cairn.conf" -q restore \
		vol:latest --from bench --to "$work/restored-remote"
	cmp "$work/restored-remote$work/src/random.bin" "$work/src/random.bin"
	rm -rf "$work/restored-remote"
	static_start
	drop
	measure restore-from-static "$cairn" -c "$work/static.conf" -q restore \
		vol:latest --from bench --to "$work/restored-remote"
	cmp "$work/restored-remote$work/src/random.bin" "$work/src/random.bin"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$work/results" "$size" "$runs" "$load_before" "$load_after" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, wall, rss, user, system, ticks = line.split()
    rows.setdefault(name, []).append((float(wall), int(rss),
                                      float(user) + float(system),
                                      int(ticks) / 100))
size, runs = int(sys.argv[2]), int(sys.argv[3])
med = {k: statistics.median(r[0] for r in v) for k, v in rows.items()}
rss = {k: max(r[1] for r in v) for k, v in rows.items()}
cpu = {k: statistics.median(r[2] for r in v) for k, v in rows.items()}
server = {k: statistics.median(r[3] for r in v) for k, v in rows.items()}
mib = size / 1048576
print("## Offsite copies: S3 on loopback (issue 15)\n")
print("bench/offsite.sh: one archive of %d bytes (1 GiB of random data, "
      "compression = none) copied to @20minutes/s3rver on 127.0.0.1; %d "
      "runs, medians; peak RSS is /usr/bin/time's maximum resident set; "
      "CPU is user + system seconds of the client (not the server); load "
      "average %s before, %s after."
      "\n" % (size, runs, sys.argv[4], sys.argv[5]))
print("| case | seconds | MiB/s | CPU s | peak RSS |")
print("|---|---|---|---|---|")
for k in ("cairn-copy", "aws-cp", "restore-local", "restore-from",
          "restore-from-static"):
    if k not in med:
        continue
    print("| %s | %.2f | %.0f | %.2f | %.0f MiB |" % (k, med[k], mib / med[k],
                                                     cpu[k], rss[k] / 1024))
print()
if "cairn-copy" in med:
    print("- copy throughput, cairn / aws s3 cp: %.2f (target >= 0.8); "
          "CPU time, cairn / aws: %.2f"
          % (med["aws-cp"] / med["cairn-copy"],
             cpu["cairn-copy"] / cpu["aws-cp"]))
    print("- cairn copy peak RSS: %.0f MiB (target <= 64 MiB)"
          % (rss["cairn-copy"] / 1024))
if "restore-from" in med:
    print("- restore --from / local restore: %.2f (target <= 1.2); CPU "
          "time %.2f; the S3 server's CPU during restore --from %.2f s; "
          "peak RSS %.0f MiB"
          % (med["restore-from"] / med["restore-local"],
             cpu["restore-from"] / cpu["restore-local"],
             server["restore-from"], rss["restore-from"] / 1024))
if "restore-from-static" in med:
    print("- restore --from, the same objects behind bench/s3_static.py "
          "(sendfile, no signature check) / local restore: %.2f (target <= "
          "1.2); CPU time %.2f; peak RSS %.0f MiB"
          % (med["restore-from-static"] / med["restore-local"],
             cpu["restore-from-static"] / cpu["restore-local"],
             rss["restore-from-static"] / 1024))
EOF
