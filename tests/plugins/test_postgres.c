/*
 * Tests of the postgres plugin against the fake host: configuration
 * errors that point at the right setting, database name encoding, version
 * parsing and the choice of a client, target URIs, row count files,
 * psql's SQLSTATEs and child processes. When CAIRN_TEST_PG_PORT and
 * CAIRN_TEST_PG_PASSWORD_FILE name a running server (user postgres on
 * 127.0.0.1), a backup, restores and a drill run against it too, and
 * when CAIRN_TEST_PG_TARGET is the URI of a second, empty server, a full
 * restore into it.
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_host.h"
#include "postgres.h"

#define SETTINGS(...)                                                          \
	struct cairn_setting settings[] = {__VA_ARGS__};                       \
	struct cairn_job_config config =                                       \
		{"db",                                                         \
		 "cairn.conf",                                                 \
		 10,                                                           \
		 settings,                                                     \
		 sizeof(settings) / sizeof(settings[0]),                       \
		 0}

static struct postgres_config *
configure_ok(const struct cairn_job_config *config)
{
	struct postgres_config *cfg = NULL;
	struct cairn_error err;

	memset(&err, 0, sizeof(err));
	if (postgres_config_parse(config, &cfg, &err) == -1)
		fail_msg("configure failed: %s", err.message);
	return cfg;
}

/* Configures and expects a failure pointing at settings[index]. */
static void
configure_fails(const struct cairn_job_config *config, size_t index,
		const char *needle)
{
	struct postgres_config *cfg = NULL;
	struct cairn_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(postgres_config_parse(config, &cfg, &err), -1);
	assert_null(cfg);
	assert_ptr_equal(err.setting, &config->settings[index]);
	if (strstr(err.message, needle) == NULL)
		fail_msg("'%s' does not mention '%s'", err.message, needle);
}

static void
test_config_full(void **state)
{
	SETTINGS({"host", "127.0.0.1", 11}, {"port", "40432", 12},
		 {"user", "postgres", 13},
		 {"password-file", "/etc/cairn/secrets/pg", 14},
		 {"databases", "payment_gateway, merchant \"Legacy Reports\"",
		  15},
		 {"exclude-databases", "tmp_*", 16}, {"format", "plain", 17},
		 {"jobs", "4", 18}, {"sslmode", "verify-full", 19},
		 {"drill-target", "postgresql://postgres@127.0.0.1:5433", 20},
		 {"drill-user", "postgres", 21});
	struct postgres_config *cfg;

	(void)state;
	cfg = configure_ok(&config);
	assert_string_equal(postgres_params_get(&cfg->params, "host"),
			    "127.0.0.1");
	assert_string_equal(postgres_params_get(&cfg->params, "port"), "40432");
	assert_string_equal(postgres_params_get(&cfg->params, "sslmode"),
			    "verify-full");
	assert_string_equal(postgres_params_get(&cfg->params,
						"connect_timeout"),
			    "10");
	assert_null(postgres_params_get(&cfg->params, "password"));
	assert_string_equal(cfg->password_file, "/etc/cairn/secrets/pg");
	assert_int_equal(cfg->databases.count, 3);
	assert_string_equal(cfg->databases.items[2], "Legacy Reports");
	assert_int_equal(cfg->excludes.count, 1);
	assert_int_equal(cfg->format, POSTGRES_FORMAT_PLAIN);
	assert_int_equal(cfg->jobs, 4);
	assert_non_null(cfg->drill_target);
	assert_string_equal(cfg->drill_user, "postgres");
	postgres_config_free(cfg);
}

static void
test_config_defaults(void **state)
{
	struct cairn_job_config config = {"old", "cairn.conf", 1, NULL, 0, 1};
	struct postgres_config *cfg;

	(void)state;
	cfg = configure_ok(&config);
	assert_int_equal(cfg->format, POSTGRES_FORMAT_CUSTOM);
	assert_int_equal(cfg->jobs, 1);
	assert_int_equal(cfg->databases.count, 0);
	assert_null(cfg->bin_dir);
	assert_int_equal(cfg->restore_only, 1);
	postgres_config_free(cfg);
}

