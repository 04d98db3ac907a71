# The kong plugin.
if BUILD_KONG
plugins_LTLIBRARIES += plugins/kong/kong.la
plugins_kong_kong_la_SOURCES = plugins/kong/kong.c
plugins_kong_kong_la_CFLAGS = $(AM_CFLAGS) $(KONG_DEP_CFLAGS)
plugins_kong_kong_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LDFLAGS)
plugins_kong_kong_la_LIBADD = $(KONG_DEP_LIBS)
endif
