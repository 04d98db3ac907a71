/*
 * The kong plugin against the fake host and the Kong 3.x Admin API
 * emulator (tests/kong-emulator), started as a child process per test on
 * a free loopback port. The emulator is filled with the payment
 * platform's gateway by kong_tool.py, and gateways are compared with its
 * `dump` (every entity of every kind, without updated_at, and the
 * consumer group memberships).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_host.h"
#include "kong.h"

#ifndef KONG_EMULATOR
#error "KONG_EMULATOR must name tests/kong-emulator/kong_emulator.py"
#endif

struct emulator {
	pid_t pid;
	int port;
	char url[64];
};

static char scratch[] = "/tmp/test-kong.XXXXXX";
/* Every emulator started, so that a failed test does not leave one. */
static pid_t started[64];
static size_t started_count;
static char token_file[256];
static char wrong_token_file[256];

static void
tool_path(char *out, size_t size)
{
	const char *slash = strrchr(KONG_EMULATOR, '/');

	snprintf(out, size, "%.*s/kong_tool.py", (int)(slash - KONG_EMULATOR),
		 KONG_EMULATOR);
}

/*
 * A copy of a NULL-terminated argument vector, in the char *const[] that
 * exec takes; for the child about to exec, so never freed.
 */
static char **
owned_argv(const char *const *argv)
{
	size_t count = 0, i;
	char **copy;

	while (argv[count] != NULL)
		count++;
	copy = calloc(count + 1, sizeof(*copy));
	if (copy == NULL)
		_exit(127);
	for (i = 0; i < count; i++)
		if ((copy[i] = strdup(argv[i])) == NULL)
			_exit(127);
	return copy;
}

/* Starts the emulator with extra arguments (NULL-terminated). */
static void
emulator_start(struct emulator *e, ...)
{
	const char *argv[16] = {"python3", KONG_EMULATOR, "--port", "0"};
	char line[32] = {0};
	int fds[2], argc = 4;
	ssize_t got;
	size_t used = 0;
	va_list ap;

	va_start(ap, e);
	while ((argv[argc] = va_arg(ap, const char *)) != NULL && argc < 15)
		argc++;
	va_end(ap);
	assert_int_equal(pipe(fds), 0);
	e->pid = fork();
	assert_true(e->pid >= 0);
	if (e->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp("python3", owned_argv(argv));
		_exit(127);
	}
	close(fds[1]);
	if (started_count < sizeof(started) / sizeof(started[0]))
		started[started_count++] = e->pid;
	/* Up to the newline: the port may come in several writes. */
	while (used < sizeof(line) - 1 && strchr(line, '\n') == NULL &&
	       (got = read(fds[0], line + used, sizeof(line) - 1 - used)) > 0)
		used += (size_t)got;
	close(fds[0]);
	assert_non_null(strchr(line, '\n'));
	e->port = atoi(line);
	assert_true(e->port > 0);
	snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d", e->port);
}

static void
emulator_stop(struct emulator *e)
{
	size_t i;
	int status;

	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, &status, 0);
		for (i = 0; i < started_count; i++)
			if (started[i] == e->pid)
				started[i] = 0;
	}
	e->pid = 0;
}

/* Runs kong_tool.py with arguments; returns its stdout (malloc'd). */
static char *
tool(const char *format, ...)
{
	char command[2048], arguments[768], path[512], *out = NULL;
	size_t length = 0, got;
	char block[65536];
	va_list ap;
	FILE *pipe;

	va_start(ap, format);
	vsnprintf(arguments, sizeof(arguments), format, ap);
	va_end(ap);
	tool_path(path, sizeof(path));
	snprintf(command, sizeof(command), "python3 %s %s", path, arguments);
	pipe = popen(command, "r");
	assert_non_null(pipe);
	while ((got = fread(block, 1, sizeof(block), pipe)) > 0) {
		out = realloc(out, length + got + 1);
		memcpy(out + length, block, got);
		length += got;
		out[length] = '\0';
	}
	assert_int_equal(pclose(pipe), 0);
	return out ? out : strdup("");
}

static void
assert_same_gateway(const char *a, const char *b, const char *skip)
{
	char *left = tool("dump %s --token sekret %s", a, skip);
	char *right = tool("dump %s --token sekret %s", b, skip);

	assert_true(strlen(left) > 2);
	assert_string_equal(left, right);
	free(left);
	free(right);
}

