/*
 * The archive's data path in one process, no plugin and no command in
 * between: entries written through the writer's stream services, read
 * back through arc_open and the restore source, and checked by verify.
 * Covered: a directory, links, a file of known size, a sparse file with
 * holes at its start, middle and end, entries of unknown size stored in
 * parts, two of them open at once with a file of known size written
 * while they are, with compression zstd and none; then a flipped byte
 * and truncations, which the source and verify must report as damage
 * naming the archive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc.h"
#include "arc_id.h"
#include "arc_source.h"
#include "arc_verify.h"
#include "arc_writer.h"
#include "buf.h"
#include "manifest.h"
#include "sha256.h"
#include "test_helpers.h"
#include "xalloc.h"

#define MIB (1024 * 1024)

/* Deterministic content: byte i of entry `seed`. */
static unsigned char
content_byte(unsigned int seed, int64_t i)
{
	uint64_t x = (uint64_t)i * 2654435761U + seed * 40503U;

	return (unsigned char)(x >> 13);
}

static void
fill(unsigned char *buffer, size_t length, unsigned int seed, int64_t from)
{
	size_t i;

	for (i = 0; i < length; i++)
		buffer[i] = content_byte(seed, from + (int64_t)i);
}

/* What an entry should read back as. */
struct expected {
	const char *name;
	enum cairn_entry_type type;
	int64_t size; /* logical, holes included */
	char sha256[SHA256_HEX_SIZE];
	const char *link;
};

struct fixture {
	char *dir;
	char *path; /* the committed archive */
	char id[ARC_ID_SIZE];
	int compressed;
	struct expected expected[16];
	size_t count;
};

static void
expect_entry(struct fixture *f, const char *name, enum cairn_entry_type type,
	     int64_t size, struct sha256 *hash, const char *link)
{
	struct expected *e = &f->expected[f->count++];

	e->name = name;
	e->type = type;
	e->size = size;
	e->link = link;
	e->sha256[0] = '\0';
	if (hash != NULL)
		sha256_final_hex(hash, e->sha256);
}

static struct arc_stream *
open_stream(struct arc_writer *w, const struct cairn_entry *e)
{
	struct arc_stream *s = NULL;
	struct cairn_error err;

	if (arc_writer_stream_open(w, e, &s, &err) != 0)
		fail_msg("stream_open '%s': %s", e->name, err.message);
	return s;
}

/* Writes `length` bytes of entry `seed` from logical offset `from`. */
static void
write_content(struct arc_stream *s, unsigned int seed, int64_t from,
	      size_t length, struct sha256 *hash)
{
	unsigned char *block = xmalloc(length);
	struct cairn_error err;

	fill(block, length, seed, from);
	if (hash != NULL)
		sha256_update(hash, block, length);
	if (arc_writer_stream_write(s, block, length, &err) != 0)
		fail_msg("stream_write: %s", err.message);
	free(block);
}

static void
close_stream(struct arc_stream *s)
{
	struct cairn_error err;

	if (arc_writer_stream_close(s, &err) != 0)
		fail_msg("stream_close: %s", err.message);
}

static void
write_simple(struct arc_writer *w, struct fixture *f)
{
	struct cairn_entry e;
	struct sha256 hash;

	memset(&e, 0, sizeof(e));
	e.name = "dir";
	e.type = CAIRN_ENTRY_DIRECTORY;
	e.mode = 0750;
	close_stream(open_stream(w, &e));
	expect_entry(f, "dir", CAIRN_ENTRY_DIRECTORY, 0, NULL, NULL);

	assert_int_equal(sha256_init(&hash), 0);
	e.name = "dir/small";
	e.type = CAIRN_ENTRY_FILE;
	e.mode = 0640;
	e.size = 5000;
	{
		struct arc_stream *s = open_stream(w, &e);

		write_content(s, 1, 0, 3000, &hash);
		write_content(s, 1, 3000, 2000, &hash);
		close_stream(s);
	}
	expect_entry(f, "dir/small", CAIRN_ENTRY_FILE, 5000, &hash, NULL);
	sha256_release(&hash);

	memset(&e, 0, sizeof(e));
	e.name = "link";
	e.type = CAIRN_ENTRY_SYMLINK;
	e.link = "dir/small";
	close_stream(open_stream(w, &e));
	expect_entry(f, "link", CAIRN_ENTRY_SYMLINK, 0, NULL, "dir/small");

	e.name = "hard";
	e.type = CAIRN_ENTRY_HARDLINK;
	close_stream(open_stream(w, &e));
	expect_entry(f, "hard", CAIRN_ENTRY_HARDLINK, 0, NULL, "dir/small");
}

