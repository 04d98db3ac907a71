/*
 * A growable byte buffer, always NUL-terminated, for building strings and
 * small documents. The struct owns `data`; release it with buf_release or
 * take it over with buf_detach. Allocation failure aborts the program:
 * the buffers are small and a backup tool out of memory cannot do better.
 */
#ifndef CAIRN_BUF_H
#define CAIRN_BUF_H

#include <stddef.h>

/* The aborting allocators, for the many callers that include buf.h. */
#include "xalloc.h"

struct buf {
	char *data;
	size_t length;
	size_t capacity;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t length);
void buf_append_str(struct buf *b, const char *s);
void buf_append_char(struct buf *b, char c);
void buf_printf(struct buf *b, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/* Returns the data (owned by the caller) and leaves b empty. */
char *buf_detach(struct buf *b);
/* The string, never NULL. */
const char *buf_str(const struct buf *b);

#endif
