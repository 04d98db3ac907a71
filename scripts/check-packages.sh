#!/usr/bin/env bash
# The Debian packages, as an operator gets them: built from a clean clone
# of this tree (git clone of its HEAD) with `dpkg-buildpackage -us -uc -b`,
# checked by lintian (binary and source packages: no error, no warning),
# installed with apt-get (which resolves their dependencies), then checked:
# cairn version, cairn plugins (all four, from the packaged plugin
# directory), the manual pages, the systemd units (installed, not
# enabled), the cron file (a conffile that does nothing without
# /etc/cairn/cairn.conf), and the example plugin of cairn-plugin(7), taken
# from the installed page as a reader would, built against cairn-dev with
# pkg-config alone and loaded from the pc file's plugindir. Then the
# packages are purged and nothing may be left of them.
#
# Prints TAP, then "N passed, N failed". Runs as root (it installs and
# purges packages); the tests of the build itself run elsewhere, so the
# build skips them (DEB_BUILD_OPTIONS=nocheck). Keeps its work directory
# when a check fails. About 3 minutes on 2 cores.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

count=0
failed=0
ok() {
	count=$((count + 1))
	echo "ok $count - $*"
}
not_ok() {
	count=$((count + 1))
	failed=$((failed + 1))
	echo "not ok $count - $*"
}
# check DESCRIPTION COMMAND...: ok when the command succeeds; its output
# goes to $work/last.log, shown on failure.
check() {
	local description=$1
	shift
	if "$@" >"$work/last.log" 2>&1; then
		ok "$description"
	else
		not_ok "$description"
		sed 's/^/# /' "$work/last.log" | tail -n 30
	fi
}
finish() {
	echo "$((count - failed)) passed, $failed failed"
	if [ "$failed" -eq 0 ]; then
		rm -rf "$work"
	else
		echo "# work directory kept: $work"
	fi
	exit $((failed > 0))
}

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP installing packages needs root"
	echo "0 passed, 0 failed"
	exit 0
fi
# shellcheck source=common.sh
. "$top/scripts/common.sh"
install_dependencies >&2 || { echo "Bail out! cannot install the build dependencies"; exit 1; }
packages="cairn cairn-postgres cairn-redis cairn-kong cairn-dev"
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed || continue
	if [ "${CI:-}" = true ]; then
		# Left by a run that was stopped before its purge.
		echo "# purging $p, left installed by an earlier run"
		apt-get purge -y -q "$p" >/dev/null 2>&1
	else
		echo "Bail out! $p is already installed: this check installs and purges it"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
work=$(mktemp -d /tmp/cairn-packages.XXXXXX)
chmod 0755 "$work"

# The build, from a clean clone.
check "clone the tree" git clone -q "$top" "$work/src"
[ -d "$work/src/debian" ] || finish
version=$(cd "$work/src" && dpkg-parsechangelog -S Version)
check "build the source package (dpkg-source)" \
	sh -c "cd '$work' && dpkg-source --build src"
start=$(date +%s)
check "dpkg-buildpackage -us -uc -b" sh -c "cd '$work/src' &&
	DEB_BUILD_OPTIONS='nocheck parallel=$(nproc)' dpkg-buildpackage -us -uc -b"
echo "# build: $(($(date +%s) - start)) s"
changes=$work/cairn_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).changes
debs=
for p in $packages; do
	deb=$(ls "$work/${p}_${version}_"*.deb 2>/dev/null | head -n 1)
	if [ -n "$deb" ]; then
		ok "package $p built"
		debs="$debs $deb"
		size=$(dpkg-deb -f "$deb" Installed-Size)
		echo "# $p: $(du -k "$deb" | cut -f1) KiB .deb, Installed-Size $size KiB"
		for field in Depends Recommends Suggests; do
			value=$(dpkg-deb -f "$deb" "$field")
			[ -n "$value" ] && echo "#   $field: $value"
		done
	else
		not_ok "package $p built"
	fi
done
[ -f "$changes" ] || finish

# lintian on what was built and on the source package.
if lintian --fail-on error,warning --display-info "$changes" \
	"$work/cairn_$version.dsc" >"$work/lintian.log" 2>&1 &&
	! grep -qE '^[EW]: ' "$work/lintian.log"; then
	ok "lintian: no error, no warning"
else
	not_ok "lintian: no error, no warning"
