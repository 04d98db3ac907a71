/*
 * Configuration loading of config.h.
 *
 * inih calls a handler per key but neither tells the line nor announces
 * sections, it silently splits lines longer than its buffer and cuts
 * section names to 49 bytes, and it goes on after a syntax error. So the
 * file is fed to inih through a reader that counts lines, rejects lines
 * too long, binary junk and lines that are neither a section header nor
 * a key (at their own line, before a later line can fail instead),
 * records every section header (to catch duplicate and empty sections,
 * and to give the handler the whole, trimmed section name) and tells
 * continuation lines (indented lines that extend the previous value)
 * from repeated keys.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age_keys.h"
#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "offsite_config.h"
#include "timefmt.h"

/* Far above any real configuration, low enough to refuse a wrong file. */
#define CONFIG_MAX_SIZE (16 * 1024 * 1024)

struct config_parser {
	struct config *config;
	struct cairn_error *err;
	int failed;

	/* The reader's view of the text. */
	const char *text;
	size_t length;
	size_t position;
	int line;
	int line_is_continuation;

	/* The key the previous handler call set, for continuations. */
	char *last_section;
	char *last_key;
	int repository_seen;
	int retention_seen;
	int encryption_seen;

	/* The section of the line being parsed, as the reader read it. */
	char section[256];
	int key_in_section; /* an indented line now continues a value */

	/* Every key set so far, to refuse one given twice. */
	struct seen_key {
		char *section;
		char *key;
		int line;
	} * seen;
	size_t seen_count;
};

static const char *const retention_keys[] = {
	"keep-last",	"keep-hourly", "keep-daily",  "keep-weekly",
	"keep-monthly", "keep-yearly", "keep-within", NULL,
};

static int
key_in(const char *key, const char *const *keys)
{
	for (; *keys != NULL; keys++)
		if (strcmp(key, *keys) == 0)
			return 1;
	return 0;
}

int
config_is_core_job_key(const char *key)
{
	static const char *const core_keys[] = {"plugin",      "before",
						"after",       "max-age",
						"incremental", "full-every",
						NULL};

	return key_in(key, core_keys) || key_in(key, retention_keys);
}

static void parser_fail(struct config_parser *parser, const char *section,
			const char *key, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

static void
parser_fail(struct config_parser *parser, const char *section, const char *key,
	    const char *format, ...)
{
	char what[768];
	va_list ap;

	if (parser->failed)
		return;
	parser->failed = 1;
	va_start(ap, format);
	message_vformat(what, sizeof(what), format, ap);
	va_end(ap);
	if (key != NULL)
		error_set(parser->err, "%s:%d: [%s] %s: %s",
			  parser->config->file, parser->line, section, key,
			  what);
	else if (section != NULL)
		error_set(parser->err, "%s:%d: [%s]: %s", parser->config->file,
			  parser->line, section, what);
	else
		error_set(parser->err, "%s:%d: %s", parser->config->file,
			  parser->line, what);
}

static void
retention_unset(struct retention *r)
{
	r->keep_last = -1;
	r->keep_hourly = -1;
	r->keep_daily = -1;
	r->keep_weekly = -1;
	r->keep_monthly = -1;
	r->keep_yearly = -1;
	r->keep_within = -1;
}

static int
parse_count(const char *value, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < 0 || n > 1000000)
		return -1;
	*out = (int)n;
	return 0;
}

static int
set_retention(struct config_parser *parser, struct retention *r,
	      const char *section, const char *key, const char *value)
{
	int *field = NULL;

	if (strcmp(key, "keep-within") == 0) {
		if (timefmt_parse_duration(value, &r->keep_within) != 0) {
			parser_fail(parser, section, key,
				    "'%s' is not a duration (e.g. 12h, 2d)",
				    value);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "keep-last") == 0)
		field = &r->keep_last;
	else if (strcmp(key, "keep-hourly") == 0)
		field = &r->keep_hourly;
	else if (strcmp(key, "keep-daily") == 0)
		field = &r->keep_daily;
	else if (strcmp(key, "keep-weekly") == 0)
		field = &r->keep_weekly;
	else if (strcmp(key, "keep-monthly") == 0)
		field = &r->keep_monthly;
	else if (strcmp(key, "keep-yearly") == 0)
		field = &r->keep_yearly;
	if (field == NULL || parse_count(value, field) != 0) {
		parser_fail(parser, section, key,
			    "'%s' is not a count from 0 to 1000000", value);
		return -1;
	}
	return 0;
}

