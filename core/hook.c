/*
 * Hooks and interruption, hook.h.
 */
#include "hook.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "log.h"

static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
static char *armed_job;
static char *armed_after;
static char *partial_path;
static int signal_pipe[2] = {-1, -1};

extern char **environ;

/* The environment of a hook: ours, with CAIRN_JOB and CAIRN_STATUS. Built
 * before fork, because a child of a threaded process may not allocate. */
static char **
hook_environment(const char *job, const char *status)
{
	struct buf job_var = BUF_INIT, status_var = BUF_INIT;
	size_t count = 0, i, n = 0;
	char **env;

	while (environ[count] != NULL)
		count++;
	env = xcalloc(count + 3, sizeof(*env));
	for (i = 0; i < count; i++)
		if (strncmp(environ[i], "CAIRN_JOB=", 10) != 0 &&
		    strncmp(environ[i], "CAIRN_STATUS=", 13) != 0)
			env[n++] = xstrdup(environ[i]);
	buf_printf(&job_var, "CAIRN_JOB=%s", job);
	buf_printf(&status_var, "CAIRN_STATUS=%s", status);
	env[n++] = buf_detach(&job_var);
	env[n++] = buf_detach(&status_var);
	env[n] = NULL;
	return env;
}

static void
free_environment(char **env)
{
	size_t i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

int
hook_run(const char *command, const char *job, const char *status,
	 struct cairn_error *err)
{
	char **env = hook_environment(job, status);
	int wstatus;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		error_errno(err, errno, "cannot start hook '%s'", command);
		free_environment(env);
		return -1;
	}
	if (pid == 0) {
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		sigaction(SIGPIPE, &dfl, NULL);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execle("/bin/sh", "sh", "-c", command, (char *)NULL, env);
		_exit(127);
	}
	free_environment(env);
	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR) {
			error_errno(err, errno, "hook '%s'", command);
			return -1;
		}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return 0;
	if (WIFEXITED(wstatus))
		error_set(err, "hook '%s' exited with status %d", command,
			  WEXITSTATUS(wstatus));
	else
		error_set(err, "hook '%s' was killed by signal %d", command,
			  WTERMSIG(wstatus));
	return -1;
}

static void
disarm_locked(void)
{
	free(armed_job);
	free(armed_after);
	armed_job = NULL;
	armed_after = NULL;
}

void
hook_arm(const char *job, const char *after)
{
	pthread_mutex_lock(&hook_lock);
	disarm_locked();
	armed_job = xstrdup(job);
	armed_after = after ? xstrdup(after) : NULL;
	pthread_mutex_unlock(&hook_lock);
}

void
hook_set_partial(const char *path)
{
	pthread_mutex_lock(&hook_lock);
	free(partial_path);
	partial_path = path ? xstrdup(path) : NULL;
	pthread_mutex_unlock(&hook_lock);
}

int
hook_run_after(const char *status, struct cairn_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&hook_lock);
	if (armed_after != NULL)
		rc = hook_run(armed_after, armed_job, status, err);
	disarm_locked();
	pthread_mutex_unlock(&hook_lock);
	return rc;
}

static void
signal_handler(int signal_number)
{
	unsigned char byte = (unsigned char)signal_number;
	int saved = errno;

	(void)!write(signal_pipe[1], &byte, 1);
	errno = saved;
}

/*
 * Sends SIGTERM to every child of this process (a plugin's pg_dump, say),
 * found in /proc: exiting would leave them running, and a dump blocked
 * on a lock would hold its connection and snapshot until the lock went.
 */
static void
stop_children(void)
{
	char path[64], line[512], *end;
	long pid, ppid;
	DIR *proc;
	FILE *f;
	struct dirent *d;

	proc = opendir("/proc");
	if (proc == NULL)
		return;
	while ((d = readdir(proc)) != NULL) {
		pid = strtol(d->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (snprintf(path, sizeof(path), "/proc/%ld/stat", pid) >=
		    (int)sizeof(path))
			continue;
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		/* "pid (comm) state ppid ...": comm may hold ") ". */
		if (fgets(line, sizeof(line), f) != NULL &&
		    (end = strrchr(line, ')')) != NULL &&
		    sscanf(end + 1, " %*c %ld", &ppid) == 1 &&
		    ppid == (long)getpid())
			kill((pid_t)pid, SIGTERM);
		fclose(f);
	}
	closedir(proc);
}

static void *
signal_watcher(void *unused)
{
	struct cairn_error err;
	unsigned char byte;

	(void)unused;
	while (read(signal_pipe[0], &byte, 1) != 1)
		if (errno != EINTR)
			return NULL;
	/* Held until exit: the main thread must not start another job. */
	pthread_mutex_lock(&hook_lock);
	log_error("interrupted by signal %d (%s)", byte, strsignal(byte));
	if (partial_path != NULL)
		unlink(partial_path);
	stop_children();
	if (armed_after != NULL) {
		log_info("running the 'after' hook of job '%s'", armed_job);
		if (hook_run(armed_after, armed_job, "interrupted", &err) != 0)
			log_error("job '%s': %s", armed_job, err.message);
	}
	_exit(128 + byte);
}

int
hook_install_signal_watch(void)
{
	static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction action;
	pthread_t thread;
	size_t i;

	if (pipe2(signal_pipe, O_CLOEXEC) != 0)
		return -1;
	if (pthread_create(&thread, NULL, signal_watcher, NULL) != 0)
		return -1;
	pthread_setname_np(thread, "cairn-signals");
	pthread_detach(thread);
	memset(&action, 0, sizeof(action));
	action.sa_handler = signal_handler;
	sigemptyset(&action.sa_mask);
	action.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(signals) / sizeof(*signals); i++)
		sigaction(signals[i], &action, NULL);
	/* A closed socket or pipe is an error to report, not a death. */
	action.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &action, NULL);
	return 0;
}
