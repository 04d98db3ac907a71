/*
 * Reading archives from an offsite target: restore --from NAME and
 * cat --from NAME resolve the archive in the target's catalogue and read
 * it through a remote blob (offsite_blob.h), with no local copy; an
 * incremental archive's parents are read there too, each in the chain's
 * share of the memory.
 */
#ifndef CAIRN_OFFSITE_READ_H
#define CAIRN_OFFSITE_READ_H

#include <cairn/plugin.h>

#include "chain.h"
#include "context.h"
#include "offsite.h"
#include "offsite_blob.h"

/*
 * context_run_on_archive for --from: resolves `spec` among the copies of
 * target ctx->options->from and runs `command` with ctx->remote set and
 * the object's path. Returns the command's exit status.
 */
int offsite_run_on_archive(struct context *ctx, const char *spec,
			   arc_command command);

/* Opens the archive of record `r` (its object `path`) on o, read in
 * `shape` (NULL: an archive read alone). 0 or -1. */
int offsite_arc_open(struct offsite *o, struct arc **a, const char *path,
		     const struct catalog_record *r,
		     const struct offsite_blob_shape *shape,
		     struct cairn_error *err);

#endif
