/*
 * A postgres job's settings, validated into struct postgres_config. Every
 * error names the key at fault and points err->setting at it, so the core
 * can name the file and line. Nothing here opens a connection or reads a
 * secret: configure runs for every command, even `list`.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const postgres_keys[] = {
	"host",
	"port",
	"user",
	"password-file",
	"service",
	"sslmode",
	"sslrootcert",
	"sslcert",
	"sslkey",
	"databases",
	"exclude-databases",
	"format",
	"jobs",
	"pg-bin-dir",
	"connect-timeout",
	"drill-target",
	"drill-user",
	NULL,
};

/* Job keys passed to libpq as they are, under libpq's keyword. */
static const struct {
	const char *key;
	const char *keyword;
} postgres_libpq_keys[] = {
	{"host", "host"},	{"user", "user"},
	{"service", "service"}, {"sslrootcert", "sslrootcert"},
	{"sslcert", "sslcert"}, {"sslkey", "sslkey"},
};

static int
postgres_config_int(const struct cairn_setting *s, long min, long max,
		    long *value, struct cairn_error *err)
{
	char *end;

	errno = 0;
	*value = strtol(s->value, &end, 10);
	if (errno != 0 || end == s->value || *end != '\0' || *value < min ||
	    *value > max) {
		postgres_error(err,
			       "'%s' must be a whole number from %ld to %ld, "
			       "not '%s'",
			       s->key, min, max, s->value);
		err->setting = s;
		return -1;
	}
	return 0;
}

static int
postgres_config_bindir(const struct cairn_setting *s, struct cairn_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	if (stat(s->value, &st) == -1 || !S_ISDIR(st.st_mode)) {
		postgres_error(err, "'pg-bin-dir': '%s' is not a directory",
			       s->value);
		err->setting = s;
		return -1;
	}
	n = snprintf(path, sizeof(path), "%s/pg_dump", s->value);
	if (n < 0 || (size_t)n >= sizeof(path) || access(path, X_OK) == -1) {
		postgres_error(err,
			       "'pg-bin-dir': no executable 'pg_dump' in '%s'",
			       s->value);
		err->setting = s;
		return -1;
	}
	return 0;
}

static int
postgres_config_target(const struct cairn_setting *s, struct cairn_error *err)
{
	PQconninfoOption *options;
	char *message = NULL;

	options = PQconninfoParse(s->value, &message);
	if (options == NULL) {
		postgres_error(err, "'%s': not a libpq connection URI: %s",
			       s->key,
			       message != NULL ? message : "out of memory");
		err->setting = s;
		/* Strip libpq's trailing newline. */
		if (strlen(err->message) > 0 &&
		    err->message[strlen(err->message) - 1] == '\n')
			err->message[strlen(err->message) - 1] = '\0';
		PQfreemem(message);
		return -1;
	}
	PQconninfoFree(options);
	return 0;
}

