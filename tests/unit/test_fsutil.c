/*
 * Unit tests of fsutil: the directory of a path, including the refusal of
 * one that does not fit (a cut name is another directory, and the commit
 * of an archive would then fsync the wrong one), and atomic writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"

static void
test_dirname(void **state)
{
	struct cairn_error err;
	char out[64];

	(void)state;
	assert_int_equal(fsutil_dirname("a/b/c", out, sizeof(out), &err), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(fsutil_dirname("/srv/repo/x.tar.zst", out, sizeof(out),
					&err),
			 0);
	assert_string_equal(out, "/srv/repo");
	assert_int_equal(fsutil_dirname("/x", out, sizeof(out), &err), 0);
	assert_string_equal(out, "/");
	assert_int_equal(fsutil_dirname("x", out, sizeof(out), &err), 0);
	assert_string_equal(out, ".");
}

static void
test_dirname_exact_fit(void **state)
{
	struct cairn_error err;
	char out[4];

	(void)state;
	/* "abc" and its NUL fill the buffer exactly. */
	assert_int_equal(fsutil_dirname("abc/file", out, sizeof(out), &err), 0);
	assert_string_equal(out, "abc");
}

static void
test_dirname_too_long(void **state)
{
	struct cairn_error err;
	char out[8];

	(void)state;
	memset(out, 'z', sizeof(out));
	/* "/srv/repository" would be cut to "/srv/re": refused instead. */
	assert_int_equal(fsutil_dirname("/srv/repository/archive", out,
					sizeof(out), &err),
			 -1);
	assert_non_null(strstr(err.message, "/srv/repository/archive"));
	assert_non_null(strstr(err.message, "too long"));
	/* Nothing that looks like a directory was left behind. */
	assert_int_equal(memchr(out, '\0', sizeof(out)) == NULL, 1);
}

static void
test_write_atomic(void **state)
{
	char template[] = "/tmp/cairn-fsutil-test.XXXXXX";
	struct cairn_error err;
	struct buf path = BUF_INIT;
	char *data = NULL;
	size_t length = 0;

	(void)state;
	assert_non_null(mkdtemp(template));
	buf_printf(&path, "%s/file", template);
	assert_int_equal(fsutil_write_atomic(buf_str(&path), "one\n", 4, 0640,
					     &err),
			 0);
	assert_int_equal(fsutil_write_atomic(buf_str(&path), "two\n", 4, 0640,
					     &err),
			 0);
	assert_int_equal(fsutil_read_file(buf_str(&path), 1024, &data, &length,
					  &err),
			 0);
	assert_int_equal(length, 4);
	assert_memory_equal(data, "two\n", 4);
	free(data);
	assert_int_equal(unlink(buf_str(&path)), 0);
	assert_int_equal(rmdir(template), 0);
	buf_release(&path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirname),
		cmocka_unit_test(test_dirname_exact_fit),
		cmocka_unit_test(test_dirname_too_long),
		cmocka_unit_test(test_write_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
