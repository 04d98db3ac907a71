# The kong plugin (libcurl, the JSON module), and its cmocka test against
# the fake host and the Admin API emulator.
if BUILD_KONG
plugins_LTLIBRARIES += plugins/kong/kong.la
plugins_kong_kong_la_SOURCES = plugins/kong/kong.c plugins/kong/kong.h \
	plugins/kong/http.c \
	plugins/kong/entities.c \
	plugins/kong/restore.c
plugins_kong_kong_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-I$(top_srcdir)/plugins/kong $(SHARED_CPPFLAGS)
plugins_kong_kong_la_CFLAGS = $(AM_CFLAGS) $(KONG_DEP_CFLAGS)
plugins_kong_kong_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LDFLAGS)
plugins_kong_kong_la_LIBADD = libcairnshared.la $(KONG_DEP_LIBS)

EXTRA_DIST += tests/kong-emulator/kong_emulator.py \
	tests/kong-emulator/test_rules.py tests/kong-emulator/README.md \
	tests/kong-emulator/kong_tool.py tests/integration/kong.sh

if HAVE_CMOCKA
check_PROGRAMS += tests/plugins/test_kong
TESTS += tests/plugins/test_kong
tests_plugins_test_kong_SOURCES = tests/plugins/test_kong.c \
	tests/plugins/fake_host.c tests/plugins/fake_host.h \
	$(plugins_kong_kong_la_SOURCES)
tests_plugins_test_kong_CPPFLAGS = $(PLUGIN_CPPFLAGS) $(SHARED_CPPFLAGS) \
	-I$(top_srcdir)/plugins/kong -I$(top_srcdir)/tests/plugins \
	-DKONG_EMULATOR='"$(abs_top_srcdir)/tests/kong-emulator/kong_emulator.py"'
tests_plugins_test_kong_CFLAGS = $(AM_CFLAGS) $(KONG_DEP_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_plugins_test_kong_LDADD = libcairnshared.la $(KONG_DEP_LIBS) \
	$(CMOCKA_LIBS) -lpthread
endif
endif
