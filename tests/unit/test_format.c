/*
 * Unit tests of the format module: part names written and parsed back,
 * tar names without their trailing '/', cairn's own entry names, index
 * chunks split into lines, libarchive types, and holes as zeros.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "sha256.h"
#include "test_helpers.h"

static void
test_part_names(void **state)
{
	struct buf name = BUF_INIT;
	unsigned int number = 0;

	(void)state;
	format_part_name("payment_gateway.dump", 1, &name);
	assert_string_equal(buf_str(&name), "payment_gateway.dump.part-000001");
	assert_int_equal(format_part_base(buf_str(&name), &number),
			 strlen("payment_gateway.dump"));
	assert_int_equal(number, 1);
	/* The buffer is reset, not appended to. */
	format_part_name("dir/x", 123456, &name);
	assert_string_equal(buf_str(&name), "dir/x.part-123456");
	assert_int_equal(format_part_base(buf_str(&name), &number), 5);
	assert_int_equal(number, 123456);
	buf_release(&name);
}

static void
test_part_names_refused(void **state)
{
	unsigned int number = 7;

	(void)state;
	assert_int_equal(format_part_base("x.part-00001", &number), 0);
	assert_int_equal(format_part_base("x.part-00000a", &number), 0);
	assert_int_equal(format_part_base("x.parts000001", &number), 0);
	assert_int_equal(format_part_base(".part-000001", &number), 0);
	assert_int_equal(format_part_base("", &number), 0);
	assert_int_equal(number, 7);
}

static void
test_entry_names(void **state)
{
	char *name;

	(void)state;
	name = format_entry_name("etc/ssl/");
	assert_string_equal(name, "etc/ssl");
	free(name);
	name = format_entry_name("etc//");
	assert_string_equal(name, "etc");
	free(name);
	name = format_entry_name("/");
	assert_string_equal(name, "/");
	free(name);
	name = format_entry_name("file");
	assert_string_equal(name, "file");
	free(name);
	assert_true(format_name_is("etc/ssl/", "etc/ssl"));
	assert_true(format_name_is("etc/ssl", "etc/ssl"));
	assert_false(format_name_is("etc/ssl/x", "etc/ssl"));
	assert_false(format_name_is("etc/ss", "etc/ssl"));
}

static void
test_own_entries(void **state)
{
	struct buf name = BUF_INIT;

	(void)state;
	format_index_chunk_name(3, &name);
	assert_string_equal(buf_str(&name), ".cairn/index.part-000003");
	assert_int_equal(format_own_entry(buf_str(&name)), FORMAT_INDEX_CHUNK);
	assert_int_equal(format_own_entry(".cairn/manifest.json"),
			 FORMAT_MANIFEST);
	format_removed_chunk_name(12, &name);
	assert_string_equal(buf_str(&name), ".cairn/removed.part-000012");
	assert_int_equal(format_own_entry(buf_str(&name)),
			 FORMAT_REMOVED_CHUNK);
	assert_int_equal(format_own_entry("manifest.json"), FORMAT_NOT_OWN);
	buf_release(&name);
}

static void
test_index_lines(void **state)
{
	struct buf chunk = BUF_INIT;
	size_t position = 0, length;
	const char *line;

	(void)state;
	buf_append_str(&chunk, "one\ntwo\n\nlast");
	assert_int_equal(format_next_line(&chunk, &position, &line, &length),
			 1);
	assert_int_equal(length, 3);
	assert_memory_equal(line, "one", 3);
	assert_int_equal(format_next_line(&chunk, &position, &line, &length),
			 1);
	assert_memory_equal(line, "two", 3);
	/* An empty line is a line: the record parser refuses it. */
	assert_int_equal(format_next_line(&chunk, &position, &line, &length),
			 1);
	assert_int_equal(length, 0);
	assert_int_equal(format_next_line(&chunk, &position, &line, &length),
			 1);
	assert_int_equal(length, 4);
	assert_memory_equal(line, "last", 4);
	assert_int_equal(format_next_line(&chunk, &position, &line, &length),
			 0);
	buf_release(&chunk);
}

static void
test_entry_types(void **state)
{
	struct archive_entry *ae = archive_entry_new();

	(void)state;
	archive_entry_set_filetype(ae, AE_IFREG);
	assert_int_equal(format_entry_type(ae), CAIRN_ENTRY_FILE);
	archive_entry_set_filetype(ae, AE_IFDIR);
	assert_int_equal(format_entry_type(ae), CAIRN_ENTRY_DIRECTORY);
	archive_entry_set_filetype(ae, AE_IFLNK);
	assert_int_equal(format_entry_type(ae), CAIRN_ENTRY_SYMLINK);
	archive_entry_set_filetype(ae, AE_IFIFO);
	assert_int_equal(format_entry_type(ae), CAIRN_ENTRY_FIFO);
	archive_entry_set_filetype(ae, AE_IFCHR);
	assert_int_equal(format_entry_type(ae), CAIRN_ENTRY_CHARDEV);
	archive_entry_set_filetype(ae, AE_IFBLK);
	assert_int_equal(format_entry_type(ae), CAIRN_ENTRY_BLOCKDEV);
	/* A hard link is one whatever its type says. */
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_hardlink(ae, "other");
	assert_int_equal(format_entry_type(ae), CAIRN_ENTRY_HARDLINK);
	archive_entry_free(ae);
}

static void
test_hole_hash(void **state)
{
	struct sha256 by_format, by_hand;
	char a[SHA256_HEX_SIZE], b[SHA256_HEX_SIZE];
	size_t length = 3 * 1024 * 1024 + 5;
	unsigned char *zeros = calloc(1, length);

	(void)state;
	assert_non_null(zeros);
	assert_int_equal(sha256_init(&by_format), 0);
	assert_int_equal(sha256_init(&by_hand), 0);
	format_hash_zeros(&by_format, (int64_t)length);
	sha256_update(&by_hand, zeros, length);
	sha256_final_hex(&by_format, a);
	sha256_final_hex(&by_hand, b);
	assert_string_equal(a, b);
	sha256_release(&by_format);
	sha256_release(&by_hand);
	free(zeros);
}

static void
test_hole_write(void **state)
{
	char *dir = test_mkdtemp();
	char *path = test_write_file(dir, "zeros", "", 0);
	char *text;
	size_t length, i;
	int fd;

	(void)state;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(format_write_zeros(fd, 2 * 1024 * 1024 + 1), 0);
	close(fd);
	text = test_read_file(path, &length);
	assert_int_equal(length, 2 * 1024 * 1024 + 1);
	for (i = 0; i < length; i++)
		if (text[i] != 0)
			fail_msg("byte %zu is not zero", i);
	free(text);
	free(path);
	test_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_part_names),
		cmocka_unit_test(test_part_names_refused),
		cmocka_unit_test(test_entry_names),
		cmocka_unit_test(test_own_entries),
		cmocka_unit_test(test_index_lines),
		cmocka_unit_test(test_entry_types),
		cmocka_unit_test(test_hole_hash),
		cmocka_unit_test(test_hole_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
