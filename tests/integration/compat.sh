#!/bin/bash
# Archives written by an earlier cairn stay readable: the repository in
# tests/fixtures/archives/ (volume trees with a sparse file, holes, hard
# and symbolic links, a fifo and xattrs; Redis snapshots streamed with an
# unknown size, in three parts and in one; each with compression zstd and
# none) was made by the cairn of commit bf2eefd, which also recorded what
# it said about it (expected/). Today's cairn must list, show, verify,
# cat and restore it the same way. See tests/fixtures/archives/README.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh).

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

setup_scratch compat
fixtures=$(cd "$here/../fixtures/archives" && pwd)
expected=$fixtures/expected
data=tmp/cairn-fixture/data # where make.sh built the tree

cp -a "$fixtures/repo" "$SCRATCH/repo" && chmod -R go-rwx "$SCRATCH/repo" ||
	{ echo "Bail out! cannot copy the fixture repository"; exit 1; }
conf=$SCRATCH/cairn.conf
printf '[repository]\npath = %s\n' "$SCRATCH/repo" >"$conf"
chmod 600 "$conf"

# same DESCRIPTION EXPECTED: ok when the last stdout says all that
# EXPECTED says. Later versions may add (a JSON key, a line of `show`),
# never change or drop: JSON objects must hold every key of EXPECTED's
# with the same value, text must hold EXPECTED's lines in their order.
same() {
	if python3 - "$2" "$SCRATCH/last.out" >"$SCRATCH/diff.out" <<'EOF'; then
import json, sys

def covers(old, new, where):
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return "%s: not an object any more" % where
        for key in old:
            if key not in new:
                return "%s: key '%s' is gone" % (where, key)
            problem = covers(old[key], new[key], "%s.%s" % (where, key))
            if problem:
                return problem
        return None
    if isinstance(old, list):
        if not isinstance(new, list) or len(old) != len(new):
            return "%s: not the same list any more" % where
        for i, (o, n) in enumerate(zip(old, new)):
            problem = covers(o, n, "%s[%d]" % (where, i))
            if problem:
                return problem
        return None
    return None if old == new else "%s: %r became %r" % (where, old, new)

old_path, new_path = sys.argv[1], sys.argv[2]
with open(old_path) as f:
    old_text = f.read()
with open(new_path) as f:
    new_text = f.read()
if old_path.endswith(".json"):
    problem = covers(json.loads(old_text), json.loads(new_text), "$")
else:
    problem = None
    lines = iter(new_text.splitlines())
    for line in old_text.splitlines():
        if not any(line == n for n in lines):
            problem = "line %r is gone or out of order" % line
            break
if problem:
    print(problem)
    sys.exit(1)
EOF
		ok "$1"
	else
		not_ok "$1"
		sed 's/^/# /' "$SCRATCH/diff.out" | head -n 30
	fi
}

expect "list" run_cairn -c "$conf" --json list
same "list gives what the old cairn gave" "$expected/list.json"
expect "verify every archive" run_cairn -c "$conf" --json verify
same "verify gives what the old cairn gave" "$expected/verify.json"

for job in vol-zstd vol-none cache-zstd cache-none; do
	expect "$job: show --json" run_cairn -c "$conf" --json show "$job:latest"
	same "$job: show --json as before" "$expected/$job.show.json"
	expect "$job: show" run_cairn -c "$conf" show "$job:latest"
	same "$job: show as before" "$expected/$job.show.txt"
done

# cat_sums JOB ENTRY...: "SHA256  NAME" of each entry's content.
cat_sums() {
	local job=$1 entry
	shift
	for entry in "$@"; do
		run_cairn -c "$conf" cat "$job:latest" "$entry" | sha256sum |
			sed "s|-\$|${entry##*/}|" || return 1
	done
}

for job in vol-zstd vol-none; do
	expect "$job: cat" cat_sums "$job" "$data/plain" "$data/sparse" \
		"$data/tailhole" "$data/xattr"
	same "$job: cat gives the same bytes, holes as zeros" \
		"$expected/$job.cat.sha256"
	out=$SCRATCH/out-$job
	expect "$job: restore" run_cairn -c "$conf" restore "$job:latest" \
		--to "$out"
	expect "$job: describe the restored tree" \
		python3 "$fixtures/describe.py" "$out/$data"
	same "$job: the restored tree is the one the old cairn restored" \
		"$expected/$job.restore.txt"
done
for job in cache-zstd cache-none; do
	expect "$job: cat the streamed entry" cat_sums "$job" dump.rdb
	same "$job: its parts give the same bytes" "$expected/$job.cat.sha256"
done

finish