static int
postgres_config_setting(struct postgres_config *cfg,
			const struct cairn_setting *s, struct cairn_error *err)
{
	const char *k = s->key;
	long number;
	size_t i;

	if (s->value == NULL || s->value[0] == '\0') {
		postgres_error(err, "'%s' is empty", k);
		err->setting = s;
		return -1;
	}
	for (i = 0;
	     i < sizeof(postgres_libpq_keys) / sizeof(postgres_libpq_keys[0]);
	     i++) {
		if (strcmp(k, postgres_libpq_keys[i].key) != 0)
			continue;
		if (postgres_params_set(&cfg->params,
					postgres_libpq_keys[i].keyword,
					s->value) == -1)
			goto oom;
		return 0;
	}
	if (strcmp(k, "port") == 0) {
		if (postgres_config_int(s, 1, 65535, &number, err) == -1)
			return -1;
		if (postgres_params_set(&cfg->params, "port", s->value) == -1)
			goto oom;
	} else if (strcmp(k, "connect-timeout") == 0) {
		if (postgres_config_int(s, 1, 3600, &number, err) == -1)
			return -1;
		if (postgres_params_set(&cfg->params, "connect_timeout",
					s->value) == -1)
			goto oom;
	} else if (strcmp(k, "sslmode") == 0) {
		static const char *const modes[] = {
			"disable", "allow",	"prefer",
			"require", "verify-ca", "verify-full",
		};

		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (strcmp(s->value, modes[i]) == 0)
				break;
		if (i == sizeof(modes) / sizeof(modes[0])) {
			postgres_error(err,
				       "'sslmode' must be disable, allow, "
				       "prefer, require, verify-ca or "
				       "verify-full, not '%s'",
				       s->value);
			err->setting = s;
			return -1;
		}
		if (postgres_params_set(&cfg->params, "sslmode", s->value) ==
		    -1)
			goto oom;
	} else if (strcmp(k, "password-file") == 0) {
		cfg->password_file = strdup(s->value);
		if (cfg->password_file == NULL)
			goto oom;
	} else if (strcmp(k, "databases") == 0) {
		if (postgres_list_parse(s->value, &cfg->databases, err) == -1) {
			char copy[CAIRN_ERROR_MESSAGE_SIZE - 32];

			memcpy(copy, err->message, sizeof(copy) - 1);
			copy[sizeof(copy) - 1] = '\0';
			postgres_error(err, "'databases': %s", copy);
			err->setting = s;
			return -1;
		}
		if (postgres_list_contains(&cfg->databases, "all")) {
			if (cfg->databases.count > 1) {
				postgres_error(err,
					       "'databases': 'all' cannot be "
					       "combined with database names");
				err->setting = s;
				return -1;
			}
			postgres_list_free(&cfg->databases);
		}
	} else if (strcmp(k, "exclude-databases") == 0) {
		if (postgres_list_parse(s->value, &cfg->excludes, err) == -1) {
			char copy[CAIRN_ERROR_MESSAGE_SIZE - 32];

			memcpy(copy, err->message, sizeof(copy) - 1);
			copy[sizeof(copy) - 1] = '\0';
			postgres_error(err, "'exclude-databases': %s", copy);
			err->setting = s;
			return -1;
		}
	} else if (strcmp(k, "format") == 0) {
		if (strcmp(s->value, "custom") == 0) {
			cfg->format = POSTGRES_FORMAT_CUSTOM;
		} else if (strcmp(s->value, "plain") == 0) {
			cfg->format = POSTGRES_FORMAT_PLAIN;
		} else {
			postgres_error(err,
				       "'format' must be custom or plain, "
				       "not '%s'",
				       s->value);
			err->setting = s;
			return -1;
		}
	} else if (strcmp(k, "jobs") == 0) {
		if (postgres_config_int(s, 1, POSTGRES_MAX_JOBS, &number,
					err) == -1)
			return -1;
		cfg->jobs = (int)number;
	} else if (strcmp(k, "pg-bin-dir") == 0) {
		if (postgres_config_bindir(s, err) == -1)
			return -1;
		cfg->bin_dir = strdup(s->value);
		if (cfg->bin_dir == NULL)
			goto oom;
	} else if (strcmp(k, "drill-target") == 0) {
		if (postgres_config_target(s, err) == -1)
			return -1;
		cfg->drill_target = strdup(s->value);
		if (cfg->drill_target == NULL)
			goto oom;
	} else if (strcmp(k, "drill-user") == 0) {
		cfg->drill_user = strdup(s->value);
		if (cfg->drill_user == NULL)
			goto oom;
	} else {
		/* The core only passes our keys; be safe anyway. */
		postgres_error(err, "unknown key '%s'", k);
		err->setting = s;
		return -1;
	}
	return 0;
oom:
	postgres_error(err, "out of memory");
	return -1;
}

int
postgres_config_parse(const struct cairn_job_config *config,
		      struct postgres_config **out, struct cairn_error *err)
{
	struct postgres_config *cfg;
	size_t i, j;

	*out = NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		postgres_error(err, "out of memory");
		return -1;
	}
	cfg->format = POSTGRES_FORMAT_CUSTOM;
	cfg->jobs = 1;
	cfg->restore_only = config->restore_only;
	cfg->job = strdup(config->job != NULL ? config->job : "postgres");
	if (cfg->job == NULL ||
	    postgres_params_set(&cfg->params, "connect_timeout", "10") == -1) {
		postgres_error(err, "out of memory");
		goto fail;
	}
	for (i = 0; i < config->count; i++) {
		const struct cairn_setting *s = &config->settings[i];

		for (j = 0; j < i; j++) {
			if (strcmp(config->settings[j].key, s->key) != 0)
				continue;
			postgres_error(err,
				       "'%s' is given twice (first on line "
				       "%d)",
				       s->key, config->settings[j].line);
			err->setting = s;
			goto fail;
		}
		if (postgres_config_setting(cfg, s, err) == -1)
			goto fail;
	}
	for (i = 0; i < cfg->databases.count; i++) {
		if (strlen(cfg->databases.items[i]) >= 64) {
			for (j = 0; j < config->count; j++)
				if (strcmp(config->settings[j].key,
					   "databases") == 0)
					err->setting = &config->settings[j];
			postgres_error(err,
				       "'databases': '%s' is longer than 63 "
				       "bytes, the longest name PostgreSQL "
				       "allows",
				       cfg->databases.items[i]);
			goto fail;
		}
	}
	*out = cfg;
	return 0;
fail:
	postgres_config_free(cfg);
	return -1;
}

void
postgres_config_free(struct postgres_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->job);
	postgres_params_free(&cfg->params);
	free(cfg->password_file);
	postgres_list_free(&cfg->databases);
	postgres_list_free(&cfg->excludes);
	free(cfg->bin_dir);
	free(cfg->drill_target);
	free(cfg->drill_user);
	free(cfg);
}
