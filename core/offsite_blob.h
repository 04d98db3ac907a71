/*
 * An archive read from an offsite target (blob.h): ranged reads of the
 * object with a read-ahead window, so restore --from, cat --from and
 * verify --remote --deep stream the archive with no local copy. Two
 * windows of OFFSITE_BLOB_WINDOW bytes each (a data reader and an index
 * reader work on one archive at once) bound the memory; reads are
 * serialised, since the target's connection is one.
 *
 * Ownership: the blob borrows `o`, which must outlive it.
 */
#ifndef CAIRN_OFFSITE_BLOB_H
#define CAIRN_OFFSITE_BLOB_H

#include <stdint.h>

#include <cairn/plugin.h>

#include "blob.h"
#include "offsite.h"

#define OFFSITE_BLOB_WINDOW (4 * 1024 * 1024)

/* The object `path` of `size` bytes on o, named `name` in messages. */
int offsite_blob_open(struct blob **b, struct offsite *o, const char *path,
		      uint64_t size, const char *name, struct cairn_error *err);

#endif
