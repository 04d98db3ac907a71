/*
 * Tests of the redis plugin against the fake host: the CRC-64 and the RDB
 * walk on hand-built snapshots (keys, encodings, truncation, bad and
 * disabled checksums, the empty keys Redis skips, and Redis' own fixture
 * of them), the configuration and redis:// parsing, and, when
 * redis-server is installed, a backup, restores (into a server and into a
 * directory), the replication fallback and a drill against real servers
 * this test starts on loopback.
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_host.h"
#include "rdb.h"
#include "redis.h"

/* snprintf that fails the test on truncation. */
static void
xsnprintf(char *buffer, size_t size, const char *format, ...)
{
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(buffer, size, format, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < size);
}

/* Building snapshots by hand. */

static void
put(struct rdb_buf *b, const void *data, size_t length)
{
	assert_int_equal(rdb_buf_append(b, data, length), 0);
}

static void
put_byte(struct rdb_buf *b, unsigned char c)
{
	put(b, &c, 1);
}

static void
put_length(struct rdb_buf *b, size_t length)
{
	assert_true(length < 64);
	put_byte(b, (unsigned char)length);
}

static void
put_string(struct rdb_buf *b, const char *s)
{
	put_length(b, strlen(s));
	put(b, s, strlen(s));
}

static void
put_crc(struct rdb_buf *b, uint64_t crc)
{
	int i;

	for (i = 0; i < 8; i++)
		put_byte(b, (unsigned char)(crc >> (8 * i)));
}

/* Offset of the value "world" in the snapshot, to damage it. */
static size_t world_offset;

/*
 * A snapshot: aux fields, db0 with a plain string with an expiry, an
 * integer-encoded key, an LZF-compressed key holding a list of two
 * strings, then db3 with a set; then EOF and the CRC (or 0).
 */
static void
build_rdb(struct rdb_buf *b, int with_crc)
{
	unsigned char expire[8];
	uint64_t ms = 1893456000000ULL; /* 2030-01-01 */
	int i;

	memset(b, 0, sizeof(*b));
	put(b, "REDIS0010", 9);
	put_byte(b, 250);
	put_string(b, "redis-ver");
	put_string(b, "7.0.15");
	put_byte(b, 250);
	put_string(b, "redis-bits");
	put_byte(b, 0xc0); /* int8 encoded */
	put_byte(b, 64);
	put_byte(b, 254);
	put_length(b, 0);
	put_byte(b, 251);
	put_length(b, 3);
	put_length(b, 1);
	/* "hello" = "world", expiring. */
	put_byte(b, 252);
	for (i = 0; i < 8; i++)
		expire[i] = (unsigned char)(ms >> (8 * i));
	put(b, expire, 8);
	put_byte(b, 0);
	put_string(b, "hello");
	world_offset = b->length + 1;
	put_string(b, "world");
	/* Key 12345 (int16 encoded) = "x". */
	put_byte(b, 0);
	put_byte(b, 0xc1);
	put_byte(b, 12345 & 0xff);
	put_byte(b, 12345 >> 8);
	put_string(b, "x");
	/* Key "abcabcabc" LZF-compressed: literal "abc", back ref of 6. */
	put_byte(b, 1); /* RDB_TYPE_LIST: 2 strings */
	put_byte(b, 0xc3);
	put_length(b, 6); /* compressed length */
	put_length(b, 9); /* uncompressed length */
	put_byte(b, 2);	  /* literal run of 3 */
	put(b, "abc", 3);
	put_byte(b, (4 << 5) | 0); /* back ref: length 4 + 2, offset ... */
	put_byte(b, 2);		   /* ... 0 * 256 + 2 + 1 = 3 */
	put_length(b, 2);
	put_string(b, "a");
	put_string(b, "b");
	/* db3: a set of one member. */
	put_byte(b, 254);
	put_length(b, 3);
	put_byte(b, 2);
	put_string(b, "s");
	put_length(b, 1);
	put_string(b, "m");
	put_byte(b, 255);
	put_crc(b, with_crc ? rdb_crc64(0, b->data, b->length) : 0);
}

struct mem_source {
	const unsigned char *data;
	size_t length;
	size_t chunk; /* largest block served */
};

static int
mem_fill(void *arg, void *buffer, size_t size, size_t *got,
	 struct cairn_error *err)
{
	struct mem_source *m = arg;

	(void)err;
	*got = m->length < size ? m->length : size;
	if (*got > m->chunk)
		*got = m->chunk;
	memcpy(buffer, m->data, *got);
	m->data += *got;
	m->length -= *got;
	return 0;
}

struct collected {
	int count;
	char names[8][32];
	uint64_t dbs[8];
	int64_t expires[8];
	struct rdb_buf payloads[8];
	struct rdb_buf tapped;
};

static int
collect_key(void *arg, const struct rdb_key *key, struct cairn_error *err)
{
	struct collected *c = arg;

	(void)err;
	assert_true(c->count < 8);
	assert_true(key->name_length < 32);
	memcpy(c->names[c->count], key->name, key->name_length);
	c->names[c->count][key->name_length] = '\0';
	c->dbs[c->count] = key->db;
	c->expires[c->count] = key->expire_ms;
	if (key->payload != NULL)
		put(&c->payloads[c->count], key->payload, key->payload_length);
	c->count++;
	return 0;
}

