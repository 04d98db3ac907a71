/*
 * Restore: the archive's dump.rdb either written into a directory, where
 * a redis-server started on it loads it, or loaded into a running server.
 *
 * Into a directory, the file is written under a temporary name, synced,
 * renamed to dump.rdb and the directory synced, so a crash leaves either
 * the old file or the whole new one; an existing dump.rdb is replaced only
 * with --force.
 *
 * Into a server, each key is sent as RESTORE with the payload rdb_walk cut
 * out of the snapshot (the value exactly as the RDB encodes it, which is
 * what DUMP produces), its absolute expiry (ABSTTL) and its LRU/LFU hint.
 * This works on any reachable server the user may write to, keeps the
 * server serving, and needs no access to its files; serving the snapshot
 * as a fake master would instead make the target drop its data and
 * become a replica, and fail on servers where REPLICAOF is not allowed.
 * Commands are pipelined, hundreds in flight. A non-empty target is
 * refused unless --force, which flushes it first.
 */
#include "autoconfig.h"

#include "rdb.h"
#include "redis.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESTORE_MAX_IN_FLIGHT 1024
#define RESTORE_MAX_PENDING_BYTES (16 * 1024 * 1024)
#define RESTORE_KEY_NOTE 64

/* Reading the archive's entry as an rdb_fill_fn. */
struct entry_source {
	const struct cairn_host *host;
	struct cairn_source *source;
	const unsigned char *block;
	size_t left;
	int ended;
};

static int
entry_fill(void *arg, void *buffer, size_t size, size_t *got,
	   struct cairn_error *err)
{
	struct entry_source *e = arg;

	*got = 0;
	while (e->left == 0 && !e->ended) {
		const void *data;
		size_t length;
		int64_t offset;
		int rc = e->host->entry_read(e->source, &data, &length, &offset,
					     err);

		if (rc == -1)
			return -1;
		if (rc == 0) {
			e->ended = 1;
			break;
		}
		e->block = data;
		e->left = length;
	}
	if (e->left == 0)
		return 0;
	*got = e->left < size ? e->left : size;
	memcpy(buffer, e->block, *got);
	e->block += *got;
	e->left -= *got;
	return 0;
}

/* Moves to the archive's dump.rdb entry. */
static int
restore_find_entry(const struct cairn_host *host, struct cairn_source *source,
		   struct cairn_error *err)
{
	const struct cairn_entry *entry;
	int rc;

	while ((rc = host->entry_next(source, &entry, err)) == 1) {
		if (strcmp(entry->name, REDIS_ENTRY) == 0 &&
		    entry->type == CAIRN_ENTRY_FILE)
			return 0;
		host->log(host, CAIRN_LOG_DEBUG, "skipping entry '%s'",
			  entry->name);
	}
	if (rc == 0)
		redis_errorf(err, "the archive has no '%s' entry", REDIS_ENTRY);
	return -1;
}

static void
restore_log_summary(const struct cairn_host *host, const char *verb,
		    const struct rdb_summary *s)
{
	size_t i;

	host->log(host, CAIRN_LOG_INFO,
		  "%s a snapshot of %llu bytes: RDB version %d%s%s, %llu keys",
		  verb, (unsigned long long)s->bytes, s->version,
		  s->redis_version[0] ? " from Redis " : "", s->redis_version,
		  (unsigned long long)rdb_summary_keys(s));
	for (i = 0; i < s->db_count; i++)
		if (s->keys[i] > 0)
			host->log(host, CAIRN_LOG_INFO,
				  "  db%zu: %llu keys (%llu with a time to "
				  "live)",
				  i, (unsigned long long)s->keys[i],
				  (unsigned long long)s->expires[i]);
}

/*
 * A key name for messages: printable ASCII as it is, other bytes as \xNN,
 * cut with "..." when longer than `size` allows.
 */
static void
printable_key(char *out, size_t size, const unsigned char *name, size_t length)
{
	size_t i, used = 0;

	for (i = 0; i < length; i++) {
		int printable = name[i] >= 0x20 && name[i] < 0x7f &&
				name[i] != '\\';
		size_t need = printable ? 1 : 4;

		if (used + need + 4 > size) {
			memcpy(out + used, "...", 4);
			return;
		}
		if (printable)
			out[used] = (char)name[i];
		else
			snprintf(out + used, 5, "\\x%02x", name[i]);
		used += need;
	}
	out[used] = '\0';
}

