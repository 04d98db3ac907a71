/*
 * The log of log.h. One mutex serialises lines, since plugins may log from
 * their own threads; the progress display is erased before a line is
 * written so the two never mix.
 */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "error.h"
#include "progress.h"

static int log_threshold = CAIRN_LOG_WARNING;
static int log_verbose;
static enum log_destination log_destination = LOG_TO_STDERR;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_setup(int verbosity)
{
	if (verbosity < 0)
		log_threshold = CAIRN_LOG_ERROR;
	else if (verbosity >= 2)
		log_threshold = CAIRN_LOG_DEBUG;
	else if (verbosity == 1 || isatty(STDERR_FILENO))
		log_threshold = CAIRN_LOG_INFO;
	else
		log_threshold = CAIRN_LOG_WARNING;
	log_verbose = verbosity > 0;
}

void
log_set_destination(enum log_destination destination)
{
	/*
	 * Without a syslog socket (a container, a chroot) syslog(3) drops
	 * every message, errors included: stay on stderr and say why.
	 */
	if (destination == LOG_TO_SYSLOG && access(_PATH_LOG, W_OK) != 0) {
		log_message(CAIRN_LOG_WARNING,
			    "log = syslog, but there is no syslog socket at "
			    "%s: logging to stderr",
			    _PATH_LOG);
		return;
	}
	log_destination = destination;
	if (destination == LOG_TO_SYSLOG) {
		openlog("cairn", LOG_PID, LOG_DAEMON);
		/* The journal is where the report of each job belongs. */
		if (log_threshold < CAIRN_LOG_INFO)
			log_threshold = CAIRN_LOG_INFO;
	}
}

int
log_is_verbose(void)
{
	return log_verbose;
}

void
log_vmessage(enum cairn_log_level level, const char *format, va_list ap)
{
	static const char *const prefixes[] = {"error: ", "warning: ", "",
					       "debug: "};
	static const int priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO,
					 LOG_DEBUG};
	char message[4096];

	message_vformat(message, sizeof(message), format, ap);
	pthread_mutex_lock(&log_lock);
	if ((int)level <= log_threshold) {
		if (log_destination == LOG_TO_SYSLOG) {
			syslog(priorities[level], "%s", message);
		} else {
			progress_erase();
			fprintf(stderr, "cairn: %s%s\n", prefixes[level],
				message);
		}
	}
	pthread_mutex_unlock(&log_lock);
}

void
log_message(enum cairn_log_level level, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	log_vmessage(level, format, ap);
	va_end(ap);
}