/* Holes before the first extent, between the two and after the last. */
static void
write_sparse(struct arc_writer *w, struct fixture *f)
{
	static const struct cairn_extent extents[] = {
		{1 * MIB, 4096},
		{2 * MIB + 7, 100},
	};
	const int64_t size = 3 * MIB + 10;
	unsigned char *zeros = xcalloc(1, MIB);
	struct cairn_entry e;
	struct arc_stream *s;
	struct sha256 hash;
	int64_t at = 0;
	size_t i;

	memset(&e, 0, sizeof(e));
	e.name = "sparse";
	e.type = CAIRN_ENTRY_FILE;
	e.mode = 0600;
	e.size = size;
	e.extents = extents;
	e.extent_count = 2;
	assert_int_equal(sha256_init(&hash), 0);
	s = open_stream(w, &e);
	for (i = 0; i < 2; i++) {
		while (at < extents[i].offset) {
			int64_t n = extents[i].offset - at;

			n = n > MIB ? MIB : n;
			sha256_update(&hash, zeros, (size_t)n);
			at += n;
		}
		write_content(s, 2, at, (size_t)extents[i].length, &hash);
		at += extents[i].length;
	}
	sha256_update(&hash, zeros, (size_t)(size - at));
	close_stream(s);
	expect_entry(f, "sparse", CAIRN_ENTRY_FILE, size, &hash, NULL);
	sha256_release(&hash);
	free(zeros);
}

/*
 * Two entries of unknown size open at once (9 MiB + 3 bytes: three
 * parts; 1 MiB: one), written in turns, and a file of known size written
 * from start to end while both are open.
 */
static void
write_streams(struct arc_writer *w, struct fixture *f)
{
	const int64_t big = 9 * MIB + 3, small = MIB;
	struct cairn_entry a, b, known;
	struct arc_stream *sa, *sb, *sk;
	struct sha256 ha, hb, hk;
	int64_t at_a = 0, at_b = 0;

	memset(&a, 0, sizeof(a));
	a.name = "streamed/big.dump";
	a.type = CAIRN_ENTRY_FILE;
	a.size = CAIRN_SIZE_UNKNOWN;
	b = a;
	b.name = "streamed/small.dump";
	known = a;
	known.name = "streamed/known";
	known.size = 70000;
	assert_int_equal(sha256_init(&ha), 0);
	assert_int_equal(sha256_init(&hb), 0);
	assert_int_equal(sha256_init(&hk), 0);

	sa = open_stream(w, &a);
	sb = open_stream(w, &b);
	/* Less than a part each: nothing needs the tar stream yet. */
	write_content(sa, 3, at_a, 100000, &ha);
	at_a += 100000;
	write_content(sb, 4, at_b, 1000, &hb);
	at_b += 1000;
	sk = open_stream(w, &known);
	write_content(sk, 5, 0, 70000, &hk);
	close_stream(sk);
	expect_entry(f, "streamed/known", CAIRN_ENTRY_FILE, 70000, &hk, NULL);
	while (at_a < big || at_b < small) {
		if (at_a < big) {
			size_t n = big - at_a > 777777 ? 777777
						       : (size_t)(big - at_a);

			write_content(sa, 3, at_a, n, &ha);
			at_a += (int64_t)n;
		}
		if (at_b < small) {
			size_t n = small - at_b > 65536
					   ? 65536
					   : (size_t)(small - at_b);

			write_content(sb, 4, at_b, n, &hb);
			at_b += (int64_t)n;
		}
	}
	close_stream(sb);
	expect_entry(f, "streamed/small.dump", CAIRN_ENTRY_FILE, small, &hb,
		     NULL);
	close_stream(sa);
	expect_entry(f, "streamed/big.dump", CAIRN_ENTRY_FILE, big, &ha, NULL);
	sha256_release(&ha);
	sha256_release(&hb);
	sha256_release(&hk);
}

