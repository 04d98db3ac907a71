/*
 * The kong plugin: the configuration of a Kong 3.x gateway, read through
 * its Admin API and kept as one declarative configuration, kong.json.
 *
 * backup  reads GET / (version, database or DB-less), every entity of
 *         every kind (entities.c), and writes kong.json with its size
 *         known; facts: Kong's version, its mode and a count per kind. A
 *         DB-less node also gives its own export (GET /config, YAML),
 *         kept beside as kong-config.yaml.
 * restore puts kong.json back into an Admin API (restore.c): --to
 *         URL, or the job's own admin-url with --force.
 * check   reachable, authenticated, version, mode, /status, counts.
 * drill   restores into drill-target and compares what the target then
 *         holds with the archive, entity by entity.
 *
 * Secrets (the Admin API token, the client key passphrase) are read
 * through the host when a connection is opened and never logged.
 */
#include "autoconfig.h"

#include "kong.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define KONG_ENTRY "kong.json"
#define KONG_DBLESS_ENTRY "kong-config.yaml"
/* An archived document larger than this is not a Kong configuration. */
#define KONG_DOCUMENT_MAX (1024u * 1024u * 1024u)

static const char *const kong_keys[] = {
	"admin-url",
	"token-file",
	"headers",
	"ca-file",
	"client-cert",
	"client-key",
	"client-key-passphrase-file",
	"workspace",
	"select-tags",
	"timeout",
	"drill-target",
	NULL,
};

static void
kong_config_free(struct kong_config *config)
{
	size_t i;

	if (config == NULL)
		return;
	free(config->admin_url);
	free(config->token_file);
	for (i = 0; i < config->header_count; i++)
		free(config->headers[i]);
	free(config->headers);
	free(config->ca_file);
	free(config->client_cert);
	free(config->client_key);
	free(config->client_key_passphrase_file);
	free(config->workspace);
	free(config->select_tags);
	free(config->drill_target);
	free(config);
}

static int
kong_bad(struct cairn_error *err, const struct cairn_setting *setting,
	 const char *why)
{
	err->setting = setting;
	return kong_error(err, "'%s = %s': %s", setting->key, setting->value,
			  why);
}

/* An Admin API URL: http or https, a host, no spaces; trailing '/' cut. */
static int
kong_check_url(const struct cairn_setting *setting, char **out,
	       struct cairn_error *err)
{
	const char *value = setting->value, *host;
	size_t length = strlen(value);

	if (strncmp(value, "http://", 7) == 0)
		host = value + 7;
	else if (strncmp(value, "https://", 8) == 0)
		host = value + 8;
	else
		return kong_bad(err, setting,
				"an Admin API URL starts with http:// or "
				"https://");
	if (*host == '\0' || *host == '/' || strpbrk(value, " \t\r\n?#"))
		return kong_bad(err, setting,
				"expected an Admin API URL such as "
				"http://127.0.0.1:40081");
	if (length > 900)
		return kong_bad(err, setting, "URL too long");
	*out = strdup(value);
	if (*out == NULL)
		return kong_error(err, "out of memory");
	while (length > 0 && (*out)[length - 1] == '/')
		(*out)[--length] = '\0';
	return 0;
}

static int
kong_check_file(const struct cairn_setting *setting, char **out,
		struct cairn_error *err)
{
	if (setting->value[0] == '\0')
		return kong_bad(err, setting, "expected a file name");
	if (access(setting->value, R_OK) != 0)
		return kong_bad(err, setting, "cannot read this file");
	*out = strdup(setting->value);
	return *out ? 0 : kong_error(err, "out of memory");
}

