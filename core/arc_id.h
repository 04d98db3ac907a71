/*
 * Archive ids: random UUIDs, and what a user may write for one: the whole
 * id, a unique prefix of at least 6 characters, "latest" or "JOB:latest".
 */
#ifndef CAIRN_ARC_ID_H
#define CAIRN_ARC_ID_H

#include <cairn/plugin.h>

#include "catalog.h"

#define ARC_ID_MIN_PREFIX 6

/* A new random id, lowercase, in out (ARC_ID_SIZE bytes). */
void arc_id_new(char *out);

enum arc_id_result {
	ARC_ID_FOUND,
	ARC_ID_NOT_FOUND, /* no archive, or no such job */
	ARC_ID_AMBIGUOUS, /* a prefix that several ids share */
	ARC_ID_INVALID,	  /* not an id, prefix or latest form */
};

/*
 * Resolves `spec` against the catalogue; *index is the record's index.
 * On anything but FOUND, err says what went wrong.
 */
enum arc_id_result arc_id_resolve(const struct catalog *c, const char *spec,
				  size_t *index, struct cairn_error *err);

#endif