static int
collect_tap(void *arg, const void *data, size_t length, struct cairn_error *err)
{
	struct collected *c = arg;

	(void)err;
	put(&c->tapped, data, length);
	return 0;
}

static void
collected_release(struct collected *c)
{
	int i;

	for (i = 0; i < 8; i++)
		rdb_buf_release(&c->payloads[i]);
	rdb_buf_release(&c->tapped);
}

static void
test_crc64_vectors(void **state)
{
	const char *check = "123456789";
	unsigned char data[1000];
	uint64_t whole, parts;
	size_t i;

	(void)state;
	assert_true(rdb_crc64(0, check, 9) == 0xe9c6d914c4b8d9caULL);
	assert_true(rdb_crc64(0, "", 0) == 0);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	whole = rdb_crc64(0, data, sizeof(data));
	parts = rdb_crc64(0, data, 13);
	parts = rdb_crc64(parts, data + 13, 500);
	parts = rdb_crc64(parts, data + 513, sizeof(data) - 513);
	assert_true(whole == parts);
}

static void
test_header(void **state)
{
	struct cairn_error err;

	(void)state;
	assert_int_equal(rdb_header_version((const unsigned char *)"REDIS0010",
					    9, &err),
			 10);
	assert_int_equal(rdb_header_version((const unsigned char *)"REDIS0003",
					    9, &err),
			 3);
	assert_int_equal(rdb_header_version((const unsigned char *)"REDIX0010",
					    9, &err),
			 -1);
	assert_non_null(strstr(err.message, "REDIS"));
	assert_int_equal(rdb_header_version((const unsigned char *)"REDIS00a0",
					    9, &err),
			 -1);
	assert_int_equal(rdb_header_version((const unsigned char *)"REDIS", 5,
					    &err),
			 -1);
}

static void
test_walk_keys(void **state)
{
	struct rdb_buf rdb;
	struct collected c;
	struct rdb_visitor v = {.capture = 1, .key = collect_key, .arg = &c};
	struct rdb_summary s;
	struct cairn_error err;
	size_t chunk;

	(void)state;
	build_rdb(&rdb, 1);
	/* Every block size, so records straddle refills. */
	for (chunk = 1; chunk <= rdb.length; chunk++) {
		struct mem_source m = {rdb.data, rdb.length, chunk};

		memset(&c, 0, sizeof(c));
		assert_int_equal(rdb_walk(mem_fill, &m, collect_tap, &c, &v, &s,
					  &err),
				 0);
		assert_int_equal(s.version, 10);
		assert_string_equal(s.redis_version, "7.0.15");
		assert_int_equal(s.checksum, 1);
		assert_int_equal(s.bytes, rdb.length);
		assert_int_equal(s.db_count, 4);
		assert_int_equal(s.keys[0], 3);
		assert_int_equal(s.expires[0], 1);
		assert_int_equal(s.keys[3], 1);
		assert_int_equal(rdb_summary_keys(&s), 4);
		assert_int_equal(c.count, 4);
		assert_string_equal(c.names[0], "hello");
		assert_true(c.expires[0] == 1893456000000LL);
		assert_string_equal(c.names[1], "12345");
		assert_true(c.expires[1] == -1);
		assert_string_equal(c.names[2], "abcabcabc");
		assert_string_equal(c.names[3], "s");
		assert_true(c.dbs[3] == 3);
		/* The payload of "hello": type, value, version, CRC. */
		assert_int_equal(c.payloads[0].length, 1 + 6 + 2 + 8);
		assert_memory_equal(c.payloads[0].data, "\0\5world\12\0", 9);
		assert_true(rdb_crc64(0, c.payloads[0].data, 9) ==
			    (uint64_t)c.payloads[0].data[9] +
				    ((uint64_t)c.payloads[0].data[10] << 8) +
				    ((uint64_t)c.payloads[0].data[11] << 16) +
				    ((uint64_t)c.payloads[0].data[12] << 24) +
				    ((uint64_t)c.payloads[0].data[13] << 32) +
				    ((uint64_t)c.payloads[0].data[14] << 40) +
				    ((uint64_t)c.payloads[0].data[15] << 48) +
				    ((uint64_t)c.payloads[0].data[16] << 56));
		/* The tap saw every byte, once, in order. */
		assert_int_equal(c.tapped.length, rdb.length);
		assert_memory_equal(c.tapped.data, rdb.data, rdb.length);
		rdb_summary_release(&s);
		collected_release(&c);
	}
	rdb_buf_release(&rdb);
}

/* Empty keys: what the walk flags as Redis' rdbLoadObject would skip. */

struct empty_seen {
	int count;
	char names[24][40];
	int empty[24];
	uint64_t dbs[24];
};

static int
collect_empty(void *arg, const struct rdb_key *key, struct cairn_error *err)
{
	struct empty_seen *e = arg;

	(void)err;
	assert_true(e->count < 24);
	assert_true(key->name_length < 40);
	memcpy(e->names[e->count], key->name, key->name_length);
	e->names[e->count][key->name_length] = '\0';
	e->empty[e->count] = key->empty;
	e->dbs[e->count] = key->db;
	e->count++;
	return 0;
}

