/*
 * The volume plugin's POSIX ACLs through libacl, against the text form
 * cairn wrote before it used libacl (decoding the kernel's attribute by
 * hand): backups must write the same bytes, and that text must restore
 * the same ACL, or archives made by earlier versions would restore
 * differently. The expected texts below are what that decoder wrote for
 * these attribute values.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "volume.h"

#define NONE 0xffffffffu

struct acl_entry {
	unsigned int tag, perm;
	uint32_t id;
};

struct acl_case {
	const char *what;
	int directory;
	int which;
	const struct acl_entry *entries;
	size_t count;
	const char *text; /* as cairn wrote it before libacl */
};

static const struct acl_entry file_access[] = {
	{0x01, 6, NONE}, {0x02, 4, 1000}, {0x04, 5, NONE},
	{0x08, 7, 2000}, {0x10, 6, NONE}, {0x20, 0, NONE},
};
static const struct acl_entry dir_access[] = {
	{0x01, 7, NONE}, {0x02, 5, 1000}, {0x04, 5, NONE},
	{0x10, 5, NONE}, {0x20, 0, NONE},
};
static const struct acl_entry dir_default[] = {
	{0x01, 7, NONE}, {0x02, 5, 1001}, {0x04, 5, NONE},
	{0x10, 5, NONE}, {0x20, 1, NONE},
};
static const struct acl_entry wide_ids[] = {
	{0x01, 7, NONE},	{0x02, 1, 0},	 {0x02, 2, 65534},
	{0x02, 7, 4294967294u}, {0x04, 0, NONE}, {0x08, 3, 0},
	{0x08, 6, 4000000000u}, {0x10, 7, NONE}, {0x20, 4, NONE},
};

static const struct acl_case cases[] = {
	{"file access", 0, VOLUME_ACL_OF_ACCESS, file_access, 6,
	 "user::rw-\nuser:1000:r--\ngroup::r-x\ngroup:2000:rwx\n"
	 "mask::rw-\nother::---\n"},
	{"directory access", 1, VOLUME_ACL_OF_ACCESS, dir_access, 5,
	 "user::rwx\nuser:1000:r-x\ngroup::r-x\nmask::r-x\nother::---\n"},
	{"directory default", 1, VOLUME_ACL_OF_DEFAULT, dir_default, 5,
	 "user::rwx\nuser:1001:r-x\ngroup::r-x\nmask::r-x\nother::--x\n"},
	{"wide ids", 0, VOLUME_ACL_OF_ACCESS, wide_ids, 9,
	 "user::rwx\nuser:0:--x\nuser:65534:-w-\nuser:4294967294:rwx\n"
	 "group::---\ngroup:0:-wx\ngroup:4000000000:rw-\nmask::rwx\n"
	 "other::r--\n"},
};

/* The system.posix_acl_* value of the entries: the kernel's own form. */
static size_t
acl_value(unsigned char *out, const struct acl_entry *entries, size_t count)
{
	size_t i;

	out[0] = 2;
	out[1] = out[2] = out[3] = 0;
	for (i = 0; i < count; i++) {
		unsigned char *e = out + 4 + i * 8;

		e[0] = entries[i].tag & 0xff;
		e[1] = entries[i].tag >> 8;
		e[2] = entries[i].perm & 0xff;
		e[3] = entries[i].perm >> 8;
		e[4] = entries[i].id & 0xff;
		e[5] = (entries[i].id >> 8) & 0xff;
		e[6] = (entries[i].id >> 16) & 0xff;
		e[7] = entries[i].id >> 24;
	}
	return 4 + count * 8;
}

static char scratch[] = "/tmp/cairn-volume-acl-test.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(scratch) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char command[sizeof(scratch) + 16];

	(void)state;
	if (snprintf(command, sizeof(command), "rm -rf '%s'", scratch) >=
	    (int)sizeof(command))
		return -1;
	return system(command) == 0 ? 0 : -1;
}