static int
parse_int_range(const char *value, long low, long high, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < low || n > high)
		return -1;
	*out = n;
	return 0;
}

static void
set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static int
handle_repository(struct config_parser *parser, const char *key,
		  const char *value)
{
	struct config *config = parser->config;
	long n;

	if (strcmp(key, "path") == 0) {
		if (value[0] != '/') {
			parser_fail(parser, "repository", key,
				    "'%s' is not an absolute path", value);
			return -1;
		}
		set_string(&config->repository, value);
		config->repository_line = parser->line;
	} else if (strcmp(key, "compression") == 0) {
		if (strcmp(value, "zstd") == 0)
			config->compression = COMPRESSION_ZSTD;
		else if (strcmp(value, "none") == 0)
			config->compression = COMPRESSION_NONE;
		else {
			parser_fail(parser, "repository", key,
				    "'%s' is not one of zstd, none", value);
			return -1;
		}
	} else if (strcmp(key, "level") == 0) {
		if (parse_int_range(value, 1, 19, &n) != 0) {
			parser_fail(parser, "repository", key,
				    "'%s' is not a zstd level from 1 to 19",
				    value);
			return -1;
		}
		config->level = (int)n;
	} else if (strcmp(key, "threads") == 0) {
		if (parse_int_range(value, 0, 256, &n) != 0) {
			parser_fail(parser, "repository", key,
				    "'%s' is not a thread count from 0 to 256",
				    value);
			return -1;
		}
		config->threads = (int)n;
	} else if (strcmp(key, "plugin-dir") == 0) {
		set_string(&config->plugin_dir, value);
	} else if (strcmp(key, "metrics") == 0) {
		if (value[0] != '/') {
			parser_fail(parser, "repository", key,
				    "'%s' is not an absolute path", value);
			return -1;
		}
		set_string(&config->metrics, value);
	} else if (strcmp(key, "log") == 0) {
		if (strcmp(value, "stderr") == 0)
			config->log_syslog = 0;
		else if (strcmp(value, "syslog") == 0)
			config->log_syslog = 1;
		else {
			parser_fail(parser, "repository", key,
				    "'%s' is not one of stderr, syslog", value);
			return -1;
		}
	} else {
		parser_fail(parser, "repository", key, "unknown key");
		return -1;
	}
	return 0;
}

/* Adds every space-separated "age1..." of value to the recipients. */
static int
add_recipients(struct config_parser *parser, const char *value)
{
	struct encryption_config *e = &parser->config->encryption;
	const char *p = value;

	while (*p != '\0') {
		unsigned char key[32];
		size_t length;
		char *one;

		while (*p == ' ' || *p == '\t')
			p++;
		length = strcspn(p, " \t");
		if (length == 0)
			break;
		one = xstrndup(p, length);
		if (age_recipient_parse(one, key) != 0) {
			parser_fail(parser, "encryption", "recipients",
				    "'%s' is not an age X25519 recipient "
				    "(age1...)",
				    one);
			free(one);
			return -1;
		}
		e->recipients = xrealloc(e->recipients, (e->recipient_count +
							 1) * sizeof(char *));
		e->recipients[e->recipient_count++] = one;
		p += length;
	}
	return 0;
}