static void
test_config_errors(void **state)
{
	(void)state;
	{
		SETTINGS({"host", "h", 11}, {"port", "99999", 12});
		configure_fails(&config, 1, "'port'");
	}
	{
		SETTINGS({"port", "54x", 12});
		configure_fails(&config, 0, "'54x'");
	}
	{
		SETTINGS({"sslmode", "maybe", 12});
		configure_fails(&config, 0, "'sslmode'");
	}
	{
		SETTINGS({"format", "directory", 12});
		configure_fails(&config, 0, "custom or plain");
	}
	{
		SETTINGS({"host", "a", 1}, {"jobs", "0", 2});
		configure_fails(&config, 1, "'jobs'");
	}
	{
		SETTINGS({"databases", "all merchant", 3});
		configure_fails(&config, 0, "'all'");
	}
	{
		SETTINGS({"databases", "\"open", 3});
		configure_fails(&config, 0, "unterminated quote");
	}
	{
		SETTINGS({"host", "a", 3}, {"host", "b", 4});
		configure_fails(&config, 1, "line 3");
	}
	{
		SETTINGS({"user", "", 3});
		configure_fails(&config, 0, "'user' is empty");
	}
	{
		SETTINGS({"pg-bin-dir", "/nonexistent/bin", 3});
		configure_fails(&config, 0, "'pg-bin-dir'");
	}
	{
		SETTINGS({"pg-bin-dir", "/", 3});
		configure_fails(&config, 0, "no executable 'pg_dump'");
	}
	{
		SETTINGS({"drill-target", "postgresql://h/x?nosuch=1", 3});
		configure_fails(&config, 0, "'drill-target'");
	}
	{
		SETTINGS({"connect-timeout", "-1", 3});
		configure_fails(&config, 0, "'connect-timeout'");
	}
	{
		SETTINGS({"databases",
			  "a_name_that_is_far_too_long_for_postgresql_to_"
			  "accept_as_a_database_name",
			  3});
		configure_fails(&config, 0, "63 bytes");
	}
}

static void
test_list_parse(void **state)
{
	struct postgres_list list = {NULL, 0};
	struct cairn_error err;

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(postgres_list_parse(" a,b  \"c d\",\"say \"\"hi\"\"\"",
					     &list, &err),
			 0);
	assert_int_equal(list.count, 4);
	assert_string_equal(list.items[0], "a");
	assert_string_equal(list.items[1], "b");
	assert_string_equal(list.items[2], "c d");
	assert_string_equal(list.items[3], "say \"hi\"");
	postgres_list_free(&list);
	assert_int_equal(postgres_list_parse("\"a\"b", &list, &err), -1);
	assert_non_null(strstr(err.message, "after a closing quote"));
	assert_int_equal(postgres_list_parse("\"\"", &list, &err), -1);
	assert_int_equal(list.count, 0);
}

static void
test_name_encoding(void **state)
{
	static const char *const names[] = {
		"payment_gateway", "Legacy Reports", "a/b", "100%",
		"tab\there",	   "ünïcode",	     "..",  ".cairn",
	};
	char *encoded, *decoded, *name;
	const char *suffix;
	size_t i;

	(void)state;
	encoded = postgres_name_encode("a/b%c d\n");
	assert_string_equal(encoded, "a%2Fb%25c%20d%0A");
	free(encoded);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		encoded = postgres_name_encode(names[i]);
		assert_null(strchr(encoded, '/'));
		assert_null(strchr(encoded, ' '));
		decoded = postgres_name_decode(encoded);
		assert_string_equal(decoded, names[i]);
		free(encoded);
		free(decoded);
	}
	assert_null(postgres_name_decode("bad%2"));
	assert_null(postgres_name_decode("bad%zz"));
	assert_null(postgres_name_decode("nul%00"));

	assert_int_equal(postgres_entry_parse("databases/Legacy%20Reports.dump",
					      &name, &suffix),
			 0);
	assert_string_equal(name, "Legacy Reports");
	assert_string_equal(suffix, "dump");
	free(name);
	assert_int_equal(postgres_entry_parse("databases/a.b.rowcounts", &name,
					      &suffix),
			 0);
	assert_string_equal(name, "a.b");
	assert_string_equal(suffix, "rowcounts");
	free(name);
	assert_int_equal(postgres_entry_parse("databases/x.sql", &name,
					      &suffix),
			 0);
	free(name);
	assert_int_equal(postgres_entry_parse("globals.sql", &name, &suffix),
			 -1);
	assert_int_equal(postgres_entry_parse("databases/x.tar", &name,
					      &suffix),
			 -1);
	assert_int_equal(postgres_entry_parse("databases/a/b.dump", &name,
					      &suffix),
			 -1);
	assert_int_equal(postgres_entry_parse("databases/.dump", &name,
					      &suffix),
			 -1);
}

