/*
 * The repository lock of lock.h.
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "timefmt.h"

static int
open_lock_file(const char *repository, struct cairn_error *err)
{
	struct buf path = BUF_INIT;
	int fd;

	buf_printf(&path, "%s/lock", repository);
	fd = open(buf_str(&path), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		error_errno(err, errno, "cannot open lock file '%s'",
			    buf_str(&path));
	buf_release(&path);
	return fd;
}

static void
read_holder(int fd, char *out, size_t size)
{
	ssize_t n = pread(fd, out, size - 1, 0);

	if (n < 0)
		n = 0;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

static void
write_holder(int fd)
{
	char host[256] = "", line[512], when[TIMEFMT_RFC3339_SIZE];
	int n;

	gethostname(host, sizeof(host) - 1);
	timefmt_rfc3339(timefmt_now(), 0, when, sizeof(when));
	n = snprintf(line, sizeof(line), "pid %ld on %s since %s\n",
		     (long)getpid(), host, when);
	if (n > 0 && ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, line, (size_t)n, 0);
}

int
lock_acquire(struct repo_lock *lock, const char *repository, int wait_seconds,
	     struct cairn_error *err)
{
	struct timespec pause = {0, 100 * 1000 * 1000};
	char holder[256];
	int fd, tries = wait_seconds * 10;

	lock->fd = -1;
	fd = open_lock_file(repository, err);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error_errno(err, errno, "cannot lock '%s'", repository);
			close(fd);
			return -1;
		}
		if (tries-- <= 0) {
			read_holder(fd, holder, sizeof(holder));
			error_set(err,
				  "repository '%s' is locked by another cairn "
				  "(%s); try again later or use --wait",
				  repository, holder[0] ? holder : "unknown");
			close(fd);
			return 1;
		}
		nanosleep(&pause, NULL);
	}
	write_holder(fd);
	lock->fd = fd;
	return 0;
}

void
lock_release(struct repo_lock *lock)
{
	if (lock->fd >= 0) {
		/* Clear the holder first: a reader must not name a ghost. */
		(void)!ftruncate(lock->fd, 0);
		flock(lock->fd, LOCK_UN);
		close(lock->fd);
	}
	lock->fd = -1;
}

int
lock_holder(const char *repository, char *out, size_t size,
	    struct cairn_error *err)
{
	struct buf path = BUF_INIT;
	int fd, rc = 0;

	/* Read-only and never created: asking who holds the lock (check)
	 * writes nothing. A missing lock file means nobody holds it. */
	out[0] = '\0';
	buf_printf(&path, "%s/lock", repository);
	fd = open(buf_str(&path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		error_errno(err, errno, "cannot open lock file '%s'",
			    buf_str(&path));
		rc = -1;
	}
	buf_release(&path);
	if (fd < 0)
		return rc;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
		read_holder(fd, out, size);
	else
		flock(fd, LOCK_UN);
	close(fd);
	return 0;
}
