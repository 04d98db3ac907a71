/*
 * Child processes of the postgres plugin: pg_dump, pg_dumpall, pg_restore
 * and psql, started with posix_spawn (no shell), with pipes for stdin,
 * stdout and stderr as asked. stdout is read in large blocks; stderr is
 * drained all along (so a chatty child never blocks) and its beginning is
 * kept for the error message. Writing to a child that has exited gives
 * EPIPE, never a SIGPIPE: the signal is blocked in the writing thread and
 * a pending one is consumed.
 *
 * Invariants: a struct postgres_child whose pid is > 0 has a running or
 * unreaped child; every fd is -1 or open; postgres_child_wait and
 * postgres_child_kill leave pid 0 and every fd -1.
 */
#include "autoconfig.h"
#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Environment variables children get from us, never from our caller. */
static const char *const postgres_env_replaced[] = {
	"PGPASSWORD",
	"LC_ALL",
	"LANGUAGE",
	NULL,
};

static int
postgres_env_is_set(const char *entry, const char *const *set, size_t count)
{
	const char *eq = strchr(entry, '=');
	size_t length = eq != NULL ? (size_t)(eq - entry) : strlen(entry);
	size_t i;

	for (i = 0; i < count; i++)
		if (strncmp(set[i], entry, length) == 0 &&
		    set[i][length] == '=')
			return 1;
	for (i = 0; postgres_env_replaced[i] != NULL; i++)
		if (strlen(postgres_env_replaced[i]) == length &&
		    strncmp(postgres_env_replaced[i], entry, length) == 0)
			return 1;
	return 0;
}

char **
postgres_env_build(const char *const *set, size_t count)
{
	size_t n = 0, i, j = 0;
	char **envp;

	while (environ != NULL && environ[n] != NULL)
		n++;
	envp = calloc(n + count + 2, sizeof(*envp));
	if (envp == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (postgres_env_is_set(environ[i], set, count))
			continue;
		if ((envp[j++] = strdup(environ[i])) == NULL)
			goto fail;
	}
	for (i = 0; i < count; i++)
		if ((envp[j++] = strdup(set[i])) == NULL)
			goto fail;
	/* English messages, so errors can be read and matched. */
	if ((envp[j++] = strdup("LC_ALL=C")) == NULL)
		goto fail;
	return envp;
fail:
	postgres_env_free(envp);
	return NULL;
}

void
postgres_env_free(char **envp)
{
	size_t i;

	if (envp == NULL)
		return;
	for (i = 0; envp[i] != NULL; i++) {
		explicit_bzero(envp[i], strlen(envp[i]));
		free(envp[i]);
	}
	free(envp);
}

void
postgres_child_init(struct postgres_child *c)
{
	memset(c, 0, sizeof(*c));
	c->in_fd = c->out_fd = c->err_fd = -1;
}

static void
postgres_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
postgres_child_spawn(struct postgres_child *c, const char *bin_dir,
		     const char *prog, const char *const *argv,
		     char *const *envp, int flags, struct cairn_error *err)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
	char path[PATH_MAX];
	sigset_t mask, defaults;
	char **args = NULL; /* owned copies: posix_spawn takes char *const[] */
	size_t argc = 0, i;
	int n, rc = -1, have_actions = 0, have_attr = 0;

	c->pid = 0;
	c->in_fd = c->out_fd = c->err_fd = -1;
	c->errlen = 0;
	c->linelen = 0;
	snprintf(c->name, sizeof(c->name), "%s", prog);
	n = snprintf(path, sizeof(path), "%s/%s", bin_dir, prog);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		postgres_error(err, "path of '%s' too long", prog);
		return -1;
	}
	if (access(path, X_OK) == -1) {
		postgres_error(err, "cannot run '%s': %s", path,
			       strerror(errno));
		return -1;
	}
	if (((flags & POSTGRES_CHILD_STDIN) && pipe2(in, O_CLOEXEC) == -1) ||
	    ((flags & POSTGRES_CHILD_STDOUT) && pipe2(out, O_CLOEXEC) == -1) ||
	    pipe2(errp, O_CLOEXEC) == -1) {
		postgres_error(err, "cannot create a pipe for '%s': %s", prog,
			       strerror(errno));
		goto out;
	}
	/* Bigger pipes mean fewer, larger reads; failure is harmless. */
	if (out[0] >= 0)
		(void)fcntl(out[0], F_SETPIPE_SZ, POSTGRES_READ_SIZE);
	if (in[1] >= 0)
		(void)fcntl(in[1], F_SETPIPE_SZ, POSTGRES_READ_SIZE);

	if (posix_spawn_file_actions_init(&actions) != 0)
		goto oom;
	have_actions = 1;
	if (in[0] >= 0)
		n = posix_spawn_file_actions_adddup2(&actions, in[0], 0);
	else
		n = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null",
						     O_RDONLY, 0);
	if (n == 0 && out[1] >= 0)
		n = posix_spawn_file_actions_adddup2(&actions, out[1], 1);
	else if (n == 0)
		n = posix_spawn_file_actions_addopen(&actions, 1, "/dev/null",
						     O_WRONLY, 0);
	if (n == 0)
		n = posix_spawn_file_actions_adddup2(&actions, errp[1], 2);
