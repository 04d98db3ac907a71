# The redis plugin, and its cmocka test against the fake host.
if BUILD_REDIS
plugins_LTLIBRARIES += plugins/redis/redis.la
plugins_redis_redis_la_SOURCES = plugins/redis/redis.c plugins/redis/redis.h \
	plugins/redis/client.c \
	plugins/redis/backup.c \
	plugins/redis/restore.c \
	plugins/redis/check.c \
	plugins/redis/drill.c \
	plugins/redis/replication.c plugins/redis/replication.h \
	plugins/redis/rdb.c plugins/redis/rdb.h
plugins_redis_redis_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-I$(top_srcdir)/plugins/redis
plugins_redis_redis_la_CFLAGS = $(AM_CFLAGS) $(REDIS_DEP_CFLAGS)
plugins_redis_redis_la_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LDFLAGS)
plugins_redis_redis_la_LIBADD = $(REDIS_DEP_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/plugins/test_redis
TESTS += tests/plugins/test_redis
tests_plugins_test_redis_SOURCES = tests/plugins/test_redis.c \
	tests/plugins/fake_host.c tests/plugins/fake_host.h \
	$(plugins_redis_redis_la_SOURCES)
tests_plugins_test_redis_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-I$(top_srcdir)/plugins/redis -I$(top_srcdir)/tests/plugins \
	-DREDIS_FIXTURE_DIR='"$(abs_top_srcdir)/tests/fixtures/redis"'
tests_plugins_test_redis_CFLAGS = $(AM_CFLAGS) $(REDIS_DEP_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_plugins_test_redis_LDADD = $(REDIS_DEP_LIBS) $(CMOCKA_LIBS) -lpthread
endif
endif

# The integration script, its dataset and RDB generators, and Redis' own
# RDB fixture with its licence.
EXTRA_DIST += tests/integration/redis.sh tests/integration/redis/generate.py \
	tests/integration/redis/make_rdb.py \
	tests/fixtures/redis/corrupt_empty_keys.rdb \
	tests/fixtures/redis/COPYING.redis-bsd3 tests/fixtures/redis/README.md
