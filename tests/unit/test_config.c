/*
 * Unit tests of the configuration: the SPEC's example loads as written;
 * every refusal names the file, the line, the section and the key
 * (unknown keys of [repository] and [retention], bad values and ranges,
 * sections and keys given twice, a job without `plugin`, a missing
 * bracket, binary junk, a line longer than inih's buffer); continuation
 * lines join a plugin key's values; retention inherits from [retention]
 * and the built-in policy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "test_helpers.h"

struct fixture {
	char *dir;
	char *path; /* of the last file written */
	struct config config;
	int loaded;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = test_mkdtemp();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->loaded)
		config_release(&f->config);
	free(f->path);
	test_rmtree(f->dir);
	free(f);
	return 0;
}

/* Writes `length` bytes as the configuration file and loads it. */
static int
load_bytes(struct fixture *f, const char *text, size_t length,
	   struct cairn_error *err)
{
	int rc;

	if (f->loaded)
		config_release(&f->config);
	f->loaded = 0;
	free(f->path);
	f->path = test_write_file(f->dir, "cairn.conf", text, length);
	memset(err, 0, sizeof(*err));
	rc = config_load(&f->config, f->path, 0, err);
	f->loaded = rc == 0;
	return rc;
}

static void
load_ok(struct fixture *f, const char *text)
{
	struct cairn_error err;

	if (load_bytes(f, text, strlen(text), &err) != 0)
		fail_msg("configuration refused: %s\n---\n%s---", err.message,
			 text);
}

/*
 * Loads text that must be refused; the message must start with
 * "FILE:LINE: " and hold each of the NULL-terminated fragments.
 */
static void
expect_error_bytes(struct fixture *f, const char *text, size_t length, int line,
		   ...)
{
	struct cairn_error err;
	struct buf where = BUF_INIT;
	const char *fragment;
	va_list ap;

	if (load_bytes(f, text, length, &err) == 0)
		fail_msg("configuration accepted:\n---\n%s---", text);
	buf_printf(&where, "%s:%d: ", f->path, line);
	if (strncmp(err.message, buf_str(&where), where.length) != 0)
		fail_msg("'%s' does not start with '%s'", err.message,
			 buf_str(&where));
	va_start(ap, line);
	while ((fragment = va_arg(ap, const char *)) != NULL)
		assert_contains(err.message, fragment);
	va_end(ap);
	buf_release(&where);
}

#define expect_error(f, text, line, ...)                                       \
	expect_error_bytes((f), (text), strlen(text), (line), __VA_ARGS__,     \
			   (const char *)NULL)

static const char spec_example[] =
	"[repository]\n"
	"path = /var/backups/cairn\n"
	"compression = zstd          ; zstd | none\n"
	"level = 3                   ; zstd level\n"
	"threads = 0                 ; compression threads, 0 = one per core\n"
	"\n"
	"[retention]                 ; default policy, a job section may "
	"override any key\n"
	"keep-last = 3\n"
	"keep-hourly = 0\n"
	"keep-daily = 7\n"
	"keep-weekly = 4\n"
	"keep-monthly = 12\n"
	"keep-yearly = 0\n"
	"keep-within = 0             ; e.g. 2d, 12h: keep everything this "
	"young\n"
	"\n"
	"[payment-postgres]          ; every other section is a job, named by "
	"its section\n"
	"plugin = postgres\n"
	"host = 127.0.0.1\n"
	"port = 40432\n"
	"user = postgres\n"
	"password-file = /etc/cairn/secrets/payment-postgres\n"
	"databases = all             ; or a list: payment_gateway merchant "
	"...\n"
	"\n"
	"[payment-redis]\n"
	"plugin = redis\n"
	"host = 127.0.0.1\n"
	"port = 40379\n"
	"\n"
	"[volumes]\n"
	"plugin = volume\n"
	"paths = /var/lib/docker/volumes/kafka_data/_data "
	"/var/lib/docker/volumes/zookeeper_data/_data\n"
	"exclude = *.tmp\n"
	"before = docker stop payment-kafka    ; optional hooks around any "
	"job\n"
	"after = docker start payment-kafka\n"
	"\n"
	"[kong]\n"
	"plugin = kong\n"
	"admin-url = http://127.0.0.1:40081\n";

