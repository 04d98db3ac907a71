/*
 * Restore and drill for the postgres plugin.
 *
 * Restore: everything that could refuse the restore is checked before
 * anything changes (unknown --only names, existing non-empty databases
 * without --force, a pg_restore too old for the archive). Then, in archive
 * order, globals.sql goes through psql with ON_ERROR_STOP=0 and
 * VERBOSITY=verbose: pg_dumpall's globals are CREATE ROLE / CREATE
 * TABLESPACE statements, each followed by ALTER and GRANT statements that
 * set every attribute. An existing role makes its CREATE fail with
 * SQLSTATE 42710 (duplicate_object), which is expected and counted, and
 * the ALTERs that follow update it: existing roles are kept and updated
 * without parsing or rewriting SQL. Any other error fails the restore.
 * The password of the role cairn connects as is put back afterwards, so
 * restoring globals never locks the restore (or the operator) out.
 *
 * Each selected database is then restored from its entry fed to the
 * child's stdin: custom format with pg_restore --create when cairn drops
 * or does not find the database (so its encoding, locale, owner, settings
 * and grants come back exactly), into an existing empty database without
 * --create; plain format with psql into a database created from the
 * encoding, locale and owner the manifest recorded.
 *
 * After the dump, a database pg_restore --create did not create gets its
 * database-level properties from its database.sql entry (props.c).
 *
 * The functions shared with drill.c are declared in postgres.h.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
postgres_rplan_free(struct postgres_rplan *plan)
{
	size_t i;

	for (i = 0; i < plan->count; i++) {
		free(plan->dbs[i].name);
		free(plan->dbs[i].encoded);
		postgres_rowcounts_free(&plan->dbs[i].counts);
		postgres_rowcounts_free(&plan->dbs[i].expected);
		free(plan->dbs[i].grants);
	}
	free(plan->dbs);
	memset(plan, 0, sizeof(*plan));
}

static const char *
postgres_fact(const struct cairn_host *host, struct cairn_source *source,
	      const char *db, const char *key)
{
	char name[512];
	int n;

	n = snprintf(name, sizeof(name), "database.%s.%s", db, key);
	if (n < 0 || (size_t)n >= sizeof(name))
		return NULL;
	return host->fact_get(source, name);
}

/* The archive's databases, from its facts. */
int
postgres_rplan_load(struct postgres_rplan *plan, const struct cairn_host *host,
		    struct cairn_source *source, struct cairn_error *err)
{
	struct postgres_list names = {NULL, 0};
	const char *list, *format;
	size_t i;
	int rc = -1;

	memset(plan, 0, sizeof(*plan));
	list = host->fact_get(source, "databases");
	format = host->fact_get(source, "format");
	if (list == NULL || format == NULL) {
		postgres_error(err, "the archive does not say which databases "
				    "it holds: is it a postgres archive?");
		return -1;
	}
	plan->format = strcmp(format, "plain") == 0 ? POSTGRES_FORMAT_PLAIN
						    : POSTGRES_FORMAT_CUSTOM;
	if (postgres_list_parse(list, &names, err) == -1)
		return -1;
	plan->dbs = calloc(names.count + 1, sizeof(*plan->dbs));
	if (plan->dbs == NULL)
		goto oom;
	for (i = 0; i < names.count; i++) {
		struct postgres_rdb *db = &plan->dbs[plan->count];

		db->encoded = strdup(names.items[i]);
		db->name = postgres_name_decode(names.items[i]);
		plan->count++;
		if (db->encoded == NULL || db->name == NULL) {
			postgres_error(err,
				       "malformed database name '%s' in the "
				       "archive",
				       names.items[i]);
			goto out;
		}
	}
	rc = 0;
	goto out;
oom:
	postgres_error(err, "out of memory");
out:
	postgres_list_free(&names);
	if (rc == -1)
		postgres_rplan_free(plan);
	return rc;
}

struct postgres_rdb *
postgres_rplan_find(struct postgres_rplan *plan, const char *name)
{
	size_t i;

	for (i = 0; i < plan->count; i++)
		if (strcmp(plan->dbs[i].name, name) == 0 ||
		    strcmp(plan->dbs[i].encoded, name) == 0)
			return &plan->dbs[i];
	return NULL;
}

