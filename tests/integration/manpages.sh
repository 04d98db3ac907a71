#!/usr/bin/env bash
# The manual pages render without a warning, document what the code has
# (every command, exit status, configuration key and plugin key), and
# their examples work: the example plugin of cairn-plugin(7) builds, the
# example configuration of cairn.conf(5) is etc/cairn.conf and cairn
# accepts it, and the example units, alert rules and dashboard in etc/
# pass their own tools' checks.
#
# Runs from the source tree: pages, code and examples are found relative
# to this script. Uses $CAIRN (with $CAIRN_PLUGIN_DIR) when it is set.

. "$(dirname "$0")/lib.sh"
setup_scratch manpages

top=$(cd "$(dirname "$0")/../.." && pwd)
man_dir="$top/man"
pages="cairn.8 cairn.conf.5 cairn-plugin.7"

# render PAGE: the page as man shows it on an 80-column terminal.
render() {
	LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man -E UTF-8 -l "$man_dir/$1" 2>/dev/null
}

# contains PAGE TEXT DESCRIPTION: the rendered page holds TEXT.
contains() {
	if grep -qF -- "$2" "$SCRATCH/$1.txt"; then
		ok "$3"
	else
		not_ok "$3 ('$2' is not in $1)"
	fi
}

for page in $pages; do
	if [ ! -f "$man_dir/$page" ]; then
		not_ok "$page exists"
		continue
	fi
	warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l "$man_dir/$page" 2>&1 >/dev/null)
	if [ -z "$warnings" ]; then
		ok "man renders $page without warnings"
	else
		not_ok "man renders $page without warnings"
		printf '%s\n' "$warnings" | sed 's/^/# /' | head -n 20
	fi
	warnings=$(groff -ww -z -man "$man_dir/$page" 2>&1)
	if [ -z "$warnings" ]; then
		ok "groff -ww finds nothing to say about $page"
	else
		not_ok "groff -ww finds nothing to say about $page"
		printf '%s\n' "$warnings" | sed 's/^/# /' | head -n 20
	fi
	render "$page" >"$SCRATCH/$page.txt"
done

# Every command of the command line has its section in cairn(8).
commands=$(sed -n '/^} commands\[\] = {/,/^};/p' "$top/core/options.c" |
	grep -o '{"[a-z]*"' | tr -d '{"')
for command in $commands; do
	[ "$command" = help ] && continue
	[ "$command" = catalog ] && command="catalog rebuild"
	if grep -qE "^   $command( |$)" "$SCRATCH/cairn.8.txt"; then
		ok "cairn(8) documents '$command'"
	else
		not_ok "cairn(8) documents '$command'"
	fi
done

# Every exit status of the code is in EXIT STATUS (the <sysexits.h>
# names by their numbers).
for code in $(grep -oE 'EXIT_[A-Z_]+ = [A-Z_0-9]+' "$top/core/commands.h" |
	awk '{print $3}'); do
	case $code in
	EX_*) code=$(awk -v name="$code" '$1 == "#define" && $2 == name {
		print $3 }' /usr/include/sysexits.h) ;;
	esac
	if sed -n '/^EXIT STATUS/,/^FILES/p' "$SCRATCH/cairn.8.txt" |
		grep -qE "^       $code( |,|$)"; then
		ok "cairn(8) explains exit status $code"
	else
		not_ok "cairn(8) explains exit status $code"
	fi
done

# Every key the core reads is in cairn.conf(5).
for key in $(grep -o 'strcmp(key, "[a-z-]*")' "$top/core/config.c" |
	grep -o '"[a-z-]*"' | tr -d '"' | sort -u); do
	if grep -qE "^       $key( =|,|$)" "$SCRATCH/cairn.conf.5.txt"; then
		ok "cairn.conf(5) documents '$key'"
	else
		not_ok "cairn.conf(5) documents '$key'"
	fi
done

