/*
 * Tests of the volume plugin against the fake host: a tree holding every
 * kind of file is backed up, replayed into another directory and compared
 * with the original, metadata included; exclusions, --only, dry runs,
 * non-empty targets, hostile names, files that change or vanish while
 * they are read, check and drill. Each test works in its own directory
 * under $TMPDIR, kept when the test fails.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "fake_host.h"

#define MIB (1024 * 1024)

/* Per-test state: a scratch directory and whether the test got through. */
struct fixture {
	char dir[PATH_MAX];
	int passed;
};

static const struct cairn_plugin *const plugin = &cairn_plugin_entry;

/* ---- helpers ------------------------------------------------------- */

static void
path_join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s/%s", a, b);

	assert_true(n > 0 && (size_t)n < size);
}

static void
write_file(const char *path, const void *data, size_t length, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, length), (ssize_t)length);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
fill_random(unsigned char *data, size_t length, uint32_t seed)
{
	size_t i;

	for (i = 0; i < length; i++) {
		seed = seed * 1103515245 + 12345;
		data[i] = (unsigned char)(seed >> 16);
	}
}

static void
set_times(const char *path, time_t mtime, long mtime_ns, time_t atime,
	  long atime_ns)
{
	struct timespec times[2];

	times[0].tv_sec = atime;
	times[0].tv_nsec = atime_ns;
	times[1].tv_sec = mtime;
	times[1].tv_nsec = mtime_ns;
	assert_int_equal(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW),
			 0);
}

/* A system.posix_acl_* value: a version 2 header and 8-byte entries. */
struct acl_entry {
	unsigned int tag, perm;
	uint32_t id;
};

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

static void
set_acls(const char *file, const char *dir)
{
	static const struct acl_entry access[] = {
		{0x01, 6, 0xffffffff}, /* user::rw- */
		{0x02, 4, 1000},       /* user:1000:r-- */
		{0x04, 5, 0xffffffff}, /* group::r-x */
		{0x08, 7, 2000},       /* group:2000:rwx */
		{0x10, 6, 0xffffffff}, /* mask::rw- */
		{0x20, 0, 0xffffffff}, /* other::--- */
	};
	static const struct acl_entry dir_access[] = {
		{0x01, 7, 0xffffffff}, {0x02, 5, 1000},
		{0x04, 5, 0xffffffff}, {0x10, 5, 0xffffffff},
		{0x20, 0, 0xffffffff},
	};
	static const struct acl_entry defaults[] = {
		{0x01, 7, 0xffffffff}, {0x02, 5, 1001},
		{0x04, 5, 0xffffffff}, {0x10, 5, 0xffffffff},
		{0x20, 1, 0xffffffff},
	};
	unsigned char value[256];
	size_t length;

	length = acl_value(value, access, 6);
	assert_int_equal(setxattr(file, "system.posix_acl_access", value,
				  length, 0),
			 0);
	length = acl_value(value, dir_access, 5);
	assert_int_equal(setxattr(dir, "system.posix_acl_access", value, length,
				  0),
			 0);
	length = acl_value(value, defaults, 5);
	assert_int_equal(setxattr(dir, "system.posix_acl_default", value,
				  length, 0),
			 0);
}

/*
 * The tree of every kind of file. Directory times are set last, once
 * their content no longer changes.
 */
