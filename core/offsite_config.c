/*
 * The [offsite NAME] sections of offsite_config.h.
 */
#include "offsite_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define MIN_PART_SIZE (5ULL * 1024 * 1024)
#define MAX_PART_SIZE (5ULL * 1024 * 1024 * 1024)

int
offsite_parse_size(const char *text, uint64_t *out)
{
	unsigned long long n;
	uint64_t unit = 1;
	char *end;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 'K' || *end == 'k')
		unit = 1024;
	else if (*end == 'M' || *end == 'm')
		unit = 1024 * 1024;
	else if (*end == 'G' || *end == 'g')
		unit = 1024ULL * 1024 * 1024;
	else if (*end != '\0')
		return -1;
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (n > UINT64_MAX / unit)
		return -1;
	*out = (uint64_t)n * unit;
	return 0;
}

static void
set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static int
absolute_path(char **field, const char *value, char *why, size_t why_size)
{
	if (value[0] != '/') {
		snprintf(why, why_size, "'%s' is not an absolute path", value);
		return -1;
	}
	set_string(field, value);
	return 0;
}

/* A bucket name as S3 allows it (3-63 of a-z 0-9 . -). */
static int
valid_bucket(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
		      name[i] == '-'))
			return 0;
	return name[0] != '.' && name[0] != '-';
}

static int
set_prefix(struct offsite_target *t, const char *value, char *why,
	   size_t why_size)
{
	const char *start = value, *p;
	size_t length;

	while (*start == '/')
		start++;
	length = strlen(start);
	while (length > 0 && start[length - 1] == '/')
		length--;
	for (p = start; p < start + length; p++)
		if ((unsigned char)*p < 0x20 || *p == '\\') {
			snprintf(why, why_size,
				 "'%s' holds a control "
				 "character or a backslash",
				 value);
			return -1;
		}
	if (strstr(value, "..") != NULL || strstr(value, "//") != NULL) {
		snprintf(why, why_size, "'%s' holds '..' or '//'", value);
		return -1;
	}
	free(t->prefix);
	t->prefix = xstrndup(start, length);
	return 0;
}

static int
set_endpoint(struct offsite_target *t, const char *value, char *why,
	     size_t why_size)
{
	const char *host;

	if (strncmp(value, "https://", 8) == 0)
		host = value + 8;
	else if (strncmp(value, "http://", 7) == 0)
		host = value + 7;
	else {
		snprintf(why, why_size,
			 "'%s' is not an http:// or https:// "
			 "URL",
			 value);
		return -1;
	}
	if (*host == '\0' || strpbrk(host, "/?#@ ") != NULL) {
		snprintf(why, why_size,
			 "'%s' must be scheme://host[:port] "
			 "alone (the bucket and prefix have their own keys)",
			 value);
		return -1;
	}
	set_string(&t->endpoint, value);
	return 0;
}

static int
set_sftp_url(struct offsite_target *t, const char *value, char *why,
	     size_t why_size)
{
	const char *rest = value + 7, *slash;

	if (strncmp(value, "sftp://", 7) != 0 || strchr(rest, '@') == NULL ||
	    (slash = strchr(rest, '/')) == NULL || slash[1] == '\0' ||
	    strchr(rest, '@') > slash) {
		snprintf(why, why_size,
			 "'%s' is not sftp://USER@HOST[:PORT]"
			 "/PATH",
			 value);
		return -1;
	}
	if (strpbrk(value, " ?#\\") != NULL || strstr(value, "..")) {
		snprintf(why, why_size,
			 "'%s' holds a space, '?', '#', '\\' "
			 "or '..'",
			 value);
		return -1;
	}
	set_string(&t->url, value);
	return 0;
}

