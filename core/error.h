/*
 * Filling the caller-owned struct cairn_error (include/cairn/plugin.h)
 * used by every fallible function of the core.
 */
#ifndef CAIRN_ERROR_H
#define CAIRN_ERROR_H

#include <cairn/plugin.h>

/* Sets err's message (truncated to fit) and clears its setting. */
void error_set(struct cairn_error *err, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Like error_set with ": strerror(errnum)" appended. */
void error_errno(struct cairn_error *err, int errnum, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "context: " to the message already in err. */
void error_prefix(struct cairn_error *err, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

void error_clear(struct cairn_error *err);

#endif
