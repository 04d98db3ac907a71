/*
 * What a drill compares beyond row counts: roles (attributes, settings,
 * comments, memberships) and, per database, its own properties (owner,
 * encoding, locale, connection limit, ACL, comment, settings) and the
 * owners and ACLs of schemas, tables, views, sequences, columns,
 * functions and default privileges.
 *
 * The backup writes them as records ("globals.grants" and
 * "databases/<name>.grants"); a drill computes the same records from the
 * throwaway cluster it restored into and compares the two. Both sides run
 * the same queries, so a record is only ever compared with one the same
 * code wrote. The format:
 *
 *   cairn-grants 1
 *   <kind> TAB <name> TAB <property> TAB <value>
 *
 * with '%', tab, newline and control characters of each field as %XX.
 * ACLs are written sorted and with the default spelled out
 * (acldefault), so "never granted" and "granted back to the default"
 * compare equal, as they behave the same.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POSTGRES_GRANTS_HEADER "cairn-grants 1\n"
/* Differences reported one by one per record, then counted. */
#define POSTGRES_GRANTS_SHOWN 20

static const char postgres_roles_sql[] =
	"SELECT 'role', r.rolname, v.k, v.v FROM pg_catalog.pg_roles r, "
	"LATERAL (VALUES ('superuser', r.rolsuper::text), "
	"('inherit', r.rolinherit::text), "
	"('createrole', r.rolcreaterole::text), "
	"('createdb', r.rolcreatedb::text), "
	"('login', r.rolcanlogin::text), "
	"('replication', r.rolreplication::text), "
	"('bypassrls', r.rolbypassrls::text), "
	"('connection-limit', r.rolconnlimit::text), "
	"('valid-until', coalesce(extract(epoch FROM r.rolvaliduntil)::text, "
	"'none')), "
	"('settings', coalesce((SELECT pg_catalog.array_to_string(ARRAY("
	"SELECT pg_catalog.unnest(s.setconfig) ORDER BY 1), ' ') "
	"FROM pg_catalog.pg_db_role_setting s WHERE s.setrole = r.oid "
	"AND s.setdatabase = 0), '')), "
	"('comment', coalesce(pg_catalog.shobj_description(r.oid, "
	"'pg_authid'), ''))) v(k, v) "
	"WHERE r.rolname !~ '^pg_' AND r.rolname <> $1 "
	"UNION ALL "
	"SELECT 'membership', u.rolname || ' in ' || g.rolname, 'admin', "
	"m.admin_option::text FROM pg_catalog.pg_auth_members m "
	"JOIN pg_catalog.pg_roles u ON u.oid = m.member "
	"JOIN pg_catalog.pg_roles g ON g.oid = m.roleid "
	"WHERE u.rolname <> $1 AND g.rolname <> $1 ";

/* Whether a role has a password: readable by superusers only. */
static const char postgres_passwords_sql[] =
	"UNION ALL SELECT 'role', a.rolname, 'password', "
	"(a.rolpassword IS NOT NULL)::text FROM pg_catalog.pg_authid a "
	"WHERE a.rolname !~ '^pg_' AND a.rolname <> $1 ";

/*
 * Run in the database itself with search_path = pg_catalog, so function
 * signatures come out schema-qualified the same way everywhere.
 */