static void
test_versions(void **state)
{
	char text[16];

	(void)state;
	assert_int_equal(postgres_version_parse(
				 "pg_dump (PostgreSQL) 15.20 (Debian "
				 "15.20-0+deb12u1)"),
			 150020);
	assert_int_equal(postgres_version_parse("16.1"), 160001);
	assert_int_equal(postgres_version_parse("17beta1"), 170000);
	assert_int_equal(postgres_version_parse("9.6.24"), 90624);
	assert_int_equal(postgres_version_parse("no digits"), -1);
	assert_int_equal(postgres_version_major(150020), 1500);
	assert_true(postgres_version_major(90624) <
		    postgres_version_major(100001));
	assert_int_equal(postgres_version_major(90624), 906);
	postgres_version_major_text(90624, text, sizeof(text));
	assert_string_equal(text, "9.6");
	postgres_version_major_text(160002, text, sizeof(text));
	assert_string_equal(text, "16");
}

static void
test_client_pick(void **state)
{
	const int versions[] = {140010, 160003, 150020, -1};

	(void)state;
	/* The newest that is not older than the server. */
	assert_int_equal(postgres_client_pick(versions, 4, 150004), 1);
	assert_int_equal(postgres_client_pick(versions, 4, 160000), 1);
	/* A minor release older than the server is fine. */
	assert_int_equal(postgres_client_pick(versions, 1, 140011), 0);
	assert_int_equal(postgres_client_pick(versions, 4, 170000), -1);
	assert_int_equal(postgres_client_pick(versions, 0, 150000), -1);
	assert_int_equal(postgres_client_pick(versions, 4, 90624), 1);
}

static void
test_psql_sqlstate(void **state)
{
	char sqlstate[6];
	const char *message;

	(void)state;
	assert_int_equal(
		postgres_psql_sqlstate("psql:<stdin>:14: ERROR:  42710: role "
				       "\"alice\" already exists",
				       sqlstate, &message),
		1);
	assert_string_equal(sqlstate, "42710");
	assert_string_equal(message, "role \"alice\" already exists");
	assert_true(postgres_sqlstate_is_error(sqlstate));
	assert_int_equal(
		postgres_psql_sqlstate("psql:<stdin>:3: NOTICE:  00000: role "
				       "\"a\" is already a member",
				       sqlstate, &message),
		1);
	assert_false(postgres_sqlstate_is_error(sqlstate));
	assert_int_equal(postgres_psql_sqlstate("LOCATION:  foo.c:12", sqlstate,
						&message),
			 0);
	assert_int_equal(postgres_psql_sqlstate("psql:<stdin>:3: ERROR:  "
						"syntax",
						sqlstate, &message),
			 0);
}

static void
test_rowcounts(void **state)
{
	struct postgres_rowcounts rc, back;
	struct cairn_error err;
	const struct postgres_rowcount *found;
	size_t length;
	char *text;

	(void)state;
	memset(&rc, 0, sizeof(rc));
	memset(&err, 0, sizeof(err));
	assert_int_equal(postgres_rowcounts_add(&rc, "public", "orders",
						200000),
			 0);
	assert_int_equal(postgres_rowcounts_add(&rc, "odd\tschema",
						"100% \"quoted\"\ntable", 3),
			 0);
	rc.large_objects = 2;
	text = postgres_rowcounts_format(&rc, &length);
	assert_non_null(text);
	assert_int_equal(strlen(text), length);
	assert_int_equal(postgres_rowcounts_parse(text, length, &back, &err),
			 0);
	assert_int_equal(back.count, 2);
	assert_int_equal(back.large_objects, 2);
	found = postgres_rowcounts_find(&back, "odd\tschema",
					"100% \"quoted\"\ntable");
	assert_non_null(found);
	assert_int_equal(found->rows, 3);
	assert_int_equal(postgres_rowcounts_find(&back, "public", "orders")
				 ->rows,
			 200000);
	postgres_rowcounts_free(&back);
	free(text);
	postgres_rowcounts_free(&rc);
	assert_int_equal(postgres_rowcounts_parse("nonsense\n", 9, &back, &err),
			 -1);
	{
		const char *bad = "cairn-rowcounts 1\ntable\ta\tb\tx\n";

		assert_int_equal(postgres_rowcounts_parse(bad, strlen(bad),
							  &back, &err),
				 -1);
	}
	assert_non_null(strstr(err.message, "line 2"));
}

