/*
 * Reaching a PostgreSQL server: endpoints (connection parameters plus the
 * password), libpq connections through PQconnectdbParams key/value arrays,
 * query helpers whose errors name the server, and sessions for child
 * processes. A session gives children the same parameters through their
 * environment and the password through a 0600 PGPASSFILE in a private
 * 0700 directory: never through a command line. The directory is removed
 * by postgres_session_release on every path.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
postgres_trim_message(const char *in, char *out, size_t size)
{
	size_t i, j = 0;
	int space = 0;

	for (i = 0; in != NULL && in[i] != '\0' && j + 3 < size; i++) {
		if (in[i] == '\n' || in[i] == '\t' || in[i] == '\r') {
			space = j > 0;
			continue;
		}
		if (space) {
			out[j++] = ' ';
			space = 0;
		}
		out[j++] = in[i];
	}
	out[j] = '\0';
}

static void
postgres_endpoint_label(struct postgres_endpoint *ep)
{
	const char *host = postgres_params_get(&ep->params, "host");
	const char *port = postgres_params_get(&ep->params, "port");
	const char *service = postgres_params_get(&ep->params, "service");

	if (host == NULL && service != NULL) {
		snprintf(ep->label, sizeof(ep->label), "service %s", service);
		return;
	}
	if (host == NULL)
		host = getenv("PGHOST");
	if (port == NULL)
		port = getenv("PGPORT");
	if (host == NULL || host[0] == '\0')
		host = "localhost";
	if (port == NULL || port[0] == '\0')
		port = "5432";
	snprintf(ep->label, sizeof(ep->label), "%s:%s", host, port);
}

int
postgres_endpoint_init(struct postgres_endpoint *ep,
		       const struct postgres_config *cfg,
		       const struct cairn_host *host, const char *target,
		       struct cairn_error *err)
{
	PQconninfoOption *options = NULL, *o;
	char *message = NULL, *secret = NULL;
	const char *job_user, *target_user = NULL;
	char text[512];
	int rc = -1;

	memset(ep, 0, sizeof(*ep));
	if (postgres_params_copy(&ep->params, &cfg->params) == -1)
		goto oom;
	if (target != NULL) {
		options = PQconninfoParse(target, &message);
		if (options == NULL) {
			postgres_trim_message(message, text, sizeof(text));
			postgres_error(err,
				       "'%s' is not a libpq connection URI: "
				       "%s",
				       target,
				       message != NULL ? text
						       : "out of memory");
			goto out;
		}
		for (o = options; o->keyword != NULL; o++) {
			if (o->val == NULL || o->val[0] == '\0')
				continue;
			if (strcmp(o->keyword, "password") == 0) {
				ep->password = strdup(o->val);
				if (ep->password == NULL)
					goto oom;
			} else if (strcmp(o->keyword, "dbname") == 0) {
				ep->maintenance_db = strdup(o->val);
				if (ep->maintenance_db == NULL)
					goto oom;
			} else {
				if (strcmp(o->keyword, "user") == 0)
					target_user = o->val;
				if (postgres_params_set(&ep->params, o->keyword,
							o->val) == -1)
					goto oom;
			}
		}
	}
	/*
	 * The job's password belongs to the job's user: a target naming
	 * another user without a password relies on PGPASSFILE/.pgpass.
	 */
	job_user = postgres_params_get(&cfg->params, "user");
	if (ep->password == NULL && cfg->password_file != NULL &&
	    (target_user == NULL ||
	     (job_user != NULL && strcmp(job_user, target_user) == 0))) {
		if (host->secret_read(host, cfg->password_file, &secret, err) ==
		    -1)
			goto out;
		ep->password = strdup(secret);
		host->secret_free(secret);
		if (ep->password == NULL)
			goto oom;
	}
	postgres_endpoint_label(ep);
	rc = 0;
	goto out;
oom:
	postgres_error(err, "out of memory");