/*
 * Redis skips an empty key when it loads an RDB, and RESTORE refuses its
 * payload ("Bad data format"): say which key, as Redis' own log does.
 */
static void
restore_warn_empty(const struct cairn_host *host, const struct rdb_key *key,
		   const char *what)
{
	char name[128];

	printable_key(name, sizeof(name), key->name, key->name_length);
	host->log(host, CAIRN_LOG_WARNING,
		  "skipping empty key '%s' of db%llu: %s", name,
		  (unsigned long long)key->db, what);
}

/* Directory restore. */

static int
directory_key(void *arg, const struct rdb_key *key, struct cairn_error *err)
{
	const struct entry_source *e = arg;

	(void)err;
	if (key->empty)
		restore_warn_empty(e->host, key,
				   "an empty aggregate, which redis-server "
				   "drops when it loads the file");
	return 0;
}

struct file_sink {
	int fd;
	const char *path;
};

static int
file_tap(void *arg, const void *data, size_t length, struct cairn_error *err)
{
	struct file_sink *f = arg;
	const char *p = data;

	while (length > 0) {
		ssize_t n = write(f->fd, p, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			redis_errorf(err, "cannot write '%s': %s", f->path,
				     strerror(errno));
			return -1;
		}
		p += n;
		length -= (size_t)n;
	}
	return 0;
}

static int
make_directories(const char *dir, struct cairn_error *err)
{
	char path[PATH_MAX];
	size_t i, length = strlen(dir);

	if (length >= sizeof(path)) {
		redis_errorf(err, "'%s': path too long", dir);
		return -1;
	}
	memcpy(path, dir, length + 1);
	for (i = 1; i <= length; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			redis_errorf(err, "cannot create '%s': %s", path,
				     strerror(errno));
			return -1;
		}
		if (i < length)
			path[i] = '/';
	}
	return 0;
}

static void
restore_warn_aof(const struct cairn_host *host, const char *dir)
{
	static const char *const names[] = {"appendonlydir", "appendonly.aof"};
	char path[PATH_MAX];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);

		if (n < 0 || (size_t)n >= sizeof(path) ||
		    lstat(path, &st) == -1)
			continue;
		host->log(host, CAIRN_LOG_WARNING,
			  "'%s' exists: a server started with appendonly yes "
			  "loads the AOF and ignores dump.rdb; start it once "
			  "with --appendonly no, then run CONFIG SET "
			  "appendonly yes (which rewrites the AOF from the "
			  "restored data), or move '%s' away first",
			  path, path);
	}
}

static int
restore_to_directory(const struct cairn_host *host, struct cairn_source *source,
		     const char *dir,
		     const struct cairn_restore_options *options,
		     struct cairn_error *err)
{
	struct rdb_visitor visitor = {0};
	struct rdb_summary summary;
	struct entry_source es = {.host = host, .source = source};
	struct file_sink fs = {.fd = -1};
	char final[PATH_MAX], temp[PATH_MAX];
	struct stat st;
	int dirfd = -1, rc = -1, n;