static void
write_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");

	assert_non_null(file);
	fputs(text, file);
	fclose(file);
	chmod(path, 0600);
}

/* A job configuration from "key", "value" pairs, NULL-terminated. */
struct job {
	struct cairn_setting settings[16];
	struct cairn_job_config config;
};

static void
job_init(struct job *job, ...)
{
	va_list ap;
	size_t n = 0;
	const char *key;

	memset(job, 0, sizeof(*job));
	va_start(ap, job);
	while ((key = va_arg(ap, const char *)) != NULL) {
		job->settings[n].key = key;
		job->settings[n].value = va_arg(ap, const char *);
		job->settings[n].line = (int)n + 2;
		n++;
	}
	va_end(ap);
	job->config.job = "kong";
	job->config.file = "test.conf";
	job->config.section_line = 1;
	job->config.settings = job->settings;
	job->config.count = n;
}

static int
run_backup(struct fake_host *fh, const char *url, const char *token,
	   struct cairn_error *err)
{
	struct job job;
	void *state = NULL;
	int rc;

	job_init(&job, "admin-url", url, "token-file", token, "timeout", "20",
		 NULL);
	assert_int_equal(cairn_plugin_entry.configure(&fh->host, &job.config,
						      &state, err),
			 0);
	rc = cairn_plugin_entry.backup(state, &fh->host, fake_host_sink(fh),
				       err);
	cairn_plugin_entry.release(state);
	return rc;
}

static int
run_restore(struct fake_host *fh, const char *target, int dry_run, int force,
	    const char *only, struct cairn_error *err)
{
	struct cairn_restore_options options;
	const char *only_list[1] = {only};
	struct job job;
	void *state = NULL;
	int rc;

	job_init(&job, "token-file", token_file, NULL);
	job.config.restore_only = 1;
	assert_int_equal(cairn_plugin_entry.configure(&fh->host, &job.config,
						      &state, err),
			 0);
	memset(&options, 0, sizeof(options));
	options.target = target;
	options.dry_run = dry_run;
	options.force = force;
	options.only = only ? only_list : NULL;
	options.only_count = only ? 1 : 0;
	fake_host_rewind(fh);
	rc = cairn_plugin_entry.restore(state, &fh->host, fake_host_source(fh),
					&options, err);
	cairn_plugin_entry.release(state);
	return rc;
}

static void
test_configure_errors(void **unused)
{
	struct fake_host fh;
	struct cairn_error err;
	struct job job;
	void *state = NULL;

	(void)unused;
	fake_host_init(&fh);

	job_init(&job, "admin-url", "ftp://127.0.0.1:40081", NULL);
	assert_int_equal(cairn_plugin_entry.configure(&fh.host, &job.config,
						      &state, &err),
			 -1);
	assert_ptr_equal(err.setting, &job.settings[0]);
	assert_non_null(strstr(err.message, "http://"));

	job_init(&job, "admin-url", "http://127.0.0.1:40081", "timeout", "0",
		 NULL);
	assert_int_equal(cairn_plugin_entry.configure(&fh.host, &job.config,
						      &state, &err),
			 -1);
	assert_ptr_equal(err.setting, &job.settings[1]);

	job_init(&job, "admin-url", "http://127.0.0.1:40081", "headers",
		 "Kong-Admin-Token: x", NULL);
	assert_int_equal(cairn_plugin_entry.configure(&fh.host, &job.config,
						      &state, &err),
			 -1);
	assert_ptr_equal(err.setting, &job.settings[1]);

	job_init(&job, "admin-url", "http://127.0.0.1:40081", "token-file",
		 "/nonexistent/token", NULL);
	assert_int_equal(cairn_plugin_entry.configure(&fh.host, &job.config,
						      &state, &err),
			 -1);
	assert_ptr_equal(err.setting, &job.settings[1]);

	job_init(&job, "admin-url", "http://127.0.0.1:40081", "select-tags",
		 "a/b", NULL);
	assert_int_equal(cairn_plugin_entry.configure(&fh.host, &job.config,
						      &state, &err),
			 -1);
	assert_ptr_equal(err.setting, &job.settings[1]);

	job_init(&job, "timeout", "10", NULL);
	assert_int_equal(cairn_plugin_entry.configure(&fh.host, &job.config,
						      &state, &err),
			 -1);
	assert_non_null(strstr(err.message, "admin-url"));

	job.config.restore_only = 1;
	assert_int_equal(cairn_plugin_entry.configure(&fh.host, &job.config,
						      &state, &err),
			 0);
	cairn_plugin_entry.release(state);

	job_init(&job, "admin-url", "https://kong.internal:40081/", "headers",
		 "X-Env: prod, X-Team: payments", "workspace", "payments",
		 "select-tags", "payment,platform", NULL);
	assert_int_equal(cairn_plugin_entry.configure(&fh.host, &job.config,
						      &state, &err),
			 0);
	cairn_plugin_entry.release(state);
	fake_host_release(&fh);
}

