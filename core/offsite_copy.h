/*
 * Copying one archive to an open target, and what the catalogue records
 * of it: each record's "copies" member, an array of {target, status,
 * size, sha256, uploaded, verified[, lock-until]}, kept in the record's
 * extra members so that catalogues stay readable by older versions.
 *
 * A copy counts only once the target holds the object with the local
 * file's size and SHA-256; an archive already there with both (a run
 * killed between the upload and the catalogue) is recorded, not sent
 * again.
 */
#ifndef CAIRN_OFFSITE_COPY_H
#define CAIRN_OFFSITE_COPY_H

#include <cairn/plugin.h>

#include "catalog.h"
#include "offsite.h"

struct repository;

struct json_value;

/* The record's copy on `target`, or NULL (borrowed). */
const struct json_value *offsite_copy_of(const struct catalog_record *r,
					 const char *target);
/* Whether the record has a good copy on `target`. */
int offsite_has_copy(const struct catalog_record *r, const char *target);
/* Sets the copy's members (replacing an earlier entry for `target`). */
void offsite_copy_record(struct catalog_record *r, const char *target,
			 uint64_t size, const char *sha256, time_t uploaded,
			 time_t verified, time_t lock_until);
/* Removes the copy on `target` from the record. */
void offsite_copy_forget(struct catalog_record *r, const char *target);

/*
 * Copies the archive of `r` (in the repository `repo`) to o
 * unless the target's catalogue `held` already has it; once verified,
 * the copy is recorded in r's copies and r added to `held`. *sent gets
 * the bytes uploaded (0 when nothing was). 0, or -1 with err naming the
 * archive and the target; the local archive is never touched.
 */
int offsite_copy_archive(struct offsite *o, const struct repository *repo,
			 struct catalog_record *r, struct catalog *held,
			 uint64_t *sent, struct cairn_error *err);

/*
 * Writes the target's catalogue `c` to it as a new object,
 * catalog/STAMP-RANDOM.catalog, never replacing an earlier one.
 */
int offsite_put_snapshot(struct offsite *o, const struct catalog *c,
			 struct cairn_error *err);

/* The SHA-256 of a whole open file, read from offset 0. 0 or -1. */
int offsite_hash_fd(int fd, char hex[65], uint64_t *size);

#endif