static const unsigned char empty_ziplist[11] = {11, 0, 0, 0, 10,  0,
						0,  0, 0, 0, 0xff};
static const unsigned char empty_listpack[7] = {7, 0, 0, 0, 0, 0, 0xff};
/* A listpack of one 6-bit string "a": header, 0x81 'a', backlen 2, end. */
static const unsigned char one_listpack[10] = {10, 0,	 0,   0, 1,
					       0,  0x81, 'a', 2, 0xff};

static void
put_blob(struct rdb_buf *b, const unsigned char *data, size_t length)
{
	put_length(b, length);
	put(b, data, length);
}

static void
test_walk_empty_keys(void **state)
{
	static const char *const want_empty[] = {
		"list",	   "set",     "zset",	  "zset2",   "hash",
		"list-zl", "zset-zl", "hash-zl",  "hash-lp", "zset-lp",
		"set-lp",  "ql",      "ql-nodes", "ql2",     "ql2-nodes",
	};
	static const char *const want_kept[] = {
		"ql-one-full",
		"ql2-plain",
		"set-lp-one",
		"string",
	};
	struct rdb_visitor v = {.capture = 1, .key = collect_empty};
	struct empty_seen e;
	struct rdb_summary s;
	struct cairn_error err;
	struct rdb_buf b;
	size_t i;

	(void)state;
	memset(&b, 0, sizeof(b));
	memset(&e, 0, sizeof(e));
	v.arg = &e;
	put(&b, "REDIS0011", 9);
	put_byte(&b, 254);
	put_length(&b, 0);
	put_byte(&b, 1); /* list */
	put_string(&b, "list");
	put_length(&b, 0);
	put_byte(&b, 2); /* set */
	put_string(&b, "set");
	put_length(&b, 0);
	put_byte(&b, 3); /* zset, text scores */
	put_string(&b, "zset");
	put_length(&b, 0);
	put_byte(&b, 5); /* zset, binary scores */
	put_string(&b, "zset2");
	put_length(&b, 0);
	put_byte(&b, 4); /* hash */
	put_string(&b, "hash");
	put_length(&b, 0);
	put_byte(&b, 10); /* list ziplist */
	put_string(&b, "list-zl");
	put_blob(&b, empty_ziplist, sizeof(empty_ziplist));
	put_byte(&b, 12); /* zset ziplist */
	put_string(&b, "zset-zl");
	put_blob(&b, empty_ziplist, sizeof(empty_ziplist));
	put_byte(&b, 13); /* hash ziplist */
	put_string(&b, "hash-zl");
	put_blob(&b, empty_ziplist, sizeof(empty_ziplist));
	put_byte(&b, 16); /* hash listpack */
	put_string(&b, "hash-lp");
	put_blob(&b, empty_listpack, sizeof(empty_listpack));
	put_byte(&b, 17); /* zset listpack */
	put_string(&b, "zset-lp");
	put_blob(&b, empty_listpack, sizeof(empty_listpack));
	put_byte(&b, 20); /* set listpack (RDB 11) */
	put_string(&b, "set-lp");
	put_blob(&b, empty_listpack, sizeof(empty_listpack));
	put_byte(&b, 14); /* quicklist of no node */
	put_string(&b, "ql");
	put_length(&b, 0);
	put_byte(&b, 14); /* quicklist of empty ziplists */
	put_string(&b, "ql-nodes");
	put_length(&b, 2);
	put_blob(&b, empty_ziplist, sizeof(empty_ziplist));
	put_blob(&b, empty_ziplist, sizeof(empty_ziplist));
	put_byte(&b, 18); /* quicklist 2 of no node */
	put_string(&b, "ql2");
	put_length(&b, 0);
	put_byte(&b, 18); /* quicklist 2 of one empty packed node */
	put_string(&b, "ql2-nodes");
	put_length(&b, 1);
	put_length(&b, 2);
	put_blob(&b, empty_listpack, sizeof(empty_listpack));
	/* Kept: a full node after an empty one, a plain node, a set. */
	put_byte(&b, 18);
	put_string(&b, "ql-one-full");
	put_length(&b, 2);
	put_length(&b, 2);
	put_blob(&b, empty_listpack, sizeof(empty_listpack));
	put_length(&b, 2);
	put_blob(&b, one_listpack, sizeof(one_listpack));
	put_byte(&b, 18);
	put_string(&b, "ql2-plain");
	put_length(&b, 1);
	put_length(&b, 1);
	put_string(&b, "x");
	put_byte(&b, 20);
	put_string(&b, "set-lp-one");
	put_blob(&b, one_listpack, sizeof(one_listpack));
	put_byte(&b, 0);
	put_string(&b, "string");
	put_string(&b, "");
	put_byte(&b, 255);
	put_crc(&b, rdb_crc64(0, b.data, b.length));
	{
		struct mem_source m = {b.data, b.length, b.length};

		assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s,
					  &err),
				 0);
	}
	assert_int_equal(e.count, 19);
	for (i = 0; i < sizeof(want_empty) / sizeof(want_empty[0]); i++) {
		assert_string_equal(e.names[i], want_empty[i]);
		assert_int_equal(e.empty[i], 1);
	}
	for (i = 0; i < sizeof(want_kept) / sizeof(want_kept[0]); i++) {
		assert_string_equal(e.names[15 + i], want_kept[i]);
		assert_int_equal(e.empty[15 + i], 0);
	}
	/* Empty keys are counted apart: Redis does not load them. */
	assert_int_equal(s.empty_keys, 15);
	assert_int_equal(rdb_summary_keys(&s), 4);
	rdb_summary_release(&s);
	rdb_buf_release(&b);
}

