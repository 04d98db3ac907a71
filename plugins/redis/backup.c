/*
 * Backup: make the server write a fresh snapshot without blocking its
 * clients (BGSAVE, or SAVE when the operator insists), wait until it has
 * finished and succeeded, then stream the RDB file into the archive while
 * checking it is whole. When the file cannot be read from this host, the
 * snapshot comes over the replication protocol instead.
 *
 * The file is opened once and everything is read from that descriptor:
 * Redis writes a new snapshot under a temporary name and renames it over
 * dump.rdb, so the descriptor keeps the snapshot that was opened even if
 * another save lands meanwhile. Its modification time is checked against
 * the server's clock before the save, so an old or foreign file (a stale
 * copy, a wrong volume) is never taken for the fresh snapshot.
 *
 * Whatever the source, the bytes pass through rdb_walk on their way to
 * the sink: a truncated snapshot or a bad CRC fails the backup, and the
 * core then discards the whole archive.
 */
#include "autoconfig.h"

#include "rdb.h"
#include "redis.h"
#include "replication.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Allowed skew between the server's clock and a file's mtime, seconds. */
#define BACKUP_MTIME_SLACK 2
#define BACKUP_POLL_MS 100

struct backup {
	const struct redis_config *config;
	const struct cairn_host *host;
	struct cairn_sink *sink;
	redisContext *c;
	const char *address;
	struct cairn_stream *stream;
	int64_t size; /* declared size of the entry */
	int64_t done;
	int64_t next_progress;
};

struct persistence {
	int in_progress;
	int aof_rewrite;
	int status_ok;
	long long last_save;
	long long saves; /* rdb_saves, -1 before Redis 7.0 */
};

static int
backup_persistence(struct backup *b, struct persistence *p,
		   struct cairn_error *err)
{
	char value[64];
	char *info = redis_info(b->c, b->address, "persistence", err);

	if (info == NULL)
		return -1;
	memset(p, 0, sizeof(*p));
	p->saves = -1;
	if (redis_info_field(info, "rdb_bgsave_in_progress", value,
			     sizeof(value)) == 0)
		p->in_progress = atoi(value);
	if (redis_info_field(info, "aof_rewrite_in_progress", value,
			     sizeof(value)) == 0)
		p->aof_rewrite = atoi(value);
	if (redis_info_field(info, "rdb_last_bgsave_status", value,
			     sizeof(value)) == 0)
		p->status_ok = strcmp(value, "ok") == 0;
	if (redis_info_field(info, "rdb_last_save_time", value,
			     sizeof(value)) == 0)
		p->last_save = atoll(value);
	if (redis_info_field(info, "rdb_saves", value, sizeof(value)) == 0)
		p->saves = atoll(value);
	free(info);
	return 0;
}

static int
backup_deadline_passed(struct backup *b, int64_t deadline,
		       struct cairn_error *err)
{
	if (redis_now_ms() < deadline)
		return 0;
	redis_errorf(err,
		     "the save on '%s' did not finish within %d seconds (raise "
		     "timeout)",
		     b->address, b->config->timeout);
	return 1;
}

/* Waits until no background save runs. */
static int
backup_wait_idle(struct backup *b, int64_t deadline, struct cairn_error *err)
{
	struct persistence p;

	for (;;) {
		if (backup_persistence(b, &p, err) == -1)
			return -1;
		if (!p.in_progress)
			return 0;
		if (backup_deadline_passed(b, deadline, err))
			return -1;
		redis_sleep_ms(BACKUP_POLL_MS);
	}
}

/* The server's clock, in seconds. */
static int
backup_server_time(struct backup *b, long long *now, struct cairn_error *err)
{
	const char *argv[1] = {"TIME"};
	redisReply *reply = redis_command_ok(b->c, b->address, err, 1, argv);

	if (reply == NULL)
		return -1;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
	    reply->element[0]->type != REDIS_REPLY_STRING) {
		redis_errorf(err, "'TIME' on '%s' gave an unexpected reply",
			     b->address);
		freeReplyObject(reply);
		return -1;
	}
	*now = atoll(reply->element[0]->str);
	freeReplyObject(reply);
	return 0;
}

