/*
 * Fetching an RDB snapshot over the replication protocol, as
 * `redis-cli --rdb` does: the plugin poses as a replica that asks for a
 * full synchronisation and reads the snapshot the master sends, then
 * hangs up. Used when the server's dump.rdb cannot be read from here.
 */
#ifndef CAIRN_REDIS_REPLICATION_H
#define CAIRN_REDIS_REPLICATION_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include <cairn/plugin.h>

#define REPLICATION_MARK_SIZE 40

/* One transfer; the connection stays owned by the caller. */
struct replication {
	int fd;
	const char *address;
	int64_t deadline_ms; /* monotonic */
	int idle_ms;	     /* longest silence allowed */
	int64_t remaining;   /* bytes left of a sized transfer, or -1 */
	/* Diskless transfers end with this mark instead of a length. */
	unsigned char mark[REPLICATION_MARK_SIZE];
	unsigned char hold[REPLICATION_MARK_SIZE];
	size_t hold_length;
	int done;
};

/*
 * Asks the server on `context` (connected and authenticated) for a full
 * synchronisation: announces the EOF capability (so a diskless master may
 * stream) and `REPLCONF rdb-only 1` (Redis 7: no command stream after the
 * snapshot), sends SYNC, skips the keep-alive newlines the master sends
 * while it saves, and reads the bulk header. *size is the length of a
 * disk-based transfer, or CAIRN_SIZE_UNKNOWN for a diskless one. The
 * connection is unusable for commands afterwards.
 */
int replication_start(struct replication *repl, redisContext *context,
		      const char *address, int timeout_s, int64_t *size,
		      struct cairn_error *err);

/*
 * An rdb_fill_fn over the transfer: the snapshot's bytes, then the end
 * (*got = 0) at its length or at the end mark.
 */
int replication_fill(void *arg, void *buffer, size_t size, size_t *got,
		     struct cairn_error *err);

#endif