static void
build_tree(const char *root)
{
	char path[PATH_MAX], other[PATH_MAX];
	unsigned char *data;
	int fd, i;

	assert_int_equal(mkdir(root, 0755), 0);
	data = malloc(3 * MIB + 123);
	assert_non_null(data);
	fill_random(data, 3 * MIB + 123, 42);
	path_join(path, sizeof(path), root, "plain");
	write_file(path, data, 3 * MIB + 123, 0640);
	set_times(path, 1600000000, 123456789, 1700000000, 987654321);
	free(data);

	path_join(path, sizeof(path), root, "empty");
	write_file(path, "", 0, 0600);

	/* data, a 64 MiB hole, data */
	path_join(path, sizeof(path), root, "sparse");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	data = malloc(4096);
	assert_non_null(data);
	memset(data, 'A', 4096);
	assert_int_equal(pwrite(fd, data, 4096, 0), 4096);
	memset(data, 'B', 4096);
	assert_int_equal(pwrite(fd, data, 4096, 4096 + 64 * MIB), 4096);
	free(data);
	close(fd);

	path_join(path, sizeof(path), root, "allhole");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, MIB), 0);
	close(fd);

	path_join(path, sizeof(path), root, "link");
	assert_int_equal(symlink("plain", path), 0);
	set_times(path, 1500000000, 5, 1500000000, 6);
	path_join(path, sizeof(path), root, "dangling");
	assert_int_equal(symlink("nowhere/at/all", path), 0);

	path_join(path, sizeof(path), root, "sub");
	assert_int_equal(mkdir(path, 0750), 0);
	path_join(path, sizeof(path), root, "hard1");
	write_file(path, "linked\n", 7, 0644);
	path_join(other, sizeof(other), root, "sub/hard2");
	assert_int_equal(link(path, other), 0);
	path_join(path, sizeof(path), root, "sub/file");
	write_file(path, "in sub\n", 7, 0644);

	path_join(path, sizeof(path), root, "fifo");
	assert_int_equal(mkfifo(path, 0620), 0);
	if (geteuid() == 0) {
		path_join(path, sizeof(path), root, "null");
		assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
		path_join(path, sizeof(path), root, "owned");
		write_file(path, "owned\n", 6, 0755);
		assert_int_equal(chown(path, 1234, 5678), 0);
		assert_int_equal(chmod(path, 04755), 0);
	}

	path_join(path, sizeof(path), root, "xattr");
	write_file(path, "attributes\n", 11, 0644);
	assert_int_equal(setxattr(path, "user.comment", "hello", 5, 0), 0);
	assert_int_equal(setxattr(path, "user.binary", "a\0b\xff", 4, 0), 0);
	if (geteuid() == 0)
		assert_int_equal(setxattr(path, "trusted.secret", "t", 1, 0),
				 0);
	path_join(path, sizeof(path), root, "sub");
	assert_int_equal(setxattr(path, "user.dir", "d", 1, 0), 0);

	path_join(path, sizeof(path), root, "acl");
	write_file(path, "acl\n", 4, 0640);
	path_join(other, sizeof(other), root, "acldir");
	assert_int_equal(mkdir(other, 0750), 0);
	set_acls(path, other);
	path_join(path, sizeof(path), root, "acldir/inherits");
	write_file(path, "x", 1, 0640);

	path_join(path, sizeof(path), root, "with space");
	write_file(path, "space\n", 6, 0644);
	path_join(path, sizeof(path), root, "new\nline");
	write_file(path, "newline\n", 8, 0644);
	path_join(path, sizeof(path), root,
		  "\xc3\xbc"
		  "n\xc3\xaf"
		  "c\xc3\xb8"
		  "d\xc3\xa9 \xe2\x9c\x93");
	write_file(path, "utf-8\n", 6, 0644);

	path_join(path, sizeof(path), root, "deep");
	assert_int_equal(mkdir(path, 0755), 0);
	for (i = 0; i < 40; i++) {
		size_t length = strlen(path);

		assert_true(length + 10 < sizeof(path));
		memcpy(path + length, "/d", 3);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	path_join(other, sizeof(other), path, "leaf");
	write_file(other, "deep\n", 5, 0644);

	/* A read-only directory: its mode must come after its content. */
	path_join(path, sizeof(path), root, "ro");
	assert_int_equal(mkdir(path, 0755), 0);
	path_join(other, sizeof(other), root, "ro/inner");
	write_file(other, "ro\n", 3, 0444);
	assert_int_equal(chmod(path, 0555), 0);
	set_times(path, 1400000000, 111, 1400000000, 222);

	path_join(path, sizeof(path), root, "sub");
	set_times(path, 1300000000, 999999999, 1300000000, 1);
	set_times(root, 1200000000, 42, 1200000000, 43);
}

