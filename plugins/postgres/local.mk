# The postgres plugin, and its tests against the fake host.
postgres_sources = \
	plugins/postgres/postgres.h \
	plugins/postgres/postgres.c \
	plugins/postgres/util.c \
	plugins/postgres/config.c \
	plugins/postgres/conn.c \
	plugins/postgres/spawn.c \
	plugins/postgres/backup.c \
	plugins/postgres/restore.c \
	plugins/postgres/props.c \
	plugins/postgres/grants.c \
	plugins/postgres/cluster.c \
	plugins/postgres/drill.c

if BUILD_POSTGRES
plugins_LTLIBRARIES += plugins/postgres/postgres.la
plugins_postgres_postgres_la_SOURCES = $(postgres_sources)
plugins_postgres_postgres_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-I$(top_srcdir)/plugins/postgres
plugins_postgres_postgres_la_CFLAGS = $(AM_CFLAGS) $(POSTGRES_DEP_CFLAGS) \
	-pthread
plugins_postgres_postgres_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LDFLAGS) \
	-pthread
plugins_postgres_postgres_la_LIBADD = $(POSTGRES_DEP_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/plugins/test_postgres
TESTS += tests/plugins/test_postgres
tests_plugins_test_postgres_SOURCES = tests/plugins/test_postgres.c \
	tests/plugins/fake_host.c tests/plugins/fake_host.h \
	$(postgres_sources)
tests_plugins_test_postgres_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-I$(top_srcdir)/plugins/postgres -I$(top_srcdir)/tests/plugins
tests_plugins_test_postgres_CFLAGS = $(AM_CFLAGS) $(POSTGRES_DEP_CFLAGS) \
	$(CMOCKA_CFLAGS) -pthread
tests_plugins_test_postgres_LDADD = $(POSTGRES_DEP_LIBS) $(CMOCKA_LIBS) \
	-lpthread
endif
endif

# The integration script and its SQL fixtures (the whole folder).
EXTRA_DIST += tests/integration/postgres.sh tests/integration/postgres