static int
handle_encryption(struct config_parser *parser, const char *key,
		  const char *value)
{
	struct encryption_config *e = &parser->config->encryption;
	char **field = NULL;
	int *line = NULL;

	if (strcmp(key, "recipients") == 0) {
		e->recipients_line = parser->line;
		if (add_recipients(parser, value) != 0)
			return -1;
		if (e->recipient_count == 0) {
			parser_fail(parser, "encryption", key,
				    "no recipient given");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "recipients-file") == 0) {
		field = &e->recipients_file;
		line = &e->recipients_file_line;
	} else if (strcmp(key, "identity-file") == 0) {
		field = &e->identity_file;
		line = &e->identity_file_line;
	} else if (strcmp(key, "passphrase-file") == 0) {
		field = &e->passphrase_file;
		line = &e->passphrase_file_line;
	} else {
		parser_fail(parser, "encryption", key, "unknown key");
		return -1;
	}
	if (value[0] != '/') {
		parser_fail(parser, "encryption", key,
			    "'%s' is not an absolute path", value);
		return -1;
	}
	set_string(field, value);
	*line = parser->line;
	return 0;
}

static int
valid_job_name(const char *name)
{
	const char *p;

	if (*name == '\0' || *name == '.' || strlen(name) > 64)
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			return 0;
	return 1;
}

static struct job_config *
add_job(struct config_parser *parser, const char *name)
{
	struct config *config = parser->config;
	struct job_config *job;

	config->jobs = xrealloc(config->jobs,
				(config->job_count + 1) * sizeof(*job));
	job = &config->jobs[config->job_count++];
	memset(job, 0, sizeof(*job));
	job->name = xstrdup(name);
	job->line = parser->line;
	retention_unset(&job->retention);
	return job;
}

/* Keeps `text` (owned) with the job and returns it. */
static const char *
job_own(struct job_config *job, char *text)
{
	job->strings = xreallocarray(job->strings, job->string_count + 1,
				     sizeof(*job->strings));
	job->strings[job->string_count++] = text;
	return text;
}

/* Replaces the owned string `old` by `text` (owned) and returns it. */
static const char *
job_replace(struct job_config *job, const char *old, char *text)
{
	size_t i;

	for (i = 0; i < job->string_count; i++)
		if (job->strings[i] == old) {
			free(job->strings[i]);
			job->strings[i] = text;
			return text;
		}
	return job_own(job, text);
}

static struct cairn_setting *
find_setting(struct job_config *job, const char *key)
{
	size_t i;

	for (i = 0; i < job->setting_count; i++)
		if (strcmp(job->settings[i].key, key) == 0)
			return &job->settings[i];
	return NULL;
}

/* A count of archives (7) or a duration (7d). */
static int
set_full_every(struct config_parser *parser, struct job_config *job,
	       const char *section, const char *key, const char *value)
{
	int count;

	job->full_every_seconds = 0;
	job->full_every_count = 0;
	if (value[0] != '\0' && strspn(value, "0123456789") == strlen(value)) {
		if (parse_count(value, &count) != 0 || count < 1) {
			parser_fail(parser, section, key,
				    "'%s' is not a count from 1 to 1000000",
				    value);
			return -1;
		}
		job->full_every_count = count;
		return 0;
	}
	if (timefmt_parse_duration(value, &job->full_every_seconds) != 0 ||
	    job->full_every_seconds <= 0) {
		parser_fail(parser, section, key,
			    "'%s' is neither a count (7) nor a duration (7d)",
			    value);
		return -1;
	}
	return 0;
}

static int
handle_job(struct config_parser *parser, const char *section, const char *key,
	   const char *value)
{
	struct job_config *job = config_find_job(parser->config, section);
	struct cairn_setting *setting;

	if (job == NULL) /* the reader registers every section */
		job = add_job(parser, section);
	if (strcmp(key, "plugin") == 0) {
		set_string(&job->plugin, value);
	} else if (strcmp(key, "before") == 0) {
		set_string(&job->before, value);
	} else if (strcmp(key, "after") == 0) {
		set_string(&job->after, value);
	} else if (strcmp(key, "max-age") == 0) {
		if (timefmt_parse_duration(value, &job->max_age) != 0) {
			parser_fail(parser, section, key,
				    "'%s' is not a duration (e.g. 26h)", value);
			return -1;
		}
	} else if (strcmp(key, "incremental") == 0) {
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
			job->incremental = 1;
		else if (strcmp(value, "no") == 0 ||
			 strcmp(value, "false") == 0)
			job->incremental = 0;
		else {
			parser_fail(parser, section, key,
				    "'%s' is not yes or no", value);
			return -1;
		}
	} else if (strcmp(key, "full-every") == 0) {
		return set_full_every(parser, job, section, key, value);
	} else if (key_in(key, retention_keys)) {
		return set_retention(parser, &job->retention, section, key,
				     value);
	} else {
		job->settings = xrealloc(job->settings,
					 (job->setting_count + 1) *
						 sizeof(*job->settings));
		setting = &job->settings[job->setting_count++];
		setting->key = job_own(job, xstrdup(key));
		setting->value = job_own(job, xstrdup(value));
		setting->line = parser->line;
	}
	return 0;
}