static void
remove_tree(const char *path)
{
	struct dirent *d;
	char child[PATH_MAX];
	struct stat st;
	DIR *dir;

	if (lstat(path, &st) == -1)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	(void)chmod(path, 0700);
	dir = opendir(path);
	if (dir != NULL) {
		while ((d = readdir(dir)) != NULL) {
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			path_join(child, sizeof(child), path, d->d_name);
			remove_tree(child);
		}
		closedir(dir);
	}
	rmdir(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	if (snprintf(f->dir, sizeof(f->dir), "%s/cairn-volume-test.XXXXXX",
		     tmp != NULL ? tmp : "/tmp") >= (int)sizeof(f->dir) ||
	    mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->passed)
		remove_tree(f->dir);
	else
		fprintf(stderr, "# scratch directory kept: %s\n", f->dir);
	free(f);
	return 0;
}

/* configure with up to three settings; NULL values are left out. */
static int
configure(struct fake_host *fh, const char *paths, const char *exclude,
	  const char *one_file_system, void **job, struct cairn_error *err)
{
	/* Static: err->setting points at one of them after we return. */
	static struct cairn_setting settings[3];
	struct cairn_job_config config;
	size_t count = 0;

	if (paths != NULL)
		settings[count++] = (struct cairn_setting){"paths", paths, 10};
	if (exclude != NULL)
		settings[count++] = (struct cairn_setting){"exclude", exclude,
							   11};
	if (one_file_system != NULL)
		settings[count++] = (struct cairn_setting){"one-file-system",
							   one_file_system, 12};
	memset(&config, 0, sizeof(config));
	config.job = "volumes";
	config.file = "test.conf";
	config.section_line = 9;
	config.settings = settings;
	config.count = count;
	memset(err, 0, sizeof(*err));
	return plugin->configure(&fh->host, &config, job, err);
}

static void
backup(struct fake_host *fh, const char *paths, const char *exclude,
       const char *one_file_system, void **job)
{
	struct cairn_error err;

	assert_int_equal(configure(fh, paths, exclude, one_file_system, job,
				   &err),
			 0);
	memset(&err, 0, sizeof(err));
	if (plugin->backup(*job, &fh->host, fake_host_sink(fh), &err) != 0)
		fail_msg("backup: %s", err.message);
}

static int
restore(struct fake_host *fh, void *job, const char *target,
	const char *const *only, size_t only_count, int dry_run, int force,
	struct cairn_error *err)
{
	struct cairn_restore_options options;

	memset(&options, 0, sizeof(options));
	options.target = target;
	options.only = only;
	options.only_count = only_count;
	options.dry_run = dry_run;
	options.force = force;
	memset(err, 0, sizeof(*err));
	fake_host_rewind(fh);
	return plugin->restore(job, &fh->host, fake_host_source(fh), &options,
			       err);
}

/* Where a source path lands under a restore target. */
static void
restored_path(char *out, size_t size, const char *target, const char *path)
{
	int n = snprintf(out, size, "%s%s", target, path);

	assert_true(n > 0 && (size_t)n < size);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void
compare_content(const char *a, const char *b)
{
	static unsigned char x[MIB], y[MIB];
	/* Reading must not move the access times compared later. */
	int fa = open(a, O_RDONLY | O_NOATIME),
	    fb = open(b, O_RDONLY | O_NOATIME);
	ssize_t na, nb;

	assert_true(fa >= 0 && fb >= 0);
	do {
		na = read(fa, x, sizeof(x));
		nb = read(fb, y, sizeof(y));
		if (na != nb || (na > 0 && memcmp(x, y, (size_t)na) != 0))
			fail_msg("content of '%s' differs", b);
	} while (na > 0);
	close(fa);
	close(fb);
}

static void
compare_xattrs(const char *a, const char *b)
{
	char la[4096], lb[4096], va[4096], vb[4096];
	ssize_t na = llistxattr(a, la, sizeof(la));
	ssize_t nb = llistxattr(b, lb, sizeof(lb));
	const char *name;

	if (na != nb)
		fail_msg("'%s': %zd bytes of attribute names, wanted %zd", b,
			 nb, na);
	for (name = la; na > 0 && name < la + na; name += strlen(name) + 1) {
		ssize_t sa = lgetxattr(a, name, va, sizeof(va));
		ssize_t sb = lgetxattr(b, name, vb, sizeof(vb));

		if (sa != sb || (sa > 0 && memcmp(va, vb, (size_t)sa) != 0))
			fail_msg("'%s': attribute '%s' differs", b, name);
	}
}

/* Compares two trees; returns the number of files compared. */
static int
compare_tree(const char *a, const char *b)
{
	struct stat sa, sb;
	int count = 1;

	assert_int_equal(lstat(a, &sa), 0);
	if (lstat(b, &sb) != 0)
		fail_msg("'%s' was not restored", b);
	if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT))
		fail_msg("'%s': type differs", b);
	if ((sa.st_mode & 07777) != (sb.st_mode & 07777))
		fail_msg("'%s': mode %o, wanted %o", b, sb.st_mode & 07777,
			 sa.st_mode & 07777);
	if (geteuid() == 0 &&
	    (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid))
		fail_msg("'%s': owner %d:%d, wanted %d:%d", b, (int)sb.st_uid,
			 (int)sb.st_gid, (int)sa.st_uid, (int)sa.st_gid);
	if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec ||
	    sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec)
		fail_msg("'%s': mtime %lld.%09ld, wanted %lld.%09ld", b,
			 (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
			 (long long)sa.st_mtim.tv_sec, sa.st_mtim.tv_nsec);
	if (sa.st_nlink != sb.st_nlink && !S_ISDIR(sa.st_mode))
		fail_msg("'%s': %d links, wanted %d", b, (int)sb.st_nlink,
			 (int)sa.st_nlink);
	compare_xattrs(a, b);
	if (S_ISREG(sa.st_mode)) {
		if (sa.st_size != sb.st_size)
			fail_msg("'%s': size differs", b);
		if (sa.st_atim.tv_sec != sb.st_atim.tv_sec ||
		    sa.st_atim.tv_nsec != sb.st_atim.tv_nsec)
			fail_msg("'%s': atime differs", b);
		if (sb.st_blocks > sa.st_blocks + 8)
			fail_msg("'%s': %lld blocks, the original has %lld", b,
				 (long long)sb.st_blocks,
				 (long long)sa.st_blocks);
		compare_content(a, b);
	} else if (S_ISLNK(sa.st_mode)) {
		char ta[PATH_MAX], tb[PATH_MAX];
		ssize_t na = readlink(a, ta, sizeof(ta));
		ssize_t nb = readlink(b, tb, sizeof(tb));

		if (na != nb || memcmp(ta, tb, (size_t)na) != 0)
			fail_msg("'%s': symlink target differs", b);
	} else if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) {
		if (sa.st_rdev != sb.st_rdev)
			fail_msg("'%s': device number differs", b);
	} else if (S_ISDIR(sa.st_mode)) {
		struct dirent *d;
		int in_b = 0, in_a = 0;
		DIR *dir = opendir(a);

		assert_non_null(dir);
		while ((d = readdir(dir)) != NULL) {
			char ca[PATH_MAX], cb[PATH_MAX];

			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			path_join(ca, sizeof(ca), a, d->d_name);
			path_join(cb, sizeof(cb), b, d->d_name);
			count += compare_tree(ca, cb);
			in_a++;
		}
		closedir(dir);
		dir = opendir(b);
		assert_non_null(dir);
		while ((d = readdir(dir)) != NULL)
			if (strcmp(d->d_name, ".") != 0 &&
			    strcmp(d->d_name, "..") != 0)
				in_b++;
		closedir(dir);
		if (in_a != in_b)
			fail_msg("'%s' holds %d names, wanted %d", b, in_b,
				 in_a);
	}
	return count;
}

