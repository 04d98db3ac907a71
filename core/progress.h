/*
 * The progress line on stderr: bytes, rate and the current entry, redrawn
 * at most a few times a second, and only when stderr is a terminal and
 * --no-progress was not given.
 */
#ifndef CAIRN_PROGRESS_H
#define CAIRN_PROGRESS_H

#include <stdint.h>

void progress_enable(int enabled);
/* Starts a new display for `what` (a job name). */
void progress_start(const char *what);
/* Adds bytes and names the current entry (NULL: unchanged). */
void progress_update(uint64_t bytes, const char *current);
/* Clears the line, so that a log line can be written. */
void progress_erase(void);
void progress_finish(void);

#endif