static char password_path[64];

static void
write_password(const char *password)
{
	FILE *file;

	snprintf(password_path, sizeof(password_path),
		 "/tmp/test_postgres.%ld.pw", (long)getpid());
	file = fopen(password_path, "w");
	assert_non_null(file);
	fprintf(file, "%s\n", password);
	fclose(file);
}

static void
test_endpoint_target(void **state)
{
	struct fake_host fh;
	struct postgres_endpoint ep;
	struct postgres_config *cfg;
	struct cairn_error err;

	(void)state;
	write_password("job-secret");
	{
		SETTINGS({"host", "10.0.0.1", 1}, {"port", "40432", 2},
			 {"user", "backup", 3},
			 {"password-file", password_path, 4},
			 {"sslmode", "require", 5});
		cfg = configure_ok(&config);
	}
	fake_host_init(&fh);
	memset(&err, 0, sizeof(err));

	/* The job's own server, with the job's password. */
	assert_int_equal(postgres_endpoint_init(&ep, cfg, &fh.host, NULL, &err),
			 0);
	assert_string_equal(ep.label, "10.0.0.1:40432");
	assert_string_equal(ep.password, "job-secret");
	assert_null(ep.maintenance_db);
	postgres_endpoint_release(&ep);

	/* A target URI wins, its password too; TLS settings stay. */
	assert_int_equal(
		postgres_endpoint_init(
			&ep, cfg, &fh.host,
			"postgresql://restorer:uri%3Asecret@127.0.0.1:5433/"
			"admin?sslmode=disable",
			&err),
		0);
	assert_string_equal(ep.label, "127.0.0.1:5433");
	assert_string_equal(postgres_params_get(&ep.params, "user"),
			    "restorer");
	assert_string_equal(postgres_params_get(&ep.params, "sslmode"),
			    "disable");
	assert_string_equal(ep.password, "uri:secret");
	assert_string_equal(ep.maintenance_db, "admin");
	assert_string_equal(postgres_endpoint_admin_db(&ep, "x"), "admin");
	assert_string_equal(postgres_endpoint_admin_db(&ep, "admin"),
			    "template1");
	postgres_endpoint_release(&ep);

	/* Another user without a password: not the job's password. */
	assert_int_equal(postgres_endpoint_init(&ep, cfg, &fh.host,
						"postgresql://other@h2", &err),
			 0);
	assert_null(ep.password);
	assert_string_equal(ep.label, "h2:40432");
	postgres_endpoint_release(&ep);

	/* The job's user, or none, without a password: the job's. */
	assert_int_equal(postgres_endpoint_init(&ep, cfg, &fh.host,
						"postgresql://h3:1234", &err),
			 0);
	assert_string_equal(ep.password, "job-secret");
	assert_string_equal(postgres_endpoint_admin_db(&ep, "postgres"),
			    "template1");
	postgres_endpoint_release(&ep);

	assert_int_equal(postgres_endpoint_init(&ep, cfg, &fh.host,
						"postgresql://h/x?nosuch=1",
						&err),
			 -1);
	assert_non_null(strstr(err.message, "not a libpq connection URI"));
	assert_null(strstr(err.message, "\n"));

	postgres_config_free(cfg);
	fake_host_release(&fh);
	unlink(password_path);
}