	memset(&summary, 0, sizeof(summary));
	visitor.key = directory_key;
	visitor.arg = &es;
	temp[0] = '\0';
	n = snprintf(final, sizeof(final), "%s/%s", dir, REDIS_ENTRY);
	if (n < 0 || (size_t)n >= sizeof(final)) {
		redis_errorf(err, "'%s': path too long", dir);
		return -1;
	}
	if (lstat(final, &st) == 0 && !options->force) {
		redis_errorf(err, "'%s' exists: use --force to replace it",
			     final);
		return -1;
	}
	if (options->dry_run) {
		if (rdb_walk(entry_fill, &es, NULL, NULL, &visitor, &summary,
			     err) == -1)
			goto out;
		restore_log_summary(host, "would write", &summary);
		host->log(host, CAIRN_LOG_INFO, "would write '%s'%s", final,
			  lstat(final, &st) == 0 ? " (replacing it)" : "");
		rc = 0;
		goto out;
	}
	if (make_directories(dir, err) == -1)
		return -1;
	n = snprintf(temp, sizeof(temp), "%s/.%s.cairn-XXXXXX", dir,
		     REDIS_ENTRY);
	if (n < 0 || (size_t)n >= sizeof(temp)) {
		redis_errorf(err, "'%s': path too long", dir);
		return -1;
	}
	fs.fd = mkstemp(temp);
	if (fs.fd == -1) {
		redis_errorf(err, "cannot create a file in '%s': %s", dir,
			     strerror(errno));
		temp[0] = '\0';
		goto out;
	}
	fs.path = temp;
	if (rdb_walk(entry_fill, &es, file_tap, &fs, &visitor, &summary, err) ==
	    -1)
		goto out;
	/* A server running as the directory's owner must read it. */
	if (geteuid() == 0 && stat(dir, &st) == 0 &&
	    fchown(fs.fd, st.st_uid, st.st_gid) == -1) {
		redis_errorf(err, "cannot give '%s' to the owner of '%s': %s",
			     temp, dir, strerror(errno));
		goto out;
	}
	if (fsync(fs.fd) == -1 || close(fs.fd) == -1) {
		fs.fd = -1;
		redis_errorf(err, "cannot write '%s': %s", temp,
			     strerror(errno));
		goto out;
	}
	fs.fd = -1;
	if (rename(temp, final) == -1) {
		redis_errorf(err, "cannot rename '%s' to '%s': %s", temp, final,
			     strerror(errno));
		goto out;
	}
	temp[0] = '\0';
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd == -1 || fsync(dirfd) == -1) {
		redis_errorf(err, "cannot sync directory '%s': %s", dir,
			     strerror(errno));
		goto out;
	}
	restore_log_summary(host, "wrote", &summary);
	host->log(host, CAIRN_LOG_INFO,
		  "wrote '%s': start redis-server with --dir '%s' "
		  "--dbfilename %s --appendonly no to load it",
		  final, dir, REDIS_ENTRY);
	restore_warn_aof(host, dir);
	rc = 0;
out:
	if (fs.fd != -1)
		close(fs.fd);
	if (temp[0] != '\0')
		unlink(temp);
	if (dirfd != -1)
		close(dirfd);
	rdb_summary_release(&summary);
	return rc;
}

/* Server restore. */

struct loader {
	const struct cairn_host *host;
	redisContext *c;
	const char *address;
	int only_db;	 /* -1: every database */
	int64_t current; /* database selected on the target, -1 unknown */
	size_t in_flight;
	size_t pending_bytes;
	uint64_t restored, skipped, empty, failures;
	/* What each command in flight is about, for error messages. */
	char notes[RESTORE_MAX_IN_FLIGHT][RESTORE_KEY_NOTE];
	size_t note_head; /* index of the oldest command in flight */
	char first_error[512];
	struct rdb_buf functions;
	int dry_run;
};

static void
loader_note(struct loader *l, const char *format, const unsigned char *name,
	    size_t length, uint64_t db)
{
	char *note =
		l->notes[(l->note_head + l->in_flight) % RESTORE_MAX_IN_FLIGHT];
	char printable[40];
	size_t i;

	for (i = 0; i < length && i < sizeof(printable) - 1; i++)
		printable[i] = (name[i] >= 0x20 && name[i] < 0x7f)
				       ? (char)name[i]
				       : '?';
	printable[i] = '\0';
	snprintf(note, RESTORE_KEY_NOTE, format, printable,
		 (unsigned long long)db);
}

/* Reads replies until at most `keep` commands are in flight. */
static int
loader_drain(struct loader *l, size_t keep, struct cairn_error *err)
{
	while (l->in_flight > keep) {
		void *r = NULL;
		redisReply *reply;

		if (redisGetReply(l->c, &r) != REDIS_OK || r == NULL) {
			redis_errorf(err, "lost '%s' while restoring: %s",
				     l->address,
				     l->c->errstr[0] ? l->c->errstr
						     : "connection closed");
			return -1;
		}
		reply = r;
		if (reply->type == REDIS_REPLY_ERROR) {
			l->failures++;
			if (l->first_error[0] == '\0')
				snprintf(l->first_error, sizeof(l->first_error),
					 "%s: %s", l->notes[l->note_head],
					 reply->str);
		}
		freeReplyObject(reply);
		l->note_head = (l->note_head + 1) % RESTORE_MAX_IN_FLIGHT;
		l->in_flight--;
		l->pending_bytes = 0; /* everything was sent */
	}
	return 0;
}

static int
loader_append(struct loader *l, int argc, const char **argv,
	      const size_t *lengths, struct cairn_error *err)
{
	size_t i;

	if (redisAppendCommandArgv(l->c, argc, argv, lengths) != REDIS_OK) {
		redis_errorf(err, "cannot queue a command for '%s': %s",
			     l->address, l->c->errstr);
		return -1;
	}
	l->in_flight++;
	for (i = 0; i < (size_t)argc; i++)
		l->pending_bytes += lengths[i];
	if (l->in_flight >= RESTORE_MAX_IN_FLIGHT ||
	    l->pending_bytes >= RESTORE_MAX_PENDING_BYTES)
		return loader_drain(l, RESTORE_MAX_IN_FLIGHT / 2, err);
	return 0;
}