static int
backup_save_blocking(struct backup *b, int64_t deadline,
		     struct cairn_error *err)
{
	const char *argv[1] = {"SAVE"};
	struct timeval tv = {.tv_sec = b->config->timeout, .tv_usec = 0};
	redisReply *reply;

	b->host->log(b->host, CAIRN_LOG_INFO,
		     "running SAVE on '%s': clients are blocked until it ends",
		     b->address);
	redisSetTimeout(b->c, tv);
	for (;;) {
		reply = redis_command(b->c, b->address, err, 1, argv);
		if (reply == NULL)
			return -1;
		if (reply->type != REDIS_REPLY_ERROR)
			break;
		if (strstr(reply->str, "in progress") == NULL) {
			redis_errorf(err, "'SAVE' on '%s' failed: %s",
				     b->address, reply->str);
			freeReplyObject(reply);
			return -1;
		}
		freeReplyObject(reply);
		if (backup_wait_idle(b, deadline, err) == -1)
			return -1;
	}
	freeReplyObject(reply);
	tv.tv_sec = b->config->connect_timeout;
	redisSetTimeout(b->c, tv);
	return 0;
}

/*
 * BGSAVE and wait for it. A save already running is waited for first, so
 * the snapshot is never older than the backup; during an AOF rewrite the
 * save is scheduled to follow it.
 */
static int
backup_bgsave(struct backup *b, int64_t deadline, struct cairn_error *err)
{
	struct persistence before, p;
	redisReply *reply = NULL;
	int started = 0, seen_running = 0;

	if (backup_persistence(b, &before, err) == -1)
		return -1;
	if (before.in_progress) {
		b->host->log(b->host, CAIRN_LOG_INFO,
			     "a save is already running on '%s': waiting for "
			     "it before starting a fresh one",
			     b->address);
		if (backup_wait_idle(b, deadline, err) == -1)
			return -1;
		if (backup_persistence(b, &before, err) == -1)
			return -1;
	}
	for (;;) {
		const char *plain[1] = {"BGSAVE"};
		const char *schedule[2] = {"BGSAVE", "SCHEDULE"};

		reply = redis_command(b->c, b->address, err,
				      before.aof_rewrite ? 2 : 1,
				      before.aof_rewrite ? schedule : plain);
		if (reply == NULL)
			return -1;
		if (reply->type == REDIS_REPLY_STATUS) {
			started = strstr(reply->str, "started") != NULL;
			break;
		}
		if (reply->type == REDIS_REPLY_ERROR &&
		    strstr(reply->str, "already in progress") != NULL) {
			/* Someone else's save won the race: let it end. */
			freeReplyObject(reply);
			reply = NULL;
			if (backup_wait_idle(b, deadline, err) == -1 ||
			    backup_persistence(b, &before, err) == -1)
				return -1;
			continue;
		}
		if (reply->type == REDIS_REPLY_ERROR &&
		    strstr(reply->str, "AOF") != NULL && !before.aof_rewrite) {
			freeReplyObject(reply);
			reply = NULL;
			before.aof_rewrite = 1;
			continue;
		}
		redis_errorf(err, "'BGSAVE' on '%s' failed: %s", b->address,
			     reply->type == REDIS_REPLY_ERROR
				     ? reply->str
				     : "unexpected reply");
		freeReplyObject(reply);
		return -1;
	}
	freeReplyObject(reply);
	b->host->log(b->host, CAIRN_LOG_DEBUG, "BGSAVE on '%s' %s", b->address,
		     started ? "started" : "scheduled");
	for (;;) {
		redis_sleep_ms(BACKUP_POLL_MS);
		if (backup_persistence(b, &p, err) == -1) {
			char message[CAIRN_ERROR_MESSAGE_SIZE];

			memcpy(message, err->message, sizeof(message));
			redis_errorf(err,
				     "lost '%s' while waiting for its save: %s",
				     b->address, message);
			return -1;
		}
		if (p.in_progress) {
			seen_running = 1;
		} else if (started || seen_running ||
			   (p.saves >= 0 && p.saves > before.saves) ||
			   p.last_save != before.last_save) {
			break;
		}
		if (backup_deadline_passed(b, deadline, err))
			return -1;
	}
	if (!p.status_ok) {
		redis_errorf(
			err,
			"the background save on '%s' failed "
			"(rdb_last_bgsave_status:err): see the server's log "
			"(disk full, permissions, or the child was killed)",
			b->address);
		return -1;
	}
	return 0;
}