static void
test_session_passfile(void **state)
{
	struct fake_host fh;
	struct postgres_session s;
	struct postgres_config *cfg;
	struct cairn_error err;
	char line[128], tmpdir[256];
	FILE *file;
	size_t i;
	int found_passfile = 0, found_host = 0;

	(void)state;
	write_password("p:w\\d");
	{
		SETTINGS({"host", "127.0.0.1", 1},
			 {"password-file", password_path, 2});
		cfg = configure_ok(&config);
	}
	fake_host_init(&fh);
	memset(&err, 0, sizeof(err));
	setenv("PGPASSWORD", "leaked", 1);
	assert_int_equal(postgres_session_init(&s, cfg, &fh.host, NULL, &err),
			 0);
	unsetenv("PGPASSWORD");
	assert_non_null(s.passfile);
	assert_int_equal(access(s.passfile, R_OK), 0);
	file = fopen(s.passfile, "r");
	assert_non_null(fgets(line, sizeof(line), file));
	fclose(file);
	assert_string_equal(line, "*:*:*:*:p\\:w\\\\d\n");
	for (i = 0; s.envp[i] != NULL; i++) {
		assert_null(strstr(s.envp[i], "PGPASSWORD"));
		assert_null(strstr(s.envp[i], "p:w"));
		if (strncmp(s.envp[i], "PGPASSFILE=", 11) == 0)
			found_passfile = 1;
		if (strcmp(s.envp[i], "PGHOST=127.0.0.1") == 0)
			found_host = 1;
	}
	assert_true(found_passfile);
	assert_true(found_host);
	snprintf(tmpdir, sizeof(tmpdir), "%s", s.tmpdir);
	postgres_session_release(&s);
	/* The private directory is gone. */
	assert_int_equal(access(tmpdir, F_OK), -1);
	postgres_config_free(cfg);
	fake_host_release(&fh);
	unlink(password_path);
}

static void
test_dbname_arg(void **state)
{
	char *arg;

	(void)state;
	arg = postgres_dbname_arg("it's a\\b=c");
	assert_string_equal(arg, "dbname='it\\'s a\\\\b=c'");
	free(arg);
}

static void
test_child(void **state)
{
	const char *cat[] = {"cat", NULL};
	const char *sh[] = {"sh", "-c", "echo oops >&2; exit 3", NULL};
	const char *kill_self[] = {"sh", "-c", "echo partial; kill -9 $$",
				   NULL};
	struct postgres_child c;
	struct cairn_error err;
	char *envp[] = {NULL};
	char buf[64];
	size_t n;

	(void)state;
	memset(&err, 0, sizeof(err));
	postgres_child_init(&c);
	assert_int_equal(postgres_child_spawn(&c, "/bin", "cat", cat, envp,
					      POSTGRES_CHILD_STDIN |
						      POSTGRES_CHILD_STDOUT,
					      &err),
			 0);
	assert_int_equal(postgres_child_write(&c, "hello", 5, &err), 0);
	close(c.in_fd);
	c.in_fd = -1;
	assert_int_equal(postgres_child_read(&c, buf, sizeof(buf), &n, &err),
			 0);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(postgres_child_wait(&c, &err), 0);

	postgres_child_init(&c);
	assert_int_equal(postgres_child_spawn(&c, "/bin", "sh", sh, envp,
					      POSTGRES_CHILD_STDOUT, &err),
			 0);
	assert_int_equal(postgres_child_read(&c, buf, sizeof(buf), &n, &err),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(postgres_child_wait(&c, &err), -1);
	assert_string_equal(err.message, "'sh' exited with status 3: oops");

	postgres_child_init(&c);
	assert_int_equal(postgres_child_spawn(&c, "/bin", "sh", kill_self, envp,
					      POSTGRES_CHILD_STDOUT, &err),
			 0);
	assert_int_equal(postgres_child_read(&c, buf, sizeof(buf), &n, &err),
			 0);
	assert_int_equal(postgres_child_wait(&c, &err), -1);
	assert_non_null(strstr(err.message, "killed by signal 9"));

	/* Writing to a child that exited is an error, not a SIGPIPE. */
	postgres_child_init(&c);
	assert_int_equal(postgres_child_spawn(&c, "/bin", "sh", sh, envp,
					      POSTGRES_CHILD_STDIN, &err),
			 0);
	{
		static char big[4 << 20];

		assert_int_equal(postgres_child_write(&c, big, sizeof(big),
						      &err),
				 -1);
	}
	assert_int_equal(postgres_child_wait(&c, &err), -1);
	postgres_child_kill(&c);

	postgres_child_init(&c);
	assert_int_equal(postgres_child_spawn(&c, "/nonexistent", "pg_dump",
					      cat, envp, 0, &err),
			 -1);
	assert_non_null(strstr(err.message, "/nonexistent/pg_dump"));
}

/* --- against a real server, when one is given ----------------------- */

static const char *
live_port(void)
{
	const char *port = getenv("CAIRN_TEST_PG_PORT");

	return port != NULL && getenv("CAIRN_TEST_PG_PASSWORD_FILE") != NULL
		       ? port
		       : NULL;
}

/* Runs SQL on the live server as the test user; returns the first value. */
static char *
live_sql(const char *port, const char *dbname, const char *sql)
{
	const char *keys[] = {"host",	"port",	   "user", "passfile",
			      "dbname", "options", NULL};
	const char *values[] = {"127.0.0.1", port,
				"postgres",  NULL,
				dbname,	     "-c client_min_messages=warning",
				NULL};
	char passfile[] = "/tmp/test_postgres.pgpass.XXXXXX";
	struct fake_host fh;
	struct cairn_error err;
	char *password = NULL, *value = NULL;
	PGresult *res;
	PGconn *conn;
	FILE *file;
	int fd;

	fake_host_init(&fh);
	assert_int_equal(
		fh.host.secret_read(&fh.host,
				    getenv("CAIRN_TEST_PG_PASSWORD_FILE"),
				    &password, &err),
		0);
	fd = mkstemp(passfile);
	assert_true(fd >= 0);
	file = fdopen(fd, "w");
	fprintf(file, "*:*:*:*:%s\n", password);
	fclose(file);
	fh.host.secret_free(password);
	values[3] = passfile;
	conn = PQconnectdbParams(keys, values, 0);
	unlink(passfile);
	assert_int_equal(PQstatus(conn), CONNECTION_OK);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(conn));
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
		value = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	fake_host_release(&fh);
	return value;
}