static void
test_round_trip(void **unused)
{
	struct emulator source, target;
	struct fake_host fh;
	struct cairn_error err;
	const struct fake_entry *entry;
	struct json_value *document;
	const struct json_value *services, *certificates, *members, *member;
	char parse_error[128];
	char *out;

	(void)unused;
	emulator_start(&source, "--token", "sekret", NULL);
	emulator_start(&target, "--token", "sekret", NULL);
	free(tool("seed %s --token sekret", source.url));

	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, source.url, token_file, &err), 0);
	assert_string_equal(fake_host_fact(&fh, "kong.version"), "3.6.1");
	assert_string_equal(fake_host_fact(&fh, "kong.mode"), "db");
	assert_string_equal(fake_host_fact(&fh, "kong.count.services"), "16");
	assert_string_equal(fake_host_fact(&fh, "kong.count.routes"), "33");
	assert_string_equal(fake_host_fact(&fh, "kong.count.snis"), "3");
	assert_string_equal(fake_host_fact(&fh, "kong.count.targets"), "3");
	assert_string_equal(fake_host_fact(&fh, "kong.count.consumer_groups"),
			    "3");
	assert_string_equal(fake_host_fact(&fh, "kong.count.consumer_group_"
						"consumers"),
			    "4");
	assert_string_equal(fake_host_fact(&fh, "kong.entities"), "114");

	/* The document: nested children, the SNIs once. */
	entry = fake_host_entry(&fh, "kong.json");
	assert_non_null(entry);
	assert_int_equal(entry->meta.size, (int64_t)entry->length);
	document = json_parse((const char *)entry->data, entry->length,
			      parse_error, sizeof(parse_error));
	assert_non_null(document);
	assert_string_equal(json_get_string(document, "_format_version"),
			    "3.0");
	assert_int_equal(json_type(json_object_get(document, "_transform")),
			 JSON_BOOL);
	services = json_object_get(document, "services");
	assert_int_equal(json_length(services), 16);
	assert_int_equal(json_length(json_object_get(json_array_at(services, 0),
						     "routes")),
			 2);
	assert_null(json_object_get(document, "snis"));
	assert_null(json_object_get(document, "targets"));
	assert_int_equal(json_length(json_object_get(document, "routes")), 1);
	certificates = json_object_get(document, "certificates");
	assert_int_equal(json_length(certificates), 2);
	/* Memberships as Kong exports them: id pairs, no id of their own. */
	members = json_object_get(document, "consumer_group_consumers");
	assert_int_equal(json_length(members), 4);
	member = json_array_at(members, 0);
	assert_int_equal(json_length(member), 2);
	assert_int_equal(json_type(json_object_get(member, "consumer_group")),
			 JSON_STRING);
	assert_int_equal(json_type(json_object_get(member, "consumer")),
			 JSON_STRING);
	assert_null(json_object_get(member, "id"));
	json_free(document);

	/* Restore into an empty gateway. */
	assert_int_equal(run_restore(&fh, target.url, 0, 0, NULL, &err), 0);
	assert_true(fake_host_logged(&fh, "112 created, 0 updated, 0 "
					  "unchanged"));
	assert_true(fake_host_logged(&fh, "consumer_group_consumers: 4 "
					  "created, 0 updated, 0 unchanged"));
	/* Kong's PUT of a target only updates: they are POSTed. */
	assert_true(fake_host_logged(&fh, "targets: 3 created, 0 updated, 0 "
					  "unchanged"));
	assert_true(fake_host_logged(&fh, "basicauth_credentials 'grafana'"));
	assert_same_gateway(source.url, target.url,
			    "--skip basicauth_credentials");
	out = tool("dump %s --token sekret", target.url);
	assert_null(strstr(out, "basicauth_credentials"));
	free(out);

	/* Twice: nothing to do the second time. */
	assert_int_equal(run_restore(&fh, target.url, 0, 0, NULL, &err), 0);
	assert_true(fake_host_logged(&fh, "0 created, 0 updated, 112 "
					  "unchanged, 0 extra"));
	assert_true(fake_host_logged(&fh, "consumer_group_consumers: 0 "
					  "created, 0 updated, 4 unchanged"));
	assert_true(fake_host_logged(&fh, "targets: 0 created, 0 updated, 3 "
					  "unchanged"));
	assert_same_gateway(source.url, target.url,
			    "--skip basicauth_credentials");

	/* Extra entities: left alone, then deleted with --force. */
	free(tool("post %s /services '{\"name\":\"stray\",\"host\":\"x\"}' "
		  "--token sekret",
		  target.url));
	assert_int_equal(run_restore(&fh, target.url, 0, 0, NULL, &err), 0);
	assert_true(fake_host_logged(&fh, "extra in the target: services "
					  "'stray'"));
	out = tool("dump %s --token sekret", target.url);
	assert_non_null(strstr(out, "\"stray\""));
	free(out);
	assert_int_equal(run_restore(&fh, target.url, 0, 1, NULL, &err), 0);
	out = tool("dump %s --token sekret", target.url);
	assert_null(strstr(out, "\"stray\""));
	free(out);
	assert_same_gateway(source.url, target.url,
			    "--skip basicauth_credentials");

	/* --only: one kind. */
	assert_int_equal(run_restore(&fh, target.url, 0, 0, "routes", &err), 0);
	assert_int_equal(run_restore(&fh, target.url, 0, 0, "widgets", &err),
			 -1);
	assert_non_null(strstr(err.message, "widgets"));

	fake_host_release(&fh);
	emulator_stop(&source);
	emulator_stop(&target);
}