static int
kong_is_token_char(int c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* headers = Name: value, Other-Name: value */
static int
kong_check_headers(const struct cairn_setting *setting,
		   struct kong_config *config, struct cairn_error *err)
{
	char *copy, *item, *save = NULL, *colon, **grown;
	const char *p;
	int rc = -1;

	copy = strdup(setting->value);
	if (copy == NULL)
		return kong_error(err, "out of memory");
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*item))
			item++;
		colon = strchr(item, ':');
		if (colon == NULL || colon == item) {
			kong_bad(err, setting,
				 "expected 'Name: value' headers separated "
				 "by commas");
			goto out;
		}
		for (p = item; p < colon; p++)
			if (!kong_is_token_char((unsigned char)*p)) {
				kong_bad(err, setting,
					 "a header name holds a character "
					 "HTTP does not allow");
				goto out;
			}
		if (strncasecmp(item, "Kong-Admin-Token:", 17) == 0) {
			kong_bad(err, setting,
				 "put the token in the file named by "
				 "'token-file', not in the configuration");
			goto out;
		}
		if (strpbrk(item, "\r\n") != NULL) {
			kong_bad(err, setting, "line breaks in a header");
			goto out;
		}
		grown = realloc(config->headers,
				(config->header_count + 1) * sizeof(*grown));
		if (grown == NULL)
			goto oom;
		config->headers = grown;
		config->headers[config->header_count] = strdup(item);
		if (config->headers[config->header_count] == NULL)
			goto oom;
		config->header_count++;
	}
	if (config->header_count == 0) {
		kong_bad(err, setting, "no header given");
		goto out;
	}
	rc = 0;
	goto out;
oom:
	kong_error(err, "out of memory");
out:
	free(copy);
	return rc;
}

/* Kong's tag characters: printable, no ',' (and) nor '/' (or). */
static int
kong_check_tags(const struct cairn_setting *setting, char **out,
		struct cairn_error *err)
{
	const char *p = setting->value;
	int previous = ',';

	for (; *p != '\0'; previous = *p++) {
		if (*p == ',' && previous == ',')
			return kong_bad(err, setting, "empty tag");
		if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f ||
		    *p == ' ')
			return kong_bad(err, setting,
					"tags are separated by commas and "
					"hold no '/', spaces or control "
					"characters");
	}
	if (previous == ',')
		return kong_bad(err, setting, "empty tag");
	*out = strdup(setting->value);
	return *out ? 0 : kong_error(err, "out of memory");
}

static int
kong_configure(const struct cairn_host *host,
	       const struct cairn_job_config *job, void **state,
	       struct cairn_error *err)
{
	const struct cairn_setting *s, *key_setting = NULL;
	struct kong_config *config;
	char *end;
	size_t i;
	const char *p;

