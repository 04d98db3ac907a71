/*
 * Filling the caller-owned struct cairn_error (include/cairn/plugin.h)
 * used by every fallible function of the core.
 */
#ifndef CAIRN_ERROR_H
#define CAIRN_ERROR_H

#include <cairn/plugin.h>

#include <stdarg.h>
#include <stddef.h>

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

/*
 * vsnprintf into a message buffer of `size` bytes (at least 4) that marks
 * a message cut to fit with a final "...", so that no reader takes a cut
 * message (a path, a name) for the whole one. Messages are the one kind
 * of text cairn lets be cut: an error path must not fail.
 */
void message_vformat(char *buffer, size_t size, const char *format, va_list ap);
void message_format(char *buffer, size_t size, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

#endif
