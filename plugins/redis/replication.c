/*
 * The replica side of a full synchronisation (see replication.h).
 *
 * hiredis does not understand the bulk transfer that answers SYNC, so once
 * the REPLCONF commands are done the socket is read directly, in large
 * reads bounded by poll(): hiredis' own buffers are empty at that point
 * because the server sends nothing unasked before SYNC.
 *
 * A disk-based transfer announces "$<length>"; a diskless one announces
 * "$EOF:<40 bytes>" and ends with the same 40 bytes. For the latter the
 * last 40 bytes received are held back until more data shows they are not
 * the mark, so the snapshot handed on never includes it.
 */
#include "autoconfig.h"

#include "replication.h"

#include "redis.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Waits until fd is readable; -1 after err on timeout or error. */
static int
repl_wait(struct replication *repl, struct cairn_error *err)
{
	for (;;) {
		struct pollfd pfd = {.fd = repl->fd, .events = POLLIN};
		int64_t left = repl->deadline_ms - redis_now_ms();
		int wait = repl->idle_ms, rc;

		if (left <= 0) {
			redis_errorf(err,
				     "timed out reading the snapshot from '%s' "
				     "(raise timeout)",
				     repl->address);
			return -1;
		}
		if (left < wait)
			wait = (int)left;
		rc = poll(&pfd, 1, wait);
		if (rc > 0)
			return 0;
		if (rc == 0 && wait == repl->idle_ms) {
			redis_errorf(err,
				     "'%s' sent nothing for %d seconds during "
				     "the transfer",
				     repl->address, repl->idle_ms / 1000);
			return -1;
		}
		if (rc == -1 && errno != EINTR) {
			redis_errorf(err, "cannot read from '%s': %s",
				     repl->address, strerror(errno));
			return -1;
		}
	}
}

/* One read of up to size bytes; 0 bytes means the server hung up. */
static int
repl_recv(struct replication *repl, void *buffer, size_t size, size_t *got,
	  struct cairn_error *err)
{
	for (;;) {
		ssize_t n;

		if (repl_wait(repl, err) == -1)
			return -1;
		n = read(repl->fd, buffer, size);
		if (n >= 0) {
			*got = (size_t)n;
			return 0;
		}
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			redis_errorf(err, "cannot read from '%s': %s",
				     repl->address, strerror(errno));
			return -1;
		}
	}
}

static int
repl_send(struct replication *repl, const char *data, size_t length,
	  struct cairn_error *err)
{
	while (length > 0) {
		ssize_t n = write(repl->fd, data, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {.fd = repl->fd, .events = POLLOUT};

			if (poll(&pfd, 1, repl->idle_ms) <= 0) {
				redis_errorf(err, "cannot write to '%s'",
					     repl->address);
				return -1;
			}
			continue;
		}
		if (n <= 0) {
			redis_errorf(err, "cannot write to '%s': %s",
				     repl->address, strerror(errno));
			return -1;
		}
		data += n;
		length -= (size_t)n;
	}
	return 0;
}

/* REPLCONF, whose refusal by an older server is not an error. */
static int
repl_replconf(redisContext *context, const char *address, const char *name,
	      const char *value, struct cairn_error *err)
{
	const char *argv[3] = {"REPLCONF", name, value};
	redisReply *reply = redis_command(context, address, err, 3, argv);

	if (reply == NULL)
		return -1;
	freeReplyObject(reply);
	return 0;
}

int
replication_start(struct replication *repl, redisContext *context,
		  const char *address, int timeout_s, int64_t *size,
		  struct cairn_error *err)
{
	char line[256];
	size_t length = 0;

	memset(repl, 0, sizeof(*repl));
	repl->fd = context->fd;
	repl->address = address;
	repl->deadline_ms = redis_now_ms() + (int64_t)timeout_s * 1000;
	repl->idle_ms = REDIS_IDLE_TIMEOUT * 1000;
	repl->remaining = -1;

	if (repl_replconf(context, address, "capa", "eof", err) == -1 ||
	    repl_replconf(context, address, "rdb-only", "1", err) == -1)
		return -1;
	if (repl_send(repl, "SYNC\r\n", 6, err) == -1)
		return -1;

