# The volume plugin.
if BUILD_VOLUME
plugins_LTLIBRARIES += plugins/volume/volume.la
plugins_volume_volume_la_SOURCES = plugins/volume/volume.c
plugins_volume_volume_la_CFLAGS = $(AM_CFLAGS) $(VOLUME_DEP_CFLAGS)
plugins_volume_volume_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LDFLAGS)
plugins_volume_volume_la_LIBADD = $(VOLUME_DEP_LIBS)
endif