static const struct fake_entry *
entry_of(const struct fake_host *fh, const char *path)
{
	return fake_host_entry(fh, path + 1);
}

/* ---- tests --------------------------------------------------------- */

static void
test_configure(void **state)
{
	struct fixture *f = *state;
	struct cairn_job_config config;
	struct cairn_setting settings[2];
	struct fake_host fh;
	struct cairn_error err;
	void *job = NULL;

	fake_host_init(&fh);
	assert_int_equal(configure(&fh, "/srv/a \"/srv/with space\" /srv/b/",
				   "*.tmp \"cache dir\"", "yes", &job, &err),
			 0);
	plugin->release(job);

	assert_int_equal(configure(&fh, "relative/path", NULL, NULL, &job,
				   &err),
			 -1);
	assert_non_null(strstr(err.message, "'relative/path'"));
	assert_non_null(err.setting);
	assert_string_equal(err.setting->key, "paths");

	assert_int_equal(configure(&fh, "/srv/a", NULL, "maybe", &job, &err),
			 -1);
	assert_non_null(err.setting);
	assert_string_equal(err.setting->key, "one-file-system");
	assert_non_null(strstr(err.message, "'maybe'"));

	assert_int_equal(configure(&fh, "/srv/a /srv/a/b", NULL, NULL, &job,
				   &err),
			 -1);
	assert_non_null(strstr(err.message, "overlap"));
	assert_int_equal(configure(&fh, "/srv/../etc", NULL, NULL, &job, &err),
			 -1);
	assert_int_equal(configure(&fh, "\"/srv/a", NULL, NULL, &job, &err),
			 -1);
	assert_non_null(strstr(err.message, "quote"));
	assert_int_equal(configure(&fh, "   ", NULL, NULL, &job, &err), -1);
	assert_int_equal(configure(&fh, NULL, "*.tmp", NULL, &job, &err), -1);
	assert_non_null(strstr(err.message, "paths"));

	/* An archive whose job is gone: no keys at all. */
	memset(&config, 0, sizeof(config));
	config.job = "gone";
	config.restore_only = 1;
	config.settings = settings;
	assert_int_equal(plugin->configure(&fh.host, &config, &job, &err), 0);
	plugin->release(job);

	/* Every key is listed. */
	assert_string_equal(plugin->keys[0], "paths");
	assert_string_equal(plugin->keys[1], "exclude");
	assert_string_equal(plugin->keys[2], "one-file-system");
	assert_null(plugin->keys[3]);
	fake_host_release(&fh);
	f->passed = 1;
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	char src[PATH_MAX], dst[PATH_MAX], path[PATH_MAX], quoted[PATH_MAX];
	const struct fake_entry *e;
	struct cairn_error err;
	struct fake_host fh;
	struct stat st;
	void *job = NULL;
	int n;

	path_join(src, sizeof(src), f->dir, "src");
	path_join(dst, sizeof(dst), f->dir, "dst");
	build_tree(src);
	fake_host_init(&fh);
	n = snprintf(quoted, sizeof(quoted), "\"%s\"", src);
	assert_true(n > 0 && (size_t)n < sizeof(quoted));
	backup(&fh, quoted, NULL, NULL, &job);
	assert_int_equal(fh.log_count, 0);

	/* Names are absolute paths without their leading '/'. */
	e = entry_of(&fh, src);
	assert_non_null(e);
	assert_int_equal(e->meta.type, CAIRN_ENTRY_DIRECTORY);
	path_join(path, sizeof(path), src, "sub/hard2");
	e = entry_of(&fh, path);
	assert_non_null(e);
	assert_int_equal(e->meta.type, CAIRN_ENTRY_HARDLINK);
	path_join(path, sizeof(path), src, "hard1");
	assert_string_equal(e->meta.link, path + 1);
	path_join(path, sizeof(path), src, "sparse");
	e = entry_of(&fh, path);
	assert_non_null(e);
	assert_int_equal(e->meta.extent_count, 2);
	assert_int_equal(e->length, 8192);
	assert_int_equal(e->meta.size, 64 * MIB + 8192);
	path_join(path, sizeof(path), src, "acl");
	e = entry_of(&fh, path);
	assert_non_null(e);
	assert_non_null(e->meta.acl_access);
	assert_non_null(strstr(e->meta.acl_access, "user:1000:r--"));
	path_join(path, sizeof(path), src, "acldir");
	e = entry_of(&fh, path);
	assert_non_null(e->meta.acl_default);
	path_join(path, sizeof(path), src, "plain");
	e = entry_of(&fh, path);
	assert_int_equal(e->meta.mtime.tv_nsec, 123456789);
	assert_int_equal(e->meta.atime.tv_nsec, 987654321);
	if (geteuid() == 0) {
		assert_string_equal(e->meta.uname, "root");
		assert_string_equal(e->meta.gname, "root");
	}
	/* Quoted only when it has to be. */
	assert_string_equal(fake_host_fact(&fh, "paths"), src);
	assert_non_null(fake_host_fact(&fh, "files"));
	assert_non_null(fake_host_fact(&fh, "bytes"));

	assert_int_equal(restore(&fh, job, dst, NULL, 0, 0, 0, &err), 0);
	restored_path(path, sizeof(path), dst, src);
	assert_true(compare_tree(src, path) > 50);
	path_join(quoted, sizeof(quoted), path, "sparse");
	assert_int_equal(lstat(quoted, &st), 0);
	assert_true(st.st_blocks < 64);
	path_join(quoted, sizeof(quoted), path, "allhole");
	assert_int_equal(lstat(quoted, &st), 0);
	assert_int_equal(st.st_size, MIB);
	assert_true(st.st_blocks <= 8);

	/* Again with --force over what is there now. */
	assert_int_equal(restore(&fh, job, dst, NULL, 0, 0, 0, &err), -1);
	assert_non_null(strstr(err.message, "not empty"));
	if (restore(&fh, job, dst, NULL, 0, 0, 1, &err) != 0)
		fail_msg("restore --force: %s", err.message);
	assert_true(compare_tree(src, path) > 50);

	plugin->release(job);
	fake_host_release(&fh);
	f->passed = 1;
}