	(void)host;
	*state = NULL;
	config = calloc(1, sizeof(*config));
	if (config == NULL)
		return kong_error(err, "out of memory");
	config->timeout = 30;
	for (i = 0; i < job->count; i++) {
		s = &job->settings[i];
		if (strcmp(s->key, "admin-url") == 0) {
			free(config->admin_url);
			config->admin_url = NULL;
			if (kong_check_url(s, &config->admin_url, err))
				goto fail;
		} else if (strcmp(s->key, "drill-target") == 0) {
			free(config->drill_target);
			config->drill_target = NULL;
			if (kong_check_url(s, &config->drill_target, err))
				goto fail;
		} else if (strcmp(s->key, "token-file") == 0) {
			free(config->token_file);
			config->token_file = NULL;
			if (kong_check_file(s, &config->token_file, err))
				goto fail;
		} else if (strcmp(s->key, "client-key-passphrase-file") == 0) {
			free(config->client_key_passphrase_file);
			config->client_key_passphrase_file = NULL;
			if (kong_check_file(s,
					    &config->client_key_passphrase_file,
					    err))
				goto fail;
		} else if (strcmp(s->key, "ca-file") == 0) {
			free(config->ca_file);
			config->ca_file = NULL;
			if (kong_check_file(s, &config->ca_file, err))
				goto fail;
		} else if (strcmp(s->key, "client-cert") == 0) {
			free(config->client_cert);
			config->client_cert = NULL;
			if (kong_check_file(s, &config->client_cert, err))
				goto fail;
		} else if (strcmp(s->key, "client-key") == 0) {
			free(config->client_key);
			config->client_key = NULL;
			key_setting = s;
			if (kong_check_file(s, &config->client_key, err))
				goto fail;
		} else if (strcmp(s->key, "headers") == 0) {
			if (kong_check_headers(s, config, err))
				goto fail;
		} else if (strcmp(s->key, "workspace") == 0) {
			for (p = s->value; *p != '\0'; p++)
				if (!isalnum((unsigned char)*p) &&
				    strchr("-_.~", *p) == NULL)
					break;
			if (s->value[0] == '\0' || *p != '\0') {
				kong_bad(err, s,
					 "a workspace name holds letters, "
					 "digits, '-', '_', '.' and '~'");
				goto fail;
			}
			free(config->workspace);
			config->workspace = strdup(s->value);
			if (config->workspace == NULL)
				goto oom;
		} else if (strcmp(s->key, "select-tags") == 0) {
			free(config->select_tags);
			config->select_tags = NULL;
			if (kong_check_tags(s, &config->select_tags, err))
				goto fail;
		} else if (strcmp(s->key, "timeout") == 0) {
			config->timeout = strtol(s->value, &end, 10);
			if (end == s->value || *end != '\0' ||
			    config->timeout < 1 || config->timeout > 86400) {
				kong_bad(err, s,
					 "expected a number of seconds "
					 "between 1 and 86400");
				goto fail;
			}
		} else {
			err->setting = s;
			kong_error(err, "unknown key '%s'", s->key);
			goto fail;
		}
	}
	if (key_setting != NULL && config->client_cert == NULL) {
		kong_bad(err, key_setting, "'client-key' needs 'client-cert'");
		goto fail;
	}
	if (config->admin_url == NULL && !job->restore_only) {
		err->setting = NULL;
		kong_error(err,
			   "job '%s' needs 'admin-url' (the Admin API, "
			   "e.g. http://127.0.0.1:40081)",
			   job->job);
		goto fail;
	}
	*state = config;
	return 0;
oom:
	kong_error(err, "out of memory");
fail:
	kong_config_free(config);
	return -1;
}

static void
kong_release(void *state)
{
	kong_config_free(state);
}

static int
kong_need_url(const struct kong_config *config, struct cairn_error *err)
{
	if (config->admin_url == NULL)
		return kong_error(err, "no 'admin-url' for this job");
	return 0;
}

/* GET /: version and database ("postgres", or "off" for DB-less). */
static int
kong_node_info(struct kong_client *client, char *version, size_t vsize,
	       char *database, size_t dsize, struct cairn_error *err)
{
	struct json_value *info = NULL;
	const char *v, *d;

	if (kong_client_call(client, "GET", "/", NULL, 0, 0, &info, err))
		return -1;
	v = json_get_string(info, "version");
	d = json_get_string(json_object_get(info, "configuration"), "database");
	if (v == NULL) {
		json_free(info);
		return kong_error(err,
				  "'%s/' does not look like Kong's Admin "
				  "API (no version)",
				  client->display);
	}
	snprintf(version, vsize, "%s", v);
	snprintf(database, dsize, "%s", d ? d : "unknown");
	json_free(info);
	return 0;
}

static int
kong_write_entry(const struct cairn_host *host, struct cairn_sink *sink,
		 const char *name, const char *data, size_t length,
		 struct cairn_error *err)
{
	struct cairn_entry entry;
	struct cairn_stream *stream = NULL;

	memset(&entry, 0, sizeof(entry));
	entry.name = name;
	entry.type = CAIRN_ENTRY_FILE;
	entry.mode = 0600;
	entry.size = (int64_t)length;
	entry.mtime.tv_sec = time(NULL);
	if (host->stream_open(sink, &entry, &stream, err) != 0)
		return -1;
	if (length > 0 && host->stream_write(stream, data, length, err) != 0) {
		struct cairn_error ignored;

		host->stream_close(stream, &ignored);
		return -1;
	}
	return host->stream_close(stream, err);
}