static int
loader_select(struct loader *l, uint64_t db, struct cairn_error *err)
{
	char number[32];
	const char *argv[2] = {"SELECT", number};
	size_t lengths[2];
	uint64_t failures = l->failures;

	if ((int64_t)db == l->current)
		return 0;
	snprintf(number, sizeof(number), "%llu", (unsigned long long)db);
	lengths[0] = 6;
	lengths[1] = strlen(number);
	loader_note(l, "SELECT %s%llu", (const unsigned char *)"", 0, db);
	if (loader_append(l, 2, argv, lengths, err) == -1)
		return -1;
	/* A failed SELECT would send every following key to the wrong
	 * database: wait for its answer. */
	if (loader_drain(l, 0, err) == -1)
		return -1;
	if (l->failures > failures) {
		redis_errorf(
			err,
			"cannot select database %llu on '%s' (%s): does the "
			"target have enough databases?",
			(unsigned long long)db, l->address, l->first_error);
		return -1;
	}
	l->current = (int64_t)db;
	return 0;
}

static int
loader_key(void *arg, const struct rdb_key *key, struct cairn_error *err)
{
	struct loader *l = arg;
	const char *argv[9];
	size_t lengths[9];
	char ttl[32], extra[32];
	int argc = 0;

	if (l->only_db >= 0 && key->db != (uint64_t)l->only_db) {
		l->skipped++;
		return 0;
	}
	if (key->empty) {
		restore_warn_empty(l->host, key,
				   "an empty aggregate, which redis-server "
				   "drops on load and RESTORE refuses");
		l->empty++;
		return 0;
	}
	if (l->dry_run) {
		l->restored++;
		return 0;
	}
	if (loader_select(l, key->db, err) == -1)
		return -1;
	snprintf(ttl, sizeof(ttl), "%lld",
		 key->expire_ms > 0 ? (long long)key->expire_ms : 0LL);
	argv[argc] = "RESTORE";
	lengths[argc++] = 7;
	argv[argc] = (const char *)key->name;
	lengths[argc++] = key->name_length;
	argv[argc] = ttl;
	lengths[argc++] = strlen(ttl);
	argv[argc] = (const char *)key->payload;
	lengths[argc++] = key->payload_length;
	argv[argc] = "REPLACE";
	lengths[argc++] = 7;
	if (key->expire_ms > 0) {
		argv[argc] = "ABSTTL";
		lengths[argc++] = 6;
	}
	if (key->idle >= 0) {
		snprintf(extra, sizeof(extra), "%lld", (long long)key->idle);
		argv[argc] = "IDLETIME";
		lengths[argc++] = 8;
		argv[argc] = extra;
		lengths[argc++] = strlen(extra);
	} else if (key->freq >= 0) {
		snprintf(extra, sizeof(extra), "%d", key->freq);
		argv[argc] = "FREQ";
		lengths[argc++] = 4;
		argv[argc] = extra;
		lengths[argc++] = strlen(extra);
	}
	loader_note(l, "key '%s' of db%llu", key->name, key->name_length,
		    key->db);
	if (loader_append(l, argc, argv, lengths, err) == -1)
		return -1;
	l->restored++;
	return 0;
}

static int
loader_function(void *arg, const unsigned char *record, size_t length,
		struct cairn_error *err)
{
	struct loader *l = arg;

	if (rdb_buf_append(&l->functions, record, length) == -1) {
		redis_errorf(err, "out of memory");
		return -1;
	}
	return 0;
}

/* FUNCTION RESTORE of the libraries the snapshot held. */
static int
loader_functions(struct loader *l, int version, int force,
		 struct cairn_error *err)
{
	unsigned char footer[10];
	const char *argv[4] = {"FUNCTION", "RESTORE", NULL,
			       force ? "REPLACE" : "APPEND"};
	size_t lengths[4] = {8, 7, 0, 0};
	uint64_t crc;
	int i;