/* The number of consumer group memberships a gateway's dump holds. */
static size_t
count_members(const char *url)
{
	char *out = tool("dump %s --token sekret", url);
	char parse_error[128];
	struct json_value *dump;
	size_t count;

	dump = json_parse(out, strlen(out), parse_error, sizeof(parse_error));
	assert_non_null(dump);
	count = json_length(json_object_get(dump, "consumer_group_consumers"));
	json_free(dump);
	free(out);
	return count;
}

static void
test_memberships(void **unused)
{
	struct emulator source, target, older;
	struct fake_host fh;
	struct cairn_error err;

	(void)unused;
	emulator_start(&source, "--token", "sekret", NULL);
	emulator_start(&target, "--token", "sekret", NULL);
	free(tool("seed %s --token sekret", source.url));
	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, source.url, token_file, &err), 0);

	/* --only consumer_groups: the groups, and members only with the
	 * consumers they name. */
	assert_int_equal(run_restore(&fh, target.url, 0, 0, "consumer_groups",
				     &err),
			 0);
	assert_true(fake_host_logged(&fh, "consumer_groups: 3 created"));
	assert_true(fake_host_logged(&fh, "not restored: the target has no "
					  "consumer '"));
	assert_int_equal(count_members(target.url), 0);
	assert_int_equal(run_restore(&fh, target.url, 0, 0, "consumers", &err),
			 0);
	assert_int_equal(count_members(target.url), 0);
	assert_int_equal(run_restore(&fh, target.url, 0, 0, "consumer_groups",
				     &err),
			 0);
	assert_true(fake_host_logged(&fh, "consumer_group_consumers: 4 "
					  "created, 0 updated, 0 unchanged"));
	assert_int_equal(count_members(target.url), 4);
	assert_int_equal(run_restore(&fh, target.url, 0, 0, NULL, &err), 0);
	assert_same_gateway(source.url, target.url,
			    "--skip basicauth_credentials");

	/* A membership the target lost: the dry run says so, the restore
	 * puts it back, the next one writes nothing. */
	free(tool("delete %s /consumer_groups/gold/consumers/partner-acme "
		  "--token sekret",
		  target.url));
	assert_int_equal(count_members(target.url), 3);
	assert_int_equal(run_restore(&fh, target.url, 1, 0, NULL, &err), 0);
	assert_true(fake_host_logged(&fh, "consumer_group_consumers: 1 to "
					  "create, 0 to update, 3 unchanged"));
	assert_int_equal(count_members(target.url), 3);
	assert_int_equal(run_restore(&fh, target.url, 0, 0, NULL, &err), 0);
	assert_same_gateway(source.url, target.url,
			    "--skip basicauth_credentials");
	assert_int_equal(run_restore(&fh, target.url, 0, 0, NULL, &err), 0);
	assert_true(fake_host_logged(&fh, "consumer_group_consumers: 0 "
					  "created, 0 updated, 4 unchanged, 0 "
					  "extra"));

	/* An extra membership: listed and kept, removed with --force. */
	free(tool("post %s /consumer_groups/bronze/consumers "
		  "'{\"consumer\":\"ops-admin\"}' --token sekret",
		  target.url));
	assert_int_equal(run_restore(&fh, target.url, 0, 0, "consumer_groups",
				     &err),
			 0);
	assert_true(fake_host_logged(&fh, "extra in the target: consumer_"
					  "group_consumers (consumer"));
	assert_int_equal(count_members(target.url), 5);
	assert_int_equal(run_restore(&fh, target.url, 1, 1, "consumer_groups",
				     &err),
			 0);
	assert_true(fake_host_logged(&fh, "1 extra in the target (to "
					  "delete)"));
	assert_int_equal(count_members(target.url), 5);
	assert_int_equal(run_restore(&fh, target.url, 0, 1, "consumer_groups",
				     &err),
			 0);
	assert_int_equal(count_members(target.url), 4);
	assert_same_gateway(source.url, target.url,
			    "--skip basicauth_credentials");

	/* Kong before 3.4 lists a group's consumers in one answer. */
	emulator_start(&older, "--token", "sekret", "--version", "3.2.2", NULL);
	assert_int_equal(run_restore(&fh, older.url, 0, 0, NULL, &err), 0);
	assert_same_gateway(source.url, older.url,
			    "--skip basicauth_credentials");
	fake_host_release(&fh);
	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, older.url, token_file, &err), 0);
	assert_string_equal(fake_host_fact(&fh, "kong.count.consumer_group_"
						"consumers"),
			    "4");
	fake_host_release(&fh);
	emulator_stop(&older);
	emulator_stop(&source);
	emulator_stop(&target);
}

