/*
 * Drill of a postgres archive: restore it somewhere that does not matter
 * and compare what came back with what the backup recorded.
 *
 * Without drill-target, the default: a throwaway cluster of the archive's
 * major version or newer (cluster.c) is started in the scratch directory,
 * and everything is restored into it as a restore would, roles first, the
 * databases under their own names, owners, grants and database-level
 * properties included. Then, per database, every table's row count and
 * the number of large objects (rowcounts entries), the database's
 * properties and the owners and ACLs of its objects (grants entries), and
 * the roles with their attributes, settings and memberships
 * (globals.grants) are compared with the archive's records. The cluster is
 * stopped and removed on every path, by its keeper process if cairn
 * itself dies. An archive written before cairn recorded grants is
 * compared on row counts only, and the report says so.
 *
 * With drill-target (the job's key or the core's option): scratch
 * databases named cairn_drill_<random>_<n> are created there, restored
 * without owners, grants or tablespaces (roles are global to a cluster
 * and cannot be restored into a shared server), compared on row counts
 * and dropped on every path.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
postgres_drill_restore(const struct postgres_session *s,
		       const struct cairn_host *host,
		       struct cairn_source *source,
		       const struct cairn_entry *entry,
		       const struct postgres_rplan *plan,
		       struct postgres_rdb *db, struct cairn_report *report,
		       struct cairn_error *err)
{
	struct postgres_psql_filter filter;
	const char *argv[16];
	char what[600], *dbarg = NULL;
	PGconn *conn = NULL;
	size_t argc = 0;
	int rc = -1;

	memset(&filter, 0, sizeof(filter));
	snprintf(what, sizeof(what), "database '%s' as '%s' on '%s'", db->name,
		 db->scratch, s->ep.label);
	if (postgres_db_create(&s->ep, host, source, db->encoded, db->scratch,
			       0, err) == -1)
		goto out;
	db->created = 1;
	dbarg = postgres_dbname_arg(db->scratch);
	if (dbarg == NULL) {
		postgres_error(err, "out of memory");
		goto out;
	}
	if (plan->format == POSTGRES_FORMAT_CUSTOM) {
		argv[argc++] = "pg_restore";
		argv[argc++] = "--no-password";
		argv[argc++] = "--exit-on-error";
		argv[argc++] = "--no-owner";
		argv[argc++] = "--no-privileges";
		argv[argc++] = "--no-tablespaces";
		argv[argc++] = "--dbname";
		argv[argc++] = dbarg;
		argv[argc] = NULL;
		if (postgres_run_fed(s, host, source, entry, "pg_restore", argv,
				     NULL, what, err) == -1)
			goto out;
	} else {
		/* Roles are not restored in a drill: skip what needs them. */
		filter.tolerated = "42704"; /* undefined_object */
		argv[argc++] = "psql";
		argv[argc++] = "--no-psqlrc";
		argv[argc++] = "--quiet";
		argv[argc++] = "--no-password";
		argv[argc++] = "--set=ON_ERROR_STOP=0";
		argv[argc++] = "--set=VERBOSITY=verbose";
		argv[argc++] = "--dbname";
		argv[argc++] = dbarg;
		argv[argc] = NULL;
		if (postgres_run_fed(s, host, source, entry, "psql", argv,
				     &filter, what, err) == -1)
			goto out;
		if (filter.error_count > 0) {
			postgres_error(err,
				       "cannot restore %s: %zu statements "
				       "failed, the first: %s",
				       what, filter.error_count,
				       filter.first_error);
			goto out;
		}
	}
	db->restored = 1;
	if (postgres_connect(&s->ep, db->scratch, &conn, err) == -1 ||
	    postgres_count_rows(conn, what, &db->counts, err) == -1)
		goto out;
	db->have_counts = 1;
	rc = 0;
out:
	if (rc == -1)
		host->report_problem(report, "%s", err->message);
	free(dbarg);
	PQfinish(conn);
	return rc;
}

