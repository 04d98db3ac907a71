/*
 * Backup of a PostgreSQL cluster, the way pg_dumpall sees it but one
 * entry per database:
 *
 *   globals.sql                  pg_dumpall --globals-only
 *   databases/<name>.dump        pg_dump -Fc -Z0 (or .sql: plain format)
 *   databases/<name>.rowcounts   per-table row counts for drill
 *   databases/<name>.database.sql  its database-level properties (props.c)
 *   databases/<name>.grants      its owners and grants, for drill
 *   globals.grants               roles and memberships, for drill
 *
 * <name> is the database name with '%', '/', ' ' and control characters
 * written %XX. Each dump is streamed from pg_dump's stdout straight into
 * the sink (no temporary file). With jobs > 1, worker threads each run one
 * pg_dump at a time into their own stream of unknown size; the first
 * failure stops the others. Workers never call host->log or progress
 * (only sink services are thread-safe): the main thread reports.
 *
 * Row counts are exact and consistent with the dump: each database's
 * connection exports a snapshot that pg_dump imports (--snapshot), and
 * counts rows in that same snapshot after pg_dump is done.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct postgres_db {
	char *name;
	char *encoded;
	char *entry;
	int64_t size;
	char *encoding;
	char *owner;
	char *collate;
	char *ctype;
	int64_t dumped; /* bytes */
	struct postgres_rowcounts counts;
	int snapshot; /* whether counts share the dump's snapshot */
	char *props;  /* database.sql, read in the dump's snapshot */
	size_t props_length;
	struct postgres_text grants;
};

struct postgres_backup_run {
	const struct postgres_config *cfg;
	const struct cairn_host *host;
	struct cairn_sink *sink;
	struct postgres_session *session;
	struct postgres_db *dbs;
	size_t count;
	int superuser;
	struct postgres_text roles; /* globals.grants */
	pthread_mutex_t lock;
	size_t next;
	volatile int abort;
	int failed;
	struct cairn_error first_error;
};

static void
postgres_db_free(struct postgres_db *db)
{
	free(db->name);
	free(db->encoded);
	free(db->entry);
	free(db->encoding);
	free(db->owner);
	free(db->collate);
	free(db->ctype);
	postgres_rowcounts_free(&db->counts);
	free(db->props);
	postgres_text_release(&db->grants);
}

int
postgres_count_rows(PGconn *conn, const char *what,
		    struct postgres_rowcounts *rc, struct cairn_error *err)
{
	/* Ordinary tables the dump carries: not catalogs, not extensions'. */
	static const char list_sql[] =
		"SELECT n.nspname, c.relname FROM pg_class c "
		"JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind = 'r' AND c.relpersistence <> 't' "
		"AND n.nspname <> 'information_schema' "
		"AND n.nspname !~ '^pg_' "
		"AND NOT EXISTS (SELECT 1 FROM pg_depend d "
		"WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
		"AND d.deptype = 'e') ORDER BY 1, 2";
	PGresult *list = NULL, *res = NULL;
	char *schema = NULL, *table = NULL, *sql = NULL, *end;
	size_t length;
	int i, n, rc_ = -1;