static void
test_live_roundtrip(void **state)
{
	const char *port = live_port();
	struct cairn_restore_options ropts;
	struct cairn_drill_options dopts;
	struct fake_host fh;
	struct cairn_error err;
	const struct fake_entry *e;
	void *plugin_state = NULL;
	char target[256];
	size_t i;

	(void)state;
	if (port == NULL) {
		skip();
		return;
	}
	snprintf(target, sizeof(target), "postgresql://postgres@127.0.0.1:%s",
		 port);
	{
		SETTINGS({"host", "127.0.0.1", 1}, {"port", port, 2},
			 {"user", "postgres", 3},
			 {"password-file",
			  getenv("CAIRN_TEST_PG_PASSWORD_FILE"), 4},
			 {"jobs", "2", 5}, {"drill-target", target, 6});

		free(live_sql(port, "postgres",
			      "DROP DATABASE IF EXISTS \"cairn fake/test\""));
		free(live_sql(port, "postgres",
			      "CREATE DATABASE \"cairn fake/test\""));
		free(live_sql(
			port, "cairn fake/test",
			"CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v "
			"FROM generate_series(1, 5000) g"));
		free(live_sql(port, "cairn fake/test",
			      "SELECT lo_from_bytea(0, 'large object')"));
		fake_host_init(&fh);
		memset(&err, 0, sizeof(err));
		assert_int_equal(cairn_plugin_entry.configure(&fh.host, &config,
							      &plugin_state,
							      &err),
				 0);
	}
	if (cairn_plugin_entry.check(plugin_state, &fh.host,
				     fake_host_report(&fh), &err) == -1)
		fail_msg("check: %s", err.message);
	if (cairn_plugin_entry.backup(plugin_state, &fh.host,
				      fake_host_sink(&fh), &err) == -1)
		fail_msg("backup: %s", err.message);
	e = fake_host_entry(&fh, "globals.sql");
	assert_non_null(e);
	assert_true(e->length > 0);
	assert_non_null(fake_host_fact(&fh, "server.version"));
	assert_non_null(fake_host_fact(&fh, "client.version"));
	assert_non_null(fake_host_fact(&fh, "databases"));
	e = fake_host_entry(&fh, "databases/postgres.dump");
	assert_non_null(e);
	assert_memory_equal(e->data, "PGDMP", 5);
	for (i = 0; i < fh.fact_count; i++)
		assert_null(strstr(fh.facts[i], "secret"));

	memset(&ropts, 0, sizeof(ropts));
	ropts.target = target;
	ropts.dry_run = 1;
	fake_host_rewind(&fh);
	/* Without --force the live databases refuse even a dry run. */
	assert_int_equal(cairn_plugin_entry.restore(plugin_state, &fh.host,
						    fake_host_source(&fh),
						    &ropts, &err),
			 -1);
	assert_non_null(strstr(err.message, "give --force"));
	ropts.force = 1;
	fake_host_rewind(&fh);
	if (cairn_plugin_entry.restore(plugin_state, &fh.host,
				       fake_host_source(&fh), &ropts,
				       &err) == -1)
		fail_msg("restore --dry-run: %s", err.message);
	assert_true(fake_host_logged(&fh, "would"));

	{
		const char *only[] = {"no_such_db"};

		ropts.only = only;
		ropts.only_count = 1;
		fake_host_rewind(&fh);
		assert_int_equal(cairn_plugin_entry.restore(plugin_state,
							    &fh.host,
							    fake_host_source(
								    &fh),
							    &ropts, &err),
				 -1);
		assert_non_null(strstr(err.message, "'no_such_db'"));
		assert_non_null(strstr(err.message, "'postgres'"));
	}

	/* A real restore of one database over itself, with --force. */
	{
		const char *only[] = {"cairn fake/test"};
		char *value;

		free(live_sql(port, "cairn fake/test", "DELETE FROM t"));
		ropts.only = only;
		ropts.only_count = 1;
		ropts.dry_run = 0;
		ropts.force = 1;
		fake_host_rewind(&fh);
		if (cairn_plugin_entry.restore(plugin_state, &fh.host,
					       fake_host_source(&fh), &ropts,
					       &err) == -1)
			fail_msg("restore: %s", err.message);
		value = live_sql(port, "cairn fake/test",
				 "SELECT count(*) FROM t");
		assert_string_equal(value, "5000");
		free(value);
		value = live_sql(
			port, "cairn fake/test",
			"SELECT count(*) FROM pg_largeobject_metadata");
		assert_string_equal(value, "1");
		free(value);
		assert_non_null(
			fake_host_entry(&fh,
					"databases/cairn%20fake%2Ftest.dump"));
		assert_string_equal(
			fake_host_fact(&fh,
				       "database.cairn%20fake%2Ftest.name"),
			"cairn fake/test");
	}

	/* A full restore into a second server, when there is one. */
	if (getenv("CAIRN_TEST_PG_TARGET") != NULL) {
		memset(&ropts, 0, sizeof(ropts));
		ropts.target = getenv("CAIRN_TEST_PG_TARGET");
		fake_host_rewind(&fh);
		if (cairn_plugin_entry.restore(plugin_state, &fh.host,
					       fake_host_source(&fh), &ropts,
					       &err) == -1) {
			for (i = 0; i < fh.log_count; i++)
				print_message("%s\n", fh.log_lines[i]);
			fail_msg("full restore: %s", err.message);
		}
		assert_true(fake_host_logged(&fh, "restored"));
		if (getenv("CAIRN_TEST_VERBOSE") != NULL)
			for (i = 0; i < fh.log_count; i++)
				print_message("%s\n", fh.log_lines[i]);
	}

	memset(&dopts, 0, sizeof(dopts));
	dopts.scratch_dir = "/tmp";
	fake_host_rewind(&fh);
	if (cairn_plugin_entry.drill(plugin_state, &fh.host,
				     fake_host_source(&fh), &dopts,
				     fake_host_report(&fh), &err) == -1) {
		for (i = 0; i < fh.report_count; i++)
			print_message("%s\n", fh.report_lines[i]);
		fail_msg("drill: %s", err.message);
	}
	cairn_plugin_entry.release(plugin_state);
	fake_host_release(&fh);
	free(live_sql(port, "postgres", "DROP DATABASE \"cairn fake/test\""));
}