# Every key a plugin accepts is in its section of cairn.conf(5).
for source in "$top"/plugins/*/*.c; do
	keys=$(sed -n '/_keys\[\] = {/,/};/p' "$source" | grep -o '"[a-z-]*"' |
		tr -d '"')
	[ -n "$keys" ] || continue
	plugin=$(basename "$(dirname "$source")")
	sed -n "/^   plugin = $plugin\$/,/^   plugin = \|^EXAMPLE/p" \
		"$SCRATCH/cairn.conf.5.txt" >"$SCRATCH/section.txt"
	if [ ! -s "$SCRATCH/section.txt" ]; then
		not_ok "cairn.conf(5) has a section for plugin '$plugin'"
		continue
	fi
	missing=""
	for key in $keys; do
		grep -qE "^       $key( =|$)" "$SCRATCH/section.txt" ||
			missing="$missing $key"
	done
	if [ -z "$missing" ]; then
		ok "cairn.conf(5) documents every key of plugin '$plugin'"
	else
		not_ok "cairn.conf(5) documents every key of plugin '$plugin' (missing:$missing)"
	fi
done

# The plugin sections and etc/cairn.conf are merged into the pages by
# man/merge.py: merging again into a copy changes nothing, so a page
# edited without its fragment (which the next merge would undo) shows.
mkdir -p "$SCRATCH/merge/man" "$SCRATCH/merge/etc"
cp "$man_dir"/*.[0-9] "$man_dir"/plugin-*.roff "$SCRATCH/merge/man/"
cp "$top/etc/cairn.conf" "$SCRATCH/merge/etc/"
if ONEFILE=/nonexistent python3 "$man_dir/merge.py" "$SCRATCH/merge" >/dev/null; then
	for page in cairn.8 cairn.conf.5; do
		if cmp -s "$man_dir/$page" "$SCRATCH/merge/man/$page"; then
			ok "$page holds its plugin fragments as man/merge.py merges them"
		else
			not_ok "$page differs from man/merge.py's merge of its fragments"
			diff "$man_dir/$page" "$SCRATCH/merge/man/$page" | head -n 10 | sed 's/^/# /'
		fi
	done
else
	not_ok "man/merge.py runs"
fi

# The example of cairn.conf(5) is etc/cairn.conf, line for line.
first=$(head -n 1 "$top/etc/cairn.conf")
sed -n '/^EXAMPLE/,/^FILES/p' "$SCRATCH/cairn.conf.5.txt" | sed 's/^       //' |
	awk -v first="$first" '$0 == first { p = 1 } /^FILES/ { p = 0 } p && NF' \
	>"$SCRATCH/example.txt"
expand -t 4 "$top/etc/cairn.conf" | awk 'NF' >"$SCRATCH/conf.txt"
if diff "$SCRATCH/conf.txt" "$SCRATCH/example.txt" >"$SCRATCH/example.diff"; then
	ok "the example of cairn.conf(5) is etc/cairn.conf"
else
	not_ok "the example of cairn.conf(5) is etc/cairn.conf"
	sed 's/^/# /' "$SCRATCH/example.diff" | head -n 20
fi

# The example plugin of cairn-plugin(7), copied from the page as a reader
# would, builds with the page's build line and exports one symbol.
awk '/^EXAMPLE/ { e = 1 } /^SEE ALSO/ { e = 0 } e && /^       \/\*$/ { p = 1 } e && p' \
	"$SCRATCH/cairn-plugin.7.txt" | sed 's/^       //' >"$SCRATCH/onefile.c"
if ! command -v cc >/dev/null; then
	ok "the example plugin of cairn-plugin(7) builds # SKIP no cc"
elif cc -shared -fPIC -Wall -Wextra -Werror -Wl,-z,defs -I"$top/include" \
	-o "$SCRATCH/onefile.so" "$SCRATCH/onefile.c" 2>"$SCRATCH/cc.err"; then
	ok "the example plugin of cairn-plugin(7) builds"
	symbols=$(nm -D --defined-only "$SCRATCH/onefile.so" | awk '{print $3}' |
		grep -v '^_' | tr '\n' ' ')
	if [ "$symbols" = "cairn_plugin_entry " ]; then
		ok "the example plugin exports cairn_plugin_entry alone"
	else
		not_ok "the example plugin exports cairn_plugin_entry alone ($symbols)"
	fi
else
	not_ok "the example plugin of cairn-plugin(7) builds"
	sed 's/^/# /' "$SCRATCH/cc.err" | head -n 20
fi

# ...and backs up and restores a file through cairn.
if [ -x "$(command -v "$CAIRN" 2>/dev/null)" ] && [ -f "$SCRATCH/onefile.so" ]; then
	head -c 100000 /dev/urandom >"$SCRATCH/data"
	cat >"$SCRATCH/onefile.conf" <<EOF
[repository]
path = $SCRATCH/repo

[onefile-job]
plugin = onefile
path = $SCRATCH/data
EOF
	expect "the example plugin backs up" env CAIRN_PLUGIN_DIR="$SCRATCH" \
		"$CAIRN" -c "$SCRATCH/onefile.conf" backup
	expect "the example plugin restores" env CAIRN_PLUGIN_DIR="$SCRATCH" \
		"$CAIRN" -c "$SCRATCH/onefile.conf" restore onefile-job:latest \
		--to "$SCRATCH/restored"
	expect "the restored file is the file" cmp "$SCRATCH/data" "$SCRATCH/restored"
	expect "the archive opens with tar alone" \
		sh -c "tar --zstd -xOf '$SCRATCH'/repo/archives/onefile-job/*.tar.zst file |
			cmp - '$SCRATCH/data'"
else
	ok "the example plugin round trip # SKIP no cairn binary or plugin"
fi

# cairn accepts the example configuration: 'check' then finds the
# platform's servers missing (exit 1), never a configuration error (78).
if [ -x "$(command -v "$CAIRN" 2>/dev/null)" ] && [ -n "${CAIRN_PLUGIN_DIR:-}" ]; then
	sed -e "s|^path = /var/backups/cairn|path = $SCRATCH/platform-repo|" \
		-e "s|^metrics = .*|metrics = $SCRATCH/cairn.prom|" \
		"$top/etc/cairn.conf" >"$SCRATCH/platform.conf"
	"$CAIRN" -c "$SCRATCH/platform.conf" check >"$SCRATCH/last.out" \
		2>"$SCRATCH/last.err"
	status=$?
	if [ "$status" -eq 64 ] && grep -q 'not available' "$SCRATCH/last.err"; then
		ok "cairn accepts etc/cairn.conf # SKIP no 'check' command yet"
	elif [ "$status" -ne 78 ] && [ "$status" -ne 64 ]; then
		ok "cairn accepts etc/cairn.conf"
	else
		not_ok "cairn accepts etc/cairn.conf (exit $status)"
		sed 's/^/# /' "$SCRATCH/last.err" | head -n 20
	fi
else
	ok "cairn accepts etc/cairn.conf # SKIP no cairn binary"
fi

# The examples in etc/ pass their own tools' checks.
if command -v promtool >/dev/null; then
	expect "promtool accepts etc/prometheus/cairn.rules.yml" \
		promtool check rules "$top/etc/prometheus/cairn.rules.yml"
	expect "the alert rules pass their unit tests" \
		sh -c "cd '$top/etc/prometheus' && promtool test rules cairn.rules.test.yml"
else
	ok "promtool checks the alert rules # SKIP no promtool"
fi
expect "etc/grafana/cairn-dashboard.json is JSON" \
	python3 -m json.tool "$top/etc/grafana/cairn-dashboard.json"
if command -v systemd-analyze >/dev/null; then
	for unit in "$top"/etc/systemd/*.service "$top"/etc/systemd/*.timer; do
		out=$(systemd-analyze verify --man=no "$unit" 2>&1)
		if [ -z "$out" ]; then
			ok "systemd-analyze accepts $(basename "$unit")"
		else
			not_ok "systemd-analyze accepts $(basename "$unit")"
			printf '%s\n' "$out" | sed 's/^/# /' | head -n 10
		fi
	done
else
	ok "systemd-analyze checks the units # SKIP no systemd-analyze"
fi
if grep -qE '^[0-9*]' "$top/etc/cron.d/cairn" &&
	! grep -E '^[0-9*]' "$top/etc/cron.d/cairn" | awk 'NF < 7 { bad = 1 } END { exit !bad }'; then
	ok "etc/cron.d/cairn lines have a schedule, a user and a command"
else
	not_ok "etc/cron.d/cairn lines have a schedule, a user and a command"
fi

finish
