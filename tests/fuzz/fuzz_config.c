/*
 * libFuzzer target for the configuration parser (core/config.c): the
 * input is a whole cairn.conf. Loading must never crash, hang or leak;
 * a refusal must name the file and a line of it ("FILE:LINE: ..."); an
 * accepted configuration must hold what config.h promises (every job
 * named validly and once, with its plugin; values in their ranges).
 * Built and run by tests/fuzz/run.sh.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The number of lines of the input, a last one without '\n' counted. */
static long
count_lines(const uint8_t *data, size_t size)
{
	long lines = 0;
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	if (size > 0 && data[size - 1] != '\n')
		lines++;
	return lines;
}

/* A refusal reads "PATH:LINE: what", LINE one of the file's. */
static void
check_refusal(const char *path, const struct cairn_error *err, long lines)
{
	size_t length = strlen(path);
	const char *p = err->message + length + 1;
	char *end;
	long line;

	if (strncmp(err->message, path, length) != 0 ||
	    err->message[length] != ':' || !isdigit((unsigned char)*p)) {
		fprintf(stderr, "refusal without file and line: '%s'\n",
			err->message);
		abort();
	}
	line = strtol(p, &end, 10);
	if (end[0] != ':' || end[1] != ' ' || end[2] == '\0' || line < 1 ||
	    line > (lines > 0 ? lines : 1)) {
		fprintf(stderr, "refusal at line %ld of a file of %ld: '%s'\n",
			line, lines, err->message);
		abort();
	}
}

static void
check_retention(const struct retention *r)
{
	const int counts[] = {r->keep_last,   r->keep_hourly,  r->keep_daily,
			      r->keep_weekly, r->keep_monthly, r->keep_yearly};
	size_t i;

	for (i = 0; i < sizeof(counts) / sizeof(*counts); i++)
		if (counts[i] < -1 || counts[i] > 1000000)
			abort();
	if (r->keep_within < -1)
		abort();
}

static void
check_accepted(const struct config *c)
{
	struct retention effective;
	size_t i, j;

	if (c->repository != NULL && c->repository[0] != '/')
		abort();
	if (c->metrics != NULL && c->metrics[0] != '/')
		abort();
	if (c->level < 1 || c->level > 19 || c->threads < 0 || c->threads > 256)
		abort();
	check_retention(&c->retention);
	for (i = 0; i < c->job_count; i++) {
		const struct job_config *job = &c->jobs[i];

		if (job->plugin == NULL || job->name[0] == '\0' ||
		    job->name[0] == '.' || strlen(job->name) > 64 ||
		    strcmp(job->name, "repository") == 0 ||
		    strcmp(job->name, "retention") == 0 ||
		    config_find_job(c, job->name) != job || job->max_age < 0)
			abort();
		check_retention(&job->retention);
		effective = config_effective_retention(c, job);
		check_retention(&effective);
		if (effective.keep_within < 0)
			abort();
		for (j = 0; j < job->setting_count; j++) {
			const struct cairn_setting *s = &job->settings[j];

			if (config_is_core_job_key(s->key) ||
			    config_job_setting(job, s->key) != s->value ||
			    s->line < job->line)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_scratch_dir();
	char *path = fuzz_scratch_write(dir, "cairn.conf", data, size);
	struct cairn_error err;
	struct config config;

	memset(&err, 0, sizeof(err));
	if (config_load(&config, path, 0, &err) != 0) {
		check_refusal(path, &err, count_lines(data, size));
	} else {
		check_accepted(&config);
		config_release(&config);
	}
	free(path);
	return 0;
}
