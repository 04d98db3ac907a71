/*
 * drill: prove the newest snapshot loads. The archive's dump.rdb is
 * written into the scratch directory (checked on the way like any
 * restore), a temporary redis-server is started on it on a free loopback
 * port with persistence off, and the keys it loaded per database are
 * compared with the counts the backup recorded in the manifest. The
 * server is then stopped by its process id.
 */
#include "autoconfig.h"

#include "rdb.h"
#include "redis.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct drill {
	const struct cairn_host *host;
	struct cairn_source *source;
	struct cairn_report *report;
	const struct rdb_summary *summary;
	uint64_t *loaded; /* keys per database in the drill server */
	size_t loaded_count;
	int problems;
};

struct drill_fill {
	const struct cairn_host *host;
	struct cairn_source *source;
	const unsigned char *block;
	size_t left;
};

static int
drill_fill(void *arg, void *buffer, size_t size, size_t *got,
	   struct cairn_error *err)
{
	struct drill_fill *f = arg;

	*got = 0;
	while (f->left == 0) {
		const void *data;
		size_t length;
		int64_t offset;
		int rc = f->host->entry_read(f->source, &data, &length, &offset,
					     err);

		if (rc == -1)
			return -1;
		if (rc == 0)
			return 0;
		f->block = data;
		f->left = length;
	}
	*got = f->left < size ? f->left : size;
	memcpy(buffer, f->block, *got);
	f->block += *got;
	f->left -= *got;
	return 0;
}

static int
drill_write(void *arg, const void *data, size_t length, struct cairn_error *err)
{
	int fd = *(int *)arg;
	const char *p = data;

	while (length > 0) {
		ssize_t n = write(fd, p, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			redis_errorf(err, "cannot write the drill copy: %s",
				     strerror(errno));
			return -1;
		}
		p += n;
		length -= (size_t)n;
	}
	return 0;
}

static int
drill_free_port(struct cairn_error *err)
{
	struct sockaddr_in addr;
	socklen_t length = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &length) == 0)
		port = ntohs(addr.sin_port);
	else
		redis_errorf(err, "cannot find a free port on 127.0.0.1: %s",
			     strerror(errno));
	if (fd >= 0)
		close(fd);
	return port;
}

static int
drill_spawn(const char *program, const char *dir, int port, pid_t *pid,
	    struct cairn_error *err)
{
	char port_text[16], logfile[4200];
	const char *argv[] = {
		program,     "--port",
		port_text,   "--bind",
		"127.0.0.1", "--dir",
		dir,	     "--dbfilename",
		REDIS_ENTRY, "--save",
		"",	     "--appendonly",
		"no",	     "--daemonize",
		"no",	     "--logfile",
		logfile,     "--protected-mode",
		"yes",	     NULL,
	};
	/* Owned copies: exec's argv is char *const[], not const char *. */
	char *args[sizeof(argv) / sizeof(argv[0])] = {NULL};
	posix_spawn_file_actions_t actions;
	size_t i;
	int rc = ENOMEM, n;

	snprintf(port_text, sizeof(port_text), "%d", port);
	n = snprintf(logfile, sizeof(logfile), "%s/redis-server.log", dir);
	if (n < 0 || (size_t)n >= sizeof(logfile)) {
		redis_errorf(err, "'%s': path too long", dir);
		return -1;
	}
	for (i = 0; argv[i] != NULL; i++)
		if ((args[i] = strdup(argv[i])) == NULL)
			break;
	if (argv[i] == NULL) {
		posix_spawn_file_actions_init(&actions);
		posix_spawn_file_actions_addopen(&actions, 0, "/dev/null",
						 O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&actions, 1, "/dev/null",
						 O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&actions, 2, "/dev/null",
						 O_WRONLY, 0);
		rc = posix_spawnp(pid, program, &actions, NULL, args, environ);
		posix_spawn_file_actions_destroy(&actions);
	}
	for (i = 0; args[i] != NULL; i++)
		free(args[i]);
	if (rc != 0) {
		redis_errorf(err, "cannot start '%s': %s", program,
			     strerror(rc));
		return -1;
	}
	return 0;
}