/* Redis' own tests/assets/corrupt_empty_keys.rdb: nine empty keys. */
static void
test_walk_redis_empty_keys_fixture(void **state)
{
	struct rdb_visitor v = {.capture = 1, .key = collect_empty};
	struct empty_seen e;
	struct rdb_summary s;
	struct cairn_error err;
	unsigned char data[1024];
	size_t length;
	FILE *f;
	int i;

	(void)state;
	memset(&e, 0, sizeof(e));
	v.arg = &e;
	f = fopen(REDIS_FIXTURE_DIR "/corrupt_empty_keys.rdb", "rb");
	assert_non_null(f);
	length = fread(data, 1, sizeof(data), f);
	fclose(f);
	assert_int_equal(length, 280);
	{
		struct mem_source m = {data, length, 7};

		assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s,
					  &err),
				 0);
	}
	assert_int_equal(e.count, 9);
	for (i = 0; i < e.count; i++) {
		assert_int_equal(e.empty[i], 1);
		assert_true(e.dbs[i] == 0);
	}
	assert_string_equal(e.names[0], "set");
	assert_string_equal(e.names[8], "list_quicklist_empty_ziplist");
	assert_int_equal(s.empty_keys, 9);
	assert_int_equal(rdb_summary_keys(&s), 0);
	rdb_summary_release(&s);
}

static void
test_walk_truncated(void **state)
{
	struct rdb_buf rdb;
	struct rdb_visitor v = {0};
	struct rdb_summary s;
	struct cairn_error err;
	size_t cut;

	(void)state;
	build_rdb(&rdb, 1);
	for (cut = 0; cut < rdb.length; cut++) {
		struct mem_source m = {rdb.data, cut, 4096};

		assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s,
					  &err),
				 -1);
		rdb_summary_release(&s);
	}
	{
		struct mem_source m = {rdb.data, rdb.length - 3, 4096};

		assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s,
					  &err),
				 -1);
		assert_non_null(strstr(err.message, "truncated"));
		rdb_summary_release(&s);
	}
	rdb_buf_release(&rdb);
}

static void
test_walk_bad_crc(void **state)
{
	struct rdb_buf rdb;
	struct rdb_visitor v = {.tolerant = 1};
	struct rdb_summary s;
	struct cairn_error err;
	struct mem_source m;

	(void)state;
	build_rdb(&rdb, 1);
	rdb.data[world_offset] ^= 0x20; /* "World" */
	m = (struct mem_source){rdb.data, rdb.length, 4096};
	assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s, &err), -1);
	assert_non_null(strstr(err.message, "checksum mismatch"));
	rdb_summary_release(&s);
	rdb_buf_release(&rdb);
}

static void
test_walk_checksum_disabled(void **state)
{
	struct rdb_buf rdb;
	struct rdb_visitor v = {0};
	struct rdb_summary s;
	struct cairn_error err;
	struct mem_source m;

	(void)state;
	build_rdb(&rdb, 0);
	m = (struct mem_source){rdb.data, rdb.length, 4096};
	assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s, &err), 0);
	assert_int_equal(s.checksum, 0);
	rdb_summary_release(&s);
	rdb_buf_release(&rdb);
}

static void
test_walk_trailing_and_garbage(void **state)
{
	struct rdb_buf rdb;
	struct rdb_visitor v = {0}, tolerant = {.tolerant = 1};
	struct rdb_summary s;
	struct cairn_error err;
	struct mem_source m;

	(void)state;
	build_rdb(&rdb, 1);
	put_byte(&rdb, 0);
	m = (struct mem_source){rdb.data, rdb.length, 4096};
	assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s, &err), -1);
	assert_non_null(strstr(err.message, "after the end"));
	rdb_summary_release(&s);
	rdb_buf_release(&rdb);

	m = (struct mem_source){(const unsigned char *)"GARBAGE!!", 9, 4096};
	assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s, &err), -1);
	rdb_summary_release(&s);
	m = (struct mem_source){(const unsigned char *)"", 0, 4096};
	assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s, &err), -1);
	assert_non_null(strstr(err.message, "empty"));
	rdb_summary_release(&s);

	/* An unknown type: an error, or opaque with the CRC still checked. */
	memset(&rdb, 0, sizeof(rdb));
	put(&rdb, "REDIS0011", 9);
	put_byte(&rdb, 200);
	put(&rdb, "whatever", 8);
	put_byte(&rdb, 255);
	put_crc(&rdb, rdb_crc64(0, rdb.data, rdb.length));
	m = (struct mem_source){rdb.data, rdb.length, 4096};
	assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &v, &s, &err), -1);
	assert_non_null(strstr(err.message, "unsupported"));
	rdb_summary_release(&s);
	m = (struct mem_source){rdb.data, rdb.length, 4096};
	assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &tolerant, &s,
				  &err),
			 0);
	assert_int_equal(s.opaque, 1);
	assert_int_equal(s.checksum, 1);
	rdb_summary_release(&s);
	rdb.data[12] ^= 1;
	m = (struct mem_source){rdb.data, rdb.length, 4096};
	assert_int_equal(rdb_walk(mem_fill, &m, NULL, NULL, &tolerant, &s,
				  &err),
			 -1);
	rdb_summary_release(&s);
	rdb_buf_release(&rdb);
}