static void
test_exclude(void **state)
{
	struct fixture *f = *state;
	char src[PATH_MAX], path[PATH_MAX], paths[PATH_MAX], exclude[PATH_MAX];
	struct fake_host fh;
	void *job = NULL;
	int n;

	path_join(src, sizeof(src), f->dir, "src");
	assert_int_equal(mkdir(src, 0755), 0);
	path_join(path, sizeof(path), src, "keep");
	write_file(path, "k", 1, 0644);
	path_join(path, sizeof(path), src, "drop.tmp");
	write_file(path, "d", 1, 0644);
	path_join(path, sizeof(path), src, "cache");
	assert_int_equal(mkdir(path, 0755), 0);
	path_join(path, sizeof(path), src, "cache/inside");
	write_file(path, "c", 1, 0644);
	path_join(path, sizeof(path), src, "logs");
	assert_int_equal(mkdir(path, 0755), 0);
	path_join(path, sizeof(path), src, "logs/old.log");
	write_file(path, "o", 1, 0644);
	path_join(path, sizeof(path), src, "logs/keep.txt");
	write_file(path, "o", 1, 0644);
	path_join(path, sizeof(path), src, "abs");
	write_file(path, "a", 1, 0644);

	n = snprintf(exclude, sizeof(exclude), "*.tmp cache logs/*.log %s/abs",
		     src);
	assert_true(n > 0 && (size_t)n < sizeof(exclude));
	n = snprintf(paths, sizeof(paths), "%s", src);
	assert_true(n > 0 && (size_t)n < sizeof(paths));
	fake_host_init(&fh);
	backup(&fh, paths, exclude, "no", &job);
	path_join(path, sizeof(path), src, "keep");
	assert_non_null(entry_of(&fh, path));
	path_join(path, sizeof(path), src, "logs/keep.txt");
	assert_non_null(entry_of(&fh, path));
	path_join(path, sizeof(path), src, "drop.tmp");
	assert_null(entry_of(&fh, path));
	path_join(path, sizeof(path), src, "cache");
	assert_null(entry_of(&fh, path));
	path_join(path, sizeof(path), src, "cache/inside");
	assert_null(entry_of(&fh, path));
	path_join(path, sizeof(path), src, "logs/old.log");
	assert_null(entry_of(&fh, path));
	path_join(path, sizeof(path), src, "abs");
	assert_null(entry_of(&fh, path));
	assert_non_null(entry_of(&fh, src));
	plugin->release(job);
	fake_host_release(&fh);
	f->passed = 1;
}