/* A fresh file or directory `name` in the scratch directory. */
static void
make_node(const char *name, int directory, char *path, size_t size)
{
	int fd;

	assert_true(snprintf(path, size, "%s/%s", scratch, name) < (int)size);
	if (directory) {
		assert_int_equal(mkdir(path, 0750), 0);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	close(fd);
}

static const char *
attribute(int which)
{
	return which == VOLUME_ACL_OF_DEFAULT ? VOLUME_ACL_DEFAULT
					      : VOLUME_ACL_ACCESS;
}

/* Backup: libacl's text is byte for byte the text of earlier versions. */
static void
test_read_same_text(void **state)
{
	char path[512], name[32], *text = NULL;
	unsigned char value[512];
	size_t i, capacity = 0, length;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct acl_case *c = &cases[i];

		snprintf(name, sizeof(name), "read-%zu", i);
		make_node(name, c->directory, path, sizeof(path));
		length = acl_value(value, c->entries, c->count);
		assert_int_equal(setxattr(path, attribute(c->which), value,
					  length, 0),
				 0);
		/* By descriptor, as backup reads an open file, and by path. */
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(volume_acl_read(fd, path, c->which, &text,
						 &capacity),
				 0);
		close(fd);
		if (strcmp(text, c->text) != 0)
			fail_msg("%s: read\n%s\nwanted\n%s", c->what, text,
				 c->text);
		assert_int_equal(volume_acl_read(-1, path, c->which, &text,
						 &capacity),
				 0);
		assert_string_equal(text, c->text);
	}
	free(text);
}

/* Restore: the old text sets exactly the attribute it was read from. */
static void
test_write_same_value(void **state)
{
	char path[512], name[32];
	unsigned char value[512], got[512];
	size_t i, length;
	ssize_t n;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct acl_case *c = &cases[i];

		snprintf(name, sizeof(name), "write-%zu", i);
		make_node(name, c->directory, path, sizeof(path));
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(volume_acl_write(fd, path, c->which, c->text),
				 0);
		close(fd);
		length = acl_value(value, c->entries, c->count);
		n = getxattr(path, attribute(c->which), got, sizeof(got));
		assert_int_equal(n, (ssize_t)length);
		if (memcmp(got, value, length) != 0)
			fail_msg("%s: the restored attribute differs", c->what);
	}
}

/* Texts libarchive or an operator may give: names, commas, letters. */
static void
test_write_other_forms(void **state)
{
	char path[512], *text = NULL;
	size_t capacity = 0;

	(void)state;
	make_node("forms", 0, path, sizeof(path));
	assert_int_equal(volume_acl_write(-1, path, VOLUME_ACL_OF_ACCESS,
					  "u::rw-,u:root:r--,g::r--,"
					  "m::r--,o::---"),
			 0);
	assert_int_equal(volume_acl_read(-1, path, VOLUME_ACL_OF_ACCESS, &text,
					 &capacity),
			 0);
	assert_string_equal(text, "user::rw-\nuser:0:r--\ngroup::r--\n"
				  "mask::r--\nother::---\n");
	free(text);
}

static void
test_refusals(void **state)
{
	char path[512], *text = NULL;
	size_t capacity = 0;

	(void)state;
	make_node("refusals", 1, path, sizeof(path));
	/* No default ACL is not an empty one. */
	errno = 0;
	assert_int_equal(volume_acl_read(-1, path, VOLUME_ACL_OF_DEFAULT, &text,
					 &capacity),
			 -1);
	assert_int_equal(errno, ENODATA);
	assert_int_equal(volume_acl_write(-1, path, VOLUME_ACL_OF_ACCESS,
					  "user::rw-\nfriend::r--\n"),
			 -1);
	assert_int_equal(volume_acl_write(-1, path, VOLUME_ACL_OF_ACCESS,
					  "user::rw-\nuser:no-such-user-here:"
					  "r--\ngroup::r--\nmask::r--\n"
					  "other::---\n"),
			 -1);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_same_text),
		cmocka_unit_test(test_write_same_value),
		cmocka_unit_test(test_write_other_forms),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