static void
test_lzf(void **state)
{
	const unsigned char in[] = {2, 'a', 'b', 'c', (4 << 5), 2};
	unsigned char out[9];

	(void)state;
	assert_int_equal(rdb_lzf_decompress(in, sizeof(in), out, 9), 0);
	assert_memory_equal(out, "abcabcabc", 9);
	assert_int_equal(rdb_lzf_decompress(in, sizeof(in), out, 8), -1);
	assert_int_equal(rdb_lzf_decompress(in, 3, out, 9), -1);
}

/* Configuration. */

static int
configure(struct fake_host *fh, const struct cairn_setting *settings,
	  size_t count, void **state, struct cairn_error *err)
{
	struct cairn_job_config job = {.job = "cache",
				       .file = "test.conf",
				       .section_line = 1,
				       .settings = settings,
				       .count = count};

	memset(err, 0, sizeof(*err));
	return cairn_plugin_entry.configure(&fh->host, &job, state, err);
}

static void
test_config(void **state)
{
	struct fake_host fh;
	struct cairn_error err;
	void *st = NULL;
	const struct cairn_setting good[] = {
		{"host", "127.0.0.1", 2},
		{"port", "40379", 3},
		{"user", "backup", 4},
		{"password-file", "/etc/pw", 5},
		{"mode", "save", 6},
		{"rdb-path", "/data/dump.rdb", 7},
		{"timeout", "60", 8},
		{"connect-timeout", "3", 9},
		{"drill-target", "redis-server", 10},
	};
	const struct cairn_setting bad_port[] = {{"port", "70000", 3}};
	const struct cairn_setting bad_mode[] = {{"mode", "fork", 4}};
	const struct cairn_setting bad_path[] = {{"rdb-path", "dump.rdb", 5}};
	const struct cairn_setting bad_timeout[] = {{"timeout", "0", 6}};
	const struct cairn_setting both[] = {{"port", "1", 2},
					     {"socket", "/run/r.sock", 3}};
	const struct cairn_setting unknown[] = {{"database", "0", 9}};
	const struct cairn_setting remote[] = {{"rdb-path", "remote", 2}};
	struct redis_config *config;

	(void)state;
	fake_host_init(&fh);
	assert_int_equal(configure(&fh, good, 9, &st, &err), 0);
	config = st;
	assert_string_equal(config->endpoint.address, "127.0.0.1:40379");
	assert_int_equal(config->mode, REDIS_MODE_SAVE);
	assert_string_equal(config->rdb_path, "/data/dump.rdb");
	assert_int_equal(config->timeout, 60);
	assert_int_equal(config->connect_timeout, 3);
	cairn_plugin_entry.release(st);

	assert_int_equal(configure(&fh, NULL, 0, &st, &err), 0);
	config = st;
	assert_string_equal(config->endpoint.address, "127.0.0.1:6379");
	assert_int_equal(config->mode, REDIS_MODE_BGSAVE);
	assert_null(config->rdb_path);
	assert_int_equal(config->timeout, REDIS_DEFAULT_TIMEOUT);
	cairn_plugin_entry.release(st);

	assert_int_equal(configure(&fh, remote, 1, &st, &err), 0);
	assert_int_equal(((struct redis_config *)st)->rdb_remote, 1);
	cairn_plugin_entry.release(st);

	assert_int_equal(configure(&fh, bad_port, 1, &st, &err), -1);
	assert_ptr_equal(err.setting, &bad_port[0]);
	assert_non_null(strstr(err.message, "'70000'"));
	assert_int_equal(configure(&fh, bad_mode, 1, &st, &err), -1);
	assert_non_null(strstr(err.message, "bgsave or save"));
	assert_int_equal(configure(&fh, bad_path, 1, &st, &err), -1);
	assert_int_equal(configure(&fh, bad_timeout, 1, &st, &err), -1);
	assert_int_equal(configure(&fh, both, 2, &st, &err), -1);
	assert_ptr_equal(err.setting, &both[1]);
	assert_int_equal(configure(&fh, unknown, 1, &st, &err), -1);
	assert_null(st);
	fake_host_release(&fh);
}

