/*
 * A scratch directory for fuzz targets whose code under test reads files
 * by path (the configuration, the catalogue, archives). One directory per
 * process, made under $TMPDIR on first use and removed at exit; the files
 * in it are rewritten for every input.
 */
#ifndef CAIRN_FUZZ_SCRATCH_H
#define CAIRN_FUZZ_SCRATCH_H

#include <stddef.h>

/* The directory, made on the first call; aborts when it cannot be. */
const char *fuzz_scratch_dir(void);

/*
 * Writes `size` bytes to `name` in `dir` (replacing it) and returns its
 * path, in a buffer owned by the caller. Aborts on any failure.
 */
char *fuzz_scratch_write(const char *dir, const char *name, const void *data,
			 size_t size);

/* Removes `name` from `dir` if it is there. */
void fuzz_scratch_remove(const char *dir, const char *name);

#endif
