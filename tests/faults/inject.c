/*
 * A fault injector for the fault tests, loaded with LD_PRELOAD: it makes
 * the Nth call of one system call fail, as a disk or a file system would.
 *
 *   CAIRN_FAULT=CALL:N[:ERRNO[:sticky]]
 *
 * CALL is fsync, fdatasync, rename or write (write counts only writes to
 * regular files other than stdin, stdout and stderr: a disk error, not a
 * closed pipe or a redirected log); N counts from 1; ERRNO
 * is EIO (the default), ENOSPC, EROFS or EDQUOT; with "sticky" every call
 * from the Nth on fails, as a full disk does. When the fault fires, one
 * line "CALL N ERRNO" is appended to the file CAIRN_FAULT_LOG, if set, so
 * a test knows whether the run reached it. The variables are removed from
 * the environment at load, so children (hooks, pg_dump) run unharmed.
 *
 * Built by tests/integration/faults.sh:
 *   cc -shared -fPIC -o inject.so tests/faults/inject.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fault_call[16];
static long fault_at;
static int fault_errno = EIO;
static int fault_sticky;
static char fault_log[4096];
static atomic_long fault_count;

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static ssize_t (*real_write)(int, const void *, size_t);

static int
inject_errno_parse(const char *name)
{
	if (strcmp(name, "ENOSPC") == 0)
		return ENOSPC;
	if (strcmp(name, "EROFS") == 0)
		return EROFS;
	if (strcmp(name, "EDQUOT") == 0)
		return EDQUOT;
	return EIO;
}

__attribute__((constructor)) static void
inject_init(void)
{
	const char *spec = getenv("CAIRN_FAULT"),
		   *log = getenv("CAIRN_FAULT_LOG");
	char copy[128], *call, *at, *name, *sticky, *save = NULL;

	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
								 "rename");
	real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT,
								  "write");
	if (spec == NULL || strlen(spec) >= sizeof(copy))
		goto out;
	memcpy(copy, spec, strlen(spec) + 1);
	call = strtok_r(copy, ":", &save);
	at = strtok_r(NULL, ":", &save);
	name = strtok_r(NULL, ":", &save);
	sticky = strtok_r(NULL, ":", &save);
	if (call == NULL || at == NULL || strlen(call) >= sizeof(fault_call))
		goto out;
	memcpy(fault_call, call, strlen(call) + 1);
	fault_at = strtol(at, NULL, 10);
	if (name != NULL)
		fault_errno = inject_errno_parse(name);
	fault_sticky = sticky != NULL && strcmp(sticky, "sticky") == 0;
	if (log != NULL && strlen(log) < sizeof(fault_log))
		memcpy(fault_log, log, strlen(log) + 1);
out:
	unsetenv("CAIRN_FAULT");
	unsetenv("CAIRN_FAULT_LOG");
	unsetenv("LD_PRELOAD");
}

/* Whether this call of `call` is to fail; counts it. */
static int
inject_fires(const char *call)
{
	long n;
	char line[64];
	int fd, length;

	if (fault_at <= 0 || strcmp(call, fault_call) != 0)
		return 0;
	n = atomic_fetch_add(&fault_count, 1) + 1;
	if (n != fault_at && !(fault_sticky && n > fault_at))
		return 0;
	if (n == fault_at && fault_log[0] != '\0') {
		fd = open(fault_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0600);
		if (fd >= 0) {
			length = snprintf(line, sizeof(line), "%s %ld %s\n",
					  call, n, strerror(fault_errno));
			if (length > 0 && (size_t)length < sizeof(line))
				(void)!real_write(fd, line, (size_t)length);
			close(fd);
		}
	}
	return 1;
}

int
fsync(int fd)
{
	if (inject_fires("fsync")) {
		errno = fault_errno;
		return -1;
	}
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	if (inject_fires("fdatasync")) {
		errno = fault_errno;
		return -1;
	}
	return real_fdatasync(fd);
}

int
rename(const char *from, const char *to)
{
	if (inject_fires("rename")) {
		errno = fault_errno;
		return -1;
	}
	return real_rename(from, to);
}

ssize_t
write(int fd, const void *data, size_t length)
{
	struct stat st;

	if (fault_at > 0 && fd > 2 && strcmp(fault_call, "write") == 0 &&
	    fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    inject_fires("write")) {
		errno = fault_errno;
		return -1;
	}
	return real_write(fd, data, length);
}