/* Compares a restored database with its row counts; problems reported. */
static int
postgres_drill_compare(const struct cairn_host *host,
		       const struct postgres_rdb *db,
		       struct cairn_report *report, const char *extra,
		       size_t extra_problems)
{
	const struct postgres_rowcount *want, *got;
	char key[300], value[600];
	int64_t rows = 0;
	size_t i, problems = 0;

	for (i = 0; i < db->expected.count; i++) {
		want = &db->expected.items[i];
		got = postgres_rowcounts_find(&db->counts, want->schema,
					      want->table);
		rows += want->rows;
		if (got == NULL) {
			host->report_problem(report,
					     "database '%s': table '%s.%s' is "
					     "missing after the restore",
					     db->name, want->schema,
					     want->table);
			problems++;
		} else if (got->rows != want->rows) {
			host->report_problem(report,
					     "database '%s': table '%s.%s' has "
					     "%" PRId64 " rows after the "
					     "restore, %" PRId64
					     " at backup time",
					     db->name, want->schema,
					     want->table, got->rows,
					     want->rows);
			problems++;
		}
	}
	for (i = 0; i < db->counts.count; i++) {
		got = &db->counts.items[i];
		if (postgres_rowcounts_find(&db->expected, got->schema,
					    got->table) == NULL) {
			host->report_problem(report,
					     "database '%s': table '%s.%s' "
					     "appeared after the restore",
					     db->name, got->schema, got->table);
			problems++;
		}
	}
	if (db->counts.large_objects != db->expected.large_objects) {
		host->report_problem(report,
				     "database '%s': %" PRId64
				     " large objects after the restore, "
				     "%" PRId64 " at backup time",
				     db->name, db->counts.large_objects,
				     db->expected.large_objects);
		problems++;
	}
	snprintf(key, sizeof(key), "database %s", db->name);
	snprintf(value, sizeof(value),
		 "%s: %zu tables, %" PRId64 " rows, %" PRId64
		 " large objects%s",
		 problems + extra_problems == 0 ? "ok" : "MISMATCH",
		 db->expected.count, rows, db->expected.large_objects,
		 extra != NULL ? extra : "");
	host->report_item(report, key, value);
	return problems == 0 ? 0 : -1;
}

/* Today's drill: scratch databases in drill-target, row counts only. */
static int
postgres_drill_target(const struct postgres_config *cfg,
		      const struct cairn_host *host,
		      struct cairn_source *source, const char *target,
		      struct cairn_report *report, struct cairn_error *err)
{
	const struct cairn_entry *entry;
	struct postgres_session session;
	struct postgres_rplan plan;
	struct postgres_rdb *db;
	struct cairn_error inner;
	const char *suffix;
	char *name = NULL, *text = NULL, tag[16];
	unsigned char random[3];
	size_t i, length, failures = 0;
	PGconn *conn = NULL;
	int have_session = 0, rc = -1, r, fd;

	memset(&plan, 0, sizeof(plan));
	if (postgres_rplan_load(&plan, host, source, err) == -1)
		goto out;
	if (postgres_session_init(&session, cfg, host, target, err) == -1)
		goto out;
	have_session = 1;
	if (postgres_connect(&session.ep, NULL, &conn, err) == -1 ||
	    postgres_session_choose_client(&session, cfg, PQserverVersion(conn),
					   err) == -1 ||
	    postgres_check_client(&session, host, source, err) == -1)
		goto out;
	PQfinish(conn);
	conn = NULL;
	host->report_item(report, "drill-target", session.ep.label);

	/* Scratch names no one else uses: cairn_drill_<random>_<n>. */
	memset(random, 0, sizeof(random));
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, random, sizeof(random)) < 0)
			memset(random, 0, sizeof(random));
		close(fd);
	}
	snprintf(tag, sizeof(tag), "%02x%02x%02x%02x", random[0], random[1],
		 random[2], (unsigned)getpid() & 0xff);
	for (i = 0; i < plan.count; i++)
		snprintf(plan.dbs[i].scratch, sizeof(plan.dbs[i].scratch),
			 "cairn_drill_%s_%zu", tag, i + 1);

	while ((r = host->entry_next(source, &entry, err)) == 1) {
		if (strcmp(entry->name, "globals.sql") == 0) {
			if (postgres_entry_slurp(host, source, 64 << 20, &text,
						 &length, err) == -1)
				goto out;
			host->report_item(report, "globals",
					  length > 0 ? "present" : "EMPTY");
			if (length == 0) {
				host->report_problem(report,
						     "globals.sql is empty");
				failures++;
			}
			free(text);
			text = NULL;
			continue;
		}
		free(name);
		name = NULL;
		if (postgres_entry_parse(entry->name, &name, &suffix) == -1)
			continue;
		db = postgres_rplan_find(&plan, name);
		if (db == NULL || strcmp(suffix, "grants") == 0 ||
		    strcmp(suffix, "database.sql") == 0)
			continue;
		if (strcmp(suffix, "rowcounts") == 0) {
			if (postgres_entry_slurp(host, source, 256 << 20, &text,
						 &length, err) == -1)
				goto out;
			memset(&inner, 0, sizeof(inner));
			if (postgres_rowcounts_parse(text, length,
						     &db->expected,
						     &inner) == -1) {
				host->report_problem(report, "'%s': %s",
						     entry->name,
						     inner.message);
				failures++;
			} else {
				db->have_expected = 1;
			}
			free(text);
			text = NULL;
			continue;
		}
		memset(&inner, 0, sizeof(inner));
		if (postgres_drill_restore(&session, host, source, entry, &plan,
					   db, report, &inner) == -1)
			failures++;
	}
	if (r == -1)
		goto out;
	for (i = 0; i < plan.count; i++) {
		db = &plan.dbs[i];
		if (!db->restored) {
			if (db->created == 0 && !db->have_counts)
				host->report_problem(report,
						     "database '%s' was not "
						     "restored",
						     db->name);
			failures++;
			continue;
		}
		if (!db->have_expected) {
			host->report_problem(
				report,
				"database '%s': the archive has no "
				"row counts to compare with",
				db->name);
			failures++;
			continue;
		}
		if (postgres_drill_compare(host, db, report, NULL, 0) == -1)
			failures++;
	}
	if (failures > 0) {
		postgres_error(err, "drill of '%s' found %zu problems",
			       cfg->job, failures);
		goto out;
	}
	rc = 0;