static void
drill_stop(const struct cairn_host *host, pid_t pid)
{
	int status, i;

	if (kill(pid, SIGTERM) == 0) {
		for (i = 0; i < 200; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				return;
			redis_sleep_ms(50);
		}
		host->log(host, CAIRN_LOG_WARNING,
			  "the drill server (pid %ld) did not stop: killing it",
			  (long)pid);
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
}

static void
drill_loaded(void *arg, int db, uint64_t keys, uint64_t expires)
{
	struct drill *d = arg;

	(void)expires;
	if (db < 0 || (size_t)db >= d->loaded_count)
		return;
	d->loaded[db] = keys;
}

/* Connects to the drill server and waits until it has loaded. */
static int
drill_connect(const struct cairn_host *host, struct redis_endpoint *endpoint,
	      pid_t pid, int timeout, redisContext **c, struct cairn_error *err)
{
	int64_t deadline = redis_now_ms() + (int64_t)timeout * 1000;
	char value[16];

	for (;;) {
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			redis_errorf(err,
				     "the drill server exited while starting "
				     "(see its log)");
			return -1;
		}
		if (*c == NULL &&
		    redis_connect(host, endpoint, 2, timeout, c, err) == -1)
			*c = NULL;
		if (*c != NULL) {
			char *info = redis_info(*c, endpoint->address,
						"persistence", err);

			if (info == NULL) {
				redisFree(*c);
				*c = NULL;
			} else {
				int loading = redis_info_field(info, "loading",
							       value,
							       sizeof(value)) ==
						      0 &&
					      strcmp(value, "1") == 0;

				free(info);
				if (!loading)
					return 0;
			}
		}
		if (redis_now_ms() > deadline) {
			redis_errorf(
				err,
				"the drill server did not load the snapshot "
				"within %d seconds",
				timeout);
			return -1;
		}
		redis_sleep_ms(100);
	}
}

static void
drill_compare(struct drill *d)
{
	char key[64], value[128];
	size_t i;

	for (i = 0; i < d->loaded_count; i++) {
		uint64_t want = i < d->summary->db_count ? d->summary->keys[i]
							 : 0;
		uint64_t volatile_keys = i < d->summary->db_count
						 ? d->summary->expires[i]
						 : 0;
		const char *fact;
		uint64_t recorded = want;

		snprintf(key, sizeof(key), "keys.db%zu", i);
		fact = d->host->fact_get(d->source, key);
		if (fact != NULL)
			recorded = strtoull(fact, NULL, 10);
		if (want == 0 && d->loaded[i] == 0 && recorded == 0)
			continue;
		snprintf(value, sizeof(value),
			 "%llu loaded, %llu in the manifest",
			 (unsigned long long)d->loaded[i],
			 (unsigned long long)recorded);
		d->host->report_item(d->report, key, value);
		if (recorded != want) {
			d->host->report_problem(
				d->report,
				"db%zu: the manifest records %llu keys but "
				"the snapshot holds %llu",
				i, (unsigned long long)recorded,
				(unsigned long long)want);
			d->problems++;
		} else if (d->loaded[i] > want ||
			   d->loaded[i] + volatile_keys < want) {
			d->host->report_problem(
				d->report,
				"db%zu: %llu keys loaded, %llu expected", i,
				(unsigned long long)d->loaded[i],
				(unsigned long long)want);
			d->problems++;
		} else if (d->loaded[i] < want) {
			snprintf(value, sizeof(value),
				 "%llu keys had expired by the time of the "
				 "drill",
				 (unsigned long long)(want - d->loaded[i]));
			snprintf(key, sizeof(key), "expired.db%zu", i);
			d->host->report_item(d->report, key, value);
		}
	}
}

