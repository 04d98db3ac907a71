/*
 * Monitoring: REPO/status.json remembers each job's last attempt (a
 * failed backup leaves no archive, so the catalogue cannot tell), and
 * `[repository] metrics = PATH` is rewritten atomically after every
 * backup, prune, verify and drill in the Prometheus text format, for
 * node_exporter's textfile collector.
 */
#ifndef CAIRN_METRICS_H
#define CAIRN_METRICS_H

#include <time.h>

#include "catalog.h"
#include "context.h"
#include "repository.h"

/* Records a backup attempt of `job` (the lock must be held). */
void metrics_record_attempt(const struct repository *repo, const char *job,
			    int ok, struct timespec started, double duration,
			    const char *error);

/* Rewrites the metrics file, when one is configured; failures are
 * logged as warnings, never fatal. */
void metrics_update(struct context *ctx, const struct repository *repo,
		    const struct catalog *catalog);

#endif