out:
	/* Scratch databases go on every path. */
	for (i = 0; have_session && i < plan.count; i++) {
		if (!plan.dbs[i].created)
			continue;
		memset(&inner, 0, sizeof(inner));
		if (postgres_db_drop(&session.ep, plan.dbs[i].scratch,
				     &inner) == -1)
			host->log(host, CAIRN_LOG_WARNING, "%s", inner.message);
	}
	free(name);
	free(text);
	PQfinish(conn);
	postgres_rplan_free(&plan);
	if (have_session)
		postgres_session_release(&session);
	return rc;
}

/* --- the throwaway cluster ------------------------------------------ */

struct postgres_drill_run {
	const struct postgres_config *cfg;
	const struct cairn_host *host;
	struct cairn_source *source;
	struct cairn_report *report;
	struct postgres_session session;
	struct postgres_rplan plan;
	char *roles; /* globals.grants, when the archive has it */
	size_t roles_length;
	size_t failures;
	size_t checks;
};

/* The archive's server version, for the cluster to be as new. */
static int
postgres_drill_archive_version(const struct cairn_host *host,
			       struct cairn_source *source)
{
	const char *text = host->fact_get(source, "server.version-num");
	long number;
	char *end;

	if (text != NULL) {
		number = strtol(text, &end, 10);
		if (end != text && *end == '\0' && number > 0 &&
		    number < 10000000)
			return (int)number;
	}
	text = host->fact_get(source, "server.version");
	number = text != NULL ? postgres_version_parse(text) : -1;
	return number > 0 ? (int)number : 90600;
}

/* One entry of the archive, restored or kept for the comparison. */
static int
postgres_drill_entry(struct postgres_drill_run *run,
		     const struct cairn_entry *entry, struct cairn_error *err)
{
	const struct cairn_host *host = run->host;
	struct postgres_psql_filter globals;
	struct cairn_error inner;
	struct postgres_rdb *db;
	const char *suffix;
	char *name = NULL, *text = NULL;
	size_t length;
	int rc = -1;

	memset(&inner, 0, sizeof(inner));
	if (strcmp(entry->name, "globals.sql") == 0) {
		memset(&globals, 0, sizeof(globals));
		if (postgres_restore_globals(&run->session, host, run->source,
					     entry, &globals, &inner) == -1) {
			host->report_problem(run->report, "%s", inner.message);
			run->failures++;
			return 0;
		}
		/* Tablespaces cannot be created here; the roles compare. */
		if (globals.error_count > 0) {
			char value[700];

			snprintf(value, sizeof(value),
				 "restored, %zu statements failed (the "
				 "first: %s)",
				 globals.error_count, globals.first_error);
			host->report_item(run->report, "globals", value);
			host->log(host, CAIRN_LOG_WARNING, "globals.sql: %s",
				  value);
		} else {
			host->report_item(run->report, "globals", "restored");
		}
		return 0;
	}
	if (strcmp(entry->name, "globals.grants") == 0)
		return postgres_entry_slurp(host, run->source, 256 << 20,
					    &run->roles, &run->roles_length,
					    err);
	if (postgres_entry_parse(entry->name, &name, &suffix) == -1)
		return 0;
	db = postgres_rplan_find(&run->plan, name);
	if (db == NULL) {
		rc = 0;
		goto out;
	}
	if (strcmp(suffix, "rowcounts") == 0) {
		if (postgres_entry_slurp(host, run->source, 256 << 20, &text,
					 &length, err) == -1)
			goto out;
		if (postgres_rowcounts_parse(text, length, &db->expected,
					     &inner) == -1) {
			host->report_problem(run->report, "'%s': %s",
					     entry->name, inner.message);
			run->failures++;
		} else {
			db->have_expected = 1;
		}
	} else if (strcmp(suffix, "grants") == 0) {
		free(db->grants);
		db->grants = NULL;
		if (postgres_entry_slurp(host, run->source, 256 << 20,
					 &db->grants, &db->grants_length,
					 err) == -1)
			goto out;
	} else if (strcmp(suffix, "database.sql") == 0) {
		if (postgres_restore_props(&run->session, host, run->source,
					   entry, db, &inner) == -1) {
			host->report_problem(run->report, "%s", inner.message);
			run->failures++;
		}
	} else if (postgres_db_probe(&run->session.ep, db, &inner) == -1 ||
		   postgres_restore_db(&run->session, run->cfg, host,
				       run->source, entry, &run->plan, db, 1,
				       &inner) == -1) {
		host->report_problem(run->report, "%s", inner.message);
		run->failures++;
	} else {
		db->restored = 1;
	}
	rc = 0;
out:
	free(name);
	free(text);
	return rc;
}

