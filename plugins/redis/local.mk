# The redis plugin.
if BUILD_REDIS
plugins_LTLIBRARIES += plugins/redis/redis.la
plugins_redis_redis_la_SOURCES = plugins/redis/redis.c
plugins_redis_redis_la_CFLAGS = $(AM_CFLAGS) $(REDIS_DEP_CFLAGS)
plugins_redis_redis_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LDFLAGS)
plugins_redis_redis_la_LIBADD = $(REDIS_DEP_LIBS)
endif