#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 34)
	/* Descriptors the core holds without O_CLOEXEC stay ours. */
	if (n == 0)
		n = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
#endif
	if (n != 0)
		goto oom;

	if (posix_spawnattr_init(&attr) != 0)
		goto oom;
	have_attr = 1;
	sigemptyset(&mask);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGHUP);
	sigaddset(&defaults, SIGQUIT);
	sigaddset(&defaults, SIGCHLD);
	if (posix_spawnattr_setsigmask(&attr, &mask) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &defaults) != 0 ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
						    POSIX_SPAWN_SETSIGDEF) != 0)
		goto oom;

	/*
	 * argv[0] is the full path: pg_dumpall and pg_restore find their
	 * siblings from it, and a bare name would send them to PATH.
	 */
	for (argc = 0; argv[argc] != NULL; argc++)
		;
	args = calloc(argc + 1, sizeof(*args));
	if (args == NULL)
		goto oom;
	for (i = 0; i < argc; i++) {
		args[i] = strdup(i == 0 ? path : argv[i]);
		if (args[i] == NULL)
			goto oom;
	}
	n = posix_spawn(&c->pid, path, &actions, &attr, args, envp);
	if (n != 0) {
		c->pid = 0;
		postgres_error(err, "cannot run '%s': %s", path, strerror(n));
		goto out;
	}
	c->in_fd = in[1];
	in[1] = -1;
	c->out_fd = out[0];
	out[0] = -1;
	c->err_fd = errp[0];
	errp[0] = -1;
	rc = 0;
	goto out;
oom:
	postgres_error(err, "cannot prepare to run '%s': out of memory", prog);
out:
	for (i = 0; args != NULL && i < argc; i++)
		free(args[i]);
	free(args);
	if (have_actions)
		posix_spawn_file_actions_destroy(&actions);
	if (have_attr)
		posix_spawnattr_destroy(&attr);
	postgres_close(&in[0]);
	postgres_close(&in[1]);
	postgres_close(&out[0]);
	postgres_close(&out[1]);
	postgres_close(&errp[0]);
	postgres_close(&errp[1]);
	return rc;
}

static void
postgres_child_line(struct postgres_child *c, const char *data, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (data[i] == '\n') {
			c->line[c->linelen] = '\0';
			c->on_line(c->line_arg, c->line);
			c->linelen = 0;
		} else if (c->linelen + 1 < sizeof(c->line)) {
			c->line[c->linelen++] = data[i];
		}
	}
}

/* Reads what stderr has; 0 at its end. */
static int
postgres_child_drain_stderr(struct postgres_child *c)
{
	char buf[8192];
	ssize_t n;
	size_t keep;

	n = read(c->err_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		if (c->on_line != NULL && c->linelen > 0)
			postgres_child_line(c, "\n", 1);
		postgres_close(&c->err_fd);
		return 0;
	}
	keep = sizeof(c->errbuf) - 1 - c->errlen;
	if (keep > (size_t)n)
		keep = (size_t)n;
	memcpy(c->errbuf + c->errlen, buf, keep);
	c->errlen += keep;
	c->errbuf[c->errlen] = '\0';
	if (c->on_line != NULL)
		postgres_child_line(c, buf, (size_t)n);
	return 1;
}

static int
postgres_child_aborted(const struct postgres_child *c, struct cairn_error *err)
{
	if (c->abort_flag != NULL && *c->abort_flag) {
		postgres_error(err, "'%s' stopped: another dump failed",
			       c->name);
		return 1;
	}
	return 0;
}

int
postgres_child_read(struct postgres_child *c, void *buf, size_t size, size_t *n,
		    struct cairn_error *err)
{
	struct pollfd fds[2];
	size_t have = 0;
	ssize_t got;
	int nfds, ready;

	*n = 0;
	while (c->out_fd >= 0 && have < size) {
		if (postgres_child_aborted(c, err))
			return -1;
		nfds = 0;
		fds[nfds].fd = c->out_fd;
		fds[nfds++].events = POLLIN;
		if (c->err_fd >= 0) {
			fds[nfds].fd = c->err_fd;
			fds[nfds++].events = POLLIN;
		}
		ready = poll(fds, (nfds_t)nfds, c->abort_flag ? 250 : -1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0) {
			postgres_error(err, "cannot wait for '%s': %s", c->name,
				       strerror(errno));
			return -1;
		}
		if (nfds > 1 && fds[1].revents != 0)
			postgres_child_drain_stderr(c);
		if (fds[0].revents == 0)
			continue;
		got = read(c->out_fd, (char *)buf + have, size - have);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0) {
			postgres_error(err, "cannot read from '%s': %s",
				       c->name, strerror(errno));
			return -1;
		}
		if (got == 0) {
			postgres_close(&c->out_fd);
			break;
		}
		have += (size_t)got;
		if (have >= POSTGRES_READ_MIN)
			break;
	}
	*n = have;
	return 0;
}

