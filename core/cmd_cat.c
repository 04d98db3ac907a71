/*
 * `cairn cat ID ENTRY`: one entry's content on stdout, checked against
 * its checksum as it streams (a mismatch is exit 65, after the bytes
 * already written: pipe into a file, not into a live database, when in
 * doubt, or run verify first).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arc_source.h"
#include "chain.h"
#include "commands.h"
#include "error.h"
#include "format.h"
#include "fsutil.h"
#include "log.h"

static int
cat_entry(struct context *ctx, const char *path, const struct catalog_record *r)
{
	const char *name = ctx->options->args[1];
	struct arc_source source;
	const struct cairn_entry *entry;
	struct cairn_error err;
	struct arc *archive;
	const void *data;
	size_t length;
	int64_t offset, written = 0;
	int rc, status = EXIT_DAMAGED;

	if (context_arc_open(ctx, &archive, path, r, &err) != 0) {
		log_error("%s", err.message);
		return EXIT_DAMAGED;
	}
	if (chain_source_open(&source, archive, path, ctx->chain_opener,
			      &err) != 0) {
		log_error("%s", err.message);
		arc_close(archive);
		return EXIT_DAMAGED;
	}
	rc = arc_source_find(&source, name, &entry, &err);
	if (rc == 0) {
		log_error("archive '%s' has no entry '%s' (see 'cairn show "
			  "%.8s')",
			  r->id, name, r->id);
		status = EXIT_NOT_FOUND;
		goto out;
	}
	if (rc < 0)
		goto fail;
	if (entry->type != CAIRN_ENTRY_FILE) {
		log_error("entry '%s' of archive '%s' is not a file", name,
			  r->id);
		status = EXIT_NOT_FOUND;
		goto out;
	}
	while ((rc = arc_source_read(&source, &data, &length, &offset, &err)) >
	       0) {
		/* Holes of a sparse file come out as zeros. */
		if (written < offset) {
			if (format_write_zeros(STDOUT_FILENO,
					       offset - written) != 0)
				goto write_error;
			written = offset;
		}
		if (fsutil_write_all(STDOUT_FILENO, data, length) != 0)
			goto write_error;
		written += (int64_t)length;
	}
	if (rc < 0)
		goto fail;
	if (written < entry->size &&
	    format_write_zeros(STDOUT_FILENO, entry->size - written) != 0)
		goto write_error;
	status = EXIT_OK;
	goto out;
write_error:
	log_error("cannot write to standard output: %s", strerror(errno));
	status = EXIT_JOB_FAILED;
	goto out;
fail:
	log_error("%s", err.message);
out:
	arc_source_close(&source);
	arc_close(archive);
	return status;
}

int
cmd_cat(struct context *ctx)
{
	return context_run_on_archive(ctx, ctx->options->args[0], cat_entry);
}