/* Marks the --only databases, or all; names an unknown one. */
static int
postgres_rplan_select(struct postgres_rplan *plan,
		      const struct cairn_restore_options *options,
		      struct cairn_error *err)
{
	struct postgres_rdb *db;
	char names[600];
	size_t i, j, used = 0;

	for (i = 0; i < plan->count; i++)
		plan->dbs[i].selected = options->only_count == 0;
	for (i = 0; i < options->only_count; i++) {
		db = postgres_rplan_find(plan, options->only[i]);
		if (db != NULL) {
			db->selected = 1;
			continue;
		}
		names[0] = '\0';
		for (j = 0; j < plan->count && used < sizeof(names); j++) {
			int n = snprintf(names + used, sizeof(names) - used,
					 "%s'%s'", j ? ", " : "",
					 plan->dbs[j].name);

			if (n > 0)
				used += (size_t)n;
		}
		postgres_error(err,
			       "database '%s' is not in the archive, which "
			       "holds %s",
			       options->only[i], names);
		return -1;
	}
	return 0;
}

void
postgres_psql_line(void *arg, const char *line)
{
	struct postgres_psql_filter *f = arg;
	char sqlstate[6];
	const char *message;

	if (!postgres_psql_sqlstate(line, sqlstate, &message) ||
	    !postgres_sqlstate_is_error(sqlstate))
		return;
	if (f->tolerated != NULL && strcmp(sqlstate, f->tolerated) == 0) {
		f->tolerated_count++;
		return;
	}
	if (f->error_count++ == 0)
		snprintf(f->first_error, sizeof(f->first_error), "%s", message);
}

/* Feeds the current entry to a running child's stdin. */
static int
postgres_entry_to_child(const struct cairn_host *host,
			struct cairn_source *source,
			const struct cairn_entry *entry,
			struct postgres_child *child, struct cairn_error *err)
{
	const void *data;
	size_t length;
	int64_t offset, done = 0;
	int r;

	for (;;) {
		r = host->entry_read(source, &data, &length, &offset, err);
		if (r == -1)
			return -1;
		if (r == 0)
			return 0;
		if (postgres_child_write(child, data, length, err) == -1)
			return -1;
		done += (int64_t)length;
		if (host->progress != NULL)
			host->progress(host, entry->name, done, entry->size);
	}
}

/* Reads the current entry into memory (small entries only). */
int
postgres_entry_slurp(const struct cairn_host *host, struct cairn_source *source,
		     size_t max, char **text, size_t *total,
		     struct cairn_error *err)
{
	const void *data;
	size_t length;
	int64_t offset;
	char *grown;
	int r;

	*text = NULL;
	*total = 0;
	for (;;) {
		r = host->entry_read(source, &data, &length, &offset, err);
		if (r == -1)
			goto fail;
		if (r == 0)
			return 0;
		if (*total + length > max) {
			postgres_error(err, "entry larger than %zu bytes", max);
			goto fail;
		}
		grown = realloc(*text, *total + length + 1);
		if (grown == NULL) {
			postgres_error(err, "out of memory");
			goto fail;
		}
		*text = grown;
		memcpy(*text + *total, data, length);
		*total += length;
		(*text)[*total] = '\0';
	}
fail:
	free(*text);
	*text = NULL;
	return -1;
}

/* Runs a child fed with the current entry; its errors name `what`. */
int
postgres_run_fed(const struct postgres_session *s,
		 const struct cairn_host *host, struct cairn_source *source,
		 const struct cairn_entry *entry, const char *prog,
		 const char *const *argv, struct postgres_psql_filter *filter,
		 const char *what, struct cairn_error *err)
{
	struct postgres_child child;
	struct cairn_error feed, wait;

	memset(&feed, 0, sizeof(feed));
	memset(&wait, 0, sizeof(wait));
	postgres_child_init(&child);
	if (filter != NULL) {
		child.on_line = postgres_psql_line;
		child.line_arg = filter;
	}
	if (postgres_child_spawn(&child, s->bin_dir, prog, argv, s->envp,
				 POSTGRES_CHILD_STDIN, &feed) == -1) {
		postgres_error(err, "cannot restore %s: %s", what,
			       feed.message);
		return -1;
	}
	if (postgres_entry_to_child(host, source, entry, &child, &feed) == -1) {
		/* The child's status says more than a broken pipe. */
		if (postgres_child_wait(&child, &wait) == -1 &&
		    strstr(feed.message, "stopped reading") != NULL)
			postgres_error(err, "cannot restore %s: %s", what,
				       wait.message);
		else
			postgres_error(err, "cannot restore %s: %s", what,
				       feed.message);
		postgres_child_kill(&child);
		return -1;
	}
	if (postgres_child_wait(&child, &wait) == -1) {
		postgres_error(err, "cannot restore %s: %s", what,
			       wait.message);
		return -1;
	}
	return 0;
}