static void
test_url(void **state)
{
	struct redis_endpoint e;
	struct cairn_error err;

	(void)state;
	assert_int_equal(redis_url_parse("redis://10.0.0.1:7000", &e, &err), 0);
	assert_string_equal(e.host, "10.0.0.1");
	assert_int_equal(e.port, 7000);
	assert_int_equal(e.db, -1);
	assert_null(e.user);
	assert_null(e.password);
	redis_endpoint_release(&e);

	assert_int_equal(redis_url_parse("redis://bob:p%40ss@host/2", &e, &err),
			 0);
	assert_string_equal(e.user, "bob");
	assert_string_equal(e.password, "p@ss");
	assert_string_equal(e.host, "host");
	assert_int_equal(e.port, 6379);
	assert_int_equal(e.db, 2);
	assert_string_equal(e.address, "host:6379");
	redis_endpoint_release(&e);

	assert_int_equal(redis_url_parse("redis://:secret@[::1]:6380", &e,
					 &err),
			 0);
	assert_null(e.user);
	assert_string_equal(e.password, "secret");
	assert_string_equal(e.host, "::1");
	assert_int_equal(e.port, 6380);
	redis_endpoint_release(&e);

	assert_int_equal(redis_url_parse("redis://host:0", &e, &err), -1);
	assert_int_equal(redis_url_parse("redis://host:x/1", &e, &err), -1);
	assert_int_equal(redis_url_parse("redis://", &e, &err), -1);
	assert_int_equal(redis_url_parse("http://host", &e, &err), -1);
	assert_int_equal(redis_url_parse("redis://u:pw@host/x", &e, &err), -1);
	assert_null(strstr(err.message, "pw"));
}

/* Against real servers. */

struct server {
	char dir[640];
	int port;
	pid_t pid;
};

static int
free_port(void)
{
	struct sockaddr_in addr;
	socklen_t length = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &length), 0);
	port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

static int
have_redis_server(void)
{
	return system("redis-server --version >/dev/null 2>&1") == 0;
}

static redisContext *
server_connect(const struct server *s)
{
	struct timeval tv = {2, 0};
	int tries;

	for (tries = 0; tries < 100; tries++) {
		redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port,
							  tv);

		if (c != NULL && !c->err) {
			redisReply *reply = redisCommand(c, "PING");

			if (reply != NULL &&
			    reply->type == REDIS_REPLY_STATUS) {
				freeReplyObject(reply);
				return c;
			}
			if (reply != NULL)
				freeReplyObject(reply);
		}
		if (c != NULL)
			redisFree(c);
		usleep(50000);
	}
	fail_msg("redis-server on port %d did not answer", s->port);
	return NULL;
}

static void
server_start(struct server *s, const char *extra_name, const char *extra_value)
{
	char port[16], log[600];

	xsnprintf(s->dir, sizeof(s->dir), "/tmp/test_redis.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	s->port = free_port();
	xsnprintf(port, sizeof(port), "%d", s->port);
	xsnprintf(log, sizeof(log), "%s/redis.log", s->dir);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* Not holding the test's output open if it dies. */
		dup2(null, 1);
		dup2(null, 2);
		execlp("redis-server", "redis-server", "--port", port, "--bind",
		       "127.0.0.1", "--dir", s->dir, "--save", "", "--logfile",
		       log, "--enable-debug-command", "yes",
		       "--repl-diskless-sync-delay", "0",
		       extra_name ? extra_name : "--appendonly",
		       extra_value ? extra_value : "no", (char *)NULL);
		_exit(127);
	}
	redisFree(server_connect(s));
}

static void
server_stop(struct server *s)
{
	char command[700];
	int status;

	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	xsnprintf(command, sizeof(command), "rm -rf '%s'", s->dir);
	assert_int_equal(system(command), 0);
}

static void
command(redisContext *c, const char *format, ...)
{
	redisReply *reply;
	va_list ap;

	va_start(ap, format);
	reply = redisvCommand(c, format, ap);
	va_end(ap);
	assert_non_null(reply);
	if (reply->type == REDIS_REPLY_ERROR)
		fail_msg("%s: %s", format, reply->str);
	freeReplyObject(reply);
}

/*
 * With TEST_REDIS_GENERATOR naming tests/integration/redis/generate.py,
 * its dataset is loaded too (TEST_REDIS_KEYS keys, default 300000).
 */
static void
fill_generated(const struct server *s)
{
	const char *generator = getenv("TEST_REDIS_GENERATOR");
	const char *keys = getenv("TEST_REDIS_KEYS");
	char command[1200];

	if (generator == NULL)
		return;
	xsnprintf(command, sizeof(command),
		  "python3 '%s' --keys %s | redis-cli -p %d --pipe >/dev/null",
		  generator, keys ? keys : "300000", s->port);
	assert_int_equal(system(command), 0);
}

static void
fill_data(redisContext *c)
{
	char key[64], big[3000];
	int i;

	memset(big, 'z', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 2000; i++) {
		xsnprintf(key, sizeof(key), "string:%d", i);
		redisAppendCommand(c, "SET %s %b", key, "bin\0ary", (size_t)7);
	}
	for (i = 0; i < 2000; i++) {
		void *r;

		assert_int_equal(redisGetReply(c, &r), REDIS_OK);
		freeReplyObject(r);
	}
	command(c, "SET big %s", big);
	command(c, "SET 123456 integer-key");
	command(c, "SET volatile v PX 3600000");
	command(c, "HSET smallhash a 1 b 2");
	for (i = 0; i < 300; i++)
		command(c, "HSET bighash field%d %s", i, i % 50 ? "v" : big);
	command(c, "RPUSH list a b c 1 2 3");
	command(c, "SADD intset 1 2 3 99999");
	command(c, "SADD set a b c");
	command(c, "ZADD zset 1 a 2.5 b -inf c");
	for (i = 0; i < 200; i++)
		command(c, "ZADD bigzset %d member%d", i, i);
	command(c, "XADD stream 1-1 f v");
	command(c, "XADD stream 2-1 f w");
	command(c, "XGROUP CREATE stream group 0");
	command(c, "XREADGROUP GROUP group consumer COUNT 1 STREAMS stream >");
	command(c, "SELECT 2");
	command(c, "SET other-db value");
	command(c, "SELECT 0");
	command(c, "FUNCTION LOAD %s",
		"#!lua name=testlib\nredis.register_function('f', "
		"function() return 1 end)");
}

