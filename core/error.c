/*
 * Error messages: formatted into the fixed buffer of struct cairn_error,
 * cut (and marked so) rather than failing, since an error path must not
 * fail.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
message_vformat(char *buffer, size_t size, const char *format, va_list ap)
{
	int n = vsnprintf(buffer, size, format, ap);

	if (n < 0)
		buffer[0] = '\0';
	else if ((size_t)n >= size && size >= 4)
		memcpy(buffer + size - 4, "...", 4);
}

void
message_format(char *buffer, size_t size, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	message_vformat(buffer, size, format, ap);
	va_end(ap);
}

void
error_set(struct cairn_error *err, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	message_vformat(err->message, sizeof(err->message), format, ap);
	va_end(ap);
	err->setting = NULL;
}

void
error_errno(struct cairn_error *err, int errnum, const char *format, ...)
{
	char what[CAIRN_ERROR_MESSAGE_SIZE];
	va_list ap;

	va_start(ap, format);
	message_vformat(what, sizeof(what), format, ap);
	va_end(ap);
	message_format(err->message, sizeof(err->message), "%s: %s", what,
		       strerror(errnum));
	err->setting = NULL;
}

/* Appends what fits of `text` to the string in `buffer`. */
static void
append(char *buffer, size_t size, const char *text)
{
	size_t used = strlen(buffer), n = strlen(text);

	if (used + 1 >= size)
		return;
	if (n > size - used - 1)
		n = size - used - 1;
	memcpy(buffer + used, text, n);
	buffer[used + n] = '\0';
}

void
error_prefix(struct cairn_error *err, const char *format, ...)
{
	char prefix[CAIRN_ERROR_MESSAGE_SIZE];
	char message[CAIRN_ERROR_MESSAGE_SIZE];
	va_list ap;

	va_start(ap, format);
	message_vformat(prefix, sizeof(prefix), format, ap);
	va_end(ap);
	memcpy(message, err->message, sizeof(message));
	err->message[0] = '\0';
	append(err->message, sizeof(err->message), prefix);
	append(err->message, sizeof(err->message), ": ");
	append(err->message, sizeof(err->message), message);
}

void
error_clear(struct cairn_error *err)
{
	err->message[0] = '\0';
	err->setting = NULL;
}
