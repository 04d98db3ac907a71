/*
 * The postgres plugin: backs up a whole PostgreSQL cluster the way
 * pg_dumpall does, but as one entry for roles and tablespaces and one
 * entry per database, so that a single database can be restored alone,
 * with stock tools if need be. This file holds the descriptor, configure,
 * check and release; see postgres.h for the map of the other files.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
postgres_configure(const struct cairn_host *host,
		   const struct cairn_job_config *config, void **state,
		   struct cairn_error *err)
{
	struct postgres_config *cfg;

	(void)host;
	if (postgres_config_parse(config, &cfg, err) == -1)
		return -1;
	*state = cfg;
	return 0;
}

static void
postgres_release(void *state)
{
	postgres_config_free(state);
}

static int
postgres_check_databases(const struct postgres_config *cfg,
			 const struct cairn_host *host, PGconn *conn,
			 const char *label, struct cairn_report *report,
			 struct cairn_error *err)
{
	static const char sql[] =
		"SELECT datname, CASE WHEN has_database_privilege(oid, "
		"'CONNECT') THEN pg_database_size(oid) END, datistemplate "
		"FROM pg_database WHERE datallowconn ORDER BY datname";
	PGresult *res = NULL;
	char what[600], value[128], size[32];
	int64_t total = 0;
	size_t count = 0, j;
	int i, found;

	snprintf(what, sizeof(what), "cannot list the databases of '%s'",
		 label);
	if (postgres_query(conn, what, sql, 0, NULL, &res, err) == -1)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		if (cfg->databases.count > 0
			    ? !postgres_list_contains(&cfg->databases,
						      PQgetvalue(res, i, 0))
			    : strcmp(PQgetvalue(res, i, 2), "t") == 0)
			continue;
		count++;
		total += strtoll(PQgetvalue(res, i, 1), NULL, 10);
	}
	for (j = 0; j < cfg->databases.count; j++) {
		found = 0;
		for (i = 0; i < PQntuples(res) && !found; i++)
			found = strcmp(PQgetvalue(res, i, 0),
				       cfg->databases.items[j]) == 0;
		if (!found)
			host->report_problem(report,
					     "database '%s' (in 'databases') "
					     "does not exist on '%s'",
					     cfg->databases.items[j], label);
	}
	postgres_size_text(total, size, sizeof(size));
	snprintf(value, sizeof(value), "%zu", count);
	host->report_item(report, "databases", value);
	snprintf(value, sizeof(value), "%s (%" PRId64 " bytes)", size, total);
	host->report_item(report, "size", value);
	PQclear(res);
	return 0;
}

static int
postgres_check(void *state, const struct cairn_host *host,
	       struct cairn_report *report, struct cairn_error *err)
{
	static const char sql[] =
		"SELECT pg_is_in_recovery(), "
		"(SELECT count(*) FROM pg_stat_activity), "
		"current_setting('max_connections'), "
		"(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)";
	const struct postgres_config *cfg = state;
	struct postgres_session session;
	struct cairn_error client_err;
	PGresult *res = NULL;
	PGconn *conn = NULL;
	const char *version;
	char what[600], value[600], major[16];
	int rc = -1;

	if (postgres_session_init(&session, cfg, host, NULL, err) == -1)
		return -1;
	if (postgres_connect(&session.ep, NULL, &conn, err) == -1)
		goto out;
	host->report_item(report, "server", session.ep.label);
	version = PQparameterStatus(conn, "server_version");
	host->report_item(report, "version", version ? version : "unknown");
	snprintf(what, sizeof(what), "cannot query '%s'", session.ep.label);
	if (postgres_query(conn, what, sql, 0, NULL, &res, err) == -1)
		goto out;
	host->report_item(report, "recovery",
			  strcmp(PQgetvalue(res, 0, 0), "t") == 0
				  ? "standby (in recovery)"
				  : "primary");
	snprintf(value, sizeof(value), "%s of %s", PQgetvalue(res, 0, 1),
		 PQgetvalue(res, 0, 2));
	host->report_item(report, "connections", value);
	if (strtol(PQgetvalue(res, 0, 1), NULL, 10) * 10 >=
	    strtol(PQgetvalue(res, 0, 2), NULL, 10) * 9)
		host->report_problem(report,
				     "'%s' uses %s of its %s connections",
				     session.ep.label, PQgetvalue(res, 0, 1),
				     PQgetvalue(res, 0, 2));
	host->report_item(report, "superuser",
			  strcmp(PQgetvalue(res, 0, 3), "t") == 0 ? "yes"
								  : "no");
	if (strcmp(PQgetvalue(res, 0, 3), "t") != 0)
		host->report_problem(report,
				     "user '%s' is not a superuser on '%s': "
				     "role passwords cannot be backed up",
				     PQuser(conn), session.ep.label);
	if (postgres_check_databases(cfg, host, conn, session.ep.label, report,
				     err) == -1)
		goto out;
	memset(&client_err, 0, sizeof(client_err));
	postgres_version_major_text(PQserverVersion(conn), major,
				    sizeof(major));
	if (postgres_session_choose_client(&session, cfg, PQserverVersion(conn),
					   &client_err) == -1) {
		host->report_item(report, "pg_dump", "none suitable");
		host->report_problem(report, "%s", client_err.message);
	} else {
		snprintf(value, sizeof(value),
			 "%s in '%s', can dump PostgreSQL %s",
			 session.client_version_text, session.bin_dir, major);
		host->report_item(report, "pg_dump", value);
	}
	/* Whether `cairn drill` can run, and where. */
	memset(&client_err, 0, sizeof(client_err));
	if (cfg->drill_target != NULL) {
		host->report_item(report, "drill",
				  "scratch databases in drill-target");
	} else if (postgres_cluster_describe(cfg, PQserverVersion(conn), value,
					     sizeof(value), &client_err) == 0) {
		host->report_item(report, "drill", value);
	} else {
		host->report_item(report, "drill", "not possible");
		host->report_problem(report, "drill: %s", client_err.message);
	}
	rc = 0;
out:
	PQclear(res);
	PQfinish(conn);
	postgres_session_release(&session);
	return rc;
}

const struct cairn_plugin cairn_plugin_entry = {
	.abi_version = CAIRN_PLUGIN_ABI_VERSION,
	.name = "postgres",
	.version = PACKAGE_VERSION,
	.description = "PostgreSQL clusters: roles, then one pg_dump per "
		       "database",
	.keys = postgres_keys,
	.configure = postgres_configure,
	.check = postgres_check,
	.backup = postgres_backup,
	.restore = postgres_restore,
	.drill = postgres_drill,
	.release = postgres_release,
};
