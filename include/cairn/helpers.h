/*
 * cairn plugin helpers: what every plugin needs beside the ABI and had
 * written for itself (filling a struct cairn_error, a growable buffer,
 * wiping a secret), offered once to in-tree and out-of-tree plugins.
 *
 * Everything here is `static inline` and depends on libc only: a plugin
 * that includes this header links nothing more, and nothing here is part
 * of the ABI of plugin.h (no version to check, no host service to probe
 * through `size`), so a plugin built with these helpers runs with any core
 * of its ABI version. They need no host pointer either, so the small
 * functions deep inside a plugin can use them.
 *
 * Out of memory: cairn_buf aborts, as the core's own allocators do (one
 * policy for the whole process: a backup that cannot allocate a few
 * kilobytes fails, and the archive it was writing is never committed).
 */
#ifndef CAIRN_HELPERS_H
#define CAIRN_HELPERS_H

#include <cairn/plugin.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CAIRN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CAIRN_NORETURN __attribute__((noreturn))
#else
#define CAIRN_PRINTF(f, a)
#define CAIRN_NORETURN
#endif

/*
 * Formats the message of `err`, leaving its `setting` as it is (a caller
 * may point it at the setting at fault before or after). A message cut to
 * fit the buffer ends in "..." so that the reader knows it was cut.
 * Returns -1, so that a failing function can `return cairn_error_set(...)`.
 */
static inline int
cairn_error_vset(struct cairn_error *err, const char *format, va_list ap)
{
	int n;

	if (err == NULL)
		return -1;
	n = vsnprintf(err->message, sizeof(err->message), format, ap);
	if (n < 0)
		err->message[0] = '\0';
	else if ((size_t)n >= sizeof(err->message))
		memcpy(err->message + sizeof(err->message) - 4, "...", 4);
	return -1;
}

static inline int CAIRN_PRINTF(2, 3)
	cairn_error_set(struct cairn_error *err, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	cairn_error_vset(err, format, ap);
	va_end(ap);
	return -1;
}

/*
 * Overwrites `length` bytes at `data` with zeros in a way the compiler may
 * not remove as a dead store (a password about to be freed).
 */
static inline void
cairn_wipe(void *data, size_t length)
{
	volatile unsigned char *p = (volatile unsigned char *)data;

	while (length-- > 0)
		*p++ = 0;
}

/* Wipes a NUL-terminated secret, then frees it; NULL is a no-op. */
static inline void
cairn_wipe_free(char *secret)
{
	if (secret == NULL)
		return;
	cairn_wipe(secret, strlen(secret));
	free(secret);
}

/*
 * A growable byte buffer, always NUL-terminated once something was
 * appended. The struct owns `data`; cairn_buf_release frees it, and
 * cairn_buf_detach hands it to the caller (to free()) and empties the
 * buffer. Initialise with CAIRN_BUF_INIT or all zeros.
 */
struct cairn_buf {
	char *data;
	size_t length;
	size_t capacity;
};

#define CAIRN_BUF_INIT                                                         \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

static inline CAIRN_NORETURN void
cairn_buf_oom(void)
{
	/* NOLINTNEXTLINE(cert-err33-c): abort follows whether it printed */
	fputs("cairn: out of memory\n", stderr);
	abort();
}

/* Makes room for `extra` more bytes and the NUL. */
static inline void
cairn_buf_grow(struct cairn_buf *b, size_t extra)
{
	size_t needed = b->length + extra + 1;
	size_t capacity = b->capacity ? b->capacity : 64;
	char *grown;

	if (needed < b->length)
		cairn_buf_oom();
	if (needed <= b->capacity)
		return;
	while (capacity < needed) {
		if (capacity > (size_t)-1 / 2) {
			capacity = needed;
			break;
		}
		capacity *= 2;
	}
	grown = (char *)realloc(b->data, capacity);
	if (grown == NULL)
		cairn_buf_oom();
	b->data = grown;
	b->capacity = capacity;
}

static inline void
cairn_buf_append(struct cairn_buf *b, const void *data, size_t length)
{
	cairn_buf_grow(b, length);
	if (length > 0)
		memcpy(b->data + b->length, data, length);
	b->length += length;
	b->data[b->length] = '\0';
}

static inline void
cairn_buf_append_str(struct cairn_buf *b, const char *s)
{
	cairn_buf_append(b, s, strlen(s));
}

static inline void CAIRN_PRINTF(2, 3)
	cairn_buf_printf(struct cairn_buf *b, const char *format, ...)
{
	va_list ap;
	int needed;

	va_start(ap, format);
	needed = vsnprintf(NULL, 0, format, ap);
	va_end(ap);
	if (needed < 0)
		return;
	cairn_buf_grow(b, (size_t)needed);
	va_start(ap, format);
	/* NOLINTNEXTLINE(cert-err33-c): the room was measured just above */
	vsnprintf(b->data + b->length, (size_t)needed + 1, format, ap);
	va_end(ap);
	b->length += (size_t)needed;
}

/* Empties the buffer, keeping its memory. */
static inline void
cairn_buf_reset(struct cairn_buf *b)
{
	b->length = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Frees the data; with `wipe`, overwrites it first (a secret). */
static inline void
cairn_buf_release(struct cairn_buf *b, int wipe)
{
	if (wipe && b->data != NULL)
		cairn_wipe(b->data, b->capacity);
	free(b->data);
	b->data = NULL;
	b->length = 0;
	b->capacity = 0;
}

/* The data, owned by the caller (never NULL); the buffer is left empty. */
static inline char *
cairn_buf_detach(struct cairn_buf *b)
{
	char *data = b->data;

	if (data == NULL) {
		cairn_buf_grow(b, 0);
		b->data[0] = '\0';
		data = b->data;
	}
	b->data = NULL;
	b->length = 0;
	b->capacity = 0;
	return data;
}

#undef CAIRN_PRINTF
#undef CAIRN_NORETURN

#ifdef __cplusplus
}
#endif

/*
 * The order of names in a chain of incremental archives (see
 * base_next in plugin.h): byte by byte, '/' before every other byte, so
 * a directory comes just before its content. <0, 0 or >0.
 */
static inline int
cairn_name_compare(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p != '\0' && *p == *q) {
		p++;
		q++;
	}
	if (*p == *q)
		return 0;
	/* '/' ends a component: "a/b" comes before "a-b", as in a walk
	 * that sorts the names of each directory. */
	if (*p == '/')
		return *q == '\0' ? 1 : -1;
	if (*q == '/')
		return *p == '\0' ? -1 : 1;
	return *p < *q ? -1 : 1;
}

#endif /* CAIRN_HELPERS_H */