static void
test_spec_example(void **state)
{
	struct fixture *f = *state;
	const struct config *c = &f->config;
	const struct job_config *job;

	load_ok(f, spec_example);
	assert_string_equal(c->file, f->path);
	assert_string_equal(c->repository, "/var/backups/cairn");
	assert_int_equal(c->repository_line, 2);
	assert_int_equal(c->compression, COMPRESSION_ZSTD);
	assert_int_equal(c->level, 3);
	assert_int_equal(c->threads, 0);
	assert_null(c->plugin_dir);
	assert_int_equal(c->retention.keep_last, 3);
	assert_int_equal(c->retention.keep_monthly, 12);
	assert_int_equal(c->retention.keep_within, 0);
	assert_int_equal(c->job_count, 4);
	assert_string_equal(c->jobs[0].name, "payment-postgres");
	assert_string_equal(c->jobs[1].name, "payment-redis");
	assert_string_equal(c->jobs[2].name, "volumes");
	assert_string_equal(c->jobs[3].name, "kong");

	job = config_find_job(c, "payment-postgres");
	assert_non_null(job);
	assert_int_equal(job->line, 16);
	assert_string_equal(job->plugin, "postgres");
	assert_null(job->before);
	/* Only the plugin's keys, in order, with their lines. */
	assert_int_equal(job->setting_count, 5);
	assert_string_equal(job->settings[0].key, "host");
	assert_string_equal(job->settings[0].value, "127.0.0.1");
	assert_int_equal(job->settings[0].line, 18);
	assert_string_equal(config_job_setting(job, "databases"), "all");
	assert_int_equal(job->settings[4].line, 22);
	assert_null(config_job_setting(job, "plugin"));
	assert_null(config_job_setting(job, "nothing"));

	job = config_find_job(c, "volumes");
	assert_non_null(job);
	assert_string_equal(job->before, "docker stop payment-kafka");
	assert_string_equal(job->after, "docker start payment-kafka");
	assert_string_equal(config_job_setting(job, "exclude"), "*.tmp");
	assert_int_equal(job->setting_count, 2);
	assert_string_equal(config_job_setting(job, "paths"),
			    "/var/lib/docker/volumes/kafka_data/_data "
			    "/var/lib/docker/volumes/zookeeper_data/_data");

	assert_null(config_find_job(c, "repository"));
	assert_null(config_find_job(c, "retention"));
	assert_null(config_find_job(c, "Kong"));
}

static void
test_repository_keys(void **state)
{
	struct fixture *f = *state;

	load_ok(f, "[repository]\n"
		   "path = /srv/backups\n"
		   "compression = none\n"
		   "level = 19\n"
		   "threads = 256\n"
		   "plugin-dir = /opt/cairn/plugins\n"
		   "metrics = /var/lib/node_exporter/cairn.prom\n"
		   "log = syslog\n");
	assert_int_equal(f->config.compression, COMPRESSION_NONE);
	assert_int_equal(f->config.level, 19);
	assert_int_equal(f->config.threads, 256);
	assert_string_equal(f->config.plugin_dir, "/opt/cairn/plugins");
	assert_string_equal(f->config.metrics,
			    "/var/lib/node_exporter/cairn.prom");
	assert_int_equal(f->config.log_syslog, 1);
	assert_int_equal(f->config.job_count, 0);

	load_ok(f, "[repository]\nlevel = 1\nlog = stderr\n");
	assert_int_equal(f->config.level, 1);
	assert_int_equal(f->config.log_syslog, 0);
	assert_null(f->config.repository);

	/* Nothing at all: the defaults. */
	load_ok(f, "");
	assert_int_equal(f->config.compression, COMPRESSION_ZSTD);
	assert_int_equal(f->config.level, 3);
	assert_int_equal(f->config.threads, 0);
	assert_int_equal(f->config.job_count, 0);
}

