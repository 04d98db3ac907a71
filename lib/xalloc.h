/*
 * The one allocation policy of cairn: running out of memory aborts the
 * program. A backup tool that cannot allocate a few kilobytes cannot do
 * anything useful either, and an abort leaves nothing half-written (the
 * archive is only committed by a rename after its fsync), while checking
 * every allocation by hand left about seventy callers that did not.
 *
 * Shared by the core and the JSON module (and so by the plugins that link
 * it). Every function returns memory owned by the caller, released with
 * free(); none returns NULL. A size of zero allocates one byte, so the
 * result is always a distinct pointer.
 */
#ifndef CAIRN_XALLOC_H
#define CAIRN_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* realloc to count * size bytes, aborting on overflow as on failure. */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t length);

/* Writes "cairn: out of memory" to stderr and aborts. */
void xalloc_die(void) __attribute__((noreturn));

#endif