static const char postgres_database_sql[] =
	"SELECT 'database', d.datname, v.k, v.v "
	"FROM pg_catalog.pg_database d, LATERAL (VALUES "
	"('owner', pg_get_userbyid(d.datdba)::text), "
	"('encoding', pg_encoding_to_char(d.encoding)::text), "
	"('collate', d.datcollate::text), ('ctype', d.datctype::text), "
	"('connection-limit', d.datconnlimit::text), "
	"('template', d.datistemplate::text), "
	"('acl', array_to_string(ARRAY(SELECT x::text FROM "
	"unnest(coalesce(d.datacl, acldefault('d', d.datdba))) x "
	"ORDER BY 1), ',')), "
	"('comment', coalesce(shobj_description(d.oid, 'pg_database'), "
	"''))) v(k, v) WHERE d.datname = current_database() "
	"UNION ALL "
	"SELECT 'database setting', CASE WHEN s.setrole = 0 THEN 'all roles' "
	"ELSE 'role ' || pg_get_userbyid(s.setrole) END, 'settings', "
	"array_to_string(ARRAY(SELECT unnest(s.setconfig) ORDER BY 1), ' ') "
	"FROM pg_db_role_setting s JOIN pg_database d "
	"ON d.oid = s.setdatabase WHERE d.datname = current_database() "
	"UNION ALL "
	"SELECT 'schema', n.nspname, v.k, v.v FROM pg_namespace n, "
	"LATERAL (VALUES ('owner', pg_get_userbyid(n.nspowner)::text), "
	"('acl', array_to_string(ARRAY(SELECT x::text FROM "
	"unnest(coalesce(n.nspacl, acldefault('n', n.nspowner))) x "
	"ORDER BY 1), ','))) v(k, v) "
	"WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' "
	"AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = "
	"'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e') "
	"UNION ALL "
	"SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' "
	"WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' "
	"ELSE 'table' END, n.nspname || '.' || c.relname, v.k, v.v "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
	"LATERAL (VALUES ('owner', pg_get_userbyid(c.relowner)::text), "
	"('acl', array_to_string(ARRAY(SELECT x::text FROM "
	"unnest(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' "
	"THEN 's'::\"char\" ELSE 'r'::\"char\" END, c.relowner))) x "
	"ORDER BY 1), ','))) v(k, v) "
	"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
	"AND c.relpersistence <> 't' AND n.nspname !~ '^pg_' "
	"AND n.nspname <> 'information_schema' "
	"AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = "
	"'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e') "
	"UNION ALL "
	"SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname, "
	"'acl', array_to_string(ARRAY(SELECT x::text FROM unnest(a.attacl) x "
	"ORDER BY 1), ',') FROM pg_attribute a "
	"JOIN pg_class c ON c.oid = a.attrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE a.attnum > 0 AND NOT a.attisdropped "
	"AND cardinality(a.attacl) > 0 AND c.relpersistence <> 't' "
	"AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' "
	"AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = "
	"'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e') "
	"UNION ALL "
	"SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN "
	"'aggregate' ELSE 'function' END, p.oid::regprocedure::text, v.k, v.v "
	"FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, "
	"LATERAL (VALUES ('owner', pg_get_userbyid(p.proowner)::text), "
	"('acl', array_to_string(ARRAY(SELECT x::text FROM "
	"unnest(coalesce(p.proacl, acldefault('f', p.proowner))) x "
	"ORDER BY 1), ','))) v(k, v) "
	"WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' "
	"AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = "
	"'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e') "
	"UNION ALL "
	"SELECT 'default privileges', 'for ' || "
	"pg_get_userbyid(a.defaclrole) || ' in ' || "
	"coalesce(n.nspname, 'every schema') || ' on ' || "
	"a.defaclobjtype::text, 'acl', array_to_string(ARRAY(SELECT x::text "
	"FROM unnest(a.defaclacl) x ORDER BY 1), ',') FROM pg_default_acl a "
	"LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace";

/* Runs a query of (kind, name, property, value) rows into a record. */
static int
postgres_grants_query(PGconn *conn, const char *what, const char *sql,
		      int nparams, const char *const *params,
		      struct postgres_text *out, struct cairn_error *err)
{
	PGresult *res = NULL;
	int i, j;

	memset(out, 0, sizeof(*out));
	if (postgres_query(conn, what, sql, nparams, params, &res, err) == -1)
		return -1;
	postgres_text_add(out, POSTGRES_GRANTS_HEADER);
	for (i = 0; i < PQntuples(res); i++) {
		for (j = 0; j < 4; j++) {
			if (j > 0)
				postgres_text_add(out, "\t");
			postgres_text_add_field(out, PQgetvalue(res, i, j));
		}
		postgres_text_add(out, "\n");
	}
	PQclear(res);
	if (out->failed) {
		postgres_text_release(out);
		postgres_error(err, "%s: out of memory", what);
		return -1;
	}
	return 0;
}

int
postgres_grants_roles(PGconn *conn, int passwords, const char *skip_role,
		      struct postgres_text *out, struct cairn_error *err)
{
	const char *params[1] = {skip_role != NULL ? skip_role : ""};
	struct postgres_text sql = {NULL, 0, 0, 0};
	int rc;

	postgres_text_add(&sql, postgres_roles_sql);
	if (passwords)
		postgres_text_add(&sql, postgres_passwords_sql);
	if (sql.failed) {
		postgres_text_release(&sql);
		postgres_error(err, "out of memory");
		return -1;
	}
	rc = postgres_grants_query(conn, "cannot read the roles", sql.data, 1,
				   params, out, err);
	postgres_text_release(&sql);
	return rc;
}

