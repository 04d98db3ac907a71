/*
 * What each offsite target's copies came to, for metrics and check:
 * REPO/offsite/NAME.status (JSON: failures, last_failure, last_error,
 * last_success), and the target's metrics in the Prometheus file.
 */
#ifndef CAIRN_OFFSITE_STATE_H
#define CAIRN_OFFSITE_STATE_H

#include "buf.h"
#include "catalog.h"
#include "config.h"

/* Counts a failed copy (the message holds no secret). */
void offsite_state_failure(const char *repository, const char *target,
			   const char *message);
void offsite_state_success(const char *repository, const char *target);

/*
 * Appends the metrics of every configured target: the newest verified
 * copy's upload time, the bytes and count of copies held, and failures.
 */
void offsite_format_metrics(const struct config *config,
			    const char *repository,
			    const struct catalog *catalog, struct buf *out);

#endif