	memset(rc, 0, sizeof(*rc));
	if (postgres_query(conn, what, list_sql, 0, NULL, &list, err) == -1)
		goto out;
	for (i = 0; i < PQntuples(list); i++) {
		schema = PQescapeIdentifier(conn, PQgetvalue(list, i, 0),
					    strlen(PQgetvalue(list, i, 0)));
		table = PQescapeIdentifier(conn, PQgetvalue(list, i, 1),
					   strlen(PQgetvalue(list, i, 1)));
		if (schema == NULL || table == NULL)
			goto oom;
		length = strlen(schema) + strlen(table) + 40;
		sql = malloc(length);
		if (sql == NULL)
			goto oom;
		n = snprintf(sql, length, "SELECT count(*) FROM ONLY %s.%s",
			     schema, table);
		if (n < 0 || (size_t)n >= length)
			goto oom;
		if (postgres_query(conn, what, sql, 0, NULL, &res, err) == -1)
			goto out;
		if (postgres_rowcounts_add(rc, PQgetvalue(list, i, 0),
					   PQgetvalue(list, i, 1),
					   strtoll(PQgetvalue(res, 0, 0), &end,
						   10)) == -1)
			goto oom;
		PQclear(res);
		res = NULL;
		PQfreemem(schema);
		PQfreemem(table);
		free(sql);
		schema = table = sql = NULL;
	}
	if (postgres_query(conn, what,
			   "SELECT count(*) FROM pg_largeobject_metadata", 0,
			   NULL, &res, err) == -1)
		goto out;
	rc->large_objects = strtoll(PQgetvalue(res, 0, 0), &end, 10);
	rc_ = 0;
	goto out;
oom:
	postgres_error(err, "%s: out of memory", what);
out:
	PQclear(list);
	PQclear(res);
	PQfreemem(schema);
	PQfreemem(table);
	free(sql);
	if (rc_ == -1)
		postgres_rowcounts_free(rc);
	return rc_;
}

/* Streams a child's stdout into a new entry of unknown size. */
static int
postgres_stream_child(struct postgres_backup_run *run,
		      struct postgres_child *child, const char *entry_name,
		      int64_t size_hint, int progress, int64_t *bytes,
		      char *buf, const char *magic, struct cairn_error *err)
{
	const struct cairn_host *host = run->host;
	struct cairn_stream *stream = NULL;
	struct cairn_entry entry;
	struct cairn_error child_err;
	size_t n;
	int first = 1;

	memset(&entry, 0, sizeof(entry));
	entry.name = entry_name;
	entry.type = CAIRN_ENTRY_FILE;
	entry.mode = 0600;
	entry.size = CAIRN_SIZE_UNKNOWN;
	clock_gettime(CLOCK_REALTIME, &entry.mtime);
	*bytes = 0;
	if (host->stream_open(run->sink, &entry, &stream, err) == -1)
		goto fail;
	for (;;) {
		if (postgres_child_read(child, buf, POSTGRES_READ_SIZE, &n,
					err) == -1)
			goto fail;
		if (n == 0)
			break;
		if (first && magic != NULL &&
		    (n < strlen(magic) ||
		     memcmp(buf, magic, strlen(magic)) != 0)) {
			postgres_error(err,
				       "'%s' wrote something that is not an "
				       "archive",
				       child->name);
			goto fail;
		}
		first = 0;
		if (host->stream_write(stream, buf, n, err) == -1)
			goto fail;
		*bytes += (int64_t)n;
		if (progress && host->progress != NULL)
			host->progress(host, entry_name, *bytes, size_hint);
	}
	memset(&child_err, 0, sizeof(child_err));
	if (postgres_child_wait(child, &child_err) == -1) {
		*err = child_err;
		return -1;
	}
	if (*bytes == 0) {
		postgres_error(err, "'%s' wrote nothing", child->name);
		return -1;
	}
	/* On failure the core discards the archive and open streams. */
	return host->stream_close(stream, err);
fail:
	postgres_child_kill(child);
	return -1;
}