static void
test_guc_list_split(void **state)
{
	struct postgres_list l;

	(void)state;
	assert_int_equal(postgres_guc_list_split("\"$user\", public, "
						 "\"Odd \"\"S\"\"\"",
						 &l),
			 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[0], "$user");
	assert_string_equal(l.items[1], "public");
	assert_string_equal(l.items[2], "Odd \"S\"");
	postgres_list_free(&l);
	assert_int_equal(postgres_guc_list_split("  ", &l), 0);
	assert_int_equal(l.count, 0);
	assert_int_equal(postgres_guc_list_split("a,", &l), -1);
	assert_int_equal(postgres_guc_list_split("\"open", &l), -1);
	assert_int_equal(postgres_guc_list_split("a b", &l), -1);
	assert_true(postgres_guc_is_list("search_path"));
	assert_true(postgres_guc_is_list("Search_Path"));
	assert_false(postgres_guc_is_list("DateStyle"));
}

static void
test_entry_suffixes(void **state)
{
	const char *suffix;
	char *name;

	(void)state;
	assert_int_equal(postgres_entry_parse("databases/a.b.database.sql",
					      &name, &suffix),
			 0);
	assert_string_equal(name, "a.b");
	assert_string_equal(suffix, "database.sql");
	free(name);
	assert_int_equal(postgres_entry_parse("databases/x%2Fy.grants", &name,
					      &suffix),
			 0);
	assert_string_equal(name, "x/y");
	assert_string_equal(suffix, "grants");
	free(name);
	assert_int_equal(postgres_entry_parse("databases/x.sql", &name,
					      &suffix),
			 0);
	assert_string_equal(suffix, "sql");
	free(name);
}