static int
backup_tap(void *arg, const void *data, size_t length, struct cairn_error *err)
{
	struct backup *b = arg;

	if (b->host->stream_write(b->stream, data, length, err) == -1)
		return -1;
	b->done += (int64_t)length;
	if (b->done >= b->next_progress) {
		if (b->host->progress != NULL)
			b->host->progress(b->host, REDIS_ENTRY, b->done,
					  b->size);
		b->next_progress = b->done + 16 * 1024 * 1024;
	}
	return 0;
}

struct file_source {
	int fd;
	const char *path;
	int64_t remaining;
};

static int
file_fill(void *arg, void *buffer, size_t size, size_t *got,
	  struct cairn_error *err)
{
	struct file_source *f = arg;
	ssize_t n;

	*got = 0;
	if (f->remaining == 0)
		return 0;
	if ((int64_t)size > f->remaining)
		size = (size_t)f->remaining;
	do
		n = read(f->fd, buffer, size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		redis_errorf(err, "cannot read '%s': %s", f->path,
			     strerror(errno));
		return -1;
	}
	if (n == 0) {
		redis_errorf(
			err,
			"'%s' shrank while it was read (%lld bytes missing)",
			f->path, (long long)f->remaining);
		return -1;
	}
	f->remaining -= n;
	*got = (size_t)n;
	return 0;
}

static void
backup_fact(struct backup *b, const char *key, const char *value)
{
	b->host->fact_set(b->sink, key, value);
}

static void
backup_fact_number(struct backup *b, const char *key, unsigned long long n)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu", n);
	backup_fact(b, key, text);
}

static void
backup_facts_from_rdb(struct backup *b, const struct rdb_summary *s)
{
	char key[64];
	size_t i;

	backup_fact_number(b, "rdb_version", (unsigned long long)s->version);
	if (s->opaque) {
		b->host->log(
			b->host, CAIRN_LOG_WARNING,
			"the snapshot holds %s, which this plugin does not "
			"know: it was copied and its checksum verified, "
			"but its keys were not counted and a restore "
			"into a server needs a directory restore instead",
			s->opaque_reason);
		return;
	}
	backup_fact_number(b, "keys", rdb_summary_keys(s));
	for (i = 0; i < s->db_count; i++) {
		if (s->keys[i] == 0)
			continue;
		snprintf(key, sizeof(key), "keys.db%zu", i);
		backup_fact_number(b, key, s->keys[i]);
		snprintf(key, sizeof(key), "expires.db%zu", i);
		backup_fact_number(b, key, s->expires[i]);
	}
	if (s->functions > 0)
		backup_fact_number(b, "functions", s->functions);
	if (s->module_aux > 0)
		backup_fact_number(b, "module_aux", s->module_aux);
	if (s->empty_keys > 0) {
		backup_fact_number(b, "empty_keys", s->empty_keys);
		b->host->log(b->host, CAIRN_LOG_WARNING,
			     "the snapshot holds %llu empty keys, which "
			     "redis-server skips when it loads it and a "
			     "restore skips too (not counted in 'keys')",
			     (unsigned long long)s->empty_keys);
	}
}

