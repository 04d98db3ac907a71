/*
 * The `before` and `after` hooks of a job, and the promise that `after`
 * runs once `before` has run: on success, on failure, and when cairn is
 * interrupted by SIGINT, SIGTERM or SIGHUP, so a container stopped for a
 * backup is always started again.
 *
 * Signals are caught by a handler that only writes to a pipe; a watcher
 * thread reads it, removes the partial archive being written, sends
 * SIGTERM to cairn's children (a plugin's dump), runs the pending `after`
 * hook and exits. The hook runs under a lock shared with
 * hook_run_after, so it runs exactly once whoever gets there first.
 */
#ifndef CAIRN_HOOK_H
#define CAIRN_HOOK_H

#include <cairn/plugin.h>

/*
 * Runs `command` with /bin/sh -c, its stdout sent to stderr (stdout is
 * cairn's JSON), CAIRN_JOB and CAIRN_STATUS in its environment. 0 when it
 * exits 0, else -1 with err saying how it ended.
 */
int hook_run(const char *command, const char *job, const char *status,
	     struct cairn_error *err);

/* Installs the signal handlers and the watcher thread. 0 or -1. */
int hook_install_signal_watch(void);

/* `before` of `job` ran: from now on `after` is owed. Strings copied. */
void hook_arm(const char *job, const char *after);
/* The archive being written, removed on interrupt (NULL: none). */
void hook_set_partial(const char *path);
/* Runs the owed `after` hook with `status`, once; 0, or -1 (err) when it
 * failed. Nothing to do is 0. */
int hook_run_after(const char *status, struct cairn_error *err);

#endif
