/*
 * The [offsite NAME] sections of the configuration: copy targets, not
 * jobs. config.c hands every key of such a section to offsite_config_set,
 * which validates it, and checks each section whole once the file is read.
 *
 * Ownership: a struct offsite_target owns its strings; config_release
 * frees them through offsite_target_release.
 */
#ifndef CAIRN_OFFSITE_CONFIG_H
#define CAIRN_OFFSITE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define OFFSITE_SECTION_PREFIX "offsite "
#define OFFSITE_DEFAULT_PART_SIZE (8ULL * 1024 * 1024)

enum offsite_type {
	OFFSITE_UNSET,
	OFFSITE_S3,
	OFFSITE_SFTP,
};

struct offsite_target {
	char *name;
	int line; /* of the section header */
	enum offsite_type type;
	char *prefix; /* without leading or trailing '/', "" for none */
	int copy_auto;
	struct retention retention;
	/* S3 */
	char *endpoint;
	char *region;
	char *bucket;
	int path_style;
	char *access_key_file;
	char *secret_key_file;
	char *storage_class;
	char *ca_file;
	int object_lock_days;
	uint64_t max_rate;
	uint64_t part_size;
	/* SFTP */
	char *url; /* sftp://user@host:port/path */
	char *identity_file;
	char *known_hosts;
};

/*
 * Sets `key` of target t. 0, or -1 with why the value (or the key) is
 * refused in `why`. Retention keys are config.c's.
 */
int offsite_config_set(struct offsite_target *t, const char *key,
		       const char *value, char *why, size_t why_size);
/*
 * Checks a section once read. 0, or -1 with the key at fault in *key
 * (NULL: the section) and why.
 */
int offsite_config_check(const struct offsite_target *t, const char **key,
			 char *why, size_t why_size);
void offsite_target_release(struct offsite_target *t);

/* The target named `name`, or NULL. */
const struct offsite_target *config_find_offsite(const struct config *c,
						 const char *name);

/* The target's policy: its own keys over [retention]'s over defaults. */
struct retention offsite_effective_retention(const struct config *c,
					     const struct offsite_target *t);

/* Parses "0", "512", "10K", "5M", "1G" (powers of 1024). 0 or -1. */
int offsite_parse_size(const char *text, uint64_t *out);

#endif