/* Where `key` of `section` was set before, or 0 after recording it. */
static int
seen_before(struct config_parser *parser, const char *section, const char *key)
{
	struct seen_key *k;
	size_t i;

	for (i = 0; i < parser->seen_count; i++)
		if (strcmp(parser->seen[i].section, section) == 0 &&
		    strcmp(parser->seen[i].key, key) == 0)
			return parser->seen[i].line;
	parser->seen = xrealloc(parser->seen, (parser->seen_count + 1) *
						      sizeof(*parser->seen));
	k = &parser->seen[parser->seen_count++];
	k->section = xstrdup(section);
	k->key = xstrdup(key);
	k->line = parser->line;
	return 0;
}

/* Appends a continuation line to the value the previous line set. */
static int
handle_continuation(struct config_parser *parser, const char *section,
		    const char *key, const char *value)
{
	struct job_config *job = config_find_job(parser->config, section);
	struct cairn_setting *setting;
	struct buf joined = BUF_INIT;

	setting = job ? find_setting(job, key) : NULL;
	if (setting == NULL) {
		parser_fail(parser, section, key,
			    "a continued value is only allowed for plugin "
			    "keys such as paths");
		return -1;
	}
	buf_printf(&joined, "%s %s", setting->value, value);
	setting->value = job_replace(job, setting->value, buf_detach(&joined));
	return 0;
}

static struct offsite_target *
find_offsite(struct config *config, const char *name)
{
	size_t i;

	for (i = 0; i < config->offsite_count; i++)
		if (strcmp(config->offsites[i].name, name) == 0)
			return &config->offsites[i];
	return NULL;
}

