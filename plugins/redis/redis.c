/*
 * The redis plugin: consistent RDB snapshots of a Redis server without
 * blocking it. This file holds the descriptor the core loads and the
 * job's configuration; the work is done in backup.c, restore.c, check.c
 * and drill.c, over the RDB format of rdb.c and the replication transfer
 * of replication.c.
 *
 * Keys: host, port or socket; user and password-file (AUTH); mode (bgsave
 * or save); rdb-path (auto, a path, or remote); timeout and
 * connect-timeout (seconds); drill-target (a redis-server binary).
 */
#include "autoconfig.h"

#include "redis.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const redis_keys[] = {
	"host",
	"port",
	"socket",
	"user",
	"password-file",
	"mode",
	"rdb-path",
	"timeout",
	"connect-timeout",
	"drill-target",
	NULL,
};

static void
redis_config_free(struct redis_config *config)
{
	if (config == NULL)
		return;
	free(config->job);
	redis_endpoint_release(&config->endpoint);
	free(config->rdb_path);
	free(config->drill_target);
	free(config);
}

static int
config_fail(struct cairn_error *err, const struct cairn_setting *setting,
	    const char *job, const char *why)
{
	redis_errorf(err, "job '%s': %s '%s': %s", job, setting->key,
		     setting->value, why);
	err->setting = setting;
	return -1;
}

static int
config_number(const struct cairn_setting *setting, long min, long max,
	      long *value)
{
	char *end;

	errno = 0;
	*value = strtol(setting->value, &end, 10);
	if (setting->value[0] == '\0' || *end != '\0' || errno != 0 ||
	    *value < min || *value > max)
		return -1;
	return 0;
}

static int
config_string(char **to, const struct cairn_setting *setting,
	      struct cairn_error *err)
{
	free(*to);
	*to = strdup(setting->value);
	if (*to == NULL) {
		redis_errorf(err, "out of memory");
		return -1;
	}
	return 0;
}

static int
redis_configure(const struct cairn_host *host,
		const struct cairn_job_config *job, void **state,
		struct cairn_error *err)
{
	struct redis_config *config = calloc(1, sizeof(*config));
	const struct cairn_setting *port_setting = NULL;
	const struct cairn_setting *socket_setting = NULL;
	size_t i;
	long value;

	(void)host;
	*state = NULL;
	if (config == NULL || (config->job = strdup(job->job)) == NULL) {
		redis_errorf(err, "out of memory");
		redis_config_free(config);
		return -1;
	}
	config->restore_only = job->restore_only;
	config->endpoint.port = REDIS_DEFAULT_PORT;
	config->endpoint.db = -1;
	config->mode = REDIS_MODE_BGSAVE;
	config->timeout = REDIS_DEFAULT_TIMEOUT;
	config->connect_timeout = REDIS_DEFAULT_CONNECT_TIMEOUT;