/* DB-less: Kong's own export, GET /config, kept as it is. */
static int
kong_backup_export(const struct cairn_host *host, struct kong_client *client,
		   struct cairn_sink *sink, struct cairn_error *err)
{
	struct json_value *answer = NULL;
	const struct json_value *config;
	int rc;

	if (kong_client_call(client, "GET", "/config", NULL, 0, 0, &answer,
			     err))
		return -1;
	config = json_object_get(answer, "config");
	if (json_type(config) != JSON_STRING) {
		json_free(answer);
		return kong_error(err,
				  "'%s/config' answered without a "
				  "'config' string",
				  client->display);
	}
	rc = kong_write_entry(host, sink, KONG_DBLESS_ENTRY,
			      json_string(config), json_string_length(config),
			      err);
	json_free(answer);
	return rc;
}

static int
kong_backup(void *state, const struct cairn_host *host, struct cairn_sink *sink,
	    struct cairn_error *err)
{
	struct kong_config *config = state;
	struct kong_client client;
	struct kong_set set;
	struct json_value *document = NULL;
	char version[64], database[64], key[96], value[32];
	char *text = NULL;
	size_t length, total = 0;
	int kind, rc = -1, dbless;

	if (kong_need_url(config, err))
		return -1;
	if (kong_set_init(&set) != 0)
		return kong_error(err, "out of memory");
	if (kong_client_open(&client, config, host, config->admin_url, err))
		goto out;
	if (kong_node_info(&client, version, sizeof(version), database,
			   sizeof(database), err))
		goto out;
	dbless = strcmp(database, "off") == 0;
	if (strtol(version, NULL, 10) < 3)
		host->log(host, CAIRN_LOG_WARNING,
			  "'%s' runs Kong %s; this plugin knows Kong "
			  "3.x's entities",
			  client.display, version);
	if (kong_fetch(&client, config->select_tags, NULL, &set, err))
		goto out;
	if (dbless && kong_backup_export(host, &client, sink, err))
		goto out;
	document = kong_document_build(&set);
	if (document == NULL) {
		kong_error(err, "out of memory");
		goto out;
	}
	text = json_serialize(document, JSON_PRETTY, &length);
	if (text == NULL) {
		kong_error(err, "out of memory");
		goto out;
	}
	if (kong_write_entry(host, sink, KONG_ENTRY, text, length, err))
		goto out;

	host->fact_set(sink, "kong.version", version);
	host->fact_set(sink, "kong.database", database);
	host->fact_set(sink, "kong.mode", dbless ? "dbless" : "db");
	if (config->workspace != NULL)
		host->fact_set(sink, "kong.workspace", config->workspace);
	if (config->select_tags != NULL)
		host->fact_set(sink, "kong.select_tags", config->select_tags);
	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		if (!set.present[kind])
			continue;
		snprintf(key, sizeof(key), "kong.count.%s",
			 kong_kinds[kind].name);
		snprintf(value, sizeof(value), "%zu",
			 kong_set_count(&set, kind));
		host->fact_set(sink, key, value);
		total += kong_set_count(&set, kind);
	}
	snprintf(value, sizeof(value), "%zu", total);
	host->fact_set(sink, "kong.entities", value);
	host->log(host, CAIRN_LOG_INFO, "%zu entities from Kong %s at '%s'%s",
		  total, version, client.display, dbless ? " (DB-less)" : "");
	rc = 0;
out:
	free(text);
	json_free(document);
	kong_set_release(&set);
	kong_client_close(&client);
	return rc;
}

/* Reads the archive's kong.json into memory and parses it. */
static int
kong_read_archive(const struct cairn_host *host, struct cairn_source *source,
		  char **text, size_t *text_length, struct kong_set *set,
		  struct cairn_error *err)
{
	const struct cairn_entry *entry;
	struct json_value *document = NULL;
	const void *data;
	size_t length, used = 0, size = 0;
	int64_t offset;
	char *buffer = NULL, *grown, parse_error[256];
	int found = 0, rc;