	footer[0] = (unsigned char)(version & 0xff);
	footer[1] = (unsigned char)((version >> 8) & 0xff);
	if (rdb_buf_append(&l->functions, footer, 2) == -1)
		goto nomem;
	crc = rdb_crc64(0, l->functions.data, l->functions.length);
	for (i = 0; i < 8; i++)
		footer[i] = (unsigned char)(crc >> (8 * i));
	if (rdb_buf_append(&l->functions, footer, 8) == -1)
		goto nomem;
	argv[2] = (const char *)l->functions.data;
	lengths[2] = l->functions.length;
	lengths[3] = strlen(argv[3]);
	loader_note(l, "FUNCTION RESTORE%s%llu", (const unsigned char *)"", 0,
		    0);
	if (loader_append(l, 4, argv, lengths, err) == -1)
		return -1;
	return loader_drain(l, 0, err);
nomem:
	redis_errorf(err, "out of memory");
	return -1;
}

struct keyspace_note {
	char text[512];
	size_t length;
	int only_db;
	int non_empty;
};

static void
keyspace_collect(void *arg, int db, uint64_t keys, uint64_t expires)
{
	struct keyspace_note *k = arg;
	int n;

	(void)expires;
	if (keys == 0 || (k->only_db >= 0 && db != k->only_db))
		return;
	k->non_empty = 1;
	if (k->length >= sizeof(k->text))
		return;
	n = snprintf(k->text + k->length, sizeof(k->text) - k->length,
		     "%sdb%d: %llu keys", k->length ? ", " : "", db,
		     (unsigned long long)keys);
	if (n > 0)
		k->length += (size_t)n;
}

static int
restore_to_server(const struct redis_config *config,
		  const struct cairn_host *host, struct cairn_source *source,
		  const struct redis_endpoint *endpoint,
		  const struct cairn_restore_options *options,
		  struct cairn_error *err)
{
	struct rdb_visitor visitor = {0};
	struct rdb_summary summary;
	struct entry_source es = {.host = host, .source = source};
	struct keyspace_note ks;
	struct loader *l;
	char value[64], *info = NULL;
	int rc = -1;

	memset(&summary, 0, sizeof(summary));
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		redis_errorf(err, "out of memory");
		return -1;
	}
	l->host = host;
	l->address = endpoint->address;
	l->only_db = endpoint->db;
	l->current = -1;
	l->dry_run = options->dry_run;
	if (redis_connect(host, endpoint, config->connect_timeout,
			  config->timeout, &l->c, err) == -1)
		goto out;

	info = redis_info(l->c, l->address, "keyspace", err);
	if (info == NULL)
		goto out;
	memset(&ks, 0, sizeof(ks));
	ks.only_db = endpoint->db;
	redis_keyspace_each(info, keyspace_collect, &ks);
	free(info);
	info = NULL;
	if (ks.non_empty && !options->force) {
		redis_errorf(
			err,
			"target '%s' is not empty (%s): use --force to flush "
			"it and load the snapshot",
			l->address, ks.text);
		goto out;
	}
	info = redis_info(l->c, l->address, "persistence", err);
	if (info == NULL)
		goto out;
	if (redis_info_field(info, "aof_enabled", value, sizeof(value)) == 0 &&
	    strcmp(value, "1") == 0)
		host->log(host, CAIRN_LOG_INFO,
			  "'%s' has AOF on: the restored keys are written to "
			  "its AOF as they arrive, so they survive a restart",
			  l->address);
	free(info);
	info = NULL;

	if (ks.non_empty && !options->dry_run) {
		if (endpoint->db >= 0) {
			char number[32];
			const char *select[2] = {"SELECT", number};
			const char *flush[1] = {"FLUSHDB"};
			redisReply *reply;

			snprintf(number, sizeof(number), "%d", endpoint->db);
			host->log(host, CAIRN_LOG_WARNING,
				  "flushing database %d of '%s' (%s) before "
				  "loading the snapshot (--force)",
				  endpoint->db, l->address, ks.text);
			reply = redis_command_ok(l->c, l->address, err, 2,
						 select);
			if (reply == NULL)
				goto out;
			freeReplyObject(reply);
			reply = redis_command_ok(l->c, l->address, err, 1,
						 flush);
			if (reply == NULL)
				goto out;
			freeReplyObject(reply);
			l->current = endpoint->db;
		} else {
			const char *flush[1] = {"FLUSHALL"};
			redisReply *reply;

			host->log(host, CAIRN_LOG_WARNING,
				  "flushing every database of '%s' (%s) "
				  "before loading the snapshot (--force)",
				  l->address, ks.text);
			reply = redis_command_ok(l->c, l->address, err, 1,
						 flush);
			if (reply == NULL)
				goto out;
			freeReplyObject(reply);
		}
	} else if (ks.non_empty) {
		host->log(host, CAIRN_LOG_INFO,
			  "would flush '%s' (%s) first (--force)", l->address,
			  ks.text);
	}

	visitor.capture = !options->dry_run;
	visitor.key = loader_key;
	visitor.function = endpoint->db < 0 ? loader_function : NULL;
	visitor.arg = l;
	if (rdb_walk(entry_fill, &es, NULL, NULL, &visitor, &summary, err) ==
	    -1)
		goto out;
	if (!options->dry_run) {
		if (l->functions.length > 0 &&
		    loader_functions(l, summary.version, options->force, err) ==
			    -1)
			goto out;
		if (loader_drain(l, 0, err) == -1)
			goto out;
	}
	if (summary.module_aux > 0)
		host->log(host, CAIRN_LOG_WARNING,
			  "the snapshot holds %llu module auxiliary records, "
			  "which RESTORE cannot carry: they were not loaded",
			  (unsigned long long)summary.module_aux);
	if (l->failures > 0) {
		redis_errorf(err,
			     "%llu commands failed on '%s' (%llu keys "
			     "sent); the first: %s",
			     (unsigned long long)l->failures, l->address,
			     (unsigned long long)l->restored, l->first_error);
		goto out;
	}
	restore_log_summary(host, options->dry_run ? "would load" : "loaded",
			    &summary);
	host->log(host, CAIRN_LOG_INFO, "%s %llu keys into '%s'%s",
		  options->dry_run ? "would restore" : "restored",
		  (unsigned long long)l->restored, l->address,
		  l->skipped ? " (keys of other databases skipped)" : "");
	if (l->empty > 0)
		host->log(host, CAIRN_LOG_WARNING,
			  "%s %llu empty keys, as redis-server does when it "
			  "loads the snapshot",
			  options->dry_run ? "would skip" : "skipped",
			  (unsigned long long)l->empty);
	rc = 0;