int
redis_drill_run(const struct redis_config *config,
		const struct cairn_host *host, struct cairn_source *source,
		const struct cairn_drill_options *options,
		struct cairn_report *report, struct cairn_error *err)
{
	const struct cairn_entry *entry;
	struct rdb_visitor visitor = {0};
	struct rdb_summary summary;
	struct drill_fill fill = {.host = host, .source = source};
	struct redis_endpoint endpoint;
	struct drill d;
	const char *program;
	char path[4200], number[64];
	redisContext *c = NULL;
	pid_t pid = -1;
	int fd = -1, rc = -1, n, port;

	memset(&summary, 0, sizeof(summary));
	memset(&endpoint, 0, sizeof(endpoint));
	memset(&d, 0, sizeof(d));
	program = options->drill_target	 ? options->drill_target
		  : config->drill_target ? config->drill_target
					 : "redis-server";
	for (;;) {
		int next = host->entry_next(source, &entry, err);

		if (next == -1)
			return -1;
		if (next == 0) {
			redis_errorf(err, "the archive has no '%s' entry",
				     REDIS_ENTRY);
			return -1;
		}
		if (strcmp(entry->name, REDIS_ENTRY) == 0)
			break;
	}
	n = snprintf(path, sizeof(path), "%s/%s", options->scratch_dir,
		     REDIS_ENTRY);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		redis_errorf(err, "'%s': path too long", options->scratch_dir);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		redis_errorf(err, "cannot create '%s': %s", path,
			     strerror(errno));
		return -1;
	}
	if (rdb_walk(drill_fill, &fill, drill_write, &fd, &visitor, &summary,
		     err) == -1) {
		host->report_problem(report, "%s", err->message);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		redis_errorf(err, "cannot write '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	fd = -1;
	snprintf(number, sizeof(number), "%llu bytes, RDB version %d",
		 (unsigned long long)summary.bytes, summary.version);
	host->report_item(report, "snapshot", number);
	host->report_item(report, "checksum",
			  summary.checksum ? "verified"
					   : "absent (rdbchecksum no)");

	port = drill_free_port(err);
	if (port == -1)
		goto out;
	if (drill_spawn(program, options->scratch_dir, port, &pid, err) == -1)
		goto out;
	host->report_item(report, "server", program);
	endpoint.host = strdup("127.0.0.1");
	endpoint.port = port;
	endpoint.db = -1;
	if (endpoint.host == NULL) {
		redis_errorf(err, "out of memory");
		goto out;
	}
	redis_endpoint_describe(&endpoint);
	if (drill_connect(host, &endpoint, pid, config->timeout, &c, err) ==
	    -1) {
		host->report_problem(report, "%s (log: %s/redis-server.log)",
				     err->message, options->scratch_dir);
		goto out;
	}
	{
		char *info = redis_info(c, endpoint.address, "keyspace", err);
		size_t count = summary.db_count;
		const char *argv[3] = {"CONFIG", "GET", "databases"};
		redisReply *reply;

		if (info == NULL)
			goto out;
		reply = redis_command_ok(c, endpoint.address, err, 3, argv);
		if (reply != NULL && reply->type == REDIS_REPLY_ARRAY &&
		    reply->elements == 2 &&
		    reply->element[1]->type == REDIS_REPLY_STRING &&
		    strtoul(reply->element[1]->str, NULL, 10) > count)
			count = strtoul(reply->element[1]->str, NULL, 10);
		if (reply != NULL)
			freeReplyObject(reply);
		d.host = host;
		d.source = source;
		d.report = report;
		d.summary = &summary;
		d.loaded_count = count;
		d.loaded = calloc(count ? count : 1, sizeof(*d.loaded));
		if (d.loaded == NULL) {
			free(info);
			redis_errorf(err, "out of memory");
			goto out;
		}
		redis_keyspace_each(info, drill_loaded, &d);
		free(info);
	}
	drill_compare(&d);
	if (d.problems > 0) {
		redis_errorf(
			err,
			"the drill server loaded other key counts than the "
			"manifest records");
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (c != NULL)
		redisFree(c);
	if (pid > 0)
		drill_stop(host, pid);
	redis_endpoint_release(&endpoint);
	rdb_summary_release(&summary);
	free(d.loaded);
	return rc;
}
