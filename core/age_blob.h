/*
 * The decrypting view of an encrypted archive: a blob (blob.h) of the
 * .tar.zst payload over the blob of the age file. Random access by 64
 * KiB chunk: a plaintext offset gives the chunk index, the index the
 * ciphertext offset. No byte of a chunk is returned before its tag
 * verified; the last chunk (which the file's size names) is checked at
 * open, so a file cut at a chunk boundary or extended fails at once. A
 * read that covers whole chunks gets them decrypted in place in its own
 * buffer (wiped there when a tag fails); the chunks read in part go
 * through a cache of a few, behind a lock since the readers of an
 * archive run in threads of their own. A reader going through the
 * payload (restore, verify) has the next chunks decrypted ahead of it by
 * a thread of the blob's own, so that decryption runs beside
 * decompression instead of in its thread.
 */
#ifndef CAIRN_AGE_BLOB_H
#define CAIRN_AGE_BLOB_H

#include <stdint.h>

#include <cairn/plugin.h>

#include "age_keys.h"

struct blob;

/* Whether the first bytes of a file are those of an age v1 file. */
int age_blob_is_encrypted(struct blob *file);

/*
 * Opens the payload of the age file `file` with one of ids. Takes over
 * file (closed with the new blob, or on failure). Returns AGE_OK with
 * *out set; any other age_status with err naming the archive (and the
 * offset for a damaged payload).
 */
enum age_status age_blob_open(struct blob **out, struct blob *file,
			      const struct age_identities *ids,
			      struct cairn_error *err);

#endif