/* Quoted identifier and literal, PQfreemem'ed by the caller. */
static char *
postgres_ident(PGconn *conn, const char *name)
{
	return PQescapeIdentifier(conn, name, strlen(name));
}

static int
postgres_execf(PGconn *conn, const char *what, struct cairn_error *err,
	       const char *format, const char *a, const char *b)
{
	char sql[2048];
	int n;

	n = snprintf(sql, sizeof(sql), format, a, b);
	if (n < 0 || (size_t)n >= sizeof(sql)) {
		postgres_error(err, "%s: statement too long", what);
		return -1;
	}
	return postgres_exec(conn, what, sql, err);
}

/* Whether a database exists and whether it holds anything of a user's. */
int
postgres_db_probe(const struct postgres_endpoint *ep, struct postgres_rdb *db,
		  struct cairn_error *err)
{
	static const char exists_sql[] =
		"SELECT datallowconn FROM pg_database WHERE datname = $1";
	static const char empty_sql[] =
		"SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n "
		"ON n.oid = c.relnamespace WHERE n.nspname <> "
		"'information_schema' AND n.nspname !~ '^pg_') + "
		"(SELECT count(*) FROM pg_proc p JOIN pg_namespace n "
		"ON n.oid = p.pronamespace WHERE n.nspname <> "
		"'information_schema' AND n.nspname !~ '^pg_') + "
		"(SELECT count(*) FROM pg_namespace WHERE nspname <> "
		"'information_schema' AND nspname !~ '^pg_' AND nspname <> "
		"'public') + (SELECT count(*) FROM pg_largeobject_metadata) + "
		"(SELECT count(*) FROM pg_extension WHERE extname <> "
		"'plpgsql')";
	const char *params[1] = {db->name};
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char what[600];
	int rc = -1;

	snprintf(what, sizeof(what), "cannot look for database '%s' on '%s'",
		 db->name, ep->label);
	if (postgres_connect(ep, postgres_endpoint_admin_db(ep, db->name),
			     &conn, err) == -1 ||
	    postgres_query(conn, what, exists_sql, 1, params, &res, err) == -1)
		goto out;
	db->exists = PQntuples(res) > 0;
	db->empty = 1;
	if (!db->exists) {
		rc = 0;
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		db->empty = 0;
		rc = 0;
		goto out;
	}
	PQclear(res);
	res = NULL;
	PQfinish(conn);
	conn = NULL;
	if (postgres_connect(ep, db->name, &conn, err) == -1 ||
	    postgres_query(conn, what, empty_sql, 0, NULL, &res, err) == -1)
		goto out;
	db->empty = strcmp(PQgetvalue(res, 0, 0), "0") == 0;
	rc = 0;
out:
	PQclear(res);
	PQfinish(conn);
	return rc;
}

int
postgres_db_drop(const struct postgres_endpoint *ep, const char *name,
		 struct cairn_error *err)
{
	const char *params[1] = {name};
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char what[600], *ident = NULL;
	int rc = -1;

	snprintf(what, sizeof(what), "cannot drop database '%s' on '%s'", name,
		 ep->label);
	if (postgres_connect(ep, postgres_endpoint_admin_db(ep, name), &conn,
			     err) == -1)
		goto out;
	ident = postgres_ident(conn, name);
	if (ident == NULL) {
		postgres_error(err, "%s: out of memory", what);
		goto out;
	}
	/* Stop new connections, then end the ones there are. */
	if (postgres_execf(conn, what, err,
			   "ALTER DATABASE %s ALLOW_CONNECTIONS false", ident,
			   NULL) == -1 ||
	    postgres_query(conn, what,
			   "SELECT pg_terminate_backend(pid) FROM "
			   "pg_stat_activity WHERE datname = $1 AND pid <> "
			   "pg_backend_pid()",
			   1, params, &res, err) == -1)
		goto out;
	if (postgres_execf(conn, what, err,
			   PQserverVersion(conn) >= 130000
				   ? "DROP DATABASE %s WITH (FORCE)"
				   : "DROP DATABASE %s",
			   ident, NULL) == -1)
		goto out;
	rc = 0;
out:
	PQclear(res);
	PQfreemem(ident);
	PQfinish(conn);
	return rc;
}

