/*
 * Database-level properties: what pg_dump writes of a database only with
 * --create (owner, connection limit, template flag, comment, ACL,
 * ALTER DATABASE ... SET and ALTER ROLE ... IN DATABASE ... SET). The
 * backup writes them as SQL into databases/<name>.database.sql, read in
 * the dump's own snapshot; restore runs that entry after the dump
 * whenever pg_restore --create did not carry them (plain format, or an
 * existing empty database such as a new cluster's "postgres"). The SQL is
 * plain and stock psql runs it too.
 *
 * Settings are written as pg_dump's makeAlterConfigCommand writes them:
 * list settings (search_path...) item by item as literals, the others as
 * one literal.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "SET name TO 'value'" of a stored "name=value"; 0 or -1. */
static int
postgres_props_setting(PGconn *conn, struct postgres_text *t, const char *item)
{
	struct postgres_list items = {NULL, 0};
	const char *eq = strchr(item, '=');
	char *name, *ident, *lit;
	size_t i;

	if (eq == NULL)
		return 0; /* pg_dump skips these silently too */
	name = strndup(item, (size_t)(eq - item));
	if (name == NULL)
		return -1;
	ident = PQescapeIdentifier(conn, name, strlen(name));
	if (ident == NULL) {
		free(name);
		return -1;
	}
	postgres_text_addf(t, " SET %s TO ", ident);
	PQfreemem(ident);
	if (postgres_guc_is_list(name) &&
	    postgres_guc_list_split(eq + 1, &items) == 0) {
		if (items.count == 0)
			postgres_text_add(t, "''");
		for (i = 0; i < items.count; i++) {
			lit = PQescapeLiteral(conn, items.items[i],
					      strlen(items.items[i]));
			if (lit == NULL)
				break;
			postgres_text_addf(t, "%s%s", i ? ", " : "", lit);
			PQfreemem(lit);
		}
		postgres_list_free(&items);
		if (i < items.count) {
			free(name);
			return -1;
		}
	} else {
		lit = PQescapeLiteral(conn, eq + 1, strlen(eq + 1));
		if (lit == NULL) {
			free(name);
			return -1;
		}
		postgres_text_add(t, lit);
		PQfreemem(lit);
	}
	postgres_text_add(t, ";\n");
	free(name);
	return 0;
}

static int
postgres_props_acl(PGconn *conn, struct postgres_text *t, const char *db,
		   const char *owner, const char *what, struct cairn_error *err)
{
	static const char sql[] =
		"SELECT a.grantee = 0, pg_catalog.pg_get_userbyid(a.grantee), "
		"pg_catalog.pg_get_userbyid(a.grantor), a.privilege_type, "
		"a.is_grantable FROM pg_catalog.pg_database d, "
		"pg_catalog.aclexplode(d.datacl) a "
		"WHERE d.datname = pg_catalog.current_database() "
		"ORDER BY 3, 1 DESC, 2, 4";
	PGresult *res = NULL;
	char *grantee = NULL, *grantor = NULL;
	int i, rc = -1, other;

	if (postgres_query(conn, what, sql, 0, NULL, &res, err) == -1)
		return -1;
	/* From nothing, as pg_dump does when the ACL is not the default. */
	postgres_text_addf(t, "REVOKE ALL ON DATABASE %s FROM PUBLIC;\n", db);
	postgres_text_addf(t, "REVOKE ALL ON DATABASE %s FROM %s;\n", db,
			   owner);
	for (i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 1);
		const char *by = PQgetvalue(res, i, 2);

		grantee = strcmp(PQgetvalue(res, i, 0), "t") == 0
				  ? NULL
				  : PQescapeIdentifier(conn, name,
						       strlen(name));
		grantor = PQescapeIdentifier(conn, by, strlen(by));
		if (grantor == NULL ||
		    (grantee == NULL &&
		     strcmp(PQgetvalue(res, i, 0), "t") != 0))
			goto oom;
		/* A grant by another role than the owner is made as it. */
		other = strcmp(grantor, owner) != 0;
		if (other)
			postgres_text_addf(t, "SET SESSION AUTHORIZATION %s;\n",
					   grantor);
		postgres_text_addf(t, "GRANT %s ON DATABASE %s TO %s%s;\n",
				   PQgetvalue(res, i, 3), db,
				   grantee != NULL ? grantee : "PUBLIC",
				   strcmp(PQgetvalue(res, i, 4), "t") == 0
					   ? " WITH GRANT OPTION"
					   : "");
		if (other)
			postgres_text_add(t, "RESET SESSION AUTHORIZATION;\n");
		PQfreemem(grantee);
		PQfreemem(grantor);
		grantee = grantor = NULL;
	}
	rc = 0;
	goto out;