	while ((rc = host->entry_next(source, &entry, err)) == 1) {
		if (strcmp(entry->name, KONG_ENTRY) != 0)
			continue;
		found = 1;
		while ((rc = host->entry_read(source, &data, &length, &offset,
					      err)) == 1) {
			if (used + length + 1 > KONG_DOCUMENT_MAX) {
				free(buffer);
				return kong_error(err,
						  "'%s' in the archive is "
						  "too large",
						  KONG_ENTRY);
			}
			if (used + length + 1 > size) {
				size = (used + length + 1) * 2;
				grown = realloc(buffer, size);
				if (grown == NULL) {
					free(buffer);
					return kong_error(err, "out of memory");
				}
				buffer = grown;
			}
			memcpy(buffer + used, data, length);
			used += length;
		}
		if (rc < 0) {
			free(buffer);
			return -1;
		}
	}
	if (rc < 0) {
		free(buffer);
		return -1;
	}
	if (!found)
		return kong_error(err, "the archive has no '%s' entry",
				  KONG_ENTRY);
	document = json_parse(buffer ? buffer : "", used, parse_error,
			      sizeof(parse_error));
	if (document == NULL) {
		free(buffer);
		return kong_error(err,
				  "'%s' in the archive is not valid "
				  "JSON: %s",
				  KONG_ENTRY, parse_error);
	}
	rc = kong_document_parse(document, host, set, err);
	json_free(document);
	if (rc != 0) {
		free(buffer);
		return -1;
	}
	*text = buffer;
	*text_length = used;
	return 0;
}

static void
kong_log_totals(const struct cairn_host *host, const char *url,
		const struct kong_restore_totals *t, int dry_run, int force)
{
	host->log(host, CAIRN_LOG_INFO,
		  "%s '%s': %zu %s, %zu %s, %zu unchanged, %zu extra "
		  "%s%s",
		  dry_run ? "dry run against" : "restored into", url,
		  t->created, dry_run ? "to create" : "created", t->updated,
		  dry_run ? "to update" : "updated", t->unchanged, t->extra,
		  force ? (dry_run ? "to delete" : "deleted") : "left alone",
		  t->skipped ? " (some entities skipped, see above)" : "");
}

static int
kong_restore(void *state, const struct cairn_host *host,
	     struct cairn_source *source,
	     const struct cairn_restore_options *options,
	     struct cairn_error *err)
{
	struct kong_config *config = state;
	struct kong_restore_request request;
	struct kong_restore_totals totals;
	struct kong_set archive;
	char *text = NULL, *target = NULL;
	int wanted[KONG_KIND_COUNT];
	size_t length = 0;
	int rc = -1;

	memset(&request, 0, sizeof(request));
	if (kong_select_kinds(options->only, options->only_count, wanted, err))
		return -1;
	if (options->target != NULL) {
		struct cairn_setting fake = {"--to", options->target, 0};

		if (kong_check_url(&fake, &target, err)) {
			err->setting = NULL;
			return kong_error(err,
					  "--to '%s': expected an Admin "
					  "API URL such as "
					  "http://127.0.0.1:40081",
					  options->target);
		}
	} else {
		if (kong_need_url(config, err))
			return -1;
		if (!options->force && !options->dry_run)
			return kong_error(err,
					  "restoring into the job's own "
					  "Admin API '%s' overwrites the live "
					  "gateway: give --force, or --to URL",
					  config->admin_url);
		target = strdup(config->admin_url);
		if (target == NULL)
			return kong_error(err, "out of memory");
	}
	if (kong_set_init(&archive) != 0) {
		free(target);
		return kong_error(err, "out of memory");
	}
	if (kong_read_archive(host, source, &text, &length, &archive, err))
		goto out;
	request.config = config;
	request.archive = &archive;
	request.document = text;
	request.document_length = length;
	request.target = target;
	request.wanted = wanted;
	request.dry_run = options->dry_run;
	request.force = options->force;
	request.archived_version = host->fact_get(source, "kong.version");
	if (kong_restore_run(host, &request, &totals, err))
		goto out;
	kong_log_totals(host, target, &totals, options->dry_run,
			options->force);
	rc = 0;
out:
	free(text);
	free(target);
	kong_set_release(&archive);
	return rc;
}