/* Writes while draining stderr; SIGPIPE must be blocked by the caller. */
static int
postgres_child_write_all(struct postgres_child *c, const char *data,
			 size_t length, struct cairn_error *err)
{
	struct pollfd fds[2];
	ssize_t put;
	int nfds, ready;

	while (length > 0) {
		if (postgres_child_aborted(c, err))
			return -1;
		nfds = 0;
		fds[nfds].fd = c->in_fd;
		fds[nfds++].events = POLLOUT;
		if (c->err_fd >= 0) {
			fds[nfds].fd = c->err_fd;
			fds[nfds++].events = POLLIN;
		}
		ready = poll(fds, (nfds_t)nfds, -1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0) {
			postgres_error(err, "cannot wait for '%s': %s", c->name,
				       strerror(errno));
			return -1;
		}
		if (nfds > 1 && fds[1].revents != 0)
			postgres_child_drain_stderr(c);
		if (fds[0].revents == 0)
			continue;
		put = write(c->in_fd, data, length);
		if (put < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (put < 0) {
			postgres_error(err,
				       "'%s' stopped reading its input: %s",
				       c->name, strerror(errno));
			return -1;
		}
		data += put;
		length -= (size_t)put;
	}
	return 0;
}

int
postgres_child_write(struct postgres_child *c, const void *data, size_t length,
		     struct cairn_error *err)
{
	sigset_t pipe_set, old;
	struct timespec zero = {0, 0};
	int rc;

	if (c->in_fd < 0) {
		postgres_error(err, "'%s' has no input open", c->name);
		return -1;
	}
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	rc = postgres_child_write_all(c, data, length, err);
	/* Consume the SIGPIPE our write raised, if it did. */
	if (rc == -1 && !sigismember(&old, SIGPIPE))
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void
postgres_child_stderr(const struct postgres_child *c, char *buf, size_t size)
{
	size_t i, j = 0;
	int space = 0;

	/* Lines joined with "; ", surrounding blanks dropped. */
	for (i = 0; i < c->errlen && j + 3 < size; i++) {
		char ch = c->errbuf[i];

		if (ch == '\n' || ch == '\r') {
			space = j > 0;
			continue;
		}
		if (space) {
			buf[j++] = ';';
			buf[j++] = ' ';
			space = 0;
		}
		if ((unsigned char)ch < 0x20)
			ch = ' ';
		buf[j++] = ch;
	}
	buf[j] = '\0';
}

int
postgres_child_wait(struct postgres_child *c, struct cairn_error *err)
{
	char buf[65536], text[POSTGRES_STDERR_KEEP + 64];
	struct pollfd fds[2];
	int status, nfds;
	pid_t pid;
	ssize_t got;

	postgres_close(&c->in_fd);
	/* Drain what is left so the child can exit. */
	while (c->out_fd >= 0 || c->err_fd >= 0) {
		nfds = 0;
		if (c->out_fd >= 0) {
			fds[nfds].fd = c->out_fd;
			fds[nfds++].events = POLLIN;
		}
		if (c->err_fd >= 0) {
			fds[nfds].fd = c->err_fd;
			fds[nfds++].events = POLLIN;
		}
		if (poll(fds, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (c->out_fd >= 0 && fds[0].revents != 0) {
			got = read(c->out_fd, buf, sizeof(buf));
			if (got == 0 || (got < 0 && errno != EINTR))
				postgres_close(&c->out_fd);
		}
		if (c->err_fd >= 0 && fds[nfds - 1].revents != 0)
			postgres_child_drain_stderr(c);
	}
	postgres_close(&c->out_fd);
	postgres_close(&c->err_fd);
	if (c->pid <= 0) {
		postgres_error(err, "'%s' is not running", c->name);
		return -1;
	}
	do
		pid = waitpid(c->pid, &status, 0);
	while (pid == -1 && errno == EINTR);
	c->pid = 0;
	if (pid == -1) {
		postgres_error(err, "cannot wait for '%s': %s", c->name,
			       strerror(errno));
		return -1;
	}
	postgres_child_stderr(c, text, sizeof(text));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		postgres_error(err, "'%s' was killed by signal %d%s%s", c->name,
			       WTERMSIG(status), text[0] != '\0' ? ": " : "",
			       text);
	else
		postgres_error(err, "'%s' exited with status %d%s%s", c->name,
			       WEXITSTATUS(status), text[0] != '\0' ? ": " : "",
			       text);
	return -1;
}

void
postgres_child_kill(struct postgres_child *c)
{
	int status;

	postgres_close(&c->in_fd);
	postgres_close(&c->out_fd);
	postgres_close(&c->err_fd);
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	c->pid = 0;
}