/* Row counts, properties, owners and grants of one restored database. */
static void
postgres_drill_check_db(struct postgres_drill_run *run, struct postgres_rdb *db)
{
	const struct cairn_host *host = run->host;
	struct postgres_text actual = {NULL, 0, 0, 0};
	struct cairn_error inner;
	char scope[600], extra[128];
	size_t checks = 0, differences = 0;
	PGconn *conn = NULL;

	memset(&inner, 0, sizeof(inner));
	extra[0] = '\0';
	if (postgres_connect(&run->session.ep, db->name, &conn, &inner) == -1 ||
	    postgres_count_rows(conn, db->name, &db->counts, &inner) == -1 ||
	    (db->grants != NULL &&
	     postgres_grants_database(conn, db->name, &actual, &inner) == -1)) {
		host->report_problem(run->report, "database '%s': %s", db->name,
				     inner.message);
		run->failures++;
		goto out;
	}
	db->have_counts = 1;
	if (db->grants != NULL) {
		snprintf(scope, sizeof(scope), "database '%s': ", db->name);
		postgres_grants_compare(host, run->report, scope, db->grants,
					db->grants_length, actual.data,
					actual.length, &checks, &differences);
		run->failures += differences;
		run->checks += checks;
		snprintf(extra, sizeof(extra),
			 ", %zu properties, owners and grants%s", checks,
			 differences ? " (differences)" : "");
	} else {
		snprintf(extra, sizeof(extra),
			 ", owners and grants not recorded by this archive");
	}
	if (!db->have_expected) {
		host->report_problem(run->report,
				     "database '%s': the archive has no row "
				     "counts to compare with",
				     db->name);
		run->failures++;
		goto out;
	}
	run->checks += db->expected.count + 1;
	if (postgres_drill_compare(host, db, run->report, extra, differences) ==
	    -1)
		run->failures++;
out:
	postgres_text_release(&actual);
	PQfinish(conn);
}

static void
postgres_drill_check_roles(struct postgres_drill_run *run)
{
	const struct cairn_host *host = run->host;
	const char *passwords = host->fact_get(run->source,
					       "globals.role-passwords");
	struct postgres_text actual = {NULL, 0, 0, 0};
	struct cairn_error inner;
	size_t checks = 0, differences = 0;
	PGconn *conn = NULL;
	char value[128];

	if (run->roles == NULL) {
		host->report_item(run->report, "roles",
				  "not recorded by this archive: not compared");
		return;
	}
	memset(&inner, 0, sizeof(inner));
	if (postgres_connect(&run->session.ep, NULL, &conn, &inner) == -1 ||
	    postgres_grants_roles(conn,
				  passwords != NULL &&
					  strcmp(passwords, "yes") == 0,
				  postgres_cluster_superuser(), &actual,
				  &inner) == -1) {
		host->report_problem(run->report, "%s", inner.message);
		run->failures++;
		goto out;
	}
	postgres_grants_compare(host, run->report, "", run->roles,
				run->roles_length, actual.data, actual.length,
				&checks, &differences);
	run->failures += differences;
	run->checks += checks;
	snprintf(value, sizeof(value), "%s: %zu attributes and memberships",
		 differences == 0 ? "ok" : "MISMATCH", checks);
	host->report_item(run->report, "roles", value);
out:
	postgres_text_release(&actual);
	PQfinish(conn);
}