static void
test_dry_run(void **unused)
{
	struct emulator source, target;
	struct fake_host fh;
	struct cairn_error err;
	char *count;

	(void)unused;
	emulator_start(&source, "--token", "sekret", NULL);
	emulator_start(&target, "--token", "sekret", NULL);
	free(tool("seed %s --token sekret", source.url));
	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, source.url, token_file, &err), 0);
	assert_int_equal(run_restore(&fh, target.url, 1, 0, NULL, &err), 0);
	assert_true(fake_host_logged(&fh, "services: 16 to create"));
	assert_true(fake_host_logged(&fh, "consumer_group_consumers: 4 to "
					  "create"));
	assert_true(fake_host_logged(&fh, "dry run against"));
	count = tool("count %s --token sekret", target.url);
	assert_string_equal(count, "0\n");
	free(count);
	/* The job's own Admin API needs --force. */
	{
		struct cairn_restore_options options;
		struct job job;
		void *state = NULL;

		job_init(&job, "admin-url", source.url, "token-file",
			 token_file, NULL);
		assert_int_equal(cairn_plugin_entry.configure(&fh.host,
							      &job.config,
							      &state, &err),
				 0);
		memset(&options, 0, sizeof(options));
		fake_host_rewind(&fh);
		assert_int_equal(cairn_plugin_entry.restore(state, &fh.host,
							    fake_host_source(
								    &fh),
							    &options, &err),
				 -1);
		assert_non_null(strstr(err.message, "--force"));
		cairn_plugin_entry.release(state);
	}
	fake_host_release(&fh);
	emulator_stop(&source);
	emulator_stop(&target);
}

