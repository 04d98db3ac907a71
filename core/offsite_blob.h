/*
 * An archive read from an offsite target (blob.h): ranged reads of the
 * object, so restore --from, cat --from and verify --remote --deep stream
 * the archive with no local copy. The object is read in windows of
 * OFFSITE_BLOB_WINDOW bytes by OFFSITE_BLOB_FETCHERS threads, each with a
 * connection of its own to the target, ahead of a reader going through
 * the object: the next OFFSITE_BLOB_AHEAD windows are asked for. At most
 * OFFSITE_BLOB_SLOTS windows are held (a data reader and an index reader
 * work on one archive at once), which bounds the memory. An error met
 * reading ahead is reported by the read that reaches its window.
 *
 * Ownership: the blob borrows `o` (for its target and name) and opens
 * connections of its own, closed with it; `o` must outlive it.
 */
#ifndef CAIRN_OFFSITE_BLOB_H
#define CAIRN_OFFSITE_BLOB_H

#include <stdint.h>

#include <cairn/plugin.h>

#include "blob.h"
#include "offsite.h"

/*
 * 8 MiB windows: the tests' S3 server spends on a request about the CPU
 * time of 2 MiB of transfer. Five of them: the window a data reader is
 * in and three ahead, and one for the index and trailer at the end; with
 * the rest of a restore, about 58 MiB of peak RSS.
 */
#define OFFSITE_BLOB_WINDOW (8 * 1024 * 1024)
#define OFFSITE_BLOB_SLOTS 5
#define OFFSITE_BLOB_AHEAD 3
#define OFFSITE_BLOB_FETCHERS 2

/* The object `path` of `size` bytes on o, named `name` in messages. */
int offsite_blob_open(struct blob **b, struct offsite *o, const char *path,
		      uint64_t size, const char *name, struct cairn_error *err);

#endif
