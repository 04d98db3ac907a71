/*
 * The growable buffer of buf.h.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->length = 0;
	b->capacity = 0;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->length = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_grow(struct buf *b, size_t extra)
{
	size_t needed = b->length + extra + 1;

	if (needed < b->length)
		xalloc_die();
	if (needed <= b->capacity)
		return;
	b->capacity = b->capacity ? b->capacity : 64;
	while (b->capacity < needed)
		b->capacity *= 2;
	b->data = xrealloc(b->data, b->capacity);
}

void
buf_append(struct buf *b, const void *data, size_t length)
{
	buf_grow(b, length);
	memcpy(b->data + b->length, data, length);
	b->length += length;
	b->data[b->length] = '\0';
}

void
buf_append_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_append_char(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *format, ...)
{
	va_list ap;
	int needed;

	va_start(ap, format);
	needed = vsnprintf(NULL, 0, format, ap);
	va_end(ap);
	if (needed < 0)
		return;
	buf_grow(b, (size_t)needed);
	va_start(ap, format);
	/* NOLINTNEXTLINE(cert-err33-c): the room was measured just above */
	vsnprintf(b->data + b->length, (size_t)needed + 1, format, ap);
	va_end(ap);
	b->length += (size_t)needed;
}

char *
buf_detach(struct buf *b)
{
	char *data = b->data;

	if (data == NULL)
		data = xstrdup("");
	buf_init(b);
	return data;
}

const char *
buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}