static int
postgres_drill_cluster(const struct postgres_config *cfg,
		       const struct cairn_host *host,
		       struct cairn_source *source, const char *scratch_dir,
		       struct cairn_report *report, struct cairn_error *err)
{
	struct postgres_drill_run run;
	struct postgres_cluster cluster;
	struct postgres_config ccfg;
	const struct cairn_entry *entry;
	struct timespec start, end;
	char value[700];
	int have_session = 0, have_ccfg = 0, rc = -1, r;
	size_t i;

	memset(&run, 0, sizeof(run));
	memset(&ccfg, 0, sizeof(ccfg));
	run.cfg = cfg;
	run.host = host;
	run.source = source;
	run.report = report;
	clock_gettime(CLOCK_MONOTONIC, &start);
	postgres_cluster_init(&cluster);
	if (postgres_rplan_load(&run.plan, host, source, err) == -1)
		return -1;
	run.plan.drill = 1;
	for (i = 0; i < run.plan.count; i++)
		run.plan.dbs[i].selected = 1;
	if (scratch_dir == NULL) {
		postgres_error(err, "the core gave no scratch directory");
		goto out;
	}
	if (postgres_cluster_start(&cluster, cfg, host, scratch_dir,
				   postgres_drill_archive_version(host, source),
				   err) == -1)
		goto out;
	snprintf(value, sizeof(value),
		 "throwaway, PostgreSQL %s from '%s', run as '%s'",
		 cluster.version_text, cluster.bin_dir, cluster.user);
	host->report_item(report, "cluster", value);
	if (postgres_cluster_endpoint(&cluster, &ccfg, err) == -1)
		goto out;
	have_ccfg = 1;
	ccfg.bin_dir = cfg->bin_dir;
	/* template1: the archive's "postgres" is dropped and recreated. */
	if (postgres_session_init(&run.session, &ccfg, host, "dbname=template1",
				  err) == -1)
		goto out;
	have_session = 1;
	if (postgres_session_choose_client(&run.session, &ccfg, cluster.version,
					   err) == -1 ||
	    postgres_check_client(&run.session, host, source, err) == -1)
		goto out;

	while ((r = host->entry_next(source, &entry, err)) == 1)
		if (postgres_drill_entry(&run, entry, err) == -1)
			goto out;
	if (r == -1)
		goto out;
	for (i = 0; i < run.plan.count; i++) {
		if (!run.plan.dbs[i].restored) {
			if (!run.plan.dbs[i].done)
				host->report_problem(report,
						     "database '%s' was not "
						     "restored",
						     run.plan.dbs[i].name);
			run.failures++;
			continue;
		}
		postgres_drill_check_db(&run, &run.plan.dbs[i]);
	}
	postgres_drill_check_roles(&run);
	clock_gettime(CLOCK_MONOTONIC, &end);
	snprintf(value, sizeof(value), "%zu, in %.1f s", run.checks,
		 (double)(end.tv_sec - start.tv_sec) +
			 (double)(end.tv_nsec - start.tv_nsec) / 1e9);
	host->report_item(report, "checks", value);
	if (run.failures > 0) {
		postgres_error(err, "drill of '%s' found %zu problems",
			       cfg->job, run.failures);
		goto out;
	}
	rc = 0;
out:
	/* The session's bin_dir is its own copy; ccfg's is cfg's. */
	if (have_session)
		postgres_session_release(&run.session);
	if (have_ccfg) {
		free(ccfg.job);
		postgres_params_free(&ccfg.params);
	}
	/* On every path, the cluster goes. */
	postgres_cluster_stop(&cluster, host);
	postgres_rplan_free(&run.plan);
	free(run.roles);
	return rc;
}

int
postgres_drill(void *state, const struct cairn_host *host,
	       struct cairn_source *source,
	       const struct cairn_drill_options *options,
	       struct cairn_report *report, struct cairn_error *err)
{
	const struct postgres_config *cfg = state;
	const char *target = options->drill_target != NULL
				     ? options->drill_target
				     : cfg->drill_target;

	if (target != NULL)
		return postgres_drill_target(cfg, host, source, target, report,
					     err);
	return postgres_drill_cluster(cfg, host, source, options->scratch_dir,
				      report, err);
}
