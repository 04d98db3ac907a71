/*
 * Logging on stderr or syslog. Errors and warnings always go out (unless
 * -q silences warnings); informational lines only at a terminal, with -v,
 * or to syslog, so that cron mails nothing but trouble.
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdarg.h>

#include <cairn/plugin.h>

enum log_destination {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
};

/* verbosity: -1 for -q, 0 by default, 1 or more for -v. */
void log_setup(int verbosity);
void log_set_destination(enum log_destination destination);

void log_message(enum cairn_log_level level, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmessage(enum cairn_log_level level, const char *format, va_list ap);

#define log_error(...) log_message(CAIRN_LOG_ERROR, __VA_ARGS__)
#define log_warning(...) log_message(CAIRN_LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_message(CAIRN_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_message(CAIRN_LOG_DEBUG, __VA_ARGS__)

/* Whether informational lines are shown: the progress display uses it. */
int log_is_verbose(void);

#endif