/* CREATE DATABASE with the recorded encoding, locale and owner. */
int
postgres_db_create(const struct postgres_endpoint *ep,
		   const struct cairn_host *host, struct cairn_source *source,
		   const char *encoded, const char *name, int with_owner,
		   struct cairn_error *err)
{
	const char *encoding, *collate, *ctype, *owner;
	char *ident = NULL, *enc = NULL, *col = NULL, *ct = NULL, *own = NULL;
	char what[600], sql[2048];
	struct cairn_error first;
	PGconn *conn = NULL;
	int rc = -1, n;

	memset(&first, 0, sizeof(first));
	encoding = postgres_fact(host, source, encoded, "encoding");
	collate = postgres_fact(host, source, encoded, "collate");
	ctype = postgres_fact(host, source, encoded, "ctype");
	owner = with_owner ? postgres_fact(host, source, encoded, "owner")
			   : NULL;
	snprintf(what, sizeof(what), "cannot create database '%s' on '%s'",
		 name, ep->label);
	if (postgres_connect(ep, postgres_endpoint_admin_db(ep, name), &conn,
			     err) == -1)
		goto out;
	ident = postgres_ident(conn, name);
	enc = PQescapeLiteral(conn, encoding ? encoding : "UTF8",
			      strlen(encoding ? encoding : "UTF8"));
	if (collate != NULL && ctype != NULL) {
		col = PQescapeLiteral(conn, collate, strlen(collate));
		ct = PQescapeLiteral(conn, ctype, strlen(ctype));
	}
	if (owner != NULL)
		own = postgres_ident(conn, owner);
	if (ident == NULL || enc == NULL) {
		postgres_error(err, "%s: out of memory", what);
		goto out;
	}
	n = snprintf(sql, sizeof(sql),
		     "CREATE DATABASE %s WITH TEMPLATE template0 ENCODING %s"
		     "%s%s%s%s%s%s",
		     ident, enc, col ? " LC_COLLATE " : "", col ? col : "",
		     ct ? " LC_CTYPE " : "", ct ? ct : "", own ? " OWNER " : "",
		     own ? own : "");
	if (n < 0 || (size_t)n >= sizeof(sql)) {
		postgres_error(err, "%s: statement too long", what);
		goto out;
	}
	if (postgres_exec(conn, what, sql, &first) == 0) {
		rc = 0;
		goto out;
	}
	/* The locale or the owner may not exist here: try without. */
	n = snprintf(sql, sizeof(sql),
		     "CREATE DATABASE %s WITH TEMPLATE template0 ENCODING %s",
		     ident, enc);
	if (n < 0 || (size_t)n >= sizeof(sql) ||
	    postgres_exec(conn, what, sql, err) == -1) {
		*err = first;
		goto out;
	}
	host->log(host, CAIRN_LOG_WARNING,
		  "database '%s' created without its recorded locale or "
		  "owner (%s)",
		  name, first.message);
	rc = 0;
out:
	PQfreemem(ident);
	PQfreemem(enc);
	PQfreemem(col);
	PQfreemem(ct);
	PQfreemem(own);
	PQfinish(conn);
	return rc;
}

