# Shared by demo.sh, run-tests.sh and bench/: the Debian packages cairn
# needs, and a build of this tree into build/NAME with its own install
# prefix.

# Build and test dependencies, by Debian package name.
CAIRN_PACKAGES="autoconf automake libtool pkg-config make gcc clang libclang-rt-dev
	libarchive-dev libzstd-dev libxxhash-dev zstd uuid-dev libinih-dev libssl-dev
	libpq-dev libhiredis-dev libcurl4-openssl-dev libacl1-dev
	libcmocka-dev postgresql postgresql-contrib redis-server python3
	awscli nodejs openssh-server
	acl attr tar man-db groff-base util-linux procps prometheus
	valgrind libclang-rt-dev
	age zlib1g-dev strace
	debhelper dpkg-dev lintian git
	clang-tidy clang-format cppcheck bear"

# Installs what is missing (as root, with apt-get); a no-op otherwise.
install_dependencies() {
	local missing="" package
	for package in $CAIRN_PACKAGES; do
		dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $package"
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages:$missing" >&2
		echo "install them as root: apt-get install -y$missing" >&2
		return 1
	fi
	echo "installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 &&
		apt-get install -y -qq --no-install-recommends $missing >&2
}

# build_cairn NAME [configure options...]: builds into $top/build/NAME and
# installs into $top/build/NAME/inst; sets CAIRN and CAIRN_PLUGIN_DIR.
build_cairn() {
	local name=$1
	shift
	local dir="$top/build/$name"
	(cd "$top" && { [ -x configure ] && [ configure -nt configure.ac ] &&
		[ configure -nt Makefile.am ]; } || autoreconf -fi >/dev/null 2>&1) ||
		{ echo "autoreconf failed" >&2; return 1; }
	mkdir -p "$dir"
	(cd "$dir" &&
		"$top/configure" --prefix="$dir/inst" --sysconfdir="$dir/inst/etc" \
			"$@" >configure.log 2>&1 ||
		{ tail -n 30 configure.log >&2; exit 1; }) || return 1
	(cd "$dir" && make -j"$(nproc)" >make.log 2>&1 && make install >>make.log 2>&1) ||
		{ grep -E "error|Error" -A3 "$dir/make.log" | head -n 40 >&2; return 1; }
	CAIRN="$dir/inst/bin/cairn"
	CAIRN_PLUGIN_DIR="$dir/inst/lib/cairn/plugins"
	CAIRN_BUILD_DIR="$dir"
	export CAIRN CAIRN_PLUGIN_DIR CAIRN_BUILD_DIR
}