static void
write_archive(struct fixture *f, int compress)
{
	struct buf temporary = BUF_INIT, final = BUF_INIT;
	struct manifest m;
	struct arc_writer w;
	struct cairn_error err;
	uint64_t stored = 0;

	manifest_init(&m);
	arc_id_new(m.id);
	arc_id_new(m.run);
	memcpy(f->id, m.id, ARC_ID_SIZE);
	f->compressed = compress;
	m.job = xstrdup("datapath");
	m.plugin = xstrdup("test");
	m.plugin_version = xstrdup("1");
	m.host = xstrdup("here");
	m.cairn_version = xstrdup("0");
	m.compressed = compress;
	m.level = 1;
	buf_printf(&temporary, "%s/.partial", f->dir);
	buf_printf(&final, "%s/%s.tar.zst", f->dir, f->id);
	if (arc_writer_open(&w, buf_str(&temporary), &m, compress, 1, 2, NULL,
			    &err) != 0)
		fail_msg("writer_open: %s", err.message);
	write_simple(&w, f);
	write_sparse(&w, f);
	write_streams(&w, f);
	/* What host_log does with a plugin's warning during a backup. */
	arc_writer_warning(&w, "datapath: a file changed as it was read");
	if (arc_writer_commit(&w, buf_str(&final), &stored, &err) != 0)
		fail_msg("commit: %s", err.message);
	assert_true(stored > 0);
	f->path = buf_detach(&final);
	buf_release(&temporary);
	manifest_release(&m);
}

static int
setup(void **state, int compress)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->dir = test_mkdtemp();
	write_archive(f, compress);
	*state = f;
	return 0;
}

static int
setup_zstd(void **state)
{
	return setup(state, 1);
}

static int
setup_plain(void **state)
{
	return setup(state, 0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->path);
	test_rmtree(f->dir);
	free(f);
	return 0;
}

static void
hash_zeros(struct sha256 *hash, const unsigned char *zeros, int64_t length)
{
	while (length > 0) {
		size_t n = length > MIB ? MIB : (size_t)length;

		sha256_update(hash, zeros, n);
		length -= (int64_t)n;
	}
}

/* Reads an entry to its end, holes as zeros: 0, or -1 with err set. */
static int
read_entry(struct arc_source *s, const struct cairn_entry *e, char *hex,
	   int64_t *size, struct cairn_error *err)
{
	unsigned char *zeros = xcalloc(1, MIB);
	struct sha256 hash;
	const void *data;
	size_t length;
	int64_t offset, at = 0;
	int rc;

	assert_int_equal(sha256_init(&hash), 0);
	while ((rc = arc_source_read(s, &data, &length, &offset, err)) > 0) {
		hash_zeros(&hash, zeros, offset - at);
		sha256_update(&hash, data, length);
		at = offset + (int64_t)length;
	}
	if (rc == 0 && at < e->size) {
		hash_zeros(&hash, zeros, e->size - at);
		at = e->size;
	}
	*size = at;
	sha256_final_hex(&hash, hex);
	sha256_release(&hash);
	free(zeros);
	return rc;
}

static const struct expected *
find_expected(const struct fixture *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		if (strcmp(f->expected[i].name, name) == 0)
			return &f->expected[i];
	return NULL;
}

/* The index says how the entries of unknown size were stored. */
static void
assert_parts(const struct arc *a)
{
	struct index_cursor cursor;
	struct index_record r;
	struct cairn_error err;
	int rc;

	index_cursor_init(&cursor, a);
	while ((rc = index_cursor_next(&cursor, &r, &err)) > 0) {
		if (strcmp(r.name, "streamed/big.dump") == 0)
			assert_int_equal(r.parts, 3);
		else if (strcmp(r.name, "streamed/small.dump") == 0)
			assert_int_equal(r.parts, 1);
		else
			assert_int_equal(r.parts, 0);
		index_record_release(&r);
	}
	assert_int_equal(rc, 0);
	index_cursor_release(&cursor);
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	const struct cairn_entry *e;
	struct verify_totals totals;
	struct arc_source source;
	struct cairn_error err;
	struct arc *a;
	size_t seen = 0;
	int rc;

	if (arc_open(&a, f->path, f->id, &err) != 0)
		fail_msg("arc_open: %s", err.message);
	assert_int_equal(a->manifest.entries, f->count);
	assert_int_equal(a->manifest.warning_count, 1);
	assert_string_equal(a->manifest.warnings[0],
			    "datapath: a file changed as it was read");
	arc_source_init(&source, a);
	while ((rc = arc_source_next(&source, &e, &err)) > 0) {
		const struct expected *x = find_expected(f, e->name);
		char hex[SHA256_HEX_SIZE];
		int64_t size;

		if (x == NULL)
			fail_msg("unexpected entry '%s'", e->name);
		assert_int_equal(e->type, x->type);
		if (x->link != NULL)
			assert_string_equal(e->link, x->link);
		if (read_entry(&source, e, hex, &size, &err) != 0)
			fail_msg("reading '%s': %s", e->name, err.message);
		if (x->type == CAIRN_ENTRY_FILE) {
			assert_int_equal(size, x->size);
			assert_string_equal(hex, x->sha256);
		}
		seen++;
	}
	if (rc < 0)
		fail_msg("source: %s", err.message);
	assert_int_equal(seen, f->count);
	assert_false(source.damaged);
	arc_source_close(&source);

	/* One entry by name: the last part of the big one included. */
	arc_source_init(&source, a);
	assert_int_equal(arc_source_find(&source, "streamed/big.dump", &e,
					 &err),
			 1);
	{
		char hex[SHA256_HEX_SIZE];
		int64_t size;

		assert_int_equal(read_entry(&source, e, hex, &size, &err), 0);
		assert_string_equal(hex, find_expected(f, "streamed/big.dump")
						 ->sha256);
	}
	arc_source_close(&source);

	if (arc_verify(a, &totals, &err) != 0)
		fail_msg("verify: %s", err.message);
	assert_int_equal(totals.entries, f->count);
	assert_parts(a);
	arc_close(a);
}