static void
add_offsite(struct config_parser *parser, const char *name)
{
	struct config *config = parser->config;
	struct offsite_target *t;

	config->offsites = xrealloc(config->offsites,
				    (config->offsite_count + 1) * sizeof(*t));
	t = &config->offsites[config->offsite_count++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->line = parser->line;
	t->prefix = xstrdup("");
	t->part_size = OFFSITE_DEFAULT_PART_SIZE;
	retention_unset(&t->retention);
}

/* A key of an [offsite NAME] section (a copy target, not a job). */
static int
handle_offsite(struct config_parser *parser, const char *section,
	       const char *key, const char *value, int continued)
{
	struct offsite_target *t =
		find_offsite(parser->config,
			     section + strlen(OFFSITE_SECTION_PREFIX));
	char why[512];

	if (continued) {
		parser_fail(parser, section, key,
			    "a continued value is only allowed for plugin "
			    "keys such as paths");
		return -1;
	}
	if (key_in(key, retention_keys))
		return set_retention(parser, &t->retention, section, key,
				     value);
	if (offsite_config_set(t, key, value, why, sizeof(why)) != 0) {
		parser_fail(parser, section, key, "%s", why);
		return -1;
	}
	return 0;
}

static int
config_handler(void *user, const char *inih_section, const char *key,
	       const char *value)
{
	struct config_parser *parser = user;
	/* inih's copy of the name is untrimmed and cut to 49 bytes. */
	const char *section = parser->section;
	int continued, first_line;

	(void)inih_section;
	if (parser->failed)
		return 0;
	continued = parser->line_is_continuation && parser->last_key &&
		    strcmp(parser->last_key, key) == 0 &&
		    strcmp(parser->last_section, section) == 0;
	if (!continued) {
		/* A key given twice is a mistake an operator must see. */
		first_line = seen_before(parser, section, key);
		if (first_line > 0) {
			parser_fail(parser, section, key,
				    "key given twice (first on line %d)",
				    first_line);
			return 0;
		}
	} else if (strcmp(section, "encryption") == 0 &&
		   strcmp(key, "recipients") == 0) {
		/* A long list of recipients goes on indented lines. */
		return add_recipients(parser, value) == 0;
	} else if (strcmp(section, "repository") == 0 ||
		   strcmp(section, "retention") == 0 ||
		   strcmp(section, "encryption") == 0) {
		parser_fail(parser, section, key,
			    "a continued value is only allowed for plugin "
			    "keys such as paths");
		return 0;
	}
	free(parser->last_section);
	free(parser->last_key);
	parser->last_section = xstrdup(section);
	parser->last_key = xstrdup(key);

	if (*section == '\0') {
		parser_fail(parser, NULL, NULL,
			    "key '%s' outside of any section", key);
		return 0;
	}
	if (strcmp(section, "repository") == 0)
		return handle_repository(parser, key, value) == 0;
	if (strcmp(section, "encryption") == 0)
		return handle_encryption(parser, key, value) == 0;
	if (strcmp(section, "retention") == 0) {
		if (!key_in(key, retention_keys)) {
			parser_fail(parser, section, key, "unknown key");
			return 0;
		}
		return set_retention(parser, &parser->config->retention,
				     section, key, value) == 0;
	}
	if (strncmp(section, OFFSITE_SECTION_PREFIX,
		    strlen(OFFSITE_SECTION_PREFIX)) == 0)
		return handle_offsite(parser, section, key, value, continued) ==
		       0;
	if (continued)
		return handle_continuation(parser, section, key, value) == 0;
	return handle_job(parser, section, key, value) == 0;
}

/* Reads one section header seen by the reader: "[name]" with spaces. */
static void
reader_section(struct config_parser *parser, const char *line, size_t length)
{
	const char *close = memchr(line, ']', length);
	char name[sizeof(parser->section)];
	size_t name_length;

	if (close == NULL) {
		parser_fail(parser, NULL, NULL,
			    "syntax error (a section header without its "
			    "closing ']')");
		return;
	}
	line++;
	while (line < close && isspace((unsigned char)*line))
		line++;
	name_length = (size_t)(close - line);
	while (name_length > 0 && isspace((unsigned char)line[name_length - 1]))
		name_length--;
	if (name_length >= sizeof(name)) {
		parser_fail(parser, NULL, NULL, "section name too long");
		return;
	}
	memcpy(name, line, name_length);
	name[name_length] = '\0';
	memcpy(parser->section, name, name_length + 1);
	if (strcmp(name, "repository") == 0 || strcmp(name, "retention") == 0 ||
	    strcmp(name, "encryption") == 0) {
		int *seen = strcmp(name, "repository") == 0
				    ? &parser->repository_seen
			    : strcmp(name, "retention") == 0
				    ? &parser->retention_seen
				    : &parser->encryption_seen;
		if (*seen)
			parser_fail(parser, name, NULL, "section given twice");
		*seen = 1;
		return;
	}
	if (strcmp(name, "offsite") == 0) {
		parser_fail(parser, name, NULL,
			    "a copy target is named: [offsite NAME]");
		return;
	}
	if (strncmp(name, OFFSITE_SECTION_PREFIX,
		    strlen(OFFSITE_SECTION_PREFIX)) == 0) {
		const char *target = name + strlen(OFFSITE_SECTION_PREFIX);

		if (!valid_job_name(target))
			parser_fail(parser, name, NULL,
				    "a target name is made of letters, "
				    "digits, '-', '_' and '.' (at most 64, "
				    "not starting with '.')");
		else if (find_offsite(parser->config, target) != NULL)
			parser_fail(parser, name, NULL, "section given twice");
		else
			add_offsite(parser, target);
		return;
	}
	if (!valid_job_name(name)) {
		parser_fail(parser, name, NULL,
			    "a job name is made of letters, digits, '-', "
			    "'_' and '.' (at most 64, not starting with '.')");
		return;
	}
	if (config_find_job(parser->config, name) != NULL) {
		parser_fail(parser, name, NULL, "section given twice");
		return;
	}
	add_job(parser, name);
}

/*
 * Looks at a line as inih will: a comment or blank line, a section
 * header, a continuation of the previous value (indented, after a key of
 * the same section), or a key with '=' or ':'. Anything else is a syntax
 * error reported at this line.
 */
static void
reader_check_line(struct config_parser *parser, const char *line, size_t length)
{
	const char *p = line, *end = line + length;

	if (parser->line == 1 && length >= 3 &&
	    memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark, which inih skips */
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end || *p == ';' || *p == '#')
		return;
	if (*p == '[') {
		reader_section(parser, p, (size_t)(end - p));
		parser->key_in_section = 0;
		return;
	}
	if (p > line && parser->key_in_section)
		return;
	if (memchr(p, '=', (size_t)(end - p)) == NULL &&
	    memchr(p, ':', (size_t)(end - p)) == NULL) {
		parser_fail(parser, NULL, NULL,
			    "syntax error (expected '[section]' or "
			    "'key = value')");
		return;
	}
	parser->key_in_section = 1;
}

static char *
config_reader(char *str, int num, void *stream)
{
	struct config_parser *parser = stream;
	const char *start, *newline;
	size_t length, skip;

	if (parser->failed || parser->position >= parser->length)
		return NULL;
	start = parser->text + parser->position;
	newline = memchr(start, '\n', parser->length - parser->position);
	length = newline ? (size_t)(newline - start)
			 : parser->length - parser->position;
	skip = newline ? length + 1 : length;
	parser->line++;
	if (memchr(start, '\0', length) != NULL) {
		parser_fail(parser, NULL, NULL,
			    "binary data (a NUL byte) in the file");
		return NULL;
	}
	if (length + 2 > (size_t)num) {
		parser_fail(parser, NULL, NULL,
			    "line longer than %d characters (continue a long "
			    "value on indented lines)",
			    num - 2);
		return NULL;
	}
	memcpy(str, start, length);
	str[length] = '\n';
	str[length + 1] = '\0';
	parser->position += skip;
	parser->line_is_continuation = length > 0 &&
				       (start[0] == ' ' || start[0] == '\t');
	reader_check_line(parser, start, length);
	return parser->failed ? NULL : str;
}

static void
config_defaults(struct config *config)
{
	config->compression = COMPRESSION_ZSTD;
	config->level = 3;
	config->threads = 0;
	retention_unset(&config->retention);
}

static int
config_validate(struct config_parser *parser)
{
	struct config *config = parser->config;
	struct encryption_config *e = &config->encryption;
	size_t i;

	if (e->passphrase_file != NULL &&
	    (e->recipient_count > 0 || e->recipients_file != NULL)) {
		parser->line = e->passphrase_file_line;
		parser_fail(parser, "encryption", "passphrase-file",
			    "a passphrase replaces recipients: an age file "
			    "with an scrypt stanza has no other recipient "
			    "(remove recipients or passphrase-file)");
		return -1;
	}
	for (i = 0; i < config->job_count; i++) {
		struct job_config *job = &config->jobs[i];

		if (job->plugin == NULL) {
			parser->line = job->line;
			parser_fail(parser, job->name, NULL,
				    "missing required key 'plugin'");
			return -1;
		}
	}
	for (i = 0; i < config->offsite_count; i++) {
		const struct offsite_target *t = &config->offsites[i];
		char section[128], why[512];
		const char *key;

		if (offsite_config_check(t, &key, why, sizeof(why)) != 0) {
			snprintf(section, sizeof(section), "%s%s",
				 OFFSITE_SECTION_PREFIX, t->name);
			parser->line = t->line;
			parser_fail(parser, section, key, "%s", why);
			return -1;
		}
	}
	return 0;
}

int
config_load(struct config *config, const char *path, int missing_ok,
	    struct cairn_error *err)
{
	struct config_parser parser;
	char *text = NULL;
	size_t length = 0;
	int rc;

	memset(config, 0, sizeof(*config));
	config_defaults(config);
	config->file = xstrdup(path);
	if (fsutil_read_file(path, CONFIG_MAX_SIZE, &text, &length, err) != 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		config_release(config);
		return -1;
	}
	memset(&parser, 0, sizeof(parser));
	parser.config = config;
	parser.err = err;
	parser.text = text;
	parser.length = length;
	rc = ini_parse_stream(config_reader, &parser, config_handler, &parser);
	if (rc != 0 && !parser.failed) {
		parser.line = rc > 0 ? rc : parser.line;
		parser_fail(&parser, NULL, NULL,
			    rc > 0 ? "syntax error (expected '[section]' or "
				     "'key = value')"
				   : "cannot parse the file");
	}
	if (!parser.failed)
		config_validate(&parser);
	free(parser.last_section);
	free(parser.last_key);
	for (size_t i = 0; i < parser.seen_count; i++) {
		free(parser.seen[i].section);
		free(parser.seen[i].key);
	}
	free(parser.seen);
	free(text);
	if (parser.failed) {
		config_release(config);
		return -1;
	}
	return 0;
}

void
config_release(struct config *config)
{
	size_t i, j;

	for (i = 0; i < config->job_count; i++) {
		struct job_config *job = &config->jobs[i];

		free(job->name);
		free(job->plugin);
		free(job->before);
		free(job->after);
		for (j = 0; j < job->string_count; j++)
			free(job->strings[j]);
		free(job->strings);
		free(job->settings);
	}
	free(config->jobs);
	for (i = 0; i < config->offsite_count; i++)
		offsite_target_release(&config->offsites[i]);
	free(config->offsites);
	for (i = 0; i < config->encryption.recipient_count; i++)
		free(config->encryption.recipients[i]);
	free(config->encryption.recipients);
	free(config->encryption.recipients_file);
	free(config->encryption.identity_file);
	free(config->encryption.passphrase_file);
	free(config->file);
	free(config->repository);
	free(config->plugin_dir);
	free(config->metrics);
	memset(config, 0, sizeof(*config));
}

struct job_config *
config_find_job(const struct config *config, const char *name)
{
	size_t i;

	for (i = 0; i < config->job_count; i++)
		if (strcmp(config->jobs[i].name, name) == 0)
			return &config->jobs[i];
	return NULL;
}

const char *
config_job_setting(const struct job_config *job, const char *key)
{
	size_t i;

	for (i = 0; i < job->setting_count; i++)
		if (strcmp(job->settings[i].key, key) == 0)
			return job->settings[i].value;
	return NULL;
}

static int
pick(int job_value, int default_value, int builtin)
{
	if (job_value >= 0)
		return job_value;
	return default_value >= 0 ? default_value : builtin;
}

struct retention
config_effective_retention(const struct config *config,
			   const struct job_config *job)
{
	const struct retention *d = &config->retention;
	const struct retention *j;
	struct retention none, r;

	retention_unset(&none);
	j = job ? &job->retention : &none;

	/* The built-in defaults are the SPEC's example policy. */
	r.keep_last = pick(j->keep_last, d->keep_last, 3);
	r.keep_hourly = pick(j->keep_hourly, d->keep_hourly, 0);
	r.keep_daily = pick(j->keep_daily, d->keep_daily, 7);
	r.keep_weekly = pick(j->keep_weekly, d->keep_weekly, 4);
	r.keep_monthly = pick(j->keep_monthly, d->keep_monthly, 12);
	r.keep_yearly = pick(j->keep_yearly, d->keep_yearly, 0);
	r.keep_within = j->keep_within >= 0   ? j->keep_within
			: d->keep_within >= 0 ? d->keep_within
					      : 0;
	return r;
}