	/* Read the header line byte by byte: the payload follows it. */
	for (;;) {
		char c;
		size_t got;

		if (repl_recv(repl, &c, 1, &got, err) == -1)
			return -1;
		if (got == 0) {
			redis_errorf(err,
				     "'%s' closed the connection after SYNC%s",
				     address,
				     length > 0 ? ""
						: " (is the user allowed "
						  "SYNC and REPLCONF?)");
			return -1;
		}
		if (c == '\n') {
			if (length == 0)
				continue; /* keep-alive while it saves */
			break;
		}
		if (length + 1 >= sizeof(line)) {
			redis_errorf(err,
				     "'%s' answered SYNC with an overlong line",
				     address);
			return -1;
		}
		line[length++] = c;
	}
	if (length > 0 && line[length - 1] == '\r')
		length--;
	line[length] = '\0';
	if (line[0] == '-') {
		redis_errorf(err, "'%s' refused SYNC: %s", address, line + 1);
		return -1;
	}
	if (line[0] != '$') {
		redis_errorf(
			err,
			"'%s' answered SYNC with '%.64s' instead of a bulk "
			"transfer",
			address, line);
		return -1;
	}
	if (strncmp(line + 1, "EOF:", 4) == 0) {
		if (strlen(line + 5) != REPLICATION_MARK_SIZE) {
			redis_errorf(err, "'%s' sent a malformed end mark",
				     address);
			return -1;
		}
		memcpy(repl->mark, line + 5, REPLICATION_MARK_SIZE);
		*size = CAIRN_SIZE_UNKNOWN;
		return 0;
	}
	{
		char *end;
		long long value;

		errno = 0;
		value = strtoll(line + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == line + 1 ||
		    value < 0) {
			redis_errorf(
				err,
				"'%s' announced a bad transfer length '%.64s'",
				address, line + 1);
			return -1;
		}
		repl->remaining = value;
		*size = value;
	}
	return 0;
}

int
replication_fill(void *arg, void *buffer, size_t size, size_t *got,
		 struct cairn_error *err)
{
	struct replication *repl = arg;
	unsigned char *b = buffer;

	*got = 0;
	if (repl->done)
		return 0;
	if (repl->remaining >= 0) {
		size_t n;

		if (repl->remaining == 0) {
			repl->done = 1;
			return 0;
		}
		if ((int64_t)size > repl->remaining)
			size = (size_t)repl->remaining;
		if (repl_recv(repl, buffer, size, &n, err) == -1)
			return -1;
		if (n == 0) {
			redis_errorf(
				err,
				"'%s' closed the connection with %lld bytes "
				"of the snapshot still to come",
				repl->address, (long long)repl->remaining);
			return -1;
		}
		repl->remaining -= (int64_t)n;
		*got = n;
		return 0;
	}
	if (size <= 2 * REPLICATION_MARK_SIZE) {
		redis_errorf(err, "replication buffer too small");
		return -1;
	}
	for (;;) {
		size_t total, n;
		unsigned char *found;

		memcpy(b, repl->hold, repl->hold_length);
		if (repl_recv(repl, b + repl->hold_length,
			      size - repl->hold_length, &n, err) == -1)
			return -1;
		if (n == 0) {
			redis_errorf(
				err,
				"'%s' closed the connection before the end "
				"of the snapshot",
				repl->address);
			return -1;
		}
		total = repl->hold_length + n;
		found = memmem(b, total, repl->mark, REPLICATION_MARK_SIZE);
		if (found != NULL) {
			repl->done = 1;
			repl->hold_length = 0;
			*got = (size_t)(found - b);
			return 0;
		}
		if (total <= REPLICATION_MARK_SIZE) {
			repl->hold_length = total;
			memcpy(repl->hold, b, total);
			continue;
		}
		repl->hold_length = REPLICATION_MARK_SIZE;
		memcpy(repl->hold, b + total - REPLICATION_MARK_SIZE,
		       REPLICATION_MARK_SIZE);
		*got = total - REPLICATION_MARK_SIZE;
		return 0;
	}
}
