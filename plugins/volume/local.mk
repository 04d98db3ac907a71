# The volume plugin: directory trees with their full metadata. It uses
# libarchive only to write restored files to disk, and libcrypto for the
# drill's SHA-256.
if BUILD_VOLUME
plugins_LTLIBRARIES += plugins/volume/volume.la
plugins_volume_volume_la_SOURCES = plugins/volume/volume.c \
	plugins/volume/volume.h \
	plugins/volume/paths.c \
	plugins/volume/map.c \
	plugins/volume/owner.c \
	plugins/volume/acl.c \
	plugins/volume/walk.c \
	plugins/volume/backup.c \
	plugins/volume/incr.c \
	plugins/volume/xattr.c \
	plugins/volume/check.c \
	plugins/volume/target.c \
	plugins/volume/restore.c \
	plugins/volume/extract.c \
	plugins/volume/dircache.c \
	plugins/volume/fixup.c \
	plugins/volume/drill.c
plugins_volume_volume_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-I$(top_srcdir)/plugins/volume
plugins_volume_volume_la_CFLAGS = $(AM_CFLAGS) $(VOLUME_DEP_CFLAGS) \
	$(CRYPTO_CFLAGS)
plugins_volume_volume_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LDFLAGS)
plugins_volume_volume_la_LIBADD = $(VOLUME_DEP_LIBS) $(CRYPTO_LIBS)

if HAVE_CMOCKA
# The plugin's code is compiled into its test, which drives it through
# the fake host.
check_PROGRAMS += tests/plugins/test_volume
TESTS += tests/plugins/test_volume
tests_plugins_test_volume_SOURCES = tests/plugins/test_volume.c \
	tests/plugins/fake_host.c tests/plugins/fake_host.h \
	$(plugins_volume_volume_la_SOURCES)
tests_plugins_test_volume_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-I$(top_srcdir)/plugins/volume -I$(top_srcdir)/tests/plugins
tests_plugins_test_volume_CFLAGS = $(AM_CFLAGS) $(VOLUME_DEP_CFLAGS) \
	$(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS)
tests_plugins_test_volume_LDADD = $(VOLUME_DEP_LIBS) $(CRYPTO_LIBS) \
	$(CMOCKA_LIBS)

# ACLs through libacl against the text earlier versions wrote.
check_PROGRAMS += tests/plugins/test_volume_acl
TESTS += tests/plugins/test_volume_acl
tests_plugins_test_volume_acl_SOURCES = tests/plugins/test_volume_acl.c \
	tests/plugins/fake_host.c tests/plugins/fake_host.h \
	$(plugins_volume_volume_la_SOURCES)
tests_plugins_test_volume_acl_CPPFLAGS = $(tests_plugins_test_volume_CPPFLAGS)
tests_plugins_test_volume_acl_CFLAGS = $(tests_plugins_test_volume_CFLAGS)
tests_plugins_test_volume_acl_LDADD = $(tests_plugins_test_volume_LDADD)
endif
endif

EXTRA_DIST += tests/integration/volume.sh tests/integration/treecmp.py \
	tests/integration/incremental.sh \
	man/plugin-volume.roff
