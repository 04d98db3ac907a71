/*
 * What the repository keeps of each offsite target, in REPO/offsite/NAME/:
 *
 *     catalog, catalog.copy   the target's catalogue: one record per
 *                             archive held there (catalog.h's format),
 *                             the record of the archive when it was
 *                             copied and its "copy" member (size, sha256,
 *                             uploaded, verified, lock-until)
 *     uploads                 multipart uploads in progress (offsite.c)
 *     status                  failures, last_failure, last_error,
 *                             last_success (JSON), for metrics and check
 *
 * The target's catalogue outlives the local archives: local prune and
 * the target's own retention are independent. Its snapshots are what
 * the target holds under catalog/.
 */
#ifndef CAIRN_OFFSITE_STATE_H
#define CAIRN_OFFSITE_STATE_H

#include "buf.h"
#include "catalog.h"
#include "config.h"

/* REPO/offsite/NAME into out. */
void offsite_state_dir(const char *repository, const char *target,
		       struct buf *out);

/* Loads the target's catalogue (empty when there is none yet). */
int offsite_catalog_load(const char *repository, const char *target,
			 struct catalog *c, struct cairn_error *err);
int offsite_catalog_save(const char *repository, const char *target,
			 const struct catalog *c, struct cairn_error *err);
/* A deep copy of a record. */
void offsite_record_clone(struct catalog_record *to,
			  const struct catalog_record *from);

/* Counts a failed copy (the message holds no secret). */
void offsite_state_failure(const char *repository, const char *target,
			   const char *message);
void offsite_state_success(const char *repository, const char *target);

/*
 * Appends the metrics of every configured target: the newest verified
 * copy's upload time, the bytes and count of copies held, and failures.
 */
void offsite_format_metrics(const struct config *config, const char *repository,
			    const struct catalog *catalog, struct buf *out);

#endif