static void
test_only_and_dry_run(void **state)
{
	struct fixture *f = *state;
	char src[PATH_MAX], dst[PATH_MAX], path[PATH_MAX], glob[PATH_MAX];
	const char *only[2];
	struct cairn_error err;
	struct fake_host fh;
	void *job = NULL;

	path_join(src, sizeof(src), f->dir, "src");
	path_join(dst, sizeof(dst), f->dir, "dst");
	build_tree(src);
	fake_host_init(&fh);
	backup(&fh, src, NULL, NULL, &job);

	/* --dry-run lists and writes nothing, not even the target. */
	assert_int_equal(restore(&fh, job, dst, NULL, 0, 1, 0, &err), 0);
	assert_false(exists(dst));
	assert_true(fake_host_logged(&fh, "would restore file"));
	assert_true(fake_host_logged(&fh, "/src/plain' (3145851 bytes)"));
	assert_true(fake_host_logged(&fh, "would restore directory"));

	/* --only a directory brings what is below it. */
	only[0] = "*/src/sub";
	path_join(glob, sizeof(glob), src + 1, "with*");
	only[1] = glob;
	assert_int_equal(restore(&fh, job, dst, only, 2, 0, 0, &err), 0);
	restored_path(path, sizeof(path), dst, src);
	path_join(glob, sizeof(glob), path, "sub/file");
	assert_true(exists(glob));
	path_join(glob, sizeof(glob), path, "with space");
	assert_true(exists(glob));
	path_join(glob, sizeof(glob), path, "plain");
	assert_false(exists(glob));
	path_join(glob, sizeof(glob), path, "sub/hard2");
	assert_false(exists(glob));
	assert_true(fake_host_logged(&fh, "was not selected"));

	plugin->release(job);
	fake_host_release(&fh);
	f->passed = 1;
}

/* Adds an entry to the fake host as a backup would. */
static void
add_entry(struct fake_host *fh, const char *name, enum cairn_entry_type type,
	  const char *link, const char *data)
{
	struct cairn_entry entry;
	struct cairn_stream *stream;
	struct cairn_error err;

	memset(&entry, 0, sizeof(entry));
	entry.name = name;
	entry.type = type;
	entry.mode = type == CAIRN_ENTRY_DIRECTORY ? 0755 : 0644;
	entry.uid = geteuid();
	entry.gid = getegid();
	entry.link = link;
	entry.size = data != NULL ? (int64_t)strlen(data) : 0;
	entry.mtime.tv_sec = 1600000000;
	assert_int_equal(fh->host.stream_open(fake_host_sink(fh), &entry,
					      &stream, &err),
			 0);
	if (data != NULL && data[0] != '\0')
		assert_int_equal(fh->host.stream_write(stream, data,
						       strlen(data), &err),
				 0);
	assert_int_equal(fh->host.stream_close(stream, &err), 0);
}

/* Restores a hostile archive; it must fail naming `named`. */
static void
hostile(struct fixture *f, void *job, struct fake_host *fh, const char *named)
{
	char target[PATH_MAX];
	struct cairn_error err;

	path_join(target, sizeof(target), f->dir, "target/in");
	remove_tree(target);
	if (restore(fh, job, target, NULL, 0, 0, 0, &err) != -1)
		fail_msg("an archive with '%s' was restored", named);
	if (strstr(err.message, named) == NULL)
		fail_msg("error '%s' does not name '%s'", err.message, named);
	fake_host_release(fh);
}

static void
test_hostile_names(void **state)
{
	struct fixture *f = *state;
	char outside[PATH_MAX], path[PATH_MAX];
	struct cairn_error err;
	struct fake_host fh;
	void *job = NULL;

	fake_host_init(&fh);
	assert_int_equal(configure(&fh, "/srv/volume", NULL, NULL, &job, &err),
			 0);
	fake_host_release(&fh);
	path_join(path, sizeof(path), f->dir, "target");
	assert_int_equal(mkdir(path, 0755), 0);
	path_join(outside, sizeof(outside), f->dir, "outside");
	assert_int_equal(mkdir(outside, 0755), 0);

	fake_host_init(&fh);
	add_entry(&fh, "../x", CAIRN_ENTRY_FILE, NULL, "x");
	hostile(f, job, &fh, "../x");
	fake_host_init(&fh);
	add_entry(&fh, "ok", CAIRN_ENTRY_FILE, NULL, "x");
	add_entry(&fh, "/etc/cairn-test-x", CAIRN_ENTRY_FILE, NULL, "x");
	hostile(f, job, &fh, "/etc/cairn-test-x");
	assert_false(exists("/etc/cairn-test-x"));
	fake_host_init(&fh);
	add_entry(&fh, "a/../../x", CAIRN_ENTRY_FILE, NULL, "x");
	hostile(f, job, &fh, "a/../../x");

	/* A symlink out, then a file through it. */
	fake_host_init(&fh);
	add_entry(&fh, "evil", CAIRN_ENTRY_SYMLINK, outside, NULL);
	add_entry(&fh, "evil/file", CAIRN_ENTRY_FILE, NULL, "pwned");
	hostile(f, job, &fh, "evil/file");
	fake_host_init(&fh);
	add_entry(&fh, "evil2", CAIRN_ENTRY_SYMLINK, "../../outside", NULL);
	add_entry(&fh, "evil2/file", CAIRN_ENTRY_FILE, NULL, "pwned");
	hostile(f, job, &fh, "evil2/file");

	/* Hard links out. */
	path_join(path, sizeof(path), outside, "victim");
	write_file(path, "victim\n", 7, 0644);
	fake_host_init(&fh);
	add_entry(&fh, "hl", CAIRN_ENTRY_HARDLINK, "../outside/victim", NULL);
	hostile(f, job, &fh, "../outside/victim");
	fake_host_init(&fh);
	add_entry(&fh, "hl", CAIRN_ENTRY_HARDLINK, path, NULL);
	hostile(f, job, &fh, path);

	/* Nothing landed outside the target. */
	path_join(path, sizeof(path), f->dir, "x");
	assert_false(exists(path));
	path_join(path, sizeof(path), f->dir, "target/x");
	assert_false(exists(path));
	path_join(path, sizeof(path), outside, "file");
	assert_false(exists(path));
	path_join(path, sizeof(path), outside, "victim");
	{
		struct stat st;

		assert_int_equal(lstat(path, &st), 0);
		assert_int_equal(st.st_nlink, 1);
	}

	/* In place: only under the archived paths, and only with force. */
	fake_host_init(&fh);
	fh.host.fact_set(fake_host_sink(&fh), "paths", "/srv/volume");
	add_entry(&fh, "srv/volume", CAIRN_ENTRY_DIRECTORY, NULL, NULL);
	assert_int_equal(restore(&fh, job, NULL, NULL, 0, 0, 0, &err), -1);
	assert_non_null(strstr(err.message, "--force"));
	add_entry(&fh, "etc/cairn-test-x", CAIRN_ENTRY_FILE, NULL, "x");
	assert_int_equal(restore(&fh, job, NULL, NULL, 0, 1, 1, &err), -1);
	assert_non_null(strstr(err.message, "etc/cairn-test-x"));
	fake_host_release(&fh);

	plugin->release(job);
	f->passed = 1;
}