fi
sed 's/^/# lintian: /' "$work/lintian.log"

# What exists before the packages are installed, to compare after purge.
snapshot() {
	find /etc /usr /var/lib/systemd -xdev 2>/dev/null |
		grep -v '__pycache__' | sort
}
dpkg-query -W -f='${Package}\n' | sort >"$work/packages.before"
snapshot >"$work/files.before"

# shellcheck disable=SC2086 # one argument per .deb
check "apt-get install the packages" apt-get install -y -q $debs
for p in $packages; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		ok "$p is installed"
	else
		not_ok "$p is installed"
	fi
done

# The program, its plugins, its pages.
if [ "$(cairn version 2>&1 | head -n 1)" = "cairn $version (plugin ABI $(sed -n 's/^#define CAIRN_PLUGIN_ABI_VERSION //p' /usr/include/cairn/plugin.h))" ]; then
	ok "cairn version says $version"
else
	not_ok "cairn version says $version ($(cairn version 2>&1 | head -n 1))"
fi
install -d -m 0700 "$work/etc"
printf '[repository]\npath = %s/repo\n' "$work" >"$work/etc/cairn.conf"
chmod 0600 "$work/etc/cairn.conf"
(unset CAIRN_PLUGIN_DIR; cairn -c "$work/etc/cairn.conf" plugins) >"$work/plugins.txt" 2>&1
listed=$(awk 'NR > 1 { print $1 }' "$work/plugins.txt" | sort | tr '\n' ' ')
if [ "$listed" = "kong postgres redis volume " ]; then
	ok "cairn plugins lists the four plugins"
else
	not_ok "cairn plugins lists the four plugins ($listed)"
	sed 's/^/# /' "$work/plugins.txt"
fi
sed 's/^/# /' "$work/plugins.txt"
plugindir=/usr/lib/cairn/plugins
found=$(cd "$plugindir" 2>/dev/null && ls | tr '\n' ' ')
if [ "$found" = "kong.so postgres.so redis.so volume.so " ]; then
	ok "the plugins are in $plugindir, one package each"
else
	not_ok "the plugins are in $plugindir ($found)"
fi
for page in "8 cairn" "5 cairn.conf" "7 cairn-plugin"; do
	set -- $page
	if MANWIDTH=80 man -P cat "$1" "$2" 2>"$work/man.err" | grep -q '^NAME' &&
		[ ! -s "$work/man.err" ]; then
		ok "man $1 $2 renders without warnings"
	else
		not_ok "man $1 $2 renders without warnings"
		sed 's/^/# /' "$work/man.err" | head -n 5
	fi
done
if [ -f /usr/share/doc/cairn/examples/cairn.conf ] &&
	[ -f /usr/share/doc/cairn/examples/systemd/cairn-backup.timer ]; then
	ok "the examples are in /usr/share/doc/cairn/examples, uncompressed"
else
	not_ok "the examples are in /usr/share/doc/cairn/examples, uncompressed"
fi

# The units: in place, and not enabled.
missing=
for unit in cairn-backup.service cairn-backup.timer cairn-verify.service cairn-verify.timer; do
	[ -f "/lib/systemd/system/$unit" ] || missing="$missing $unit"
done
if [ -z "$missing" ]; then
	ok "the systemd units are in /lib/systemd/system"
else
	not_ok "the systemd units are in /lib/systemd/system (missing:$missing)"
fi
enabled=$(find /etc/systemd/system -name 'cairn-*' 2>/dev/null)
if [ -z "$enabled" ]; then
	ok "no unit is enabled"
else
	not_ok "no unit is enabled ($enabled)"
fi
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify accepts the units" systemd-analyze verify \
		/lib/systemd/system/cairn-backup.timer /lib/systemd/system/cairn-verify.timer
fi

# The cron file: a conffile, idle until /etc/cairn/cairn.conf exists.
if dpkg-query -W -f='${Conffiles}\n' cairn | grep -q ' /etc/cron.d/cairn '; then
	ok "/etc/cron.d/cairn is a conffile"
else
	not_ok "/etc/cron.d/cairn is a conffile"
fi
if [ -e /etc/cairn/cairn.conf ]; then
	ok "the cron lines do nothing without /etc/cairn/cairn.conf # SKIP it exists here"