static void
test_unknown_keys(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "[repository]\npath = /srv\ncolour = blue\n", 3,
		     "[repository] colour: unknown key");
	expect_error(f,
		     "; comment\n\n[retention]\nkeep-last = 2\n"
		     "keep-forever = yes\n",
		     5, "[retention] keep-forever: unknown key");
	/* A core-only key is still unknown in [retention]. */
	expect_error(f, "[retention]\nplugin = volume\n", 2,
		     "[retention] plugin: unknown key");
	expect_error(f, "[retention]\nkeep-Daily = 2\n", 2,
		     "[retention] keep-Daily: unknown key");
}

static void
test_bad_values(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "[repository]\npath = backups\n", 2,
		     "[repository] path:", "'backups' is not an absolute path");
	expect_error(f, "[repository]\ncompression = lz4\n", 2,
		     "[repository] compression:", "'lz4'", "zstd, none");
	expect_error(f, "[repository]\nlevel = 0\n", 2, "[repository] level:",
		     "'0' is not a zstd level from 1 to 19");
	expect_error(f, "[repository]\nlevel = 20\n", 2, "'20'");
	expect_error(f, "[repository]\nlevel = three\n", 2, "'three'");
	expect_error(f, "[repository]\nlevel = 3x\n", 2, "'3x'");
	expect_error(f, "[repository]\nlevel =\n", 2, "[repository] level:");
	expect_error(f, "[repository]\nthreads = -1\n", 2,
		     "[repository] threads:", "from 0 to 256");
	expect_error(f, "[repository]\nthreads = 257\n", 2, "'257'");
	expect_error(f, "[repository]\nmetrics = cairn.prom\n", 2,
		     "[repository] metrics:", "not an absolute path");
	expect_error(f, "[repository]\nlog = file\n", 2, "[repository] log:",
		     "'file' is not one of stderr, syslog");
	expect_error(f, "[retention]\nkeep-daily = -1\n", 2,
		     "[retention] keep-daily:",
		     "'-1' is not a count from 0 to 1000000");
	expect_error(f, "[retention]\nkeep-weekly = seven\n", 2,
		     "[retention] keep-weekly:", "'seven'");
	expect_error(f, "[retention]\nkeep-last = 1000001\n", 2, "'1000001'");
	expect_error(f, "[retention]\nkeep-yearly = 2.5\n", 2, "'2.5'");
	expect_error(f, "[retention]\nkeep-within = 2 days\n", 2,
		     "[retention] keep-within:", "'2 days' is not a duration");
	expect_error(f, "[db]\nplugin = postgres\nkeep-hourly = x\n", 3,
		     "[db] keep-hourly:", "'x'");
	expect_error(f, "[db]\nplugin = postgres\nmax-age = soon\n", 3,
		     "[db] max-age:", "'soon' is not a duration");
	expect_error(f, "[db]\nplugin = postgres\nkeep-within = -2d\n", 3,
		     "[db] keep-within:");
}

static void
test_ranges_accepted(void **state)
{
	struct fixture *f = *state;
	const struct job_config *job;

	load_ok(f,
		"[retention]\nkeep-last = 0\nkeep-daily = 1000000\n"
		"keep-within = 1d12h\n"
		"[db]\nplugin = postgres\nmax-age = 26h\nkeep-within = 90m\n");
	assert_int_equal(f->config.retention.keep_last, 0);
	assert_int_equal(f->config.retention.keep_daily, 1000000);
	assert_int_equal(f->config.retention.keep_within, 129600);
	job = config_find_job(&f->config, "db");
	assert_non_null(job);
	assert_int_equal(job->max_age, 93600);
	assert_int_equal(job->retention.keep_within, 5400);
	/* Core keys are not the plugin's settings. */
	assert_int_equal(job->setting_count, 0);
}