/* The password hash of the role we connect as; NULL when unreadable. */
static int
postgres_own_password(PGconn *conn, char **hash, int *readable)
{
	PGresult *res;

	*hash = NULL;
	*readable = 0;
	res = PQexec(conn, "SELECT rolpassword FROM pg_authid "
			   "WHERE rolname = current_user");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	*readable = 1;
	if (!PQgetisnull(res, 0, 0)) {
		*hash = strdup(PQgetvalue(res, 0, 0));
		if (*hash == NULL) {
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);
	return 0;
}

int
postgres_restore_globals(const struct postgres_session *s,
			 const struct cairn_host *host,
			 struct cairn_source *source,
			 const struct cairn_entry *entry,
			 struct postgres_psql_filter *lenient,
			 struct cairn_error *err)
{
	const char *admin = postgres_endpoint_admin_db(&s->ep, NULL);
	struct postgres_psql_filter filter;
	char *dbarg = NULL, *before = NULL, *after = NULL, *lit = NULL;
	char *user = NULL, what[600];
	const char *argv[16];
	PGconn *conn = NULL;
	int readable = 0, readable_after = 0, rc = -1;
	size_t argc = 0;

	memset(&filter, 0, sizeof(filter));
	filter.tolerated = "42710"; /* duplicate_object: role exists */
	snprintf(what, sizeof(what), "the roles and tablespaces on '%s'",
		 s->ep.label);
	if (postgres_connect(&s->ep, admin, &conn, err) == -1)
		goto out;
	if (postgres_own_password(conn, &before, &readable) == -1) {
		postgres_error(err, "out of memory");
		goto out;
	}
	dbarg = postgres_dbname_arg(admin);
	if (dbarg == NULL) {
		postgres_error(err, "out of memory");
		goto out;
	}
	argv[argc++] = "psql";
	argv[argc++] = "--no-psqlrc";
	argv[argc++] = "--quiet";
	argv[argc++] = "--no-password";
	argv[argc++] = "--set=ON_ERROR_STOP=0";
	argv[argc++] = "--set=VERBOSITY=verbose";
	argv[argc++] = "--dbname";
	argv[argc++] = dbarg;
	argv[argc] = NULL;
	host->log(host, CAIRN_LOG_INFO, "restoring %s", what);
	if (postgres_run_fed(s, host, source, entry, "psql", argv, &filter,
			     what, err) == -1)
		goto out;
	/* Our own role's password stays what it is on the target. */
	if (readable) {
		if (postgres_own_password(conn, &after, &readable_after) ==
		    -1) {
			postgres_error(err, "out of memory");
			goto out;
		}
		if (readable_after && !((before == NULL && after == NULL) ||
					(before != NULL && after != NULL &&
					 strcmp(before, after) == 0))) {
			user = postgres_ident(conn, PQuser(conn));
			if (before != NULL)
				lit = PQescapeLiteral(conn, before,
						      strlen(before));
			if (user == NULL || (before != NULL && lit == NULL)) {
				postgres_error(err, "out of memory");
				goto out;
			}
			if (postgres_execf(conn, what, err,
					   "ALTER ROLE %s PASSWORD %s", user,
					   lit != NULL ? lit : "NULL") == -1)
				goto out;
			host->log(host, CAIRN_LOG_INFO,
				  "kept the password of role '%s' on '%s'",
				  PQuser(conn), s->ep.label);
		}
	}
	if (lenient != NULL)
		*lenient = filter;
	if (filter.error_count > 0 && lenient == NULL) {
		postgres_error(err,
			       "cannot restore %s: %zu statements failed, "
			       "the first: %s",
			       what, filter.error_count, filter.first_error);
		goto out;
	}
	if (filter.tolerated_count > 0)
		host->log(host, CAIRN_LOG_INFO,
			  "%zu roles or tablespaces existed already on '%s': "
			  "kept and updated",
			  filter.tolerated_count, s->ep.label);
	rc = 0;
out:
	if (before != NULL)
		explicit_bzero(before, strlen(before));
	if (after != NULL)
		explicit_bzero(after, strlen(after));
	free(before);
	free(after);
	PQfreemem(lit);
	PQfreemem(user);
	free(dbarg);
	PQfinish(conn);
	return rc;
}

int
postgres_restore_db(const struct postgres_session *s,
		    const struct postgres_config *cfg,
		    const struct cairn_host *host, struct cairn_source *source,
		    const struct cairn_entry *entry,
		    const struct postgres_rplan *plan, struct postgres_rdb *db,
		    int force, struct cairn_error *err)
{
	const char *argv[16];
	char what[600], *dbarg = NULL;
	int create = 0, rc = -1;
	size_t argc = 0;

	(void)cfg;
	snprintf(what, sizeof(what), "database '%s' on '%s'", db->name,
		 s->ep.label);
	if (db->exists && (force || !db->empty)) {
		host->log(host, CAIRN_LOG_INFO,
			  "dropping %s to recreate it (--force)", what);
		if (postgres_db_drop(&s->ep, db->name, err) == -1)
			goto out;
		db->exists = 0;
	}
	if (plan->format == POSTGRES_FORMAT_CUSTOM) {
		/* pg_restore creates it, with its properties and grants. */
		create = !db->exists;
		dbarg = postgres_dbname_arg(
			create ? postgres_endpoint_admin_db(&s->ep, db->name)
			       : db->name);
		if (dbarg == NULL)
			goto oom;
		argv[argc++] = "pg_restore";
		argv[argc++] = "--no-password";
		argv[argc++] = "--exit-on-error";
		if (create)
			argv[argc++] = "--create";
		/* A drill's cluster has none of the source's directories. */
		if (plan->drill)
			argv[argc++] = "--no-tablespaces";
		argv[argc++] = "--dbname";
		argv[argc++] = dbarg;
		argv[argc] = NULL;
		host->log(host, CAIRN_LOG_INFO, "restoring %s%s", what,
			  create ? "" : " into the existing empty database");
		if (postgres_run_fed(s, host, source, entry, "pg_restore", argv,
				     NULL, what, err) == -1)
			goto out;
		db->whole = create;
	} else {
		if (!db->exists &&
		    postgres_db_create(&s->ep, host, source, db->encoded,
				       db->name, 1, err) == -1)
			goto out;
		dbarg = postgres_dbname_arg(db->name);
		if (dbarg == NULL)
			goto oom;
		argv[argc++] = "psql";
		argv[argc++] = "--no-psqlrc";
		argv[argc++] = "--quiet";
		argv[argc++] = "--no-password";
		argv[argc++] = "--set=ON_ERROR_STOP=1";
		argv[argc++] = "--dbname";
		argv[argc++] = dbarg;
		argv[argc] = NULL;
		host->log(host, CAIRN_LOG_INFO, "restoring %s", what);
		if (postgres_run_fed(s, host, source, entry, "psql", argv, NULL,
				     what, err) == -1)
			goto out;
	}
	db->done = 1;
	rc = 0;
	goto out;
oom:
	postgres_error(err, "out of memory");
out:
	free(dbarg);
	return rc;
}

/*
 * Runs a database.sql entry, unless pg_restore --create already brought
 * the database's properties: after the dump, so that no setting (say
 * default_transaction_read_only) applies to the restore itself.
 */
int
postgres_restore_props(const struct postgres_session *s,
		       const struct cairn_host *host,
		       struct cairn_source *source,
		       const struct cairn_entry *entry,
		       const struct postgres_rdb *db, struct cairn_error *err)
{
	const char *argv[12];
	char what[600], *dbarg;
	size_t argc = 0;
	int rc;

	if (!db->done || db->whole)
		return 0;
	snprintf(what, sizeof(what), "the properties of database '%s' on '%s'",
		 db->name, s->ep.label);
	dbarg = postgres_dbname_arg(
		postgres_endpoint_admin_db(&s->ep, db->name));
	if (dbarg == NULL) {
		postgres_error(err, "out of memory");
		return -1;
	}
	argv[argc++] = "psql";
	argv[argc++] = "--no-psqlrc";
	argv[argc++] = "--quiet";
	argv[argc++] = "--no-password";
	argv[argc++] = "--set=ON_ERROR_STOP=1";
	argv[argc++] = "--dbname";
	argv[argc++] = dbarg;
	argv[argc] = NULL;
	host->log(host, CAIRN_LOG_INFO, "restoring %s", what);
	rc = postgres_run_fed(s, host, source, entry, "psql", argv, NULL, what,
			      err);
	free(dbarg);
	return rc;
}

/* Our pg_restore must read what the backup's pg_dump wrote. */
int
postgres_check_client(const struct postgres_session *s,
		      const struct cairn_host *host,
		      struct cairn_source *source, struct cairn_error *err)
{
	const char *text = host->fact_get(source, "client.version");
	int archive = text != NULL ? postgres_version_parse(text) : -1;
	char major[16];

	if (archive <= 0 || postgres_version_major(archive) <=
				    postgres_version_major(s->client_version))
		return 0;
	postgres_version_major_text(archive, major, sizeof(major));
	postgres_error(err,
		       "the archive was written by pg_dump %s and '%s' holds "
		       "pg_restore %s: set 'pg-bin-dir' to a client of version "
		       "%s or newer",
		       text, s->bin_dir, s->client_version_text, major);
	return -1;
}

int
postgres_restore(void *state, const struct cairn_host *host,
		 struct cairn_source *source,
		 const struct cairn_restore_options *options,
		 struct cairn_error *err)
{
	const struct postgres_config *cfg = state;
	const struct cairn_entry *entry;
	struct postgres_session session;
	struct postgres_rplan plan;
	struct postgres_rdb *db;
	const char *suffix;
	char *name = NULL;
	PGconn *conn = NULL;
	size_t i, refused = 0, restored = 0;
	int have_session = 0, rc = -1, r;

	memset(&plan, 0, sizeof(plan));
	if (postgres_rplan_load(&plan, host, source, err) == -1 ||
	    postgres_rplan_select(&plan, options, err) == -1)
		goto out;
	if (postgres_session_init(&session, cfg, host, options->target, err) ==
	    -1)
		goto out;
	have_session = 1;
	if (options->target == NULL && !options->force && !options->dry_run) {
		postgres_error(err,
			       "restoring into the job's own server '%s' "
			       "overwrites live data: give --force, or --to "
			       "another server",
			       session.ep.label);
		goto out;
	}
	if (postgres_connect(&session.ep, NULL, &conn, err) == -1 ||
	    postgres_session_choose_client(&session, cfg, PQserverVersion(conn),
					   err) == -1 ||
	    postgres_check_client(&session, host, source, err) == -1)
		goto out;
	PQfinish(conn);
	conn = NULL;

	/* Refuse before changing anything. */
	for (i = 0; i < plan.count; i++) {
		db = &plan.dbs[i];
		if (!db->selected)
			continue;
		if (postgres_db_probe(&session.ep, db, err) == -1)
			goto out;
		if (db->exists && !db->empty && !options->force) {
			if (refused++ == 0)
				postgres_error(err,
					       "database '%s' on '%s' exists "
					       "and is not empty: give --force "
					       "to drop and recreate it",
					       db->name, session.ep.label);
			host->log(host, CAIRN_LOG_ERROR,
				  "database '%s' on '%s' exists and is not "
				  "empty",
				  db->name, session.ep.label);
		}
	}
	if (refused > 1) {
		postgres_error(err,
			       "%zu databases on '%s' exist and are not empty: "
			       "give --force to drop and recreate them",
			       refused, session.ep.label);
	}
	if (refused > 0)
		goto out;

	if (options->dry_run) {
		host->log(host, CAIRN_LOG_INFO,
			  "would restore roles and tablespaces into '%s' "
			  "(existing roles kept and updated)",
			  session.ep.label);
		for (i = 0; i < plan.count; i++) {
			db = &plan.dbs[i];
			if (!db->selected)
				continue;
			host->log(host, CAIRN_LOG_INFO,
				  "would %s database '%s' on '%s'",
				  !db->exists ? "create and restore"
				  : db->empty && !options->force
					  ? "restore into the existing empty"
					  : "drop, recreate and restore",
				  db->name, session.ep.label);
		}
		rc = 0;
		goto out;
	}

	while ((r = host->entry_next(source, &entry, err)) == 1) {
		if (strcmp(entry->name, "globals.sql") == 0) {
			if (postgres_restore_globals(&session, host, source,
						     entry, NULL, err) == -1)
				goto out;
			continue;
		}
		free(name);
		name = NULL;
		if (postgres_entry_parse(entry->name, &name, &suffix) == -1)
			continue;
		db = postgres_rplan_find(&plan, name);
		if (db == NULL || !db->selected)
			continue;
		if (strcmp(suffix, "database.sql") == 0) {
			if (postgres_restore_props(&session, host, source,
						   entry, db, err) == -1)
				goto out;
			continue;
		}
		if (strcmp(suffix, "dump") != 0 && strcmp(suffix, "sql") != 0)
			continue;
		if (postgres_restore_db(&session, cfg, host, source, entry,
					&plan, db, options->force, err) == -1)
			goto out;
		restored++;
	}
	if (r == -1)
		goto out;
	for (i = 0; i < plan.count; i++) {
		if (plan.dbs[i].selected && !plan.dbs[i].done) {
			postgres_error(err,
				       "the archive has no dump of database "
				       "'%s'",
				       plan.dbs[i].name);
			goto out;
		}
	}
	host->log(host, CAIRN_LOG_INFO, "restored %zu databases into '%s'",
		  restored, session.ep.label);
	rc = 0;
out:
	free(name);
	PQfinish(conn);
	postgres_rplan_free(&plan);
	if (have_session)
		postgres_session_release(&session);
	return rc;
}