else
	bad=
	while read -r line; do
		command=$(echo "$line" | cut -d' ' -f7- | sed 's/^ *//')
		out=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "$command" 2>&1)
		status=$?
		[ "$status" -eq 0 ] && [ -z "$out" ] || bad="$bad [$status: $out]"
	done < <(grep -E '^[0-9*]' /etc/cron.d/cairn | tr -s ' \t' ' ')
	if [ -z "$bad" ]; then
		ok "the cron lines do nothing, silently, without /etc/cairn/cairn.conf"
	else
		not_ok "the cron lines do nothing without /etc/cairn/cairn.conf:$bad"
	fi
fi

# An out-of-tree plugin: the example of the installed cairn-plugin(7),
# built with pkg-config alone and loaded from the pc file's plugindir.
MANWIDTH=80 man -P cat 7 cairn-plugin 2>/dev/null |
	awk '/^EXAMPLE/ { e = 1 } /^SEE ALSO/ { e = 0 } e && /^       \/\*$/ { p = 1 } e && p' |
	sed 's/^       //' >"$work/onefile.c"
check "the example plugin is in the installed cairn-plugin(7)" grep -q cairn_plugin_entry "$work/onefile.c"
check "pkg-config knows cairn-plugin $version" \
	sh -c "[ \"\$(pkg-config --modversion cairn-plugin)\" = '$version' ]"
pc_plugindir=$(pkg-config --variable=plugindir cairn-plugin)
if [ "$pc_plugindir" = "$plugindir" ]; then
	ok "the pc file's plugindir is $plugindir"
else
	not_ok "the pc file's plugindir is $plugindir ($pc_plugindir)"
fi
# shellcheck disable=SC2046 # pkg-config prints one flag per word
check "the example plugin builds with pkg-config alone" \
	env -u CFLAGS -u CPPFLAGS -u LDFLAGS cc -O2 -Wall -Wextra -Werror \
	$(pkg-config --cflags --libs cairn-plugin) -o "$work/onefile.so" "$work/onefile.c"
if [ -f "$work/onefile.so" ]; then
	install -m 0644 "$work/onefile.so" "$pc_plugindir/onefile.so"
	(unset CAIRN_PLUGIN_DIR; cairn -c "$work/etc/cairn.conf" plugins) >"$work/plugins.txt" 2>&1
	if awk 'NR > 1 { print $1 }' "$work/plugins.txt" | grep -qx onefile; then
		ok "cairn plugins loads it from plugindir"
	else
		not_ok "cairn plugins loads it from plugindir"
		sed 's/^/# /' "$work/plugins.txt"
	fi
	head -c 65536 /dev/urandom >"$work/data"
	printf '\n[one]\nplugin = onefile\npath = %s/data\n' "$work" >>"$work/etc/cairn.conf"
	check "it backs up a file" cairn -c "$work/etc/cairn.conf" backup one
	check "it restores the file" cairn -c "$work/etc/cairn.conf" restore \
		one:latest --to "$work/restored"
	check "the restored file is the file" cmp "$work/data" "$work/restored"
	rm -f "$pc_plugindir/onefile.so"
fi

# Purge: nothing of the packages is left.
# shellcheck disable=SC2086
check "apt-get purge the packages" apt-get purge -y -q $packages
left=$(dpkg -l $packages 2>/dev/null | awk '/^[a-z][a-zA-Z] / && $1 !~ /^[up]n$/ { print $1, $2 }')
if [ -z "$left" ]; then
	ok "dpkg knows none of them any more"
else
	not_ok "dpkg knows none of them any more ($left)"
fi
dpkg-query -W -f='${Package}\n' | sort >"$work/packages.after"
snapshot >"$work/files.after"
# Files of packages apt-get brought in as dependencies are theirs, not
# leftovers.
comm -13 "$work/packages.before" "$work/packages.after" >"$work/packages.new"
while read -r p; do
	dpkg -L "$p" 2>/dev/null
done <"$work/packages.new" | sort -u >"$work/files.new-packages"
{
	comm -13 "$work/files.before" "$work/files.after" |
		grep -vxF -f "$work/files.new-packages"
	ls -d /var/lib/dpkg/info/cairn* 2>/dev/null
} >"$work/leftovers"
if [ ! -s "$work/leftovers" ]; then
	ok "nothing is left after purge ($(wc -l <"$work/packages.new") dependencies stay installed)"
else
	not_ok "nothing is left after purge"
	sed 's/^/# left: /' "$work/leftovers" | head -n 20
fi
finish