/* Compares the target, after a restore, with the archive. */
static int
kong_drill_compare(const struct cairn_host *host, struct kong_client *client,
		   const struct kong_set *archive, int dbless,
		   struct cairn_report *report, size_t *differences,
		   struct cairn_error *err)
{
	struct kong_set live;
	char key[96], value[96], label[512];
	size_t i, j, same, missing, shown = 0;
	int kind;

	if (kong_set_init(&live) != 0)
		return kong_error(err, "out of memory");
	if (kong_fetch(client, NULL, NULL, &live, err)) {
		kong_set_release(&live);
		return -1;
	}
	*differences = 0;
	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		const struct json_value *items = archive->items[kind];

		if (json_length(items) == 0)
			continue;
		same = missing = 0;
		for (i = 0; i < json_length(items); i++) {
			const struct json_value *want = json_array_at(items, i);
			const struct json_value *got = NULL;
			const char *id = json_get_string(want, "id");

			for (j = 0; j < json_length(live.items[kind]); j++) {
				const struct json_value *e =
					json_array_at(live.items[kind], j);
				const char *eid = json_get_string(e, "id");

				if (eid && id && strcmp(eid, id) == 0) {
					got = e;
					break;
				}
			}
			if (got != NULL && kong_entity_same(want, got)) {
				same++;
				continue;
			}
			/* Not restorable through the Admin API. */
			if (kong_hashed_secret(kind, want) != NULL && !dbless) {
				missing++;
				continue;
			}
			(*differences)++;
			if (shown++ < 10) {
				kong_entity_label(kind, want, label,
						  sizeof(label));
				host->report_problem(
					report, "%s %s in the drill target",
					label, got ? "differs" : "is missing");
			}
		}
		snprintf(key, sizeof(key), "kong.drill.%s",
			 kong_kinds[kind].name);
		if (missing > 0)
			snprintf(value, sizeof(value),
				 "%zu/%zu identical (%zu not restorable "
				 "through the Admin API)",
				 same, json_length(items), missing);
		else
			snprintf(value, sizeof(value), "%zu/%zu identical",
				 same, json_length(items));
		host->report_item(report, key, value);
	}
	kong_set_release(&live);
	return 0;
}

static int
kong_drill(void *state, const struct cairn_host *host,
	   struct cairn_source *source,
	   const struct cairn_drill_options *options,
	   struct cairn_report *report, struct cairn_error *err)
{
	struct kong_config *config = state;
	struct kong_restore_request request;
	struct kong_restore_totals totals;
	struct kong_client client;
	struct kong_set archive;
	char *text = NULL, *target = NULL;
	char version[64], database[64], value[64];
	int wanted[KONG_KIND_COUNT];
	size_t length = 0, differences = 0;
	int rc = -1, opened = 0;

	target = options->drill_target	? strdup(options->drill_target)
		 : config->drill_target ? strdup(config->drill_target)
					: NULL;
	if (target == NULL)
		return kong_error(err, "a kong drill restores into a scratch "
				       "Admin API: set 'drill-target'");
	if (config->admin_url != NULL &&
	    strcmp(target, config->admin_url) == 0) {
		free(target);
		return kong_error(err,
				  "'drill-target' is the job's own "
				  "'admin-url': a drill would overwrite the "
				  "live gateway");
	}
	memset(&request, 0, sizeof(request));
	kong_select_kinds(NULL, 0, wanted, err);
	if (kong_set_init(&archive) != 0) {
		free(target);
		return kong_error(err, "out of memory");
	}
	if (kong_read_archive(host, source, &text, &length, &archive, err))
		goto out;
	request.config = config;
	request.archive = &archive;
	request.document = text;
	request.document_length = length;
	request.target = target;
	request.wanted = wanted;
	request.force = 1; /* a scratch target: make it the archive */
	request.archived_version = host->fact_get(source, "kong.version");
	if (kong_restore_run(host, &request, &totals, err))
		goto out;
	snprintf(value, sizeof(value),
		 "%zu created, %zu updated, %zu "
		 "deleted",
		 totals.created, totals.updated, totals.deleted);
	host->report_item(report, "kong.drill.restore", value);