out:
	if (options != NULL) {
		/* The parsed URI may hold a password. */
		for (o = options; o->keyword != NULL; o++)
			if (o->val != NULL)
				explicit_bzero(o->val, strlen(o->val));
		PQconninfoFree(options);
	}
	PQfreemem(message);
	if (rc == -1)
		postgres_endpoint_release(ep);
	return rc;
}

void
postgres_endpoint_release(struct postgres_endpoint *ep)
{
	postgres_params_free(&ep->params);
	if (ep->password != NULL) {
		explicit_bzero(ep->password, strlen(ep->password));
		free(ep->password);
	}
	free(ep->maintenance_db);
	memset(ep, 0, sizeof(*ep));
}

const char *
postgres_endpoint_admin_db(const struct postgres_endpoint *ep,
			   const char *dbname)
{
	const char *db = ep->maintenance_db ? ep->maintenance_db : "postgres";

	/* One cannot drop or replace the database one is connected to. */
	if (dbname != NULL && strcmp(db, dbname) == 0)
		return strcmp(dbname, "template1") == 0 ? "postgres"
							: "template1";
	return db;
}

/* Plugins never print: libpq's default would write notices to stderr. */
static void
postgres_notice_ignore(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int
postgres_connect(const struct postgres_endpoint *ep, const char *dbname,
		 PGconn **conn, struct cairn_error *err)
{
	const char *keys[POSTGRES_PARAMS_MAX + 4];
	const char *values[POSTGRES_PARAMS_MAX + 4];
	char text[768];
	size_t i, n = 0;

	if (dbname == NULL)
		dbname = postgres_endpoint_admin_db(ep, NULL);
	for (i = 0; i < ep->params.count; i++) {
		keys[n] = ep->params.keys[i];
		values[n++] = ep->params.values[i];
	}
	if (ep->password != NULL) {
		keys[n] = "password";
		values[n++] = ep->password;
	}
	keys[n] = "dbname";
	values[n++] = dbname;
	keys[n] = "fallback_application_name";
	values[n++] = "cairn";
	keys[n] = NULL;
	values[n] = NULL;
	/* expand_dbname 0: a database name is never read as a conninfo. */
	*conn = PQconnectdbParams(keys, values, 0);
	if (*conn == NULL) {
		postgres_error(err, "cannot connect to '%s': out of memory",
			       ep->label);
		return -1;
	}
	if (PQstatus(*conn) != CONNECTION_OK) {
		postgres_trim_message(PQerrorMessage(*conn), text,
				      sizeof(text));
		postgres_error(err,
			       "cannot connect to '%s' (database '%s'): %s",
			       ep->label, dbname, text);
		PQfinish(*conn);
		*conn = NULL;
		return -1;
	}
	PQsetNoticeProcessor(*conn, postgres_notice_ignore, NULL);
	return 0;
}

static void
postgres_result_error(PGconn *conn, PGresult *res, const char *what,
		      struct cairn_error *err)
{
	char text[768];

	postgres_trim_message(res != NULL ? PQresultErrorMessage(res)
					  : PQerrorMessage(conn),
			      text, sizeof(text));
	if (text[0] == '\0')
		postgres_trim_message(PQerrorMessage(conn), text, sizeof(text));
	postgres_error(err, "%s: %s", what, text);
}

int
postgres_exec(PGconn *conn, const char *what, const char *sql,
	      struct cairn_error *err)
{
	PGresult *res;
	int rc = 0;

	res = PQexec(conn, sql);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
			    PQresultStatus(res) != PGRES_TUPLES_OK)) {
		postgres_result_error(conn, res, what, err);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

int
postgres_query(PGconn *conn, const char *what, const char *sql, int nparams,
	       const char *const *params, PGresult **res,
	       struct cairn_error *err)
{
	*res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (*res == NULL || PQresultStatus(*res) != PGRES_TUPLES_OK) {
		postgres_result_error(conn, *res, what, err);
		PQclear(*res);
		*res = NULL;
		return -1;
	}
	return 0;
}

char *
postgres_dbname_arg(const char *dbname)
{
	char *arg, *q;
	const char *p;

	/* dbname='...' with ' and \ escaped: conninfo quoting rules. */
	arg = malloc(strlen(dbname) * 2 + 10);
	if (arg == NULL)
		return NULL;
	q = arg;
	memcpy(q, "dbname='", 8);
	q += 8;
	for (p = dbname; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			*q++ = '\\';
		*q++ = *p;
	}
	*q++ = '\'';
	*q = '\0';
	return arg;
}

/* Writes the password file: "*:*:*:*:password" with : and \ escaped. */
static int
postgres_passfile_write(const char *path, const char *password,
			struct cairn_error *err)
{
	char *line, *q;
	const char *p;
	size_t length;
	ssize_t put;
	int fd, rc = -1;

	length = strlen(password) * 2 + 16;
	line = malloc(length);
	if (line == NULL) {
		postgres_error(err, "out of memory");
		return -1;
	}
	q = line;
	memcpy(q, "*:*:*:*:", 8);
	q += 8;
	for (p = password; *p != '\0'; p++) {
		if (*p == ':' || *p == '\\')
			*q++ = '\\';
		*q++ = *p;
	}
	*q++ = '\n';
	length = (size_t)(q - line);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd == -1) {
		postgres_error(err, "cannot create '%s': %s", path,
			       strerror(errno));
		goto out;
	}
	put = write(fd, line, length);
	if (put < 0 || (size_t)put != length || close(fd) == -1) {
		postgres_error(err, "cannot write '%s': %s", path,
			       strerror(errno));
		if (put < 0 || (size_t)put != length)
			close(fd);
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(line, length);
	free(line);
	return rc;
}

/* The environment variable libpq reads for a keyword, or NULL. */
static const char *
postgres_envvar(PQconninfoOption *defaults, const char *keyword)
{
	PQconninfoOption *o;

	for (o = defaults; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return o->envvar;
	return NULL;
}

int
postgres_session_init(struct postgres_session *s,
		      const struct postgres_config *cfg,
		      const struct cairn_host *host, const char *target,
		      struct cairn_error *err)
{
	PQconninfoOption *defaults = NULL;
	char *set[POSTGRES_PARAMS_MAX + 4];
	const char *tmp, *var;
	char path[PATH_MAX];
	size_t i, n = 0;
	int rc = -1, len;

	memset(s, 0, sizeof(*s));
	memset(set, 0, sizeof(set));
	if (postgres_endpoint_init(&s->ep, cfg, host, target, err) == -1)
		return -1;
	if (s->ep.password != NULL) {
		tmp = getenv("TMPDIR");
		if (tmp == NULL || tmp[0] == '\0')
			tmp = "/tmp";
		len = snprintf(path, sizeof(path), "%s/cairn-pg.XXXXXX", tmp);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			postgres_error(err, "TMPDIR '%s' is too long", tmp);
			goto out;
		}
		/* mkdtemp creates the directory 0700. */
		if (mkdtemp(path) == NULL) {
			postgres_error(err,
				       "cannot create a private directory "
				       "in '%s': %s",
				       tmp, strerror(errno));
			goto out;
		}
		s->tmpdir = strdup(path);
		if (s->tmpdir == NULL)
			goto oom;
		len = snprintf(path, sizeof(path), "%s/pgpass", s->tmpdir);
		if (len < 0 || (size_t)len >= sizeof(path))
			goto oom;
		s->passfile = strdup(path);
		if (s->passfile == NULL)
			goto oom;
		if (postgres_passfile_write(s->passfile, s->ep.password, err) ==
		    -1)
			goto out;
	}
	defaults = PQconndefaults();
	if (defaults == NULL)
		goto oom;
	for (i = 0; i < s->ep.params.count; i++) {
		var = postgres_envvar(defaults, s->ep.params.keys[i]);
		if (var == NULL) {
			postgres_error(err,
				       "connection parameter '%s' cannot be "
				       "handed to the PostgreSQL client "
				       "programs",
				       s->ep.params.keys[i]);
			goto out;
		}
		len = snprintf(path, sizeof(path), "%s=%s", var,
			       s->ep.params.values[i]);
		if (len < 0 || (size_t)len >= sizeof(path) ||
		    (set[n++] = strdup(path)) == NULL)
			goto oom;
	}
	if (s->passfile != NULL) {
		len = snprintf(path, sizeof(path), "PGPASSFILE=%s",
			       s->passfile);
		if (len < 0 || (size_t)len >= sizeof(path) ||
		    (set[n++] = strdup(path)) == NULL)
			goto oom;
	}
	if (postgres_params_get(&s->ep.params, "application_name") == NULL &&
	    (set[n++] = strdup("PGAPPNAME=cairn")) == NULL)
		goto oom;
	s->envp = postgres_env_build((const char *const *)set, n);
	if (s->envp == NULL)
		goto oom;
	rc = 0;
	goto out;
oom:
	postgres_error(err, "out of memory");
out:
	for (i = 0; i < n; i++)
		free(set[i]);
	PQconninfoFree(defaults);
	if (rc == -1)
		postgres_session_release(s);
	return rc;
}

void
postgres_session_release(struct postgres_session *s)
{
	int fd;

	if (s->passfile != NULL) {
		/* Overwrite before unlinking; the file is tiny. */
		fd = open(s->passfile, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			struct stat st;

			if (fstat(fd, &st) == 0 && st.st_size > 0) {
				char zeros[256];
				off_t left = st.st_size;

				memset(zeros, 0, sizeof(zeros));
				while (left > 0) {
					size_t chunk = left > 256
							       ? 256
							       : (size_t)left;

					if (write(fd, zeros, chunk) <= 0)
						break;
					left -= (off_t)chunk;
				}
			}
			close(fd);
		}
		unlink(s->passfile);
		free(s->passfile);
	}
	if (s->tmpdir != NULL) {
		rmdir(s->tmpdir);
		free(s->tmpdir);
	}
	postgres_env_free(s->envp);
	free(s->bin_dir);
	postgres_endpoint_release(&s->ep);
	memset(s, 0, sizeof(*s));
}

int
postgres_tool_version(const char *bin_dir, const char *prog, char *const *envp,
		      int *version, char *text, size_t text_size,
		      struct cairn_error *err)
{
	const char *argv[] = {prog, "--version", NULL};
	struct postgres_child child;
	char buf[512];
	size_t n = 0, i;

	postgres_child_init(&child);
	if (postgres_child_spawn(&child, bin_dir, prog, argv, envp,
				 POSTGRES_CHILD_STDOUT, err) == -1)
		return -1;
	if (postgres_child_read(&child, buf, sizeof(buf) - 1, &n, err) == -1) {
		postgres_child_kill(&child);
		return -1;
	}
	if (postgres_child_wait(&child, err) == -1)
		return -1;
	buf[n] = '\0';
	for (i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = '\0';
	*version = postgres_version_parse(buf);
	if (*version <= 0) {
		postgres_error(err, "cannot read the version of '%s/%s': '%s'",
			       bin_dir, prog, buf);
		return -1;
	}
	/* "pg_dump (PostgreSQL) 15.20 (Debian ...)" -> "15.20 (Debian ...)" */
	{
		const char *p = strstr(buf, ") ");

		snprintf(text, text_size, "%s",
			 p != NULL && strncmp(buf, prog, strlen(prog)) == 0
				 ? p + 2
				 : buf);
	}
	return 0;
}

/* Candidate client directories: Debian's, then those on PATH. */
static int
postgres_client_candidates(struct postgres_list *dirs)
{
	char resolved[PATH_MAX], path[PATH_MAX];
	const char *env;
	char *copy, *dir, *save = NULL;
	glob_t g;
	size_t i;
	int n;

	memset(&g, 0, sizeof(g));
	if (glob("/usr/lib/postgresql/*/bin", GLOB_NOSORT, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			if (realpath(g.gl_pathv[i], resolved) != NULL &&
			    !postgres_list_contains(dirs, resolved) &&
			    postgres_list_add(dirs, resolved) == -1) {
				globfree(&g);
				return -1;
			}
	}
	globfree(&g);
	env = getenv("PATH");
	if (env == NULL)
		return 0;
	copy = strdup(env);
	if (copy == NULL)
		return -1;
	for (dir = strtok_r(copy, ":", &save); dir != NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		n = snprintf(path, sizeof(path), "%s/pg_dump", dir);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		/* Debian's /usr/bin/pg_dump is a wrapper: follow it. */
		if (realpath(path, resolved) == NULL)
			continue;
		*strrchr(resolved, '/') = '\0';
		if (!postgres_list_contains(dirs, resolved) &&
		    postgres_list_add(dirs, resolved) == -1) {
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

int
postgres_session_choose_client(struct postgres_session *s,
			       const struct postgres_config *cfg,
			       int server_version, struct cairn_error *err)
{
	struct postgres_list dirs = {NULL, 0};
	struct cairn_error ignored;
	char texts[16][64], major[16], found[512];
	int versions[16];
	size_t i, n = 0, used = 0;
	int pick, rc = -1;

	postgres_version_major_text(server_version, major, sizeof(major));
	if (cfg->bin_dir != NULL) {
		if (postgres_tool_version(cfg->bin_dir, "pg_dump", s->envp,
					  &s->client_version,
					  s->client_version_text,
					  sizeof(s->client_version_text),
					  err) == -1)
			return -1;
		if (postgres_version_major(s->client_version) <
		    postgres_version_major(server_version)) {
			postgres_error(err,
				       "'pg-bin-dir': pg_dump %s in '%s' is "
				       "older than the server '%s' "
				       "(PostgreSQL %s): set it to a client "
				       "of version %s or newer",
				       s->client_version_text, cfg->bin_dir,
				       s->ep.label, major, major);
			return -1;
		}
		s->bin_dir = strdup(cfg->bin_dir);
		if (s->bin_dir == NULL) {
			postgres_error(err, "out of memory");
			return -1;
		}
		return 0;
	}
	if (postgres_client_candidates(&dirs) == -1) {
		postgres_error(err, "out of memory");
		goto out;
	}
	found[0] = '\0';
	for (i = 0; i < dirs.count && n < 16; i++) {
		if (postgres_tool_version(dirs.items[i], "pg_dump", s->envp,
					  &versions[n], texts[n],
					  sizeof(texts[n]), &ignored) == -1)
			continue;
		if (used < sizeof(found)) {
			int w = snprintf(found + used, sizeof(found) - used,
					 "%s%s in '%s'", used ? ", " : "",
					 texts[n], dirs.items[i]);

			if (w > 0)
				used += (size_t)w;
		}
		/* Keep the directory's index aligned with versions[]. */
		if (i != n) {
			char *tmp = dirs.items[n];

			dirs.items[n] = dirs.items[i];
			dirs.items[i] = tmp;
		}
		n++;
	}
	pick = postgres_client_pick(versions, n, server_version);
	if (pick < 0) {
		postgres_error(err,
			       "no pg_dump can dump the server '%s' "
			       "(PostgreSQL %s): found %s; install "
			       "postgresql-client-%s or set 'pg-bin-dir'",
			       s->ep.label, major,
			       found[0] != '\0' ? found : "none", major);
		goto out;
	}
	s->bin_dir = strdup(dirs.items[pick]);
	if (s->bin_dir == NULL) {
		postgres_error(err, "out of memory");
		goto out;
	}
	s->client_version = versions[pick];
	snprintf(s->client_version_text, sizeof(s->client_version_text), "%s",
		 texts[pick]);
	rc = 0;
out:
	postgres_list_free(&dirs);
	return rc;
}