static void
test_failures(void **unused)
{
	struct emulator source, dropping;
	struct fake_host fh;
	struct cairn_error err;
	char expected[128];

	(void)unused;
	emulator_start(&source, "--token", "sekret", NULL);
	free(tool("seed %s --token sekret", source.url));

	/* Wrong token: the URL and Kong's message. */
	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, source.url, wrong_token_file, &err),
			 -1);
	snprintf(expected, sizeof(expected), "'%s/' answered HTTP 401",
		 source.url);
	assert_non_null(strstr(err.message, expected));
	assert_non_null(strstr(err.message, "Invalid RBAC credentials"));
	assert_false(fake_host_logged(&fh, "sekret"));
	fake_host_release(&fh);

	/* Admin API down. */
	emulator_stop(&source);
	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, source.url, token_file, &err), -1);
	snprintf(expected, sizeof(expected), "cannot reach '%s/'", source.url);
	assert_non_null(strstr(err.message, expected));
	fake_host_release(&fh);

	/* The connection drops in the middle of a page. */
	emulator_start(&dropping, "--token", "sekret", "--fail-after", "4",
		       NULL);
	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, dropping.url, token_file, &err), -1);
	snprintf(expected, sizeof(expected), "cannot reach '%s/", dropping.url);
	assert_non_null(strstr(err.message, expected));
	assert_null(fake_host_entry(&fh, "kong.json"));
	fake_host_release(&fh);
	emulator_stop(&dropping);
}

static void
test_pages(void **unused)
{
	struct emulator source, target;
	struct fake_host fh;
	struct cairn_error err;

	(void)unused;
	emulator_start(&source, "--token", "sekret", NULL);
	emulator_start(&target, "--token", "sekret", NULL);
	free(tool("seed %s --token sekret --scale 1100", source.url));
	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, source.url, token_file, &err), 0);
	assert_string_equal(fake_host_fact(&fh, "kong.count.consumers"),
			    "1106");
	assert_string_equal(fake_host_fact(&fh, "kong.count.keyauth_"
						"credentials"),
			    "1103");
	assert_string_equal(fake_host_fact(&fh, "kong.count.consumer_group_"
						"consumers"),
			    "1104");
	assert_string_equal(fake_host_fact(&fh, "kong.entities"), "4515");
	assert_int_equal(run_restore(&fh, target.url, 0, 0, NULL, &err), 0);
	assert_same_gateway(source.url, target.url,
			    "--skip basicauth_credentials");
	fake_host_release(&fh);
	emulator_stop(&source);
	emulator_stop(&target);
}

static void
test_dbless(void **unused)
{
	struct emulator source, dbless;
	struct fake_host fh, fh2;
	struct cairn_error err;
	const struct fake_entry *entry;

	(void)unused;
	emulator_start(&source, "--token", "sekret", NULL);
	emulator_start(&dbless, "--token", "sekret", "--dbless", NULL);
	free(tool("seed %s --token sekret", source.url));
	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, source.url, token_file, &err), 0);

	/* POST /config restores everything, basic-auth hashes included. */
	assert_int_equal(run_restore(&fh, dbless.url, 0, 0, "services", &err),
			 -1);
	assert_non_null(strstr(err.message, "--only"));
	assert_int_equal(run_restore(&fh, dbless.url, 0, 0, NULL, &err), 0);
	assert_same_gateway(source.url, dbless.url, "");
	assert_int_equal(run_restore(&fh, dbless.url, 0, 0, NULL, &err), 0);
	assert_true(fake_host_logged(&fh, "0 created, 0 updated, 114 "
					  "unchanged"));

	/* Backup of the DB-less node: kong.json and Kong's own export. */
	fake_host_init(&fh2);
	assert_int_equal(run_backup(&fh2, dbless.url, token_file, &err), 0);
	assert_string_equal(fake_host_fact(&fh2, "kong.mode"), "dbless");
	assert_string_equal(fake_host_fact(&fh2, "kong.entities"), "114");
	assert_string_equal(fake_host_fact(&fh2, "kong.count.consumer_group_"
						 "consumers"),
			    "4");
	assert_non_null(fake_host_entry(&fh2, "kong.json"));
	entry = fake_host_entry(&fh2, "kong-config.yaml");
	assert_non_null(entry);
	assert_non_null(memmem(entry->data, entry->length,
			       "consumer_group_consumers:", 25));
	fake_host_release(&fh2);
	fake_host_release(&fh);
	emulator_stop(&source);
	emulator_stop(&dbless);
}