int
postgres_grants_database(PGconn *conn, const char *name,
			 struct postgres_text *out, struct cairn_error *err)
{
	PGresult *res = NULL;
	char what[600];

	snprintf(what, sizeof(what),
		 "cannot read the owners and grants of database '%s'", name);
	/* For the session: the connection is the caller's, for this. */
	if (postgres_query(conn, what,
			   "SELECT pg_catalog.set_config('search_path', "
			   "'pg_catalog', false)",
			   0, NULL, &res, err) == -1)
		return -1;
	PQclear(res);
	return postgres_grants_query(conn, what, postgres_database_sql, 0, NULL,
				     out, err);
}

/* --- comparison ---------------------------------------------------- */

struct postgres_grants_line {
	const char *text; /* the whole line, into the parsed copy */
	size_t key;	  /* length of kind TAB name TAB property */
	size_t object;	  /* length of kind TAB name */
};

struct postgres_grants_set {
	char *copy;
	struct postgres_grants_line *lines;
	size_t count;
};

static int
postgres_grants_line_cmp(const void *a, const void *b)
{
	const struct postgres_grants_line *x = a, *y = b;

	return strcmp(x->text, y->text);
}

/* Splits a record into sorted lines; -1 when it is not a record. */
static int
postgres_grants_parse(const char *text, size_t length,
		      struct postgres_grants_set *set)
{
	char *line, *next, *tab;
	size_t capacity = 0;

	memset(set, 0, sizeof(*set));
	if (length < strlen(POSTGRES_GRANTS_HEADER) ||
	    memcmp(text, POSTGRES_GRANTS_HEADER,
		   strlen(POSTGRES_GRANTS_HEADER)) != 0)
		return -1;
	set->copy = strndup(text + strlen(POSTGRES_GRANTS_HEADER),
			    length - strlen(POSTGRES_GRANTS_HEADER));
	if (set->copy == NULL)
		return -1;
	for (line = set->copy; *line != '\0'; line = next) {
		struct postgres_grants_line *l;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (*line == '\0')
			continue;
		if (set->count == capacity) {
			size_t grown_capacity = capacity ? capacity * 2 : 64;
			void *grown = realloc(set->lines,
					      grown_capacity *
						      sizeof(*set->lines));

			if (grown == NULL)
				goto fail;
			set->lines = grown;
			capacity = grown_capacity;
		}
		l = &set->lines[set->count];
		l->text = line;
		tab = strchr(line, '\t');
		tab = tab != NULL ? strchr(tab + 1, '\t') : NULL;
		if (tab == NULL)
			goto fail;
		l->object = (size_t)(tab - line);
		tab = strchr(tab + 1, '\t');
		if (tab == NULL)
			goto fail;
		l->key = (size_t)(tab - line);
		set->count++;
	}
	if (set->count > 0)
		qsort(set->lines, set->count, sizeof(*set->lines),
		      postgres_grants_line_cmp);
	return 0;
fail:
	free(set->lines);
	free(set->copy);
	memset(set, 0, sizeof(*set));
	return -1;
}

static void
postgres_grants_set_free(struct postgres_grants_set *set)
{
	free(set->lines);
	free(set->copy);
	memset(set, 0, sizeof(*set));
}

/* Whether any line of set names the object of line l. */
static int
postgres_grants_has_object(const struct postgres_grants_set *set,
			   const struct postgres_grants_line *l)
{
	size_t i;

	for (i = 0; i < set->count; i++)
		if (set->lines[i].object == l->object &&
		    memcmp(set->lines[i].text, l->text, l->object) == 0)
			return 1;
	return 0;
}

/* "kind 'name'" and the property of a line, for messages. */
static void
postgres_grants_describe(const struct postgres_grants_line *l, char *object,
			 size_t osize, char *property, size_t psize,
			 const char **value)
{
	const char *name = strchr(l->text, '\t') + 1;

	snprintf(object, osize, "%.*s '%.*s'", (int)(name - 1 - l->text),
		 l->text, (int)(l->text + l->object - name), name);
	snprintf(property, psize, "%.*s", (int)(l->key - l->object - 1),
		 l->text + l->object + 1);
	*value = l->text + l->key + 1;
}