static char *
digest(const struct server *s)
{
	redisContext *c = server_connect(s);
	redisReply *reply = redisCommand(c, "DEBUG DIGEST");
	char *value;

	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_STATUS);
	value = strdup(reply->str);
	freeReplyObject(reply);
	redisFree(c);
	return value;
}

static void *
configure_job(struct fake_host *fh, const struct server *s,
	      const char *rdb_path)
{
	char port[16];
	struct cairn_setting settings[3] = {{"host", "127.0.0.1", 2},
					    {"port", port, 3},
					    {"rdb-path", rdb_path, 4}};
	struct cairn_error err;
	void *st;

	xsnprintf(port, sizeof(port), "%d", s->port);
	assert_int_equal(configure(fh, settings, rdb_path ? 3 : 2, &st, &err),
			 0);
	return st;
}

static void
backup_of(struct fake_host *fh, const struct server *s, const char *rdb_path)
{
	struct cairn_error err;
	void *st = configure_job(fh, s, rdb_path);
	int rc = cairn_plugin_entry.backup(st, &fh->host, fake_host_sink(fh),
					   &err);

	if (rc != 0)
		fail_msg("backup: %s", err.message);
	cairn_plugin_entry.release(st);
}

static void
restore_into(struct fake_host *fh, const char *target, int force, int expect)
{
	struct cairn_restore_options options = {.target = target,
						.force = force};
	struct cairn_error err;
	const struct cairn_setting none[1] = {{NULL, NULL, 0}};
	struct cairn_job_config job = {.job = "cache",
				       .settings = none,
				       .restore_only = 1};
	void *st;
	int rc;

	fake_host_rewind(fh);
	assert_int_equal(cairn_plugin_entry.configure(&fh->host, &job, &st,
						      &err),
			 0);
	rc = cairn_plugin_entry.restore(st, &fh->host, fake_host_source(fh),
					&options, &err);
	if (rc != expect)
		fail_msg("restore into %s: %d: %s", target, rc, err.message);
	cairn_plugin_entry.release(st);
}

/* With TEST_REDIS_VERBOSE set, what the plugin logged and reported. */
static void
dump_host(const struct fake_host *fh)
{
	size_t i;

	if (getenv("TEST_REDIS_VERBOSE") == NULL)
		return;
	for (i = 0; i < fh->log_count; i++)
		fprintf(stderr, "# %s\n", fh->log_lines[i]);
	for (i = 0; i < fh->report_count; i++)
		fprintf(stderr, "# %s\n", fh->report_lines[i]);
	for (i = 0; i < fh->fact_count; i++)
		fprintf(stderr, "# fact %s\n", fh->facts[i]);
}