static void
test_duplicate_sections(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "[repository]\npath = /a\n\n[repository]\nlevel = 4\n",
		     4, "[repository]", "section given twice");
	expect_error(f, "[retention]\nkeep-last = 1\n[retention]\n", 3,
		     "[retention]", "section given twice");
	expect_error(f,
		     "[db]\nplugin = postgres\n[kong]\nplugin = kong\n"
		     "[db]\nplugin = postgres\n",
		     5, "[db]", "section given twice");
	/* Spaces inside the brackets do not make another section. */
	expect_error(f, "[db]\nplugin = postgres\n[ db ]\n", 3, "[db]",
		     "section given twice");
}

static void
test_duplicate_keys(void **state)
{
	struct fixture *f = *state;

	expect_error(f,
		     "[db]\nplugin = postgres\nhost = a\nport = 1\n"
		     "host = b\n",
		     5, "[db] host:", "given twice");
	expect_error(f, "[db]\nplugin = postgres\nplugin = redis\n", 3,
		     "[db] plugin:", "given twice");
	expect_error(f, "[repository]\npath = /a\npath = /b\n", 3,
		     "[repository] path:", "given twice");
	expect_error(f, "[retention]\nkeep-daily = 7\nkeep-daily = 8\n", 3,
		     "[retention] keep-daily:", "given twice");
	expect_error(f, "[db]\nplugin = postgres\nbefore = a\nbefore = b\n", 4,
		     "[db] before:", "given twice");
	expect_error(f,
		     "[db]\nplugin = postgres\nkeep-daily = 1\n"
		     "keep-daily = 2\n",
		     4, "[db] keep-daily:", "given twice");
	expect_error(f, "[db]\nplugin = postgres\nmax-age = 1d\nmax-age = 2d\n",
		     4, "[db] max-age:", "given twice");
}

static void
test_same_key_other_sections(void **state)
{
	struct fixture *f = *state;

	/* The same key in two jobs, and a job key named like a
	 * [repository] key, are not duplicates. */
	load_ok(f, "[repository]\npath = /srv\n"
		   "[a]\nplugin = redis\nhost = x\npath = y\n"
		   "[b]\nplugin = redis\nhost = z\n");
	assert_string_equal(config_job_setting(&f->config.jobs[0], "host"),
			    "x");
	assert_string_equal(config_job_setting(&f->config.jobs[0], "path"),
			    "y");
	assert_string_equal(config_job_setting(&f->config.jobs[1], "host"),
			    "z");
}

static void
test_missing_plugin(void **state)
{
	struct fixture *f = *state;

	expect_error(f,
		     "[repository]\npath = /srv\n\n[volumes]\n"
		     "paths = /data\n",
		     4, "[volumes]", "missing required key 'plugin'");
	/* An empty job section is a job without a plugin too. */
	expect_error(f, "[db]\nplugin = postgres\n[empty]\n", 3, "[empty]",
		     "missing required key 'plugin'");
}

static void
test_syntax_errors(void **state)
{
	struct fixture *f = *state;

	/* Reported at their own line, not at a later line that fails
	 * because of them. */
	expect_error(f, "[repository]\npath = /srv\n[volumes\nplugin = x\n", 3,
		     "syntax error", "closing ']'");
	expect_error(f, "[repository]\npath /srv\nlevel = 99\n", 2,
		     "syntax error", "'key = value'");
	expect_error(f, "[db]\n  plugin\n", 2, "syntax error");
	expect_error(f, "plugin = volume\n[db]\n", 1,
		     "key 'plugin' outside of any section");
	expect_error(f, "[bad name]\nplugin = x\n", 1, "[bad name]",
		     "a job name is made of letters");
	expect_error(f, "[.hidden]\nplugin = x\n", 1, "[.hidden]",
		     "not starting with '.'");
	expect_error(f, "[a/b]\nplugin = x\n", 1, "[a/b]", "job name");
}