struct postgres_grants_diff {
	const struct cairn_host *host;
	struct cairn_report *report;
	const char *scope;
	size_t differences;
	/* The last object reported missing or new, not to repeat it. */
	const char *last;
	size_t last_length;
};

static void
postgres_grants_problem(struct postgres_grants_diff *d,
			const struct postgres_grants_line *want,
			const struct postgres_grants_line *got,
			const struct postgres_grants_set *other)
{
	const struct postgres_grants_line *l = want != NULL ? want : got;
	char object[400], property[64];
	const char *value, *other_value;

	if (want == NULL || got == NULL) {
		/* A whole object missing or new is one difference. */
		if (!postgres_grants_has_object(other, l)) {
			if (d->last != NULL && d->last_length == l->object &&
			    memcmp(d->last, l->text, l->object) == 0)
				return;
			d->last = l->text;
			d->last_length = l->object;
		}
	}
	d->differences++;
	if (d->differences > POSTGRES_GRANTS_SHOWN)
		return;
	postgres_grants_describe(l, object, sizeof(object), property,
				 sizeof(property), &value);
	if (want != NULL && got != NULL) {
		postgres_grants_describe(got, object, sizeof(object), property,
					 sizeof(property), &other_value);
		postgres_grants_describe(want, object, sizeof(object), property,
					 sizeof(property), &value);
		d->host->report_problem(d->report,
					"%s%s: %s is '%s' after the restore, "
					"'%s' at backup time",
					d->scope, object, property, other_value,
					value);
	} else if (!postgres_grants_has_object(other, l)) {
		d->host->report_problem(d->report, "%s%s %s after the restore",
					d->scope, object,
					want != NULL ? "is missing"
						     : "appeared");
	} else {
		d->host->report_problem(d->report,
					"%s%s: %s (%s) %s after the restore",
					d->scope, object, property, value,
					want != NULL ? "is missing"
						     : "appeared");
	}
}

static int
postgres_grants_key_cmp(const struct postgres_grants_line *a,
			const struct postgres_grants_line *b)
{
	size_t n = a->key < b->key ? a->key : b->key;
	int c = memcmp(a->text, b->text, n);

	if (c != 0)
		return c;
	return a->key < b->key ? -1 : a->key > b->key ? 1 : 0;
}

int
postgres_grants_compare(const struct cairn_host *host,
			struct cairn_report *report, const char *scope,
			const char *expected, size_t expected_length,
			const char *actual, size_t actual_length,
			size_t *checks, size_t *differences)
{
	struct postgres_grants_set want, got;
	struct postgres_grants_diff d;
	size_t i = 0, j = 0;
	int c;

	*checks = *differences = 0;
	if (postgres_grants_parse(expected, expected_length, &want) == -1) {
		host->report_problem(report,
				     "%sthe archive's record of owners and "
				     "grants is unreadable",
				     scope);
		*differences = 1;
		return -1;
	}
	if (postgres_grants_parse(actual, actual_length, &got) == -1) {
		postgres_grants_set_free(&want);
		host->report_problem(report,
				     "%scannot read back owners and "
				     "grants after the restore",
				     scope);
		*differences = 1;
		return -1;
	}
	memset(&d, 0, sizeof(d));
	d.host = host;
	d.report = report;
	d.scope = scope;
	while (i < want.count || j < got.count) {
		if (i == want.count)
			c = 1;
		else if (j == got.count)
			c = -1;
		else
			c = postgres_grants_key_cmp(&want.lines[i],
						    &got.lines[j]);
		if (c == 0) {
			if (strcmp(want.lines[i].text + want.lines[i].key,
				   got.lines[j].text + got.lines[j].key) != 0)
				postgres_grants_problem(&d, &want.lines[i],
							&got.lines[j], &got);
			i++;
			j++;
		} else if (c < 0) {
			postgres_grants_problem(&d, &want.lines[i], NULL, &got);
			i++;
		} else {
			postgres_grants_problem(&d, NULL, &got.lines[j], &want);
			j++;
		}
	}
	if (d.differences > POSTGRES_GRANTS_SHOWN)
		host->report_problem(report,
				     "%s%zu more differences in owners, "
				     "grants and roles",
				     scope,
				     d.differences - POSTGRES_GRANTS_SHOWN);
	*checks = want.count;
	*differences = d.differences;
	postgres_grants_set_free(&want);
	postgres_grants_set_free(&got);
	return d.differences == 0 ? 0 : -1;
}