/* Flips one bit of the byte at `offset` of the file. */
static void
flip(const char *path, off_t offset)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	unsigned char byte;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, offset), 1);
	byte ^= 0x10;
	assert_int_equal(pwrite(fd, &byte, 1, offset), 1);
	close(fd);
}

/* Where `needle` first occurs in the file, or -1. */
static off_t
find_bytes(const char *path, const void *needle, size_t length)
{
	size_t size, i;
	char *text = test_read_file(path, &size);
	off_t at = -1;

	for (i = 0; i + length <= size; i++)
		if (memcmp(text + i, needle, length) == 0) {
			at = (off_t)i;
			break;
		}
	free(text);
	return at;
}

/* Reads every entry; the first failure's message is left in err. */
static int
read_all(struct arc *a, struct cairn_error *err, int *damaged)
{
	const struct cairn_entry *e;
	struct arc_source source;
	int rc;

	arc_source_init(&source, a);
	while ((rc = arc_source_next(&source, &e, err)) > 0) {
		char hex[SHA256_HEX_SIZE];
		int64_t size;

		if (read_entry(&source, e, hex, &size, err) != 0) {
			rc = -1;
			break;
		}
	}
	*damaged = source.damaged;
	arc_source_close(&source);
	return rc;
}

/* `checksum`: only the entry's checksum can tell (else zstd's may). */
static void
expect_damage(struct fixture *f, const char *what, int checksum)
{
	struct verify_totals totals;
	struct cairn_error err;
	struct arc *a;
	int damaged = 0;

	if (arc_open(&a, f->path, f->id, &err) != 0) {
		/* Damage the open finds is reported there. */
		assert_contains(err.message, f->id);
		return;
	}
	memset(&err, 0, sizeof(err));
	if (read_all(a, &err, &damaged) == 0)
		fail_msg("%s: the source read the damaged archive", what);
	assert_true(damaged);
	assert_contains(err.message, f->id);
	memset(&err, 0, sizeof(err));
	if (arc_verify(a, &totals, &err) == 0)
		fail_msg("%s: verify passed the damaged archive", what);
	assert_contains(err.message, f->id);
	if (checksum)
		assert_contains(err.message, "does not match the manifest");
	arc_close(a);
}

/* A byte of an entry's content: zstd's checksum, or the entry's. */
static void
test_flipped_byte(void **state)
{
	struct fixture *f = *state;
	unsigned char pattern[64];
	struct stat st;
	off_t at;

	fill(pattern, sizeof(pattern), 1, 100);
	at = find_bytes(f->path, pattern, sizeof(pattern));
	/* Without compression the content is stored as is; zstd may store
	 * a block it cannot shrink as is too, but checks its frames. */
	if (!f->compressed)
		assert_true(at >= 0);
	if (at >= 0) {
		flip(f->path, at + 10);
		expect_damage(f, "a byte of dir/small", !f->compressed);
		flip(f->path, at + 10);
	}
	assert_int_equal(stat(f->path, &st), 0);
	flip(f->path, st.st_size / 3);
	expect_damage(f, "a byte a third of the way", 0);
}

static void
test_truncated(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(truncate(f->path, st.st_size - 1), 0);
	expect_damage(f, "truncated by one byte", 0);
	assert_int_equal(truncate(f->path, st.st_size / 2), 0);
	expect_damage(f, "truncated to half", 0);
	assert_int_equal(truncate(f->path, 10), 0);
	expect_damage(f, "truncated to 10 bytes", 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup_zstd,
						teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup_plain,
						teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, setup_zstd,
						teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, setup_plain,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup_zstd,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup_plain,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