	for (i = 0; i < job->count; i++) {
		const struct cairn_setting *s = &job->settings[i];
		int rc = 0;

		if (strcmp(s->key, "host") == 0) {
			if (s->value[0] == '\0')
				rc = config_fail(err, s, job->job,
						 "empty host");
			else
				rc = config_string(&config->endpoint.host, s,
						   err);
		} else if (strcmp(s->key, "port") == 0) {
			if (config_number(s, 1, 65535, &value) == -1)
				rc = config_fail(err, s, job->job,
						 "not a port number "
						 "(1-65535)");
			config->endpoint.port = (int)value;
			port_setting = s;
		} else if (strcmp(s->key, "socket") == 0) {
			if (s->value[0] != '/')
				rc = config_fail(err, s, job->job,
						 "not an absolute path");
			else
				rc = config_string(&config->endpoint.socket, s,
						   err);
			socket_setting = s;
		} else if (strcmp(s->key, "user") == 0) {
			if (s->value[0] == '\0')
				rc = config_fail(err, s, job->job,
						 "empty user name");
			else
				rc = config_string(&config->endpoint.user, s,
						   err);
		} else if (strcmp(s->key, "password-file") == 0) {
			if (s->value[0] == '\0')
				rc = config_fail(err, s, job->job,
						 "empty path");
			else
				rc = config_string(&config->endpoint
							    .password_file,
						   s, err);
		} else if (strcmp(s->key, "mode") == 0) {
			if (strcmp(s->value, "bgsave") == 0)
				config->mode = REDIS_MODE_BGSAVE;
			else if (strcmp(s->value, "save") == 0)
				config->mode = REDIS_MODE_SAVE;
			else
				rc = config_fail(err, s, job->job,
						 "expected bgsave or save");
		} else if (strcmp(s->key, "rdb-path") == 0) {
			free(config->rdb_path);
			config->rdb_path = NULL;
			config->rdb_remote = 0;
			if (strcmp(s->value, "auto") == 0)
				;
			else if (strcmp(s->value, "remote") == 0)
				config->rdb_remote = 1;
			else if (s->value[0] != '/')
				rc = config_fail(err, s, job->job,
						 "expected auto, remote or an "
						 "absolute path");
			else
				rc = config_string(&config->rdb_path, s, err);
		} else if (strcmp(s->key, "timeout") == 0) {
			if (config_number(s, 1, 7 * 24 * 3600, &value) == -1)
				rc = config_fail(err, s, job->job,
						 "expected seconds (1-604800)");
			config->timeout = (int)value;
		} else if (strcmp(s->key, "connect-timeout") == 0) {
			if (config_number(s, 1, 3600, &value) == -1)
				rc = config_fail(err, s, job->job,
						 "expected seconds (1-3600)");
			config->connect_timeout = (int)value;
		} else if (strcmp(s->key, "drill-target") == 0) {
			if (s->value[0] == '\0')
				rc = config_fail(err, s, job->job,
						 "empty program name");
			else
				rc = config_string(&config->drill_target, s,
						   err);
		} else {
			rc = config_fail(err, s, job->job, "unknown key");
		}
		if (rc == -1) {
			redis_config_free(config);
			return -1;
		}
	}
	if (socket_setting != NULL &&
	    (port_setting != NULL || config->endpoint.host != NULL)) {
		config_fail(err, socket_setting, job->job,
			    "socket excludes host and port");
		redis_config_free(config);
		return -1;
	}
	if (config->endpoint.socket == NULL && config->endpoint.host == NULL &&
	    (config->endpoint.host = strdup("127.0.0.1")) == NULL) {
		redis_errorf(err, "out of memory");
		redis_config_free(config);
		return -1;
	}
	redis_endpoint_describe(&config->endpoint);
	*state = config;
	return 0;
}

static int
redis_check(void *state, const struct cairn_host *host,
	    struct cairn_report *report, struct cairn_error *err)
{
	return redis_check_run(state, host, report, err);
}

static int
redis_backup(void *state, const struct cairn_host *host,
	     struct cairn_sink *sink, struct cairn_error *err)
{
	return redis_backup_run(state, host, sink, err);
}

static int
redis_restore(void *state, const struct cairn_host *host,
	      struct cairn_source *source,
	      const struct cairn_restore_options *options,
	      struct cairn_error *err)
{
	return redis_restore_run(state, host, source, options, err);
}

static int
redis_drill(void *state, const struct cairn_host *host,
	    struct cairn_source *source,
	    const struct cairn_drill_options *options,
	    struct cairn_report *report, struct cairn_error *err)
{
	return redis_drill_run(state, host, source, options, report, err);
}

static void
redis_release(void *state)
{
	redis_config_free(state);
}

const struct cairn_plugin cairn_plugin_entry = {
	.abi_version = CAIRN_PLUGIN_ABI_VERSION,
	.name = "redis",
	.version = PACKAGE_VERSION,
	.description = "Redis RDB snapshots (BGSAVE, or the replication "
		       "protocol)",
	.keys = redis_keys,
	.configure = redis_configure,
	.check = redis_check,
	.backup = redis_backup,
	.restore = redis_restore,
	.drill = redis_drill,
	.release = redis_release,
};