static void
test_binary_junk(void **state)
{
	struct fixture *f = *state;
	static const char nul[] =
		"[repository]\npath = /srv\nlevel = 3\0junk\n";
	static const char junk[] = "[repository]\npath = /srv\n"
				   "\x7f\x45\x4c\x46\x02\x01\x01\xff\xfe\n";

	expect_error_bytes(f, nul, sizeof(nul) - 1, 3, "binary data",
			   (const char *)NULL);
	expect_error_bytes(f, junk, sizeof(junk) - 1, 3, "syntax error",
			   (const char *)NULL);
}

static void
test_long_line(void **state)
{
	struct fixture *f = *state;
	struct buf text = BUF_INIT;
	size_t i;

	/* Within inih's buffer (200 bytes here): fine. */
	buf_append_str(&text, "[v]\nplugin = volume\npaths = ");
	for (i = 0; i < 16; i++)
		buf_printf(&text, "/data/%03zu ", i);
	buf_append_str(&text, "\n");
	load_ok(f, buf_str(&text));
	assert_int_equal(strlen(config_job_setting(&f->config.jobs[0],
						   "paths")),
			 16 * 10 - 1);

	/* Far beyond it: refused, not silently split. */
	buf_reset(&text);
	buf_append_str(&text, "[v]\nplugin = volume\npaths = ");
	for (i = 0; i < 500; i++)
		buf_printf(&text, "/data/%03zu ", i);
	buf_append_str(&text, "\nexclude = *.tmp\n");
	expect_error(f, buf_str(&text), 3, "line longer than",
		     "indented lines");
	buf_release(&text);
}

static void
test_continuation_lines(void **state)
{
	struct fixture *f = *state;
	const struct job_config *job;

	load_ok(f, "[volumes]\n"
		   "plugin = volume\n"
		   "paths = /var/lib/docker/volumes/kafka_data/_data\n"
		   "    /var/lib/docker/volumes/zookeeper_data/_data\n"
		   "\t/srv/uploads\n"
		   "exclude = *.tmp\n"
		   "  *.swp\n");
	job = &f->config.jobs[0];
	assert_string_equal(config_job_setting(job, "paths"),
			    "/var/lib/docker/volumes/kafka_data/_data "
			    "/var/lib/docker/volumes/zookeeper_data/_data "
			    "/srv/uploads");
	assert_string_equal(config_job_setting(job, "exclude"), "*.tmp *.swp");
	assert_int_equal(job->setting_count, 2);
	/* The setting keeps the line where it started. */
	assert_int_equal(job->settings[0].line, 3);

	/* A continued core key is refused rather than half-read. */
	expect_error(f,
		     "[v]\nplugin = volume\nbefore = docker stop a\n"
		     "  && docker stop b\n",
		     4, "[v] before:", "continued value");
	expect_error(f, "[repository]\npath = /srv/backups\n  /elsewhere\n", 3,
		     "[repository] path:");
	expect_error(f, "[retention]\nkeep-daily = 7\n  8\n", 3,
		     "[retention] keep-daily:");
}

static void
test_comments_and_spacing(void **state)
{
	struct fixture *f = *state;

	load_ok(f, "# a comment\n"
		   "; another\n"
		   "[repository]   \n"
		   "  path=/srv/b   \n"
		   "level   =   7 ; inline comment\n"
		   "\n"
		   "[ db ]\n"
		   "plugin\t=\tpostgres\n");
	assert_string_equal(f->config.repository, "/srv/b");
	assert_int_equal(f->config.level, 7);
	assert_int_equal(f->config.job_count, 1);
	assert_string_equal(f->config.jobs[0].name, "db");
	assert_string_equal(f->config.jobs[0].plugin, "postgres");
}