static void
test_in_place(void **state)
{
	struct fixture *f = *state;
	char src[PATH_MAX], copy[PATH_MAX], path[PATH_MAX];
	struct cairn_error err;
	struct fake_host fh;
	void *job = NULL;

	path_join(src, sizeof(src), f->dir, "src");
	path_join(copy, sizeof(copy), f->dir, "copy");
	assert_int_equal(mkdir(src, 0755), 0);
	path_join(path, sizeof(path), src, "file");
	write_file(path, "data\n", 5, 0600);
	fake_host_init(&fh);
	backup(&fh, src, NULL, NULL, &job);
	assert_int_equal(rename(src, copy), 0);
	assert_int_equal(restore(&fh, job, NULL, NULL, 0, 0, 1, &err), 0);
	assert_true(compare_tree(copy, src) == 2);
	plugin->release(job);
	fake_host_release(&fh);
	f->passed = 1;
}

/* stream_write wrappers that disturb a file while it is being read. */
static int (*real_write)(struct cairn_stream *, const void *, size_t,
			 struct cairn_error *);
static char disturbed[PATH_MAX];
static int disturbance; /* 1 grow, 2 shrink */

static int
disturbing_write(struct cairn_stream *stream, const void *data, size_t length,
		 struct cairn_error *err)
{
	if (disturbance != 0) {
		int fd = open(disturbed, O_WRONLY | O_APPEND);

		assert_true(fd >= 0);
		if (disturbance == 1)
			assert_int_equal(write(fd, "more", 4), 4);
		else
			assert_int_equal(ftruncate(fd, MIB / 2), 0);
		close(fd);
		disturbance = 0;
	}
	return real_write(stream, data, length, err);
}

static int (*real_open)(struct cairn_sink *, const struct cairn_entry *,
			struct cairn_stream **, struct cairn_error *);

static int
vanishing_open(struct cairn_sink *sink, const struct cairn_entry *entry,
	       struct cairn_stream **stream, struct cairn_error *err)
{
	size_t length = strlen(entry->name);

	if (length > 2 && strcmp(entry->name + length - 2, "/a") == 0)
		assert_int_equal(unlink(disturbed), 0);
	return real_open(sink, entry, stream, err);
}

static void
test_changing_files(void **state)
{
	struct fixture *f = *state;
	char src[PATH_MAX], path[PATH_MAX];
	const struct fake_entry *e;
	unsigned char *data;
	struct fake_host fh;
	void *job = NULL;

	path_join(src, sizeof(src), f->dir, "src");
	assert_int_equal(mkdir(src, 0755), 0);
	data = calloc(1, 3 * MIB);
	assert_non_null(data);
	path_join(disturbed, sizeof(disturbed), src, "big");
	write_file(disturbed, data, 3 * MIB, 0644);
	free(data);

	fake_host_init(&fh);
	real_write = fh.host.stream_write;
	fh.host.stream_write = disturbing_write;
	disturbance = 1;
	backup(&fh, src, NULL, NULL, &job);
	assert_true(fake_host_logged(&fh, "changed while it was read"));
	assert_true(fake_host_logged(&fh, disturbed));
	e = entry_of(&fh, disturbed);
	assert_int_equal(e->meta.size, 3 * MIB);
	plugin->release(job);
	fake_host_release(&fh);

	/* A file that shrinks is padded to its declared size. */
	fake_host_init(&fh);
	real_write = fh.host.stream_write;
	fh.host.stream_write = disturbing_write;
	disturbance = 2;
	backup(&fh, src, NULL, NULL, &job);
	assert_true(fake_host_logged(&fh, "shrank while it was read"));
	e = entry_of(&fh, disturbed);
	assert_int_equal(e->length, 3 * MIB + 4);
	plugin->release(job);
	fake_host_release(&fh);

	/* A file that vanishes between readdir and open. */
	path_join(path, sizeof(path), src, "a");
	write_file(path, "a", 1, 0644);
	path_join(disturbed, sizeof(disturbed), src, "b");
	write_file(disturbed, "b", 1, 0644);
	fake_host_init(&fh);
	real_open = fh.host.stream_open;
	fh.host.stream_open = vanishing_open;
	backup(&fh, src, NULL, NULL, &job);
	assert_true(fake_host_logged(&fh, "vanished"));
	assert_null(entry_of(&fh, disturbed));
	plugin->release(job);
	fake_host_release(&fh);
	f->passed = 1;
}

