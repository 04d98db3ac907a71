/*
 * Archive id generation and resolution, arc_id.h.
 */
#include "arc_id.h"

#include <ctype.h>
#include <string.h>
#include <uuid/uuid.h>

#include "error.h"

void
arc_id_new(char *out)
{
	uuid_t uuid;

	uuid_generate_random(uuid);
	uuid_unparse_lower(uuid, out);
}

static enum arc_id_result
resolve_latest(const struct catalog *c, const char *job, size_t *index,
	       struct cairn_error *err)
{
	size_t i, job_seen = 0;
	long best = -1;

	for (i = 0; i < c->count; i++) {
		const struct catalog_record *r = &c->records[i];

		if (job != NULL && strcmp(r->job, job) != 0)
			continue;
		job_seen = 1;
		if (strcmp(r->status, "ok") != 0)
			continue;
		if (best < 0 || catalog_record_newer(r, &c->records[best]))
			best = (long)i;
	}
	if (best < 0) {
		if (job != NULL && !job_seen)
			error_set(err, "no archive of job '%s'", job);
		else
			error_set(err, "no archive%s%s%s",
				  job ? " of job '" : "", job ? job : "",
				  job ? "'" : "");
		return ARC_ID_NOT_FOUND;
	}
	*index = (size_t)best;
	return ARC_ID_FOUND;
}

enum arc_id_result
arc_id_resolve(const struct catalog *c, const char *spec, size_t *index,
	       struct cairn_error *err)
{
	const char *colon = strrchr(spec, ':');
	size_t i, length = strlen(spec), matches = 0;
	const char *p;

	if (strcmp(spec, "latest") == 0)
		return resolve_latest(c, NULL, index, err);
	if (colon != NULL && strcmp(colon + 1, "latest") == 0) {
		char job[128];

		if ((size_t)(colon - spec) >= sizeof(job) || colon == spec) {
			error_set(err, "'%s' is not an archive id", spec);
			return ARC_ID_INVALID;
		}
		memcpy(job, spec, (size_t)(colon - spec));
		job[colon - spec] = '\0';
		return resolve_latest(c, job, index, err);
	}
	for (p = spec; *p != '\0'; p++)
		if (!isxdigit((unsigned char)*p) && *p != '-')
			break;
	if (*p != '\0' || length < ARC_ID_MIN_PREFIX ||
	    length > ARC_ID_SIZE - 1) {
		error_set(err,
			  "'%s' is not an archive id (a UUID, a prefix of at "
			  "least %d characters, 'latest' or 'JOB:latest')",
			  spec, ARC_ID_MIN_PREFIX);
		return ARC_ID_INVALID;
	}
	for (i = 0; i < c->count; i++)
		if (strncasecmp(c->records[i].id, spec, length) == 0) {
			*index = i;
			matches++;
		}
	if (matches == 0) {
		error_set(err, "no archive '%s'", spec);
		return ARC_ID_NOT_FOUND;
	}
	if (matches > 1) {
		error_set(err, "'%s' matches %zu archives: give more of the id",
			  spec, matches);
		return ARC_ID_AMBIGUOUS;
	}
	return ARC_ID_FOUND;
}