static void
test_long_job_name(void **state)
{
	struct fixture *f = *state;
	char name[65], text[200];

	/* 64 characters: the longest job name, kept whole. */
	memset(name, 'j', 64);
	name[64] = '\0';
	snprintf(text, sizeof(text), "[%s]\nplugin = volume\npaths = /a\n",
		 name);
	load_ok(f, text);
	assert_int_equal(f->config.job_count, 1);
	assert_string_equal(f->config.jobs[0].name, name);
	assert_string_equal(f->config.jobs[0].plugin, "volume");
	assert_string_equal(config_job_setting(&f->config.jobs[0], "paths"),
			    "/a");
	snprintf(text, sizeof(text), "[%sj]\nplugin = volume\n", name);
	expect_error(f, text, 1, "job name", "at most 64");
}

static void
test_byte_order_mark(void **state)
{
	struct fixture *f = *state;

	load_ok(f, "\xef\xbb\xbf[db]\nplugin = postgres\n");
	assert_int_equal(f->config.job_count, 1);
	assert_string_equal(f->config.jobs[0].name, "db");
}

static void
test_crlf(void **state)
{
	struct fixture *f = *state;

	/* A file edited on Windows. */
	load_ok(f, "[repository]\r\npath = /srv/b\r\nlevel = 5\r\n"
		   "[db]\r\nplugin = postgres\r\nhost = h\r\n");
	assert_string_equal(f->config.repository, "/srv/b");
	assert_int_equal(f->config.level, 5);
	assert_string_equal(f->config.jobs[0].plugin, "postgres");
	assert_string_equal(config_job_setting(&f->config.jobs[0], "host"),
			    "h");
}

static void
test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct cairn_error err;
	struct buf path = BUF_INIT;
	struct config c;

	buf_printf(&path, "%s/absent.conf", f->dir);
	memset(&err, 0, sizeof(err));
	assert_int_equal(config_load(&c, buf_str(&path), 0, &err), -1);
	assert_contains(err.message, buf_str(&path));
	/* Allowed missing: an empty configuration. */
	assert_int_equal(config_load(&c, buf_str(&path), 1, &err), 0);
	assert_int_equal(c.job_count, 0);
	assert_null(c.repository);
	assert_int_equal(c.level, 3);
	config_release(&c);
	/* A directory is not a configuration, missing_ok or not. */
	assert_int_equal(config_load(&c, f->dir, 1, &err), -1);
	buf_release(&path);
}

static void
test_effective_retention(void **state)
{
	struct fixture *f = *state;
	struct retention r;
	const struct job_config *job;

	/* Nothing set anywhere: the built-in policy. */
	load_ok(f, "[a]\nplugin = volume\n");
	r = config_effective_retention(&f->config, &f->config.jobs[0]);
	assert_int_equal(r.keep_last, 3);
	assert_int_equal(r.keep_hourly, 0);
	assert_int_equal(r.keep_daily, 7);
	assert_int_equal(r.keep_weekly, 4);
	assert_int_equal(r.keep_monthly, 12);
	assert_int_equal(r.keep_yearly, 0);
	assert_int_equal(r.keep_within, 0);

	/* [retention] over the built-ins, the job's keys over both. */
	load_ok(f, "[retention]\nkeep-daily = 14\nkeep-yearly = 2\n"
		   "keep-within = 2d\n"
		   "[a]\nplugin = volume\n"
		   "[b]\nplugin = volume\nkeep-daily = 0\nkeep-last = 10\n"
		   "keep-within = 12h\n");
	job = config_find_job(&f->config, "a");
	r = config_effective_retention(&f->config, job);
	assert_int_equal(r.keep_last, 3);
	assert_int_equal(r.keep_daily, 14);
	assert_int_equal(r.keep_yearly, 2);
	assert_int_equal(r.keep_within, 172800);
	job = config_find_job(&f->config, "b");
	/* The job's own keys are recorded as set, others as inherited. */
	assert_int_equal(job->retention.keep_daily, 0);
	assert_int_equal(job->retention.keep_weekly, -1);
	r = config_effective_retention(&f->config, job);
	assert_int_equal(r.keep_last, 10);
	assert_int_equal(r.keep_daily, 0); /* 0 overrides, it is not unset */
	assert_int_equal(r.keep_weekly, 4);
	assert_int_equal(r.keep_yearly, 2);
	assert_int_equal(r.keep_within, 43200);

	/* No job (an archive whose job left the configuration). */
	r = config_effective_retention(&f->config, NULL);
	assert_int_equal(r.keep_daily, 14);
	assert_int_equal(r.keep_last, 3);
}