out:
	free(info);
	if (l->c != NULL)
		redisFree(l->c);
	rdb_buf_release(&l->functions);
	rdb_summary_release(&summary);
	free(l);
	return rc;
}

int
redis_restore_run(const struct redis_config *config,
		  const struct cairn_host *host, struct cairn_source *source,
		  const struct cairn_restore_options *options,
		  struct cairn_error *err)
{
	struct redis_endpoint endpoint;
	int rc;

	if (options->only_count > 0) {
		redis_errorf(
			err,
			"--only is not supported by the redis plugin: the "
			"snapshot is restored whole (a redis://host:port/N "
			"target restores database N alone)");
		return -1;
	}
	if (options->target != NULL &&
	    strncmp(options->target, "redis://", 8) != 0 &&
	    strstr(options->target, "://") != NULL) {
		redis_errorf(
			err,
			"target '%s' is neither a directory nor a redis:// "
			"URI",
			options->target);
		return -1;
	}
	if (options->target != NULL &&
	    strncmp(options->target, "redis://", 8) != 0) {
		if (restore_find_entry(host, source, err) == -1)
			return -1;
		return restore_to_directory(host, source, options->target,
					    options, err);
	}
	if (options->target == NULL) {
		if (config->restore_only) {
			redis_errorf(err,
				     "job '%s' is not configured: give --to "
				     "DIR or --to redis://host:port",
				     config->job);
			return -1;
		}
		if (!options->force) {
			redis_errorf(err,
				     "restoring into the job's own server '%s' "
				     "replaces its data: use --force, or --to "
				     "another target",
				     config->endpoint.address);
			return -1;
		}
		if (redis_endpoint_copy(&endpoint, &config->endpoint) == -1) {
			redis_errorf(err, "out of memory");
			return -1;
		}
	} else {
		if (redis_url_parse(options->target, &endpoint, err) == -1)
			return -1;
		/* The job's credentials, unless the URI names its own. */
		if (endpoint.user == NULL && endpoint.password == NULL) {
			endpoint.user = config->endpoint.user
						? strdup(config->endpoint.user)
						: NULL;
			endpoint.password_file =
				config->endpoint.password_file
					? strdup(config->endpoint.password_file)
					: NULL;
		}
	}
	rc = restore_find_entry(host, source, err);
	if (rc == 0)
		rc = restore_to_server(config, host, source, &endpoint, options,
				       err);
	redis_endpoint_release(&endpoint);
	return rc;
}