/* Dumps one database; callable from any thread when !inline_. */
static int
postgres_dump_one(struct postgres_backup_run *run, struct postgres_db *db,
		  int inline_, char *buf, struct cairn_error *err)
{
	const struct postgres_session *s = run->session;
	const char *argv[12];
	char snapshot_arg[128], what[512];
	char *dbarg = NULL;
	struct postgres_child child;
	struct cairn_error inner;
	PGresult *res = NULL;
	PGconn *conn = NULL;
	size_t argc = 0;
	int rc = -1;

	postgres_child_init(&child);
	memset(&inner, 0, sizeof(inner));
	snapshot_arg[0] = '\0';
	snprintf(what, sizeof(what), "database '%s' on '%s'", db->name,
		 s->ep.label);
	if (postgres_connect(&s->ep, db->name, &conn, &inner) == -1) {
		if (strstr(inner.message, "does not exist") != NULL)
			postgres_error(err,
				       "database '%s' on '%s' vanished during "
				       "the backup: %s",
				       db->name, s->ep.label, inner.message);
		else
			*err = inner;
		goto out;
	}
	if (postgres_exec(conn, what,
			  "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			  err) == -1)
		goto out;
	if (postgres_query(conn, what, "SELECT pg_export_snapshot()", 0, NULL,
			   &res, &inner) == 0) {
		snprintf(snapshot_arg, sizeof(snapshot_arg), "--snapshot=%s",
			 PQgetvalue(res, 0, 0));
		db->snapshot = 1;
	} else {
		/* A standby cannot export snapshots: count separately. */
		if (postgres_exec(conn, what, "ROLLBACK", err) == -1 ||
		    postgres_exec(conn, what,
				  "BEGIN ISOLATION LEVEL REPEATABLE READ "
				  "READ ONLY",
				  err) == -1)
			goto out;
	}
	PQclear(res);
	res = NULL;

	dbarg = postgres_dbname_arg(db->name);
	if (dbarg == NULL) {
		postgres_error(err, "out of memory");
		goto out;
	}
	argv[argc++] = "pg_dump";
	argv[argc++] = "--no-password";
	if (run->cfg->format == POSTGRES_FORMAT_CUSTOM) {
		argv[argc++] = "--format=custom";
		/* cairn compresses the archive itself. */
		argv[argc++] = "--compress=0";
	} else {
		argv[argc++] = "--format=plain";
	}
	if (snapshot_arg[0] != '\0')
		argv[argc++] = snapshot_arg;
	argv[argc++] = "--dbname";
	argv[argc++] = dbarg;
	argv[argc] = NULL;
	if (!inline_)
		child.abort_flag = &run->abort;
	if (postgres_child_spawn(&child, s->bin_dir, "pg_dump", argv, s->envp,
				 POSTGRES_CHILD_STDOUT, &inner) == -1) {
		postgres_error(err, "cannot dump %s: %s", what, inner.message);
		goto out;
	}
	if (postgres_stream_child(run, &child, db->entry, db->size, inline_,
				  &db->dumped, buf,
				  run->cfg->format == POSTGRES_FORMAT_CUSTOM
					  ? "PGDMP"
					  : NULL,
				  &inner) == -1) {
		postgres_error(err, "cannot dump %s: %s", what, inner.message);
		goto out;
	}
	if (postgres_count_rows(conn, what, &db->counts, err) == -1 ||
	    postgres_props_sql(conn, db->name, &db->props, &db->props_length,
			       err) == -1 ||
	    postgres_grants_database(conn, db->name, &db->grants, err) == -1)
		goto out;
	if (postgres_exec(conn, what, "COMMIT", err) == -1)
		goto out;
	rc = 0;
out:
	postgres_child_kill(&child);
	PQclear(res);
	PQfinish(conn);
	free(dbarg);
	return rc;
}

static void *
postgres_worker(void *arg)
{
	struct postgres_backup_run *run = arg;
	struct cairn_error err;
	char *buf;
	size_t i;

	buf = malloc(POSTGRES_READ_SIZE);
	for (;;) {
		pthread_mutex_lock(&run->lock);
		if (run->abort || run->next >= run->count || buf == NULL) {
			if (buf == NULL && !run->failed) {
				run->failed = 1;
				run->abort = 1;
				postgres_error(&run->first_error,
					       "out of memory");
			}
			pthread_mutex_unlock(&run->lock);
			break;
		}
		i = run->next++;
		pthread_mutex_unlock(&run->lock);
		memset(&err, 0, sizeof(err));
		if (postgres_dump_one(run, &run->dbs[i], 0, buf, &err) == -1) {
			pthread_mutex_lock(&run->lock);
			if (!run->failed && !run->abort) {
				run->first_error = err;
				run->failed = 1;
			}
			run->abort = 1;
			pthread_mutex_unlock(&run->lock);
			break;
		}
	}
	free(buf);
	return NULL;
}

static int
postgres_dump_all(struct postgres_backup_run *run, struct cairn_error *err)
{
	pthread_t threads[POSTGRES_MAX_JOBS];
	size_t started = 0, i, workers;
	char *buf;
	int rc;

	workers = (size_t)run->cfg->jobs;
	if (workers > run->count)
		workers = run->count;
	if (workers <= 1) {
		buf = malloc(POSTGRES_READ_SIZE);
		if (buf == NULL) {
			postgres_error(err, "out of memory");
			return -1;
		}
		for (i = 0; i < run->count; i++) {
			run->host->log(run->host, CAIRN_LOG_INFO,
				       "dumping database '%s'",
				       run->dbs[i].name);
			if (postgres_dump_one(run, &run->dbs[i], 1, buf, err) ==
			    -1) {
				free(buf);
				return -1;
			}
		}
		free(buf);
		return 0;
	}
	run->host->log(run->host, CAIRN_LOG_INFO,
		       "dumping %zu databases, %zu at a time", run->count,
		       workers);
	for (i = 0; i < workers; i++) {
		rc = pthread_create(&threads[i], NULL, postgres_worker, run);
		if (rc != 0) {
			pthread_mutex_lock(&run->lock);
			if (!run->failed)
				postgres_error(&run->first_error,
					       "cannot start a thread: %s",
					       strerror(rc));
			run->failed = 1;
			run->abort = 1;
			pthread_mutex_unlock(&run->lock);
			break;
		}
		pthread_setname_np(threads[i], "cairn-pg-dump");
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (run->failed) {
		*err = run->first_error;
		return -1;
	}
	return 0;
}

static int
postgres_dump_globals(struct postgres_backup_run *run, struct cairn_error *err)
{
	const struct postgres_session *s = run->session;
	struct postgres_child child;
	struct cairn_error inner;
	const char *argv[8];
	int64_t bytes = 0;
	size_t argc = 0;
	char *buf;
	int rc = -1;

	postgres_child_init(&child);
	memset(&inner, 0, sizeof(inner));
	buf = malloc(POSTGRES_READ_SIZE);
	if (buf == NULL) {
		postgres_error(err, "out of memory");
		return -1;
	}
	argv[argc++] = "pg_dumpall";
	argv[argc++] = "--globals-only";
	argv[argc++] = "--no-password";
	/* pg_authid, where the password hashes are, is superuser only. */
	if (!run->superuser)
		argv[argc++] = "--no-role-passwords";
	argv[argc++] = "-l";
	argv[argc++] = postgres_endpoint_admin_db(&s->ep, NULL);
	argv[argc] = NULL;
	if (postgres_child_spawn(&child, s->bin_dir, "pg_dumpall", argv,
				 s->envp, POSTGRES_CHILD_STDOUT,
				 &inner) == -1 ||
	    postgres_stream_child(run, &child, "globals.sql", -1, 1, &bytes,
				  buf, NULL, &inner) == -1) {
		postgres_error(err,
			       "cannot dump the roles and tablespaces of "
			       "'%s': %s",
			       s->ep.label, inner.message);
		goto out;
	}
	rc = 0;
out:
	postgres_child_kill(&child);
	free(buf);
	return rc;
}

/* The databases to back up, with what the manifest records of each. */
static int
postgres_select(struct postgres_backup_run *run, PGconn *conn,
		struct cairn_error *err)
{
	static const char sql[] =
		"SELECT datname, CASE WHEN has_database_privilege(oid, "
		"'CONNECT') THEN pg_database_size(oid) END, "
		"pg_encoding_to_char(encoding), pg_get_userbyid(datdba), "
		"datcollate, datctype, datistemplate "
		"FROM pg_database WHERE datallowconn ORDER BY datname";
	const struct postgres_config *cfg = run->cfg;
	const char *label = run->session->ep.label;
	PGresult *res = NULL;
	struct postgres_db *db;
	char what[600];
	size_t j, length;
	int i, found, wanted, rc = -1;

	snprintf(what, sizeof(what), "cannot list the databases of '%s'",
		 label);
	if (postgres_query(conn, what, sql, 0, NULL, &res, err) == -1)
		return -1;
	for (j = 0; j < cfg->databases.count; j++) {
		found = 0;
		for (i = 0; i < PQntuples(res) && !found; i++)
			found = strcmp(PQgetvalue(res, i, 0),
				       cfg->databases.items[j]) == 0;
		if (!found) {
			postgres_error(err,
				       "database '%s' (in 'databases') does "
				       "not exist on '%s' or does not allow "
				       "connections",
				       cfg->databases.items[j], label);
			goto out;
		}
	}
	run->dbs = calloc((size_t)PQntuples(res) + 1, sizeof(*run->dbs));
	if (run->dbs == NULL)
		goto oom;
	for (i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);

		if (cfg->databases.count > 0)
			wanted = postgres_list_contains(&cfg->databases, name);
		else
			wanted = strcmp(PQgetvalue(res, i, 6), "t") != 0;
		for (j = 0; wanted && j < cfg->excludes.count; j++)
			if (fnmatch(cfg->excludes.items[j], name, 0) == 0)
				wanted = 0;
		if (!wanted)
			continue;
		db = &run->dbs[run->count++];
		db->name = strdup(name);
		db->encoded = postgres_name_encode(name);
		db->size = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		db->encoding = strdup(PQgetvalue(res, i, 2));
		db->owner = strdup(PQgetvalue(res, i, 3));
		db->collate = strdup(PQgetvalue(res, i, 4));
		db->ctype = strdup(PQgetvalue(res, i, 5));
		if (db->name == NULL || db->encoded == NULL ||
		    db->encoding == NULL || db->owner == NULL ||
		    db->collate == NULL || db->ctype == NULL)
			goto oom;
		length = strlen(db->encoded) + 32;
		db->entry = malloc(length);
		if (db->entry == NULL)
			goto oom;
		snprintf(db->entry, length, "databases/%s.%s", db->encoded,
			 cfg->format == POSTGRES_FORMAT_CUSTOM ? "dump"
							       : "sql");
	}
	if (run->count == 0) {
		postgres_error(err,
			       "no database to back up on '%s' (check "
			       "'databases' and 'exclude-databases')",
			       label);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	postgres_error(err, "out of memory");
out:
	PQclear(res);
	return rc;
}

static void
postgres_fact(const struct postgres_backup_run *run, const char *db,
	      const char *key, const char *value)
{
	char name[512];
	int n;

	if (db != NULL)
		n = snprintf(name, sizeof(name), "database.%s.%s", db, key);
	else
		n = snprintf(name, sizeof(name), "%s", key);
	if (n > 0 && (size_t)n < sizeof(name))
		run->host->fact_set(run->sink, name, value);
}

/* A small entry written at once from memory. */
static int
postgres_write_entry(struct postgres_backup_run *run, const char *name,
		     const char *text, size_t length, struct cairn_error *err)
{
	struct cairn_stream *stream = NULL;
	struct cairn_entry entry;

	memset(&entry, 0, sizeof(entry));
	entry.name = name;
	entry.type = CAIRN_ENTRY_FILE;
	entry.mode = 0600;
	entry.size = (int64_t)length;
	clock_gettime(CLOCK_REALTIME, &entry.mtime);
	if (run->host->stream_open(run->sink, &entry, &stream, err) == -1 ||
	    run->host->stream_write(stream, text, length, err) == -1 ||
	    run->host->stream_close(stream, err) == -1)
		return -1;
	return 0;
}

/* database.sql and grants of a dumped database. */
static int
postgres_write_records(struct postgres_backup_run *run,
		       const struct postgres_db *db, struct cairn_error *err)
{
	char name[512];
	int n;

	n = snprintf(name, sizeof(name), "databases/%s.database.sql",
		     db->encoded);
	if (n < 0 || (size_t)n >= sizeof(name) ||
	    postgres_write_entry(run, name, db->props, db->props_length, err) ==
		    -1)
		return -1;
	n = snprintf(name, sizeof(name), "databases/%s.grants", db->encoded);
	if (n < 0 || (size_t)n >= sizeof(name) ||
	    postgres_write_entry(run, name, db->grants.data, db->grants.length,
				 err) == -1)
		return -1;
	return 0;
}

static int
postgres_write_rowcounts(struct postgres_backup_run *run,
			 struct postgres_db *db, struct cairn_error *err)
{
	struct cairn_stream *stream = NULL;
	struct cairn_entry entry;
	char name[512], number[32];
	size_t length = 0, i;
	int64_t rows = 0;
	char *text;
	int rc = -1;

	text = postgres_rowcounts_format(&db->counts, &length);
	if (text == NULL) {
		postgres_error(err, "out of memory");
		return -1;
	}
	snprintf(name, sizeof(name), "databases/%s.rowcounts", db->encoded);
	memset(&entry, 0, sizeof(entry));
	entry.name = name;
	entry.type = CAIRN_ENTRY_FILE;
	entry.mode = 0600;
	entry.size = (int64_t)length;
	clock_gettime(CLOCK_REALTIME, &entry.mtime);
	if (run->host->stream_open(run->sink, &entry, &stream, err) == -1 ||
	    run->host->stream_write(stream, text, length, err) == -1 ||
	    run->host->stream_close(stream, err) == -1)
		goto out;
	for (i = 0; i < db->counts.count; i++)
		rows += db->counts.items[i].rows;
	snprintf(number, sizeof(number), "%zu", db->counts.count);
	postgres_fact(run, db->encoded, "tables", number);
	snprintf(number, sizeof(number), "%" PRId64, rows);
	postgres_fact(run, db->encoded, "rows", number);
	snprintf(number, sizeof(number), "%" PRId64, db->counts.large_objects);
	postgres_fact(run, db->encoded, "large-objects", number);
	rc = 0;
out:
	free(text);
	return rc;
}

static int
postgres_server_facts(struct postgres_backup_run *run, PGconn *conn,
		      struct cairn_error *err)
{
	static const char sql[] =
		"SELECT r.rolsuper, CASE WHEN EXISTS (SELECT 1 FROM pg_roles "
		"WHERE rolname = 'pg_read_all_data') THEN "
		"pg_has_role('pg_read_all_data', 'USAGE') ELSE false END, "
		"pg_is_in_recovery() FROM pg_roles r "
		"WHERE r.rolname = current_user";
	const char *label = run->session->ep.label;
	const char *version;
	char what[600], number[32];
	PGresult *res = NULL;

	snprintf(what, sizeof(what), "cannot read the privileges on '%s'",
		 label);
	if (postgres_query(conn, what, sql, 0, NULL, &res, err) == -1)
		return -1;
	run->superuser = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	if (!run->superuser) {
		run->host->log(run->host, CAIRN_LOG_WARNING,
			       "user '%s' is not a superuser on '%s': role "
			       "passwords are not backed up",
			       PQuser(conn), label);
		if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
			run->host->log(run->host, CAIRN_LOG_WARNING,
				       "user '%s' is neither a superuser nor "
				       "a member of pg_read_all_data on '%s': "
				       "any table it cannot read fails the "
				       "backup",
				       PQuser(conn), label);
	}
	postgres_fact(run, NULL, "server", label);
	version = PQparameterStatus(conn, "server_version");
	postgres_fact(run, NULL, "server.version", version ? version : "");
	snprintf(number, sizeof(number), "%d", PQserverVersion(conn));
	postgres_fact(run, NULL, "server.version-num", number);
	postgres_fact(run, NULL, "server.recovery",
		      strcmp(PQgetvalue(res, 0, 2), "t") == 0 ? "standby"
							      : "primary");
	postgres_fact(run, NULL, "globals.role-passwords",
		      run->superuser ? "yes" : "no");
	PQclear(res);
	return 0;
}

int
postgres_backup(void *state, const struct cairn_host *host,
		struct cairn_sink *sink, struct cairn_error *err)
{
	const struct postgres_config *cfg = state;
	struct postgres_backup_run run;
	struct postgres_session session;
	char *list = NULL, number[32], size[32];
	PGconn *conn = NULL;
	int64_t total = 0;
	size_t i, length = 1, used = 0;
	int rc = -1, have_session = 0;

	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.host = host;
	run.sink = sink;
	run.session = &session;
	pthread_mutex_init(&run.lock, NULL);
	if (postgres_session_init(&session, cfg, host, NULL, err) == -1)
		goto out;
	have_session = 1;
	if (postgres_connect(&session.ep, NULL, &conn, err) == -1)
		goto out;
	if (postgres_server_facts(&run, conn, err) == -1 ||
	    postgres_select(&run, conn, err) == -1 ||
	    postgres_session_choose_client(&session, cfg, PQserverVersion(conn),
					   err) == -1 ||
	    postgres_grants_roles(conn, run.superuser, NULL, &run.roles, err) ==
		    -1)
		goto out;
	PQfinish(conn);
	conn = NULL;
	postgres_fact(&run, NULL, "client.version",
		      session.client_version_text);
	postgres_fact(&run, NULL, "client.bin-dir", session.bin_dir);
	postgres_fact(&run, NULL, "format",
		      cfg->format == POSTGRES_FORMAT_CUSTOM ? "custom"
							    : "plain");
	host->log(host, CAIRN_LOG_INFO,
		  "backing up %zu databases of '%s' with pg_dump %s from '%s'",
		  run.count, session.ep.label, session.client_version_text,
		  session.bin_dir);

	if (postgres_dump_globals(&run, err) == -1 ||
	    postgres_write_entry(&run, "globals.grants", run.roles.data,
				 run.roles.length, err) == -1 ||
	    postgres_dump_all(&run, err) == -1)
		goto out;

	for (i = 0; i < run.count; i++)
		length += strlen(run.dbs[i].encoded) + 1;
	list = calloc(1, length);
	if (list == NULL) {
		postgres_error(err, "out of memory");
		goto out;
	}
	for (i = 0; i < run.count; i++) {
		struct postgres_db *db = &run.dbs[i];

		if (postgres_write_rowcounts(&run, db, err) == -1 ||
		    postgres_write_records(&run, db, err) == -1)
			goto out;
		if (i > 0)
			list[used++] = ' ';
		memcpy(list + used, db->encoded, strlen(db->encoded) + 1);
		used += strlen(db->encoded);
		postgres_fact(&run, db->encoded, "name", db->name);
		postgres_fact(&run, db->encoded, "entry", db->entry);
		snprintf(number, sizeof(number), "%" PRId64, db->size);
		postgres_fact(&run, db->encoded, "size", number);
		postgres_fact(&run, db->encoded, "encoding", db->encoding);
		postgres_fact(&run, db->encoded, "owner", db->owner);
		postgres_fact(&run, db->encoded, "collate", db->collate);
		postgres_fact(&run, db->encoded, "ctype", db->ctype);
		total += db->size;
		postgres_size_text(db->dumped, size, sizeof(size));
		host->log(host, CAIRN_LOG_INFO,
			  "database '%s': %s dumped, %zu tables%s", db->name,
			  size, db->counts.count,
			  db->snapshot ? ""
				       : " (row counts outside the "
					 "dump's snapshot)");
	}
	postgres_fact(&run, NULL, "databases", list);
	snprintf(number, sizeof(number), "%" PRId64, total);
	postgres_fact(&run, NULL, "databases.size", number);
	rc = 0;
out:
	PQfinish(conn);
	for (i = 0; i < run.count; i++)
		postgres_db_free(&run.dbs[i]);
	free(run.dbs);
	free(list);
	postgres_text_release(&run.roles);
	if (have_session)
		postgres_session_release(&session);
	pthread_mutex_destroy(&run.lock);
	return rc;
}