static void
test_core_keys(void **state)
{
	static const char *const core[] = {
		"plugin",	"before",      "after",	      "max-age",
		"keep-last",	"keep-hourly", "keep-daily",  "keep-weekly",
		"keep-monthly", "keep-yearly", "keep-within",
	};
	static const char *const plugin[] = {"host",	      "paths", "port",
					     "password-file", "keep",  ""};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(core) / sizeof(*core); i++)
		if (!config_is_core_job_key(core[i]))
			fail_msg("'%s' is not a core key", core[i]);
	for (i = 0; i < sizeof(plugin) / sizeof(*plugin); i++)
		if (config_is_core_job_key(plugin[i]))
			fail_msg("'%s' is a core key", plugin[i]);
}

static void
test_error_line_counting(void **state)
{
	struct fixture *f = *state;

	/* Comments, blank lines and continuations all count. */
	expect_error(f,
		     "# 1\n\n; 3\n[v]\nplugin = volume\npaths = /a\n"
		     "  /b\n  /c\n\n[repository]\nlevel = 99\n",
		     11, "[repository] level:", "'99'");
}

#define R1 "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
#define R2 "age1f9p0q66gs0nwns5k5jwrayckek0ffj85wj03fq3j90hl9ph2zu0q2z9zhy"

static void
test_encryption_section(void **state)
{
	struct fixture *f = *state;
	const struct encryption_config *e;

	load_ok(f, "[encryption]\nrecipients = " R1 "  " R2 "\n"
		   "recipients-file = /etc/r.txt\n"
		   "identity-file = /etc/secrets/id\n");
	e = &f->config.encryption;
	assert_int_equal(e->recipient_count, 2);
	assert_string_equal(e->recipients[1], R2);
	assert_string_equal(e->recipients_file, "/etc/r.txt");
	assert_string_equal(e->identity_file, "/etc/secrets/id");
	assert_null(e->passphrase_file);
	/* A long list continues on indented lines. */
	load_ok(f, "[encryption]\nrecipients = " R1 "\n  " R2 "\n");
	assert_int_equal(f->config.encryption.recipient_count, 2);
	expect_error(f, "[encryption]\nrecipients = " R1 " age1nope\n", 2,
		     "[encryption] recipients:", "'age1nope'");
	expect_error(f, "[encryption]\nidentity-file = secrets/id\n", 2,
		     "[encryption] identity-file:", "absolute");
	expect_error(f, "[encryption]\nkey = x\n", 2,
		     "[encryption] key:", "unknown key");
	expect_error(f,
		     "[encryption]\nrecipients = " R1 "\n"
		     "passphrase-file = /p\n",
		     3, "[encryption] passphrase-file:", "replaces");
	expect_error(f, "[encryption]\n[encryption]\n", 2, "[encryption]",
		     "twice");
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_spec_example),
		T(test_repository_keys),
		T(test_unknown_keys),
		T(test_bad_values),
		T(test_ranges_accepted),
		T(test_duplicate_sections),
		T(test_duplicate_keys),
		T(test_same_key_other_sections),
		T(test_missing_plugin),
		T(test_syntax_errors),
		T(test_binary_junk),
		T(test_long_line),
		T(test_continuation_lines),
		T(test_comments_and_spacing),
		T(test_long_job_name),
		T(test_byte_order_mark),
		T(test_crlf),
		T(test_missing_file),
		T(test_effective_retention),
		cmocka_unit_test(test_core_keys),
		T(test_error_line_counting),
		T(test_encryption_section),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