/* Streams the snapshot read by `fill` into the entry. */
static int
backup_stream(struct backup *b, rdb_fill_fn fill, void *fill_arg,
	      const struct cairn_entry *entry, struct cairn_error *err)
{
	struct rdb_visitor visitor = {.tolerant = 1};
	struct rdb_summary summary;
	int rc = -1;

	b->size = entry->size;
	if (b->host->stream_open(b->sink, entry, &b->stream, err) == -1)
		return -1;
	if (rdb_walk(fill, fill_arg, backup_tap, b, &visitor, &summary, err) ==
	    -1) {
		char message[CAIRN_ERROR_MESSAGE_SIZE];

		memcpy(message, err->message, sizeof(message));
		redis_errorf(err, "the snapshot of '%s' is not whole: %s",
			     b->address, message);
		goto out;
	}
	if (b->host->stream_close(b->stream, err) == -1)
		goto out;
	b->stream = NULL;
	if (!summary.checksum && summary.version >= 5)
		b->host->log(b->host, CAIRN_LOG_WARNING,
			     "the snapshot of '%s' carries no checksum "
			     "(rdbchecksum no): it could not be verified",
			     b->address);
	backup_facts_from_rdb(b, &summary);
	b->host->log(b->host, CAIRN_LOG_INFO,
		     "copied a snapshot of %llu bytes (RDB version %d, %llu "
		     "keys)",
		     (unsigned long long)summary.bytes, summary.version,
		     (unsigned long long)rdb_summary_keys(&summary));
	rc = 0;
out:
	rdb_summary_release(&summary);
	/* A stream left open is discarded with the archive by the core. */
	return rc;
}

/* The RDB path from CONFIG GET dir and dbfilename, or -1 (logged). */
static int
backup_config_path(struct backup *b, char *path, size_t size)
{
	const char *argv[3] = {"CONFIG", "GET", NULL};
	char dir[4096] = "", name[1024] = "";
	struct cairn_error err;
	int i, n;

	for (i = 0; i < 2; i++) {
		redisReply *reply;

		argv[2] = i == 0 ? "dir" : "dbfilename";
		reply = redis_command_ok(b->c, b->address, &err, 3, argv);
		if (reply == NULL) {
			b->host->log(b->host, CAIRN_LOG_INFO,
				     "cannot ask where the snapshot is (%s): "
				     "fetching it over replication",
				     err.message);
			return -1;
		}
		if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
		    reply->element[1]->type == REDIS_REPLY_STRING)
			snprintf(i == 0 ? dir : name,
				 i == 0 ? sizeof(dir) : sizeof(name), "%s",
				 reply->element[1]->str);
		freeReplyObject(reply);
	}
	if (dir[0] == '\0' || name[0] == '\0') {
		b->host->log(b->host, CAIRN_LOG_INFO,
			     "'%s' did not say where its snapshot is: "
			     "fetching it over replication",
			     b->address);
		return -1;
	}
	n = snprintf(path, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return 0;
}

/*
 * Opens the snapshot file after the save. Returns the descriptor, or -1
 * when the caller should fall back to replication (logged), or -2 on a
 * hard error (err filled).
 */
static int
backup_open_file(struct backup *b, const char *path, int explicit_path,
		 long long save_start, struct stat *st, struct cairn_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd == -1) {
		b->host->log(b->host,
			     explicit_path ? CAIRN_LOG_WARNING : CAIRN_LOG_INFO,
			     "cannot read '%s' (%s): fetching the snapshot "
			     "over replication",
			     path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		redis_errorf(err, "'%s' is not a regular file", path);
		close(fd);
		return -2;
	}
	if ((long long)st->st_mtime < save_start - BACKUP_MTIME_SLACK) {
		if (explicit_path) {
			redis_errorf(
				err,
				"'%s' was not written by the save that just "
				"finished on '%s' (modified %lld s before it "
				"started): is rdb-path the server's "
				"snapshot file?",
				path, b->address,
				save_start - (long long)st->st_mtime);
			close(fd);
			return -2;
		}
		b->host->log(b->host, CAIRN_LOG_INFO,
			     "'%s' on this host is not the file the server "
			     "just saved (older than the save): fetching the "
			     "snapshot over replication",
			     path);
		close(fd);
		return -1;
	}
	return fd;
}

static int
backup_from_file(struct backup *b, int fd, const char *path,
		 const struct stat *st, struct cairn_error *err)
{
	struct file_source f = {.fd = fd,
				.path = path,
				.remaining = st->st_size};
	struct cairn_entry entry;
	char source[4400];

	memset(&entry, 0, sizeof(entry));
	entry.name = REDIS_ENTRY;
	entry.type = CAIRN_ENTRY_FILE;
	entry.mode = st->st_mode & 07777;
	entry.mtime = st->st_mtim;
	entry.size = st->st_size;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	snprintf(source, sizeof(source), "file %s", path);
	backup_fact(b, "source", source);
	return backup_stream(b, file_fill, &f, &entry, err);
}

