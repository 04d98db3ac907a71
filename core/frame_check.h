/*
 * Reading the zstd frames that hold an archive's own chunks (its index
 * and its removals) to their ends, so that zstd checks each frame's
 * checksum. A reader that stops once it has a chunk, as the index cursor
 * does, never reaches that checksum, and damage that still decodes (a
 * changed byte of a record nothing else looks at) would pass; `drill`
 * calls this on every archive it restored through.
 *
 * Memory: one zstd decompression context and two small buffers, freed
 * before it returns.
 */
#ifndef CAIRN_FRAME_CHECK_H
#define CAIRN_FRAME_CHECK_H

#include <stdint.h>

#include <cairn/plugin.h>

struct arc;

/*
 * Decompresses, from its start to its end, each frame of `a` (borrowed)
 * where an index or removal chunk starts; *bytes (may be NULL) receives
 * how many bytes that read. 0 when every frame is whole (and for an
 * archive without compression, whose tar stream has no checksum), -1
 * with err naming the archive and the frame.
 */
int frame_check_chunks(const struct arc *a, uint64_t *bytes,
		       struct cairn_error *err);

#endif
