/*
 * check: is the job's Redis reachable and authenticated, what is it (role,
 * version), how full is it (used memory against maxmemory), did its last
 * save succeed and when, is AOF on, and will a backup read the RDB file
 * from here or fall back to the replication protocol.
 */
#include "autoconfig.h"

#include "redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct check {
	const struct cairn_host *host;
	struct cairn_report *report;
};

static void
check_item(struct check *k, const char *key, const char *value)
{
	k->host->report_item(k->report, key, value);
}

static void
check_keyspace(void *arg, int db, uint64_t keys, uint64_t expires)
{
	struct check *k = arg;
	char key[32], value[64];

	snprintf(key, sizeof(key), "keys.db%d", db);
	snprintf(value, sizeof(value), "%llu (%llu with a time to live)",
		 (unsigned long long)keys, (unsigned long long)expires);
	check_item(k, key, value);
}

static void
check_file(struct check *k, const struct redis_config *config, redisContext *c)
{
	const char *argv[3] = {"CONFIG", "GET", NULL};
	char dir[4096] = "", name[1024] = "", path[5200];
	struct cairn_error err;
	int i;

	if (config->rdb_remote) {
		check_item(k, "rdb_source", "replication (rdb-path = remote)");
		return;
	}
	if (config->rdb_path != NULL) {
		snprintf(path, sizeof(path), "%s", config->rdb_path);
	} else {
		for (i = 0; i < 2; i++) {
			redisReply *reply;

			argv[2] = i == 0 ? "dir" : "dbfilename";
			reply = redis_command_ok(c, config->endpoint.address,
						 &err, 3, argv);
			if (reply == NULL) {
				snprintf(path, sizeof(path), "replication (%s)",
					 err.message);
				check_item(k, "rdb_source", path);
				return;
			}
			if (reply->type == REDIS_REPLY_ARRAY &&
			    reply->elements == 2 &&
			    reply->element[1]->type == REDIS_REPLY_STRING)
				snprintf(i == 0 ? dir : name,
					 i == 0 ? sizeof(dir) : sizeof(name),
					 "%s", reply->element[1]->str);
			freeReplyObject(reply);
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	}
	if (access(path, R_OK) == 0) {
		char value[5300];

		snprintf(value, sizeof(value), "file %s", path);
		check_item(k, "rdb_source", value);
	} else {
		char value[5300];

		snprintf(value, sizeof(value),
			 "replication ('%s' is not readable here)", path);
		check_item(k, "rdb_source", value);
		if (config->rdb_path != NULL)
			k->host->report_problem(
				k->report,
				"rdb-path '%s' is not readable: backups will "
				"use the replication protocol",
				path);
	}
}

int
redis_check_run(const struct redis_config *config,
		const struct cairn_host *host, struct cairn_report *report,
		struct cairn_error *err)
{
	struct check k = {.host = host, .report = report};
	redisContext *c = NULL;
	char *info = NULL, value[128], extra[128];
	unsigned long long used = 0, max = 0;
	int rc = -1;

	if (config->restore_only) {
		redis_errorf(err, "job '%s' is not configured", config->job);
		return -1;
	}
	check_item(&k, "address", config->endpoint.address);
	if (redis_connect(host, &config->endpoint, config->connect_timeout,
			  config->connect_timeout, &c, err) == -1) {
		host->report_problem(report, "%s", err->message);
		return -1;
	}
	check_item(&k, "authenticated",
		   config->endpoint.password_file ? "yes" : "no password");
	info = redis_info(c, config->endpoint.address, "all", err);
	if (info == NULL) {
		host->report_problem(report, "%s", err->message);
		goto out;
	}
	if (redis_info_field(info, "redis_version", value, sizeof(value)) == 0)
		check_item(&k, "redis_version", value);
	if (redis_info_field(info, "role", value, sizeof(value)) == 0)
		check_item(&k, "role", value);
	if (redis_info_field(info, "loading", value, sizeof(value)) == 0 &&
	    strcmp(value, "1") == 0)
		host->report_problem(report, "'%s' is loading its dataset",
				     config->endpoint.address);
	if (redis_info_field(info, "used_memory", value, sizeof(value)) == 0)
		used = strtoull(value, NULL, 10);
	if (redis_info_field(info, "maxmemory", value, sizeof(value)) == 0)
		max = strtoull(value, NULL, 10);
	if (redis_info_field(info, "used_memory_human", value, sizeof(value)) ==
	    0)
		check_item(&k, "used_memory", value);
	if (max > 0) {
		snprintf(extra, sizeof(extra), "%llu (%.0f%% used)", max,
			 100.0 * (double)used / (double)max);
		check_item(&k, "maxmemory", extra);
		if (used * 10 > max * 9)
			host->report_problem(
				report, "used memory is %.0f%% of maxmemory",
				100.0 * (double)used / (double)max);
	} else {
		check_item(&k, "maxmemory", "0 (no limit)");
	}
	if (redis_info_field(info, "rdb_last_save_time", value,
			     sizeof(value)) == 0) {
		time_t t = (time_t)strtoll(value, NULL, 10);
		struct tm tm;

		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(extra, sizeof(extra), "%Y-%m-%dT%H:%M:%SZ", &tm) >
			    0)
			check_item(&k, "rdb_last_save_time", extra);
	}
	if (redis_info_field(info, "rdb_last_bgsave_status", value,
			     sizeof(value)) == 0) {
		check_item(&k, "rdb_last_bgsave_status", value);
		if (strcmp(value, "ok") != 0)
			host->report_problem(report,
					     "the last background save failed: "
					     "see the server's log");
	}
	if (redis_info_field(info, "rdb_bgsave_in_progress", value,
			     sizeof(value)) == 0 &&
	    strcmp(value, "1") == 0)
		check_item(&k, "rdb_bgsave_in_progress", "yes");
	if (redis_info_field(info, "aof_enabled", value, sizeof(value)) == 0)
		check_item(&k, "aof_enabled",
			   strcmp(value, "1") == 0 ? "yes" : "no");
	redis_keyspace_each(info, check_keyspace, &k);
	check_file(&k, config, c);
	rc = 0;
out:
	free(info);
	redisFree(c);
	return rc;
}