static int
backup_from_replication(struct backup *b, struct cairn_error *err)
{
	struct replication repl;
	struct cairn_entry entry;
	int64_t size;

	b->host->log(b->host, CAIRN_LOG_INFO,
		     "fetching the snapshot of '%s' over the replication "
		     "protocol",
		     b->address);
	if (replication_start(&repl, b->c, b->address, b->config->timeout,
			      &size, err) == -1)
		return -1;
	if (size == CAIRN_SIZE_UNKNOWN)
		b->host->log(b->host, CAIRN_LOG_INFO,
			     "diskless transfer: the size is known at its end");
	else
		b->host->log(b->host, CAIRN_LOG_INFO,
			     "disk-based transfer of %lld bytes",
			     (long long)size);
	memset(&entry, 0, sizeof(entry));
	entry.name = REDIS_ENTRY;
	entry.type = CAIRN_ENTRY_FILE;
	entry.mode = 0600;
	clock_gettime(CLOCK_REALTIME, &entry.mtime);
	entry.size = size;
	backup_fact(b, "source", "replication");
	return backup_stream(b, replication_fill, &repl, &entry, err);
}

/* Whether a failed save was refused rather than attempted. */
static int
backup_save_refused(const struct cairn_error *err)
{
	return strstr(err->message, "NOPERM") != NULL ||
	       strstr(err->message, "unknown command") != NULL;
}

static int
backup_server_facts(struct backup *b, struct cairn_error *err)
{
	static const char *const fields[][2] = {
		{"server", "redis_version"},
		{"replication", "role"},
		{"memory", "used_memory"},
		{"persistence", "aof_enabled"},
	};
	char value[128];
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char *info = redis_info(b->c, b->address, fields[i][0], err);

		if (info == NULL)
			return -1;
		if (redis_info_field(info, fields[i][1], value,
				     sizeof(value)) == 0)
			backup_fact(b, fields[i][1], value);
		free(info);
	}
	return 0;
}

int
redis_backup_run(const struct redis_config *config,
		 const struct cairn_host *host, struct cairn_sink *sink,
		 struct cairn_error *err)
{
	struct backup b;
	char path[4200];
	const char *file = NULL;
	long long save_start = 0;
	struct stat st;
	int64_t deadline;
	int fd = -1, rc = -1, saved;

	memset(&b, 0, sizeof(b));
	b.config = config;
	b.host = host;
	b.sink = sink;
	b.address = config->endpoint.address;
	if (config->restore_only) {
		redis_errorf(err, "job '%s' is not configured", config->job);
		return -1;
	}
	if (redis_connect(host, &config->endpoint, config->connect_timeout,
			  config->connect_timeout, &b.c, err) == -1)
		return -1;
	if (backup_server_facts(&b, err) == -1)
		goto out;

	if (config->rdb_path != NULL)
		file = config->rdb_path;
	else if (!config->rdb_remote &&
		 backup_config_path(&b, path, sizeof(path)) == 0)
		file = path;

	if (file != NULL) {
		deadline = redis_now_ms() + (int64_t)config->timeout * 1000;
		if (backup_server_time(&b, &save_start, err) == -1)
			goto out;
		if (config->mode == REDIS_MODE_SAVE)
			saved = backup_save_blocking(&b, deadline, err);
		else
			saved = backup_bgsave(&b, deadline, err);
		if (saved == -1 && config->rdb_path == NULL &&
		    backup_save_refused(err)) {
			/* No right to save (ACL, renamed command): a
			 * replication transfer makes its own snapshot. */
			b.host->log(b.host, CAIRN_LOG_INFO,
				    "%s: fetching the snapshot over "
				    "replication",
				    err->message);
			file = NULL;
		} else if (saved == -1) {
			goto out;
		}
	}
	if (file != NULL) {
		fd = backup_open_file(&b, file, config->rdb_path != NULL,
				      save_start, &st, err);
		if (fd == -2)
			goto out;
	}
	if (fd >= 0)
		rc = backup_from_file(&b, fd, file, &st, err);
	else
		rc = backup_from_replication(&b, err);
out:
	if (fd >= 0)
		close(fd);
	if (b.c != NULL)
		redisFree(b.c);
	return rc;
}