oom:
	postgres_error(err, "%s: out of memory", what);
out:
	PQfreemem(grantee);
	PQfreemem(grantor);
	PQclear(res);
	return rc;
}

static int
postgres_props_settings(PGconn *conn, struct postgres_text *t, const char *db,
			const char *what, struct cairn_error *err)
{
	static const char sql[] =
		"SELECT s.setrole = 0, pg_catalog.pg_get_userbyid(s.setrole), "
		"c.item FROM pg_catalog.pg_db_role_setting s "
		"JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase, "
		"LATERAL pg_catalog.unnest(s.setconfig) WITH ORDINALITY "
		"AS c(item, n) WHERE d.datname = pg_catalog.current_database() "
		"ORDER BY 1 DESC, 2, c.n";
	PGresult *res = NULL;
	char *role;
	int i;

	if (postgres_query(conn, what, sql, 0, NULL, &res, err) == -1)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		if (strcmp(PQgetvalue(res, i, 0), "t") == 0) {
			postgres_text_addf(t, "ALTER DATABASE %s", db);
		} else {
			role = PQescapeIdentifier(conn, PQgetvalue(res, i, 1),
						  strlen(PQgetvalue(res, i,
								    1)));
			if (role == NULL)
				goto oom;
			postgres_text_addf(t, "ALTER ROLE %s IN DATABASE %s",
					   role, db);
			PQfreemem(role);
		}
		if (postgres_props_setting(conn, t, PQgetvalue(res, i, 2)) ==
		    -1)
			goto oom;
	}
	PQclear(res);
	return 0;
oom:
	postgres_error(err, "%s: out of memory", what);
	PQclear(res);
	return -1;
}

int
postgres_props_sql(PGconn *conn, const char *name, char **sql, size_t *length,
		   struct cairn_error *err)
{
	static const char db_sql[] =
		"SELECT pg_catalog.pg_get_userbyid(d.datdba), d.datconnlimit, "
		"d.datistemplate, "
		"pg_catalog.shobj_description(d.oid, 'pg_database'), "
		"d.datacl IS NOT NULL FROM pg_catalog.pg_database d "
		"WHERE d.datname = pg_catalog.current_database()";
	struct postgres_text t = {NULL, 0, 0, 0};
	PGresult *res = NULL;
	char *db = NULL, *owner = NULL, *comment = NULL, what[600];
	int rc = -1;

	*sql = NULL;
	*length = 0;
	snprintf(what, sizeof(what),
		 "cannot read the properties of database '%s'", name);
	if (postgres_query(conn, what, db_sql, 0, NULL, &res, err) == -1)
		return -1;
	if (PQntuples(res) != 1) {
		postgres_error(err, "%s: it is not in pg_database", what);
		goto out;
	}
	db = PQescapeIdentifier(conn, name, strlen(name));
	owner = PQescapeIdentifier(conn, PQgetvalue(res, 0, 0),
				   strlen(PQgetvalue(res, 0, 0)));
	if (db == NULL || owner == NULL)
		goto oom;
	postgres_text_add(&t, "-- Database-level properties of ");
	postgres_text_add_field(&t, name);
	postgres_text_add(&t, ", written by cairn; run after the dump.\n");
	postgres_text_addf(&t, "ALTER DATABASE %s OWNER TO %s;\n", db, owner);
	if (strcmp(PQgetvalue(res, 0, 1), "-1") != 0)
		postgres_text_addf(&t,
				   "ALTER DATABASE %s CONNECTION LIMIT %s;\n",
				   db, PQgetvalue(res, 0, 1));
	if (strcmp(PQgetvalue(res, 0, 2), "t") == 0)
		postgres_text_addf(&t, "ALTER DATABASE %s IS_TEMPLATE true;\n",
				   db);
	if (!PQgetisnull(res, 0, 3)) {
		comment = PQescapeLiteral(conn, PQgetvalue(res, 0, 3),
					  strlen(PQgetvalue(res, 0, 3)));
		if (comment == NULL)
			goto oom;
		postgres_text_addf(&t, "COMMENT ON DATABASE %s IS %s;\n", db,
				   comment);
	}
	if (strcmp(PQgetvalue(res, 0, 4), "t") == 0 &&
	    postgres_props_acl(conn, &t, db, owner, what, err) == -1)
		goto out;
	if (postgres_props_settings(conn, &t, db, what, err) == -1)
		goto out;
	if (t.failed)
		goto oom;
	*sql = t.data;
	*length = t.length;
	t.data = NULL;
	rc = 0;
	goto out;
oom:
	postgres_error(err, "%s: out of memory", what);
out:
	postgres_text_release(&t);
	PQfreemem(db);
	PQfreemem(owner);
	PQfreemem(comment);
	PQclear(res);
	return rc;
}