	opened = 1; /* kong_client_open leaves a closable client */
	if (kong_client_open(&client, config, host, target, err))
		goto close;
	if (kong_node_info(&client, version, sizeof(version), database,
			   sizeof(database), err))
		goto close;
	host->report_item(report, "kong.drill.target_version", version);
	if (kong_drill_compare(host, &client, &archive,
			       strcmp(database, "off") == 0, report,
			       &differences, err))
		goto close;
	if (differences > 0) {
		kong_error(err,
			   "%zu entities of the drill target differ from "
			   "the archive",
			   differences);
		goto close;
	}
	rc = 0;
close:
	if (opened)
		kong_client_close(&client);
out:
	free(text);
	free(target);
	kong_set_release(&archive);
	return rc;
}

static int
kong_check(void *state, const struct cairn_host *host,
	   struct cairn_report *report, struct cairn_error *err)
{
	struct kong_config *config = state;
	struct kong_client client;
	struct kong_set set;
	struct json_value *status = NULL;
	const struct json_value *db;
	char version[64], database[64], key[96], value[32];
	size_t total = 0;
	int kind, rc = -1;

	if (kong_need_url(config, err))
		return -1;
	if (kong_set_init(&set) != 0)
		return kong_error(err, "out of memory");
	if (kong_client_open(&client, config, host, config->admin_url, err) ||
	    kong_node_info(&client, version, sizeof(version), database,
			   sizeof(database), err)) {
		host->report_problem(report, "%s", err->message);
		goto out;
	}
	host->report_item(report, "kong.admin_url", client.display);
	host->report_item(report, "kong.version", version);
	host->report_item(report, "kong.database", database);
	if (kong_client_call(&client, "GET", "/status", NULL, 0, 0, &status,
			     err)) {
		host->report_problem(report, "%s", err->message);
		goto out;
	}
	db = json_object_get(json_object_get(status, "database"), "reachable");
	if (json_type(db) == JSON_BOOL) {
		host->report_item(report, "kong.status.database",
				  json_bool(db) ? "reachable" : "unreachable");
		if (!json_bool(db))
			host->report_problem(report,
					     "Kong at '%s' cannot reach its "
					     "database",
					     client.display);
	}
	if (kong_fetch(&client, config->select_tags, NULL, &set, err)) {
		host->report_problem(report, "%s", err->message);
		goto out;
	}
	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		if (!set.present[kind])
			continue;
		snprintf(key, sizeof(key), "kong.count.%s",
			 kong_kinds[kind].name);
		snprintf(value, sizeof(value), "%zu",
			 kong_set_count(&set, kind));
		host->report_item(report, key, value);
		total += kong_set_count(&set, kind);
	}
	snprintf(value, sizeof(value), "%zu", total);
	host->report_item(report, "kong.entities", value);
	rc = 0;
out:
	json_free(status);
	kong_set_release(&set);
	kong_client_close(&client);
	return rc;
}

const struct cairn_plugin cairn_plugin_entry = {
	.abi_version = CAIRN_PLUGIN_ABI_VERSION,
	.name = "kong",
	.version = PACKAGE_VERSION,
	.description = "Kong gateway configuration through its Admin API",
	.keys = kong_keys,
	.configure = kong_configure,
	.check = kong_check,
	.backup = kong_backup,
	.restore = kong_restore,
	.drill = kong_drill,
	.release = kong_release,
};