static int
report_has(const struct fake_host *fh, const char *needle)
{
	size_t i;

	for (i = 0; i < fh->report_count; i++)
		if (strstr(fh->report_lines[i], needle) != NULL)
			return 1;
	return 0;
}

static void
test_grants_compare(void **state)
{
	static const char want[] =
		"cairn-grants 1\n"
		"role\tapp_ro\tlogin\ttrue\n"
		"role\tapp_ro\tsuperuser\tfalse\n"
		"role\treaders\tlogin\tfalse\n"
		"membership\tapp_ro in readers\tadmin\tfalse\n"
		"table\tpublic.t\tacl\tapp_ro=r/owner,owner=arwdDxt/owner\n"
		"table\tpublic.t\towner\towner\n";
	static const char got[] = "cairn-grants 1\n"
				  "table\tpublic.t\towner\towner\n"
				  "table\tpublic.t\tacl\towner=arwdDxt/owner\n"
				  "role\tapp_ro\tsuperuser\tfalse\n"
				  "role\tapp_ro\tlogin\ttrue\n"
				  "role\tintruder\tlogin\ttrue\n";
	struct fake_host fh;
	size_t checks, differences;

	(void)state;
	fake_host_init(&fh);
	assert_int_equal(postgres_grants_compare(&fh.host,
						 fake_host_report(&fh), "",
						 want, strlen(want), want,
						 strlen(want), &checks,
						 &differences),
			 0);
	assert_int_equal(checks, 6);
	assert_int_equal(differences, 0);
	assert_int_equal(fh.report_count, 0);
	assert_int_equal(postgres_grants_compare(&fh.host,
						 fake_host_report(&fh),
						 "database 'd': ", want,
						 strlen(want), got, strlen(got),
						 &checks, &differences),
			 -1);
	/* readers and the membership missing, the acl, intruder new */
	assert_int_equal(differences, 4);
	assert_true(report_has(&fh, "role 'readers' is missing after the "
				    "restore"));
	assert_true(report_has(&fh, "membership 'app_ro in readers' is "
				    "missing"));
	assert_true(report_has(&fh, "database 'd': table 'public.t': acl is "
				    "'owner=arwdDxt/owner' after the restore, "
				    "'app_ro=r/owner,owner=arwdDxt/owner' at "
				    "backup time"));
	assert_true(report_has(&fh, "role 'intruder' appeared"));
	assert_int_equal(postgres_grants_compare(&fh.host,
						 fake_host_report(&fh), "",
						 "junk", 4, got, strlen(got),
						 &checks, &differences),
			 -1);
	fake_host_release(&fh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_full),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_list_parse),
		cmocka_unit_test(test_name_encoding),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_client_pick),
		cmocka_unit_test(test_psql_sqlstate),
		cmocka_unit_test(test_rowcounts),
		cmocka_unit_test(test_guc_list_split),
		cmocka_unit_test(test_entry_suffixes),
		cmocka_unit_test(test_grants_compare),
		cmocka_unit_test(test_endpoint_target),
		cmocka_unit_test(test_session_passfile),
		cmocka_unit_test(test_dbname_arg),
		cmocka_unit_test(test_child),
		cmocka_unit_test(test_live_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