static void
test_missing_kind(void **unused)
{
	struct emulator source, older;
	struct fake_host fh, fh2;
	struct cairn_error err;

	(void)unused;
	emulator_start(&source, "--token", "sekret", NULL);
	emulator_start(&older, "--token", "sekret", "--disable",
		       "oauth2_credentials", NULL);
	free(tool("seed %s --token sekret", source.url));

	fake_host_init(&fh2);
	assert_int_equal(run_backup(&fh2, older.url, token_file, &err), 0);
	assert_true(fake_host_logged(&fh2, "no 'oauth2' entities"));
	assert_null(fake_host_fact(&fh2, "kong.count.oauth2_credentials"));
	fake_host_release(&fh2);

	fake_host_init(&fh);
	assert_int_equal(run_backup(&fh, source.url, token_file, &err), 0);
	assert_int_equal(run_restore(&fh, older.url, 0, 0, NULL, &err), -1);
	assert_non_null(strstr(err.message, "cannot restore 1 of them"));
	fake_host_release(&fh);
	emulator_stop(&source);
	emulator_stop(&older);
}

static void
test_check_and_drill(void **unused)
{
	struct emulator source, scratch_kong;
	struct fake_host fh;
	struct cairn_error err;
	struct cairn_drill_options options;
	struct job job;
	void *state = NULL;
	size_t i;
	int found = 0;

	(void)unused;
	emulator_start(&source, "--token", "sekret", NULL);
	emulator_start(&scratch_kong, "--token", "sekret", NULL);
	free(tool("seed %s --token sekret", source.url));
	fake_host_init(&fh);
	job_init(&job, "admin-url", source.url, "token-file", token_file,
		 "drill-target", scratch_kong.url, NULL);
	assert_int_equal(cairn_plugin_entry.configure(&fh.host, &job.config,
						      &state, &err),
			 0);
	assert_int_equal(cairn_plugin_entry.check(state, &fh.host,
						  fake_host_report(&fh), &err),
			 0);
	for (i = 0; i < fh.report_count; i++)
		if (strcmp(fh.report_lines[i], "item kong.count.services=16") ==
		    0)
			found = 1;
	assert_true(found);
	assert_int_equal(cairn_plugin_entry.backup(state, &fh.host,
						   fake_host_sink(&fh), &err),
			 0);
	memset(&options, 0, sizeof(options));
	options.scratch_dir = scratch;
	options.drill_target = scratch_kong.url;
	fake_host_rewind(&fh);
	assert_int_equal(cairn_plugin_entry.drill(state, &fh.host,
						  fake_host_source(&fh),
						  &options,
						  fake_host_report(&fh), &err),
			 0);
	found = 0;
	for (i = 0; i < fh.report_count; i++)
		if (strcmp(fh.report_lines[i],
			   "item kong.drill.services=16/16 identical") == 0)
			found = 1;
	assert_true(found);
	found = 0;
	for (i = 0; i < fh.report_count; i++)
		if (strcmp(fh.report_lines[i],
			   "item kong.drill.consumer_group_consumers=4/4 "
			   "identical") == 0)
			found = 1;
	assert_true(found);
	cairn_plugin_entry.release(state);
	fake_host_release(&fh);
	emulator_stop(&source);
	emulator_stop(&scratch_kong);
}

static int
stop_all(void **unused)
{
	size_t i;
	int status;

	(void)unused;
	for (i = 0; i < started_count; i++) {
		if (started[i] > 0 && kill(started[i], SIGTERM) == 0)
			waitpid(started[i], &status, 0);
	}
	started_count = 0;
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configure_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_memberships),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_dbless),
		cmocka_unit_test(test_missing_kind),
		cmocka_unit_test(test_check_and_drill),
	};
	int rc;

	assert_non_null(mkdtemp(scratch));
	snprintf(token_file, sizeof(token_file), "%s/token", scratch);
	snprintf(wrong_token_file, sizeof(wrong_token_file), "%s/wrong",
		 scratch);
	write_file(token_file, "sekret\n");
	write_file(wrong_token_file, "not-the-token\n");
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	rc = cmocka_run_group_tests(tests, NULL, stop_all);
	unlink(token_file);
	unlink(wrong_token_file);
	rmdir(scratch);
	return rc;
}