int
offsite_config_set(struct offsite_target *t, const char *key, const char *value,
		   char *why, size_t why_size)
{
	uint64_t size;
	long n;
	char *end;

	if (strcmp(key, "type") == 0) {
		if (strcmp(value, "s3") == 0)
			t->type = OFFSITE_S3;
		else if (strcmp(value, "sftp") == 0)
			t->type = OFFSITE_SFTP;
		else {
			snprintf(why, why_size, "'%s' is not one of s3, sftp",
				 value);
			return -1;
		}
	} else if (strcmp(key, "endpoint") == 0) {
		return set_endpoint(t, value, why, why_size);
	} else if (strcmp(key, "region") == 0) {
		if (*value == '\0' || strpbrk(value, " /") != NULL) {
			snprintf(why, why_size, "'%s' is not a region name",
				 value);
			return -1;
		}
		set_string(&t->region, value);
	} else if (strcmp(key, "bucket") == 0) {
		if (!valid_bucket(value)) {
			snprintf(why, why_size,
				 "'%s' is not a bucket name "
				 "(3 to 63 of a-z, 0-9, '.', '-')",
				 value);
			return -1;
		}
		set_string(&t->bucket, value);
	} else if (strcmp(key, "prefix") == 0) {
		return set_prefix(t, value, why, why_size);
	} else if (strcmp(key, "uri-style") == 0) {
		if (strcmp(value, "host") == 0)
			t->path_style = 0;
		else if (strcmp(value, "path") == 0)
			t->path_style = 1;
		else {
			snprintf(why, why_size, "'%s' is not one of host, path",
				 value);
			return -1;
		}
	} else if (strcmp(key, "access-key-file") == 0) {
		return absolute_path(&t->access_key_file, value, why, why_size);
	} else if (strcmp(key, "secret-key-file") == 0) {
		return absolute_path(&t->secret_key_file, value, why, why_size);
	} else if (strcmp(key, "storage-class") == 0) {
		if (*value == '\0' || strpbrk(value, " \t") != NULL) {
			snprintf(why, why_size, "'%s' is not a storage class",
				 value);
			return -1;
		}
		set_string(&t->storage_class, value);
	} else if (strcmp(key, "ca-file") == 0) {
		return absolute_path(&t->ca_file, value, why, why_size);
	} else if (strcmp(key, "object-lock-days") == 0) {
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || n < 0 ||
		    n > 36500) {
			snprintf(why, why_size,
				 "'%s' is not a number of days "
				 "from 0 to 36500",
				 value);
			return -1;
		}
		t->object_lock_days = (int)n;
	} else if (strcmp(key, "max-rate") == 0) {
		if (offsite_parse_size(value, &t->max_rate) != 0) {
			snprintf(why, why_size,
				 "'%s' is not a rate in bytes "
				 "per second (e.g. 0, 500K, 10M)",
				 value);
			return -1;
		}
	} else if (strcmp(key, "part-size") == 0) {
		if (offsite_parse_size(value, &size) != 0 ||
		    size < MIN_PART_SIZE || size > MAX_PART_SIZE) {
			snprintf(why, why_size,
				 "'%s' is not a size from 5M to "
				 "5G",
				 value);
			return -1;
		}
		t->part_size = size;
	} else if (strcmp(key, "copy") == 0) {
		if (strcmp(value, "auto") == 0)
			t->copy_auto = 1;
		else if (strcmp(value, "manual") == 0)
			t->copy_auto = 0;
		else {
			snprintf(why, why_size,
				 "'%s' is not one of auto, "
				 "manual",
				 value);
			return -1;
		}
	} else if (strcmp(key, "url") == 0) {
		return set_sftp_url(t, value, why, why_size);
	} else if (strcmp(key, "identity-file") == 0) {
		return absolute_path(&t->identity_file, value, why, why_size);
	} else if (strcmp(key, "known-hosts") == 0) {
		return absolute_path(&t->known_hosts, value, why, why_size);
	} else {
		snprintf(why, why_size, "unknown key");
		return -1;
	}
	return 0;
}

static int
require(const char *value, const char *name, const char **key, char *why,
	size_t why_size, const char *type)
{
	if (value != NULL)
		return 0;
	*key = NULL;
	snprintf(why, why_size, "missing required key '%s' (type = %s)", name,
		 type);
	return -1;
}

/* A key that belongs to the other type. */
static int
refuse(const void *value, const char *name, const char **key, char *why,
       size_t why_size, const char *type)
{
	if (value == NULL)
		return 0;
	*key = name;
	snprintf(why, why_size, "not a key of type = %s", type);
	return -1;
}

int
offsite_config_check(const struct offsite_target *t, const char **key,
		     char *why, size_t why_size)
{
	*key = NULL;
	if (t->type == OFFSITE_UNSET) {
		snprintf(why, why_size,
			 "missing required key 'type' (s3 or "
			 "sftp)");
		return -1;
	}
	if (t->type == OFFSITE_S3)
		return require(t->endpoint, "endpoint", key, why, why_size,
			       "s3") ||
				       require(t->region, "region", key, why,
					       why_size, "s3") ||
				       require(t->bucket, "bucket", key, why,
					       why_size, "s3") ||
				       require(t->access_key_file,
					       "access-key-file", key, why,
					       why_size, "s3") ||
				       require(t->secret_key_file,
					       "secret-key-file", key, why,
					       why_size, "s3") ||
				       refuse(t->url, "url", key, why, why_size,
					      "s3") ||
				       refuse(t->identity_file, "identity-file",
					      key, why, why_size, "s3") ||
				       refuse(t->known_hosts, "known-hosts",
					      key, why, why_size, "s3")
			       ? -1
			       : 0;
	return require(t->url, "url", key, why, why_size, "sftp") ||
			       require(t->identity_file, "identity-file", key,
				       why, why_size, "sftp") ||
			       require(t->known_hosts, "known-hosts", key, why,
				       why_size, "sftp") ||
			       refuse(t->endpoint, "endpoint", key, why,
				      why_size, "sftp") ||
			       refuse(t->bucket, "bucket", key, why, why_size,
				      "sftp") ||
			       refuse(t->access_key_file, "access-key-file",
				      key, why, why_size, "sftp") ||
			       refuse(t->secret_key_file, "secret-key-file",
				      key, why, why_size, "sftp") ||
			       (t->object_lock_days > 0 &&
				refuse(t, "object-lock-days", key, why,
				       why_size, "sftp"))
		       ? -1
		       : 0;
}

void
offsite_target_release(struct offsite_target *t)
{
	free(t->name);
	free(t->prefix);
	free(t->endpoint);
	free(t->region);
	free(t->bucket);
	free(t->access_key_file);
	free(t->secret_key_file);
	free(t->storage_class);
	free(t->ca_file);
	free(t->url);
	free(t->identity_file);
	free(t->known_hosts);
	memset(t, 0, sizeof(*t));
}

const struct offsite_target *
config_find_offsite(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->offsite_count; i++)
		if (strcmp(c->offsites[i].name, name) == 0)
			return &c->offsites[i];
	return NULL;
}

struct retention
offsite_effective_retention(const struct config *c,
			    const struct offsite_target *t)
{
	struct job_config as_job;

	memset(&as_job, 0, sizeof(as_job));
	as_job.retention = t->retention;
	return config_effective_retention(c, &as_job);
}