static void
test_real_server(void **state)
{
	struct server source, target;
	struct fake_host fh, remote;
	char *want, *got, url[64];
	redisContext *c;

	(void)state;
	if (!have_redis_server())
		skip();
	server_start(&source, NULL, NULL);
	c = server_connect(&source);
	fill_data(c);
	redisFree(c);
	fill_generated(&source);
	want = digest(&source);

	/* Backup from the file (auto path). */
	fake_host_init(&fh);
	backup_of(&fh, &source, NULL);
	assert_non_null(fake_host_entry(&fh, "dump.rdb"));
	assert_non_null(strstr(fake_host_fact(&fh, "source"), "file "));
	assert_string_equal(fake_host_fact(&fh, "rdb_version"), "10");
	assert_string_equal(fake_host_fact(&fh, "keys.db2"), "1");
	if (getenv("TEST_REDIS_GENERATOR") == NULL)
		assert_string_equal(fake_host_fact(&fh, "expires.db0"), "1");
	assert_non_null(fake_host_fact(&fh, "redis_version"));
	assert_string_equal(fake_host_fact(&fh, "aof_enabled"), "0");
	assert_string_equal(fake_host_fact(&fh, "role"), "master");

	/* SAVE mode gives a snapshot too. */
	{
		struct fake_host saved;
		char port[16];
		const struct cairn_setting settings[2] = {{"port", port, 2},
							  {"mode", "save", 3}};
		struct cairn_error err;
		void *st;

		xsnprintf(port, sizeof(port), "%d", source.port);
		fake_host_init(&saved);
		assert_int_equal(configure(&saved, settings, 2, &st, &err), 0);
		if (cairn_plugin_entry.backup(st, &saved.host,
					      fake_host_sink(&saved),
					      &err) != 0)
			fail_msg("backup in save mode: %s", err.message);
		assert_true(fake_host_logged(&saved, "running SAVE"));
		assert_string_equal(fake_host_fact(&saved, "keys"),
				    fake_host_fact(&fh, "keys"));
		cairn_plugin_entry.release(st);
		fake_host_release(&saved);
	}

	/* Restore into a second server. */
	server_start(&target, NULL, NULL);
	xsnprintf(url, sizeof(url), "redis://127.0.0.1:%d", target.port);
	restore_into(&fh, url, 0, 0);
	got = digest(&target);
	assert_string_equal(got, want);
	free(got);
	/* Not empty any more: refused, then forced. */
	restore_into(&fh, url, 0, -1);
	restore_into(&fh, url, 1, 0);
	got = digest(&target);
	assert_string_equal(got, want);
	free(got);
	server_stop(&target);

	/* Restore into a directory, then a server started on it. */
	{
		struct server loaded;
		char dir[600], command[700];

		xsnprintf(dir, sizeof(dir), "%s/restored", source.dir);
		restore_into(&fh, dir, 0, 0);
		restore_into(&fh, dir, 0, -1); /* exists */
		restore_into(&fh, dir, 1, 0);
		xsnprintf(loaded.dir, sizeof(loaded.dir), "%s", dir);
		loaded.port = free_port();
		loaded.pid = fork();
		if (loaded.pid == 0) {
			char port[16];

			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1);
			dup2(null, 2);
			xsnprintf(port, sizeof(port), "%d", loaded.port);
			execlp("redis-server", "redis-server", "--port", port,
			       "--bind", "127.0.0.1", "--dir", dir, "--save",
			       "", "--enable-debug-command", "yes", "--logfile",
			       "redis.log", (char *)NULL);
			_exit(127);
		}
		got = digest(&loaded);
		assert_string_equal(got, want);
		free(got);
		kill(loaded.pid, SIGTERM);
		waitpid(loaded.pid, NULL, 0);
		xsnprintf(command, sizeof(command), "rm -rf '%s'", dir);
		assert_int_equal(system(command), 0);
	}

	/* The replication fallback gives the same snapshot, disk-based... */
	c = server_connect(&source);
	command(c, "CONFIG SET repl-diskless-sync no");
	redisFree(c);
	fake_host_init(&remote);
	backup_of(&remote, &source, "remote");
	assert_true(fake_host_logged(&remote, "disk-based transfer"));
	assert_string_equal(fake_host_fact(&remote, "source"), "replication");
	server_start(&target, NULL, NULL);
	xsnprintf(url, sizeof(url), "redis://127.0.0.1:%d", target.port);
	restore_into(&remote, url, 0, 0);
	got = digest(&target);
	assert_string_equal(got, want);
	free(got);
	server_stop(&target);
	dump_host(&remote);
	fake_host_release(&remote);

	/* ... and diskless. */
	c = server_connect(&source);
	command(c, "CONFIG SET repl-diskless-sync yes");
	redisFree(c);
	fake_host_init(&remote);
	backup_of(&remote, &source, "remote");
	assert_true(fake_host_logged(&remote, "diskless transfer"));
	server_start(&target, NULL, NULL);
	xsnprintf(url, sizeof(url), "redis://127.0.0.1:%d", target.port);
	restore_into(&remote, url, 0, 0);
	got = digest(&target);
	assert_string_equal(got, want);
	free(got);
	server_stop(&target);

	/* A drill of the diskless snapshot. */
	{
		struct cairn_drill_options options;
		struct cairn_error err;
		char scratch[] = "/tmp/test_redis_drill.XXXXXX";
		void *st = configure_job(&remote, &source, NULL);
		char command[200];

		assert_non_null(mkdtemp(scratch));
		options.scratch_dir = scratch;
		options.drill_target = NULL;
		fake_host_rewind(&remote);
		if (cairn_plugin_entry.drill(st, &remote.host,
					     fake_host_source(&remote),
					     &options,
					     fake_host_report(&remote),
					     &err) != 0)
			fail_msg("drill: %s", err.message);
		cairn_plugin_entry.release(st);
		xsnprintf(command, sizeof(command), "rm -rf '%s'", scratch);
		assert_int_equal(system(command), 0);
	}
	dump_host(&remote);
	fake_host_release(&remote);

	/* A stale rdb-path is refused. */
	{
		char stale[600], command[2048];
		struct cairn_error err;
		void *st;

		xsnprintf(stale, sizeof(stale), "%s/stale.rdb", source.dir);
		xsnprintf(command, sizeof(command),
			  "cp '%s/dump.rdb' '%s' && touch -d '2000-01-01' '%s'",
			  source.dir, stale, stale);
		assert_int_equal(system(command), 0);
		dump_host(&fh);
		fake_host_release(&fh);
		fake_host_init(&fh);
		st = configure_job(&fh, &source, stale);
		assert_int_equal(cairn_plugin_entry.backup(st, &fh.host,
							   fake_host_sink(&fh),
							   &err),
				 -1);
		assert_non_null(strstr(err.message, "not written by the save"));
		cairn_plugin_entry.release(st);
	}
	dump_host(&fh);
	fake_host_release(&fh);
	free(want);
	server_stop(&source);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc64_vectors),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_walk_keys),
		cmocka_unit_test(test_walk_empty_keys),
		cmocka_unit_test(test_walk_redis_empty_keys_fixture),
		cmocka_unit_test(test_walk_truncated),
		cmocka_unit_test(test_walk_bad_crc),
		cmocka_unit_test(test_walk_checksum_disabled),
		cmocka_unit_test(test_walk_trailing_and_garbage),
		cmocka_unit_test(test_lzf),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_real_server),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
