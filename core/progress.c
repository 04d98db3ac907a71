/*
 * The progress display of progress.h. Updates come from the archive
 * writer's thread and from plugin threads, so the state is under a lock;
 * the line is redrawn at most every 200 ms.
 */
#include "progress.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int progress_enabled;
static int progress_shown;
static char progress_what[128];
static char progress_current[256];
static uint64_t progress_bytes;
static double progress_started;
static double progress_drawn;
static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;

static double
progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
progress_enable(int enabled)
{
	progress_enabled = enabled && isatty(STDERR_FILENO);
}

void
progress_start(const char *what)
{
	pthread_mutex_lock(&progress_lock);
	snprintf(progress_what, sizeof(progress_what), "%s", what);
	progress_current[0] = '\0';
	progress_bytes = 0;
	progress_started = progress_now();
	progress_drawn = 0;
	pthread_mutex_unlock(&progress_lock);
}

static void
progress_draw(void)
{
	double elapsed = progress_now() - progress_started;
	double rate = elapsed > 0 ? (double)progress_bytes / elapsed : 0;

	fprintf(stderr, "\r\033[K%s: %.1f MiB, %.1f MiB/s  %.60s",
		progress_what, (double)progress_bytes / 1048576.0,
		rate / 1048576.0, progress_current);
	fflush(stderr);
	progress_shown = 1;
}

void
progress_update(uint64_t bytes, const char *current)
{
	double now;

	if (!progress_enabled)
		return;
	pthread_mutex_lock(&progress_lock);
	progress_bytes += bytes;
	if (current != NULL)
		snprintf(progress_current, sizeof(progress_current), "%s",
			 current);
	now = progress_now();
	if (now - progress_drawn >= 0.2) {
		progress_drawn = now;
		progress_draw();
	}
	pthread_mutex_unlock(&progress_lock);
}

void
progress_erase(void)
{
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		progress_shown = 0;
	}
}

void
progress_finish(void)
{
	pthread_mutex_lock(&progress_lock);
	progress_erase();
	pthread_mutex_unlock(&progress_lock);
}
