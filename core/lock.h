/*
 * The repository lock: REPO/lock held with flock(2) by the one process
 * that writes (backup, prune, drill, catalog rebuild). The file records
 * who holds it (pid, host, start time) so that a refusal can name the
 * holder; the kernel drops a flock when its process dies, so a lock left
 * by a killed cairn is never an obstacle.
 */
#ifndef CAIRN_LOCK_H
#define CAIRN_LOCK_H

#include <cairn/plugin.h>

struct repo_lock {
	int fd;
};

/*
 * Takes the lock, waiting up to `wait_seconds` (0: not at all). Returns 0,
 * 1 when another process holds it (err names it), or -1 on error.
 */
int lock_acquire(struct repo_lock *lock, const char *repository,
		 int wait_seconds, struct cairn_error *err);
void lock_release(struct repo_lock *lock);

/* Who holds the lock, into out: "" when nobody does (or there is no lock
 * file yet). Opens the file read-only and never creates it. 0 or -1. */
int lock_holder(const char *repository, char *out, size_t size,
		struct cairn_error *err);

#endif