static void
test_one_file_system(void **state)
{
	struct fixture *f = *state;
	char src[PATH_MAX], mnt[PATH_MAX], path[PATH_MAX];
	struct fake_host fh;
	void *job = NULL;

	path_join(src, sizeof(src), f->dir, "src");
	path_join(mnt, sizeof(mnt), src, "mnt");
	assert_int_equal(mkdir(src, 0755), 0);
	assert_int_equal(mkdir(mnt, 0755), 0);
	if (mount("cairn-test", mnt, "tmpfs", 0, "size=1m") != 0) {
		f->passed = 1;
		skip();
	}
	path_join(path, sizeof(path), mnt, "inside");
	write_file(path, "i", 1, 0644);

	fake_host_init(&fh);
	backup(&fh, src, NULL, "yes", &job);
	assert_non_null(entry_of(&fh, mnt));
	assert_null(entry_of(&fh, path));
	plugin->release(job);
	fake_host_release(&fh);
	fake_host_init(&fh);
	backup(&fh, src, NULL, "no", &job);
	assert_non_null(entry_of(&fh, path));
	plugin->release(job);
	fake_host_release(&fh);
	assert_int_equal(umount2(mnt, MNT_DETACH), 0);
	f->passed = 1;
}

static void
test_check(void **state)
{
	struct fixture *f = *state;
	char src[PATH_MAX], paths[2 * PATH_MAX + 8], path[PATH_MAX];
	struct cairn_error err;
	struct fake_host fh;
	void *job = NULL;
	size_t i;
	int n, problems = 0, files = 0;

	path_join(src, sizeof(src), f->dir, "src");
	assert_int_equal(mkdir(src, 0755), 0);
	path_join(path, sizeof(path), src, "one");
	write_file(path, "12345", 5, 0644);
	path_join(path, sizeof(path), src, "two");
	write_file(path, "123", 3, 0644);
	n = snprintf(paths, sizeof(paths), "%s %s/missing %s/one", src, f->dir,
		     f->dir);
	assert_true(n > 0 && (size_t)n < sizeof(paths));
	fake_host_init(&fh);
	assert_int_equal(configure(&fh, paths, NULL, NULL, &job, &err), 0);
	assert_int_equal(plugin->check(job, &fh.host, fake_host_report(&fh),
				       &err),
			 0);
	for (i = 0; i < fh.report_count; i++) {
		if (strncmp(fh.report_lines[i], "problem ", 8) == 0)
			problems++;
		if (strstr(fh.report_lines[i], "2 files, 8 bytes") != NULL &&
		    strstr(fh.report_lines[i], " free") != NULL)
			files++;
	}
	assert_int_equal(problems, 2);
	assert_int_equal(files, 1);
	plugin->release(job);
	fake_host_release(&fh);
	f->passed = 1;
}

static void
test_drill(void **state)
{
	struct fixture *f = *state;
	struct cairn_drill_options options;
	char src[PATH_MAX], scratch[PATH_MAX], path[PATH_MAX];
	struct cairn_error err;
	struct fake_host fh;
	void *job = NULL;
	size_t i;
	int mismatches = -1;

	path_join(src, sizeof(src), f->dir, "src");
	path_join(scratch, sizeof(scratch), f->dir, "scratch");
	assert_int_equal(mkdir(scratch, 0700), 0);
	build_tree(src);
	fake_host_init(&fh);
	backup(&fh, src, NULL, NULL, &job);
	memset(&options, 0, sizeof(options));
	options.scratch_dir = scratch;
	fake_host_rewind(&fh);
	memset(&err, 0, sizeof(err));
	if (plugin->drill(job, &fh.host, fake_host_source(&fh), &options,
			  fake_host_report(&fh), &err) != 0)
		fail_msg("drill: %s", err.message);
	for (i = 0; i < fh.report_count; i++) {
		if (strncmp(fh.report_lines[i], "problem ", 8) == 0)
			fail_msg("%s", fh.report_lines[i]);
		if (strcmp(fh.report_lines[i], "item mismatches=0") == 0)
			mismatches = 0;
	}
	assert_int_equal(mismatches, 0);
	path_join(path, sizeof(path), scratch, "volume");
	assert_false(exists(path));
	plugin->release(job);
	fake_host_release(&fh);
	f->passed = 1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_configure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exclude, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_and_dry_run, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changing_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_one_file_system, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drill, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
