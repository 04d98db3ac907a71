# The pkg-config file of the plugin header, cairn-plugin.pc: its include
# flags, the flags a plugin links with, and the plugin directory as the
# variable plugindir. Made at build time so that it names the configured
# directories. Nothing in it depends on the architecture (the plugin
# directory is LIBDIR/cairn/plugins, and a distribution's is
# /usr/lib/cairn/plugins), so it goes where pkg-config looks for
# architecture-independent files.
pkgconfigdir = $(datadir)/pkgconfig
pkgconfig_DATA = cairn-plugin.pc
CLEANFILES += cairn-plugin.pc
EXTRA_DIST += include/cairn-plugin.pc.in

cairn-plugin.pc: $(top_srcdir)/include/cairn-plugin.pc.in \
		$(top_srcdir)/include/cairn/plugin.h Makefile
	$(AM_V_GEN)abi=`sed -n 's/^#define CAIRN_PLUGIN_ABI_VERSION \([0-9]*\)$$/\1/p' \
		$(top_srcdir)/include/cairn/plugin.h` && \
	test -n "$$abi" && \
	sed -e 's|@prefix[@]|$(prefix)|g' \
		-e 's|@includedir[@]|$(includedir)|g' \
		-e 's|@plugindir[@]|$(pluginsdir)|g' \
		-e "s|@abi_version[@]|$$abi|g" \
		-e 's|@version[@]|$(PACKAGE_VERSION)|g' \
		$(top_srcdir)/include/cairn-plugin.pc.in >$@.tmp && \
	mv $@.tmp $@
