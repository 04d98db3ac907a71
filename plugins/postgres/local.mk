# The postgres plugin.
if BUILD_POSTGRES
plugins_LTLIBRARIES += plugins/postgres/postgres.la
plugins_postgres_postgres_la_SOURCES = plugins/postgres/postgres.c
plugins_postgres_postgres_la_CFLAGS = $(AM_CFLAGS) $(POSTGRES_DEP_CFLAGS)
plugins_postgres_postgres_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LDFLAGS)
plugins_postgres_postgres_la_LIBADD = $(POSTGRES_DEP_LIBS)
endif
