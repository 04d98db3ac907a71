/*
 * A throwaway PostgreSQL cluster for drills: created by initdb in the
 * drill's scratch directory, listening on a Unix socket in a 0700
 * directory and on no TCP port, run as an unprivileged user, and gone on
 * every path.
 *
 * PostgreSQL refuses to run as root, and cairn runs as root from cron:
 * the cluster runs as the job's drill-user, else (as root) as the
 * "postgres" system user Debian's packages create, else as cairn's own
 * user when that is not root.
 *
 * A keeper process, forked before anything is created, owns the cluster.
 * It runs initdb and the server as the cluster's user when asked, and
 * when cairn asks it to, or when cairn's end of its command pipe closes
 * (cairn exited, was interrupted or killed, or crashed), it stops the
 * server (fast shutdown, then immediate, then SIGKILL), reaps it and
 * removes the cluster's directory. It ignores SIGINT, SIGTERM and
 * SIGHUP, which the core sends its children when interrupted, so that it
 * outlives cairn long enough to clean up. The server gets SIGQUIT
 * (immediate shutdown) should the keeper itself die.
 *
 * cairn has other threads: between its fork and its exit the keeper only
 * calls async-signal-safe functions, and everything it needs (paths,
 * argument vectors, environment) is prepared before the fork.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The bootstrap superuser; left out of the comparison of roles. */
#define POSTGRES_CLUSTER_SUPERUSER "cairn_drill"
/* A Unix socket names a port but opens none. */
#define POSTGRES_CLUSTER_PORT "5432"
/* How long the server may take to accept connections. */
#define POSTGRES_CLUSTER_START_SECONDS 60

/* Keeper commands and replies, one byte each (replies may carry an int). */
#define KEEPER_INITDB 'I'
#define KEEPER_RUN 'R'
#define KEEPER_STOP 'S'
#define KEEPER_INITDB_DONE 'i'
#define KEEPER_RUNNING 'r'
#define KEEPER_EXITED 'x'
#define KEEPER_STOPPED 'd'

struct postgres_keeper_plan {
	const char *cluster_dir; /* removed at the end */
	const char *scratch_dir; /* removed if empty when cairn is gone */
	const char *initdb_log;
	const char *server_log;
	char *const *initdb_argv;
	char *const *server_argv;
	char *const *envp;
	uid_t uid;
	gid_t gid;
	int switch_user;
	int command_fd;
	int status_fd;
	int max_fd;
};

/* --- the keeper: async-signal-safe only ------------------------------- */

static void
keeper_write(int fd, char code, int value)
{
	char msg[1 + sizeof(int)];
	ssize_t n;

	msg[0] = code;
	memcpy(msg + 1, &value, sizeof(int));
	do
		n = write(fd, msg, sizeof(msg));
	while (n == -1 && errno == EINTR);
}

static void
keeper_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Removes everything under dirfd, depth first; never follows links. */
static void
keeper_empty_dir(int dirfd, int depth)
{
	char buf[4096];
	int removed;
	long n, pos;

	if (depth > 32)
		return;
	do {
		removed = 0;
		if (lseek(dirfd, 0, SEEK_SET) == -1)
			return;
		while ((n = (long)getdents64(dirfd, buf, sizeof(buf))) > 0) {
			for (pos = 0; pos < n;) {
				struct dirent64 *d = (void *)(buf + pos);
				const char *name = d->d_name;
				int isdir = d->d_type == DT_DIR, fd;
				struct stat st;

				pos += d->d_reclen;
				if (strcmp(name, ".") == 0 ||
				    strcmp(name, "..") == 0)
					continue;
				if (d->d_type == DT_UNKNOWN &&
				    fstatat(dirfd, name, &st,
					    AT_SYMLINK_NOFOLLOW) == 0)
					isdir = S_ISDIR(st.st_mode);
				if (isdir) {
					fd = openat(dirfd, name,
						    O_RDONLY | O_DIRECTORY |
							    O_NOFOLLOW |
							    O_CLOEXEC);
					if (fd >= 0) {
						keeper_empty_dir(fd, depth + 1);
						close(fd);
					}
					if (unlinkat(dirfd, name,
						     AT_REMOVEDIR) == 0)
						removed = 1;
				} else if (unlinkat(dirfd, name, 0) == 0) {
					removed = 1;
				}
			}
		}
	} while (removed);
}

static void
keeper_remove_tree(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		keeper_empty_dir(fd, 0);
		close(fd);
	}
	rmdir(path);
}

/* Runs argv as the cluster's user with its output in log; returns pid. */
static pid_t
keeper_spawn(const struct postgres_keeper_plan *plan, char *const *argv,
	     const char *log)
{
	static const int reset[] = {SIGINT,  SIGTERM, SIGHUP,
				    SIGPIPE, SIGQUIT, SIGCHLD};
	struct sigaction dfl;
	sigset_t none;
	pid_t pid;
	size_t i;
	int fd;

	pid = fork();
	if (pid != 0)
		return pid;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		sigaction(reset[i], &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) == -1)
		_exit(127);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		_exit(127);
	if (plan->switch_user &&
	    (setgroups(1, &plan->gid) == -1 || setgid(plan->gid) == -1 ||
	     setuid(plan->uid) == -1))
		_exit(126);
	/* Set after setuid, which clears it; the keeper's death stops us. */
	prctl(PR_SET_PDEATHSIG, SIGQUIT);
	execve(argv[0], argv, plan->envp);
	_exit(127);
}

/* Stops the server, fast, then immediate, then by force; reaps it. */
static void
keeper_stop_server(pid_t server, int *status)
{
	static const int signals[] = {SIGINT, SIGQUIT, SIGKILL};
	static const long waits_ms[] = {30000, 10000, -1};
	size_t i;
	long waited;

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		kill(server, signals[i]);
		for (waited = 0; waits_ms[i] < 0 || waited < waits_ms[i];
		     waited += 20) {
			if (waitpid(server, status, WNOHANG) == server)
				return;
			keeper_sleep_ms(20);
		}
	}
}

static void
keeper_main(const struct postgres_keeper_plan *plan)
{
	static const int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	struct sigaction ign;
	sigset_t none;
	struct pollfd p;
	pid_t server = -1, child;
	int fd, status = 0, gone = 0;
	char command;
	ssize_t n;
	size_t i;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		sigaction(ignored[i], &ign, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* cairn's descriptors (the repository lock...) are not ours. */
	for (fd = 3; fd < plan->max_fd; fd++)
		if (fd != plan->command_fd && fd != plan->status_fd)
			close(fd);
	for (;;) {
		p.fd = plan->command_fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, server > 0 ? 100 : -1) == -1 && errno != EINTR)
			break;
		if (server > 0 && waitpid(server, &status, WNOHANG) == server) {
			server = -1;
			keeper_write(plan->status_fd, KEEPER_EXITED, status);
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(plan->command_fd, &command, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			gone = 1; /* cairn is gone: clean up alone */
			break;
		}
		if (command == KEEPER_INITDB) {
			child = keeper_spawn(plan, plan->initdb_argv,
					     plan->initdb_log);
			status = -1;
			if (child > 0)
				while (waitpid(child, &status, 0) == -1 &&
				       errno == EINTR)
					;
			keeper_write(plan->status_fd, KEEPER_INITDB_DONE,
				     status);
		} else if (command == KEEPER_RUN && server <= 0) {
			server = keeper_spawn(plan, plan->server_argv,
					      plan->server_log);
			keeper_write(plan->status_fd, KEEPER_RUNNING,
				     (int)server);
		} else if (command == KEEPER_STOP) {
			break;
		}
	}
	if (server > 0)
		keeper_stop_server(server, &status);
	keeper_remove_tree(plan->cluster_dir);
	if (gone)
		rmdir(plan->scratch_dir);
	keeper_write(plan->status_fd, KEEPER_STOPPED, 0);
	_exit(0);
}

/* --- cairn's side ------------------------------------------------------ */

/* Reads one reply; -1 when the keeper is gone. */
static int
cluster_reply(struct postgres_cluster *c, int timeout_ms, char *code,
	      int *value)
{
	char msg[1 + sizeof(int)];
	size_t got = 0;
	struct pollfd p;
	ssize_t n;
	int r;

	while (got < sizeof(msg)) {
		p.fd = c->status_fd;
		p.events = POLLIN;
		p.revents = 0;
		r = poll(&p, 1, timeout_ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0 && got == 0)
			return 0; /* nothing yet */
		if (r <= 0)
			return -1;
		n = read(c->status_fd, msg + got, sizeof(msg) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	*code = msg[0];
	memcpy(value, msg + 1, sizeof(int));
	return 1;
}

static int
cluster_command(struct postgres_cluster *c, char command)
{
	ssize_t n;

	do
		n = write(c->command_fd, &command, 1);
	while (n == -1 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* The last lines of a log, on one line, for a message. */
static void
cluster_log_tail(const char *path, char *out, size_t size)
{
	char buf[1024];
	ssize_t n;
	off_t end;
	size_t i, j = 0;
	int fd;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > (off_t)sizeof(buf) - 1)
		lseek(fd, end - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (i = 0; buf[i] != '\0' && j + 2 < size; i++)
		out[j++] = buf[i] == '\n' || buf[i] == '\t' ? ' ' : buf[i];
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
}

/* Who runs the cluster: see the top of this file. */
static int
cluster_choose_user(struct postgres_cluster *c,
		    const struct postgres_config *cfg, struct cairn_error *err)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	const char *name = cfg->drill_user;
	int r;

	if (name == NULL && geteuid() != 0) {
		c->uid = geteuid();
		c->gid = getegid();
		c->switch_user = 0;
		r = getpwuid_r(c->uid, &pw, buf, sizeof(buf), &found);
		snprintf(c->user, sizeof(c->user), "%s",
			 r == 0 && found != NULL ? found->pw_name : "(self)");
		return 0;
	}
	r = getpwnam_r(name != NULL ? name : "postgres", &pw, buf, sizeof(buf),
		       &found);
	if (r != 0 || found == NULL) {
		if (name != NULL)
			postgres_error(err, "'drill-user': no user '%s'", name);
		else
			postgres_error(err,
				       "the drill cluster cannot run as root "
				       "and there is no 'postgres' user: set "
				       "'drill-user' to an unprivileged user");
		return -1;
	}
	if (found->pw_uid == 0) {
		postgres_error(err,
			       "'drill-user': '%s' is root, and PostgreSQL "
			       "refuses to run as root",
			       found->pw_name);
		return -1;
	}
	if (geteuid() != 0 && found->pw_uid != geteuid()) {
		postgres_error(err,
			       "'drill-user' is '%s' but cairn does not run "
			       "as root and cannot become another user",
			       found->pw_name);
		return -1;
	}
	c->uid = found->pw_uid;
	c->gid = found->pw_gid;
	c->switch_user = geteuid() == 0;
	snprintf(c->user, sizeof(c->user), "%s", found->pw_name);
	return 0;
}

/* Whether dir holds initdb and postgres; their version in *version. */
static int
cluster_probe_dir(const char *dir, char *const *envp, int *version, char *text,
		  size_t size)
{
	struct cairn_error ignored;
	char path[PATH_MAX];
	int n;

	n = snprintf(path, sizeof(path), "%s/initdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path) || access(path, X_OK) == -1)
		return -1;
	return postgres_tool_version(dir, "postgres", envp, version, text, size,
				     &ignored);
}

/*
 * The server programs: pg-bin-dir's when it has them, else the oldest
 * major version not older than the archive's server among
 * /usr/lib/postgresql/N/bin and PATH.
 */
static int
cluster_find_server(struct postgres_cluster *c,
		    const struct postgres_config *cfg, int archive_version,
		    char *const *envp, struct cairn_error *err)
{
	struct postgres_list dirs = {NULL, 0};
	char resolved[PATH_MAX], path[PATH_MAX], text[64], major[16];
	char found[512];
	const char *env;
	char *copy = NULL, *dir, *save = NULL;
	size_t i, used = 0;
	int version, best = -1, best_preferred = 0, rc = -1, n;
	glob_t g;

	postgres_version_major_text(archive_version, major, sizeof(major));
	if (cfg->bin_dir != NULL &&
	    postgres_list_add(&dirs, cfg->bin_dir) == -1)
		goto oom;
	memset(&g, 0, sizeof(g));
	if (glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) == 0)
		for (i = 0; i < g.gl_pathc; i++)
			if (realpath(g.gl_pathv[i], resolved) != NULL &&
			    !postgres_list_contains(&dirs, resolved) &&
			    postgres_list_add(&dirs, resolved) == -1) {
				globfree(&g);
				goto oom;
			}
	globfree(&g);
	env = getenv("PATH");
	if (env != NULL && (copy = strdup(env)) == NULL)
		goto oom;
	for (dir = copy != NULL ? strtok_r(copy, ":", &save) : NULL;
	     dir != NULL; dir = strtok_r(NULL, ":", &save)) {
		n = snprintf(path, sizeof(path), "%s/initdb", dir);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    realpath(path, resolved) == NULL)
			continue;
		*strrchr(resolved, '/') = '\0';
		if (!postgres_list_contains(&dirs, resolved) &&
		    postgres_list_add(&dirs, resolved) == -1)
			goto oom;
	}
	found[0] = '\0';
	for (i = 0; i < dirs.count; i++) {
		if (cluster_probe_dir(dirs.items[i], envp, &version, text,
				      sizeof(text)) == -1)
			continue;
		if (used < sizeof(found)) {
			n = snprintf(found + used, sizeof(found) - used,
				     "%s%s in '%s'", used ? ", " : "", text,
				     dirs.items[i]);
			if (n > 0)
				used += (size_t)n;
		}
		if (postgres_version_major(version) <
		    postgres_version_major(archive_version))
			continue;
		/* pg-bin-dir first; else the closest major version. */
		if (best >= 0 && (best_preferred ||
				  postgres_version_major(version) >=
					  postgres_version_major(c->version)))
			continue;
		best = (int)i;
		best_preferred = cfg->bin_dir != NULL && i == 0;
		c->version = version;
		snprintf(c->version_text, sizeof(c->version_text), "%s", text);
	}
	if (best < 0) {
		postgres_error(err,
			       "no PostgreSQL server programs (initdb, "
			       "postgres) of version %s or newer for a "
			       "throwaway drill cluster: found %s; install "
			       "postgresql-%s, or set 'drill-target'",
			       major, found[0] != '\0' ? found : "none", major);
		goto out;
	}
	c->bin_dir = strdup(dirs.items[best]);
	if (c->bin_dir == NULL)
		goto oom;
	rc = 0;
	goto out;
oom:
	postgres_error(err, "out of memory");
out:
	free(copy);
	postgres_list_free(&dirs);
	return rc;
}

static char *
cluster_path(const char *dir, const char *name)
{
	size_t length = strlen(dir) + strlen(name) + 2;
	char *path = malloc(length);

	if (path != NULL)
		snprintf(path, length, "%s/%s", dir, name);
	return path;
}

/* An argv of owned strings, NULL-terminated; freed by cluster_argv_free. */
static char **
cluster_argv(const char *const *items, size_t count)
{
	char **argv = calloc(count + 1, sizeof(*argv));
	size_t i;

	if (argv == NULL)
		return NULL;
	for (i = 0; i < count; i++) {
		argv[i] = strdup(items[i]);
		if (argv[i] == NULL) {
			while (i-- > 0)
				free(argv[i]);
			free(argv);
			return NULL;
		}
	}
	return argv;
}

static void
cluster_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static int
cluster_fork_keeper(struct postgres_cluster *c,
		    struct postgres_keeper_plan *plan, struct cairn_error *err)
{
	int command[2] = {-1, -1}, status[2] = {-1, -1};
	sigset_t all, old;
	long max;
	pid_t pid;

	if (pipe2(command, O_CLOEXEC) == -1 || pipe2(status, O_CLOEXEC) == -1) {
		postgres_error(err, "cannot create a pipe: %s",
			       strerror(errno));
		goto fail;
	}
	max = sysconf(_SC_OPEN_MAX);
	plan->max_fd = max > 0 && max < 65536 ? (int)max : 65536;
	plan->command_fd = command[0];
	plan->status_fd = status[1];
	/* No signal handler of cairn's may run in the keeper. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		keeper_main(plan);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		postgres_error(err,
			       "cannot start the drill cluster's keeper: %s",
			       strerror(errno));
		goto fail;
	}
	close(command[0]);
	close(status[1]);
	c->keeper = pid;
	c->command_fd = command[1];
	c->status_fd = status[0];
	return 0;
fail:
	if (command[0] >= 0)
		close(command[0]);
	if (command[1] >= 0)
		close(command[1]);
	if (status[0] >= 0)
		close(status[0]);
	if (status[1] >= 0)
		close(status[1]);
	return -1;
}

int
postgres_cluster_describe(const struct postgres_config *cfg, int server_version,
			  char *text, size_t size, struct cairn_error *err)
{
	struct postgres_cluster c;
	char **envp;
	int rc = -1;

	postgres_cluster_init(&c);
	envp = postgres_env_build(NULL, 0);
	if (envp == NULL) {
		postgres_error(err, "out of memory");
		return -1;
	}
	if (cluster_choose_user(&c, cfg, err) == 0 &&
	    cluster_find_server(&c, cfg, server_version, envp, err) == 0) {
		snprintf(text, size,
			 "throwaway cluster, PostgreSQL %s from '%s', run as "
			 "'%s'",
			 c.version_text, c.bin_dir, c.user);
		rc = 0;
	}
	postgres_env_free(envp);
	free(c.bin_dir);
	return rc;
}

void
postgres_cluster_init(struct postgres_cluster *c)
{
	memset(c, 0, sizeof(*c));
	c->keeper = -1;
	c->server = -1;
	c->command_fd = c->status_fd = -1;
}

/* Waits until the server accepts connections, or says why it cannot. */
static int
cluster_wait_ready(struct postgres_cluster *c, struct cairn_error *err)
{
	const char *keys[] = {"host", "port", "user", "dbname", NULL};
	const char *values[] = {c->dir, POSTGRES_CLUSTER_PORT,
				POSTGRES_CLUSTER_SUPERUSER, "postgres", NULL};
	char tail[512], code;
	int tries, value, r;

	for (tries = 0; tries < POSTGRES_CLUSTER_START_SECONDS * 10; tries++) {
		if (PQpingParams(keys, values, 0) == PQPING_OK)
			return 0;
		r = cluster_reply(c, 100, &code, &value);
		if (r == 0)
			continue;
		if (r == 1 && code == KEEPER_EXITED)
			c->server = -1;
		cluster_log_tail(c->server_log, tail, sizeof(tail));
		postgres_error(err,
			       "the drill cluster's server (PostgreSQL %s in "
			       "'%s') stopped while starting: %s",
			       c->version_text, c->bin_dir,
			       tail[0] ? tail : "no log");
		return -1;
	}
	cluster_log_tail(c->server_log, tail, sizeof(tail));
	postgres_error(err,
		       "the drill cluster's server did not accept connections "
		       "within %d seconds: %s",
		       POSTGRES_CLUSTER_START_SECONDS,
		       tail[0] ? tail : "no log");
	return -1;
}

int
postgres_cluster_start(struct postgres_cluster *c,
		       const struct postgres_config *cfg,
		       const struct cairn_host *host, const char *scratch_dir,
		       int archive_version, struct cairn_error *err)
{
	static const char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
					  "LC_ALL=C", "TZ=UTC"};
	struct postgres_keeper_plan plan;
	char **envp = NULL, **initdb = NULL, **server = NULL, *program = NULL;
	char *data = NULL, *socket_opt = NULL, *server_program = NULL;
	char tail[512], code;
	struct stat st;
	int value, rc = -1;

	postgres_cluster_init(c);
	envp = postgres_env_build(NULL, 0);
	if (envp == NULL)
		goto oom;
	if (cluster_choose_user(c, cfg, err) == -1 ||
	    cluster_find_server(c, cfg, archive_version, envp, err) == -1)
		goto out;
	postgres_env_free(envp);
	envp = cluster_argv(env, sizeof(env) / sizeof(env[0]));
	c->dir = cluster_path(scratch_dir, "pg");
	c->scratch_dir = strdup(scratch_dir);
	c->server_log = cluster_path(scratch_dir, "pg/server.log");
	c->initdb_log = cluster_path(scratch_dir, "pg/initdb.log");
	data = cluster_path(scratch_dir, "pg/data");
	program = cluster_path(c->bin_dir, "initdb");
	server_program = cluster_path(c->bin_dir, "postgres");
	if (envp == NULL || c->dir == NULL || c->scratch_dir == NULL ||
	    c->server_log == NULL || c->initdb_log == NULL || data == NULL ||
	    program == NULL || server_program == NULL)
		goto oom;
	if (strlen(c->dir) + sizeof("/.s.PGSQL." POSTGRES_CLUSTER_PORT) >
	    sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		postgres_error(err,
			       "the drill cluster's socket in '%s' would be "
			       "too long a path: set TMPDIR to a shorter "
			       "directory",
			       c->dir);
		goto out;
	}
	{
		const char *initdb_args[] = {program,
					     "--pgdata",
					     data,
					     "--username",
					     POSTGRES_CLUSTER_SUPERUSER,
					     "--auth=trust",
					     "--encoding=UTF8",
					     "--no-locale",
					     "--no-sync"};
		size_t length = strlen(c->dir) + 32;

		socket_opt = malloc(length);
		if (socket_opt == NULL)
			goto oom;
		snprintf(socket_opt, length, "unix_socket_directories=%s",
			 c->dir);
		{
			/* Private, fast and small: nothing here must last. */
			const char *server_args[] = {
				server_program,
				"-D",
				data,
				"-p",
				POSTGRES_CLUSTER_PORT,
				"-c",
				"listen_addresses=",
				"-c",
				socket_opt,
				"-c",
				"unix_socket_permissions=0700",
				"-c",
				"fsync=off",
				"-c",
				"full_page_writes=off",
				"-c",
				"synchronous_commit=off",
				"-c",
				"autovacuum=off",
				"-c",
				"dynamic_shared_memory_type=mmap",
				"-c",
				"logging_collector=off",
				"-c",
				"max_connections=40",
			};

			initdb = cluster_argv(initdb_args,
					      sizeof(initdb_args) /
						      sizeof(initdb_args[0]));
			server = cluster_argv(server_args,
					      sizeof(server_args) /
						      sizeof(server_args[0]));
		}
	}
	/* Copied into the vectors: nothing the keeper inherits is lost. */
	free(data);
	free(program);
	free(server_program);
	free(socket_opt);
	data = program = server_program = socket_opt = NULL;
	if (initdb == NULL || server == NULL)
		goto oom;

	/* The cluster's user must reach its directory, and no one else. */
	if (c->switch_user && stat(scratch_dir, &st) == 0 &&
	    chmod(scratch_dir, (st.st_mode & 07777) | 0111) == -1) {
		postgres_error(err, "cannot open '%s' to user '%s': %s",
			       scratch_dir, c->user, strerror(errno));
		goto out;
	}
	if (mkdir(c->dir, 0700) == -1 ||
	    (c->switch_user && chown(c->dir, c->uid, c->gid) == -1)) {
		postgres_error(err, "cannot create '%s' for user '%s': %s",
			       c->dir, c->user, strerror(errno));
		rmdir(c->dir);
		goto out;
	}

	memset(&plan, 0, sizeof(plan));
	plan.cluster_dir = c->dir;
	plan.scratch_dir = c->scratch_dir;
	plan.initdb_log = c->initdb_log;
	plan.server_log = c->server_log;
	plan.initdb_argv = initdb;
	plan.server_argv = server;
	plan.envp = envp;
	plan.uid = c->uid;
	plan.gid = c->gid;
	plan.switch_user = c->switch_user;
	if (cluster_fork_keeper(c, &plan, err) == -1) {
		rmdir(c->dir);
		goto out;
	}
	host->log(host, CAIRN_LOG_INFO,
		  "starting a throwaway cluster (PostgreSQL %s from '%s', as "
		  "user '%s') in '%s'",
		  c->version_text, c->bin_dir, c->user, c->dir);
	if (cluster_command(c, KEEPER_INITDB) == -1 ||
	    cluster_reply(c, -1, &code, &value) != 1 ||
	    code != KEEPER_INITDB_DONE) {
		postgres_error(err, "the drill cluster's keeper is gone");
		goto out;
	}
	if (!WIFEXITED(value) || WEXITSTATUS(value) != 0) {
		cluster_log_tail(c->initdb_log, tail, sizeof(tail));
		postgres_error(err,
			       "initdb of the drill cluster (as user '%s' in "
			       "'%s') failed%s: %s",
			       c->user, c->dir,
			       WIFEXITED(value) && WEXITSTATUS(value) == 126
				       ? " (cannot switch user)"
				       : "",
			       tail[0] ? tail : "no output");
		goto out;
	}
	if (cluster_command(c, KEEPER_RUN) == -1 ||
	    cluster_reply(c, -1, &code, &value) != 1 ||
	    code != KEEPER_RUNNING || value <= 0) {
		postgres_error(err, "cannot start the drill cluster's server");
		goto out;
	}
	c->server = (pid_t)value;
	if (cluster_wait_ready(c, err) == -1)
		goto out;
	rc = 0;
	goto out;
oom:
	postgres_error(err, "out of memory");
out:
	/* The keeper has its own copies (it was forked with them). */
	cluster_argv_free(initdb);
	cluster_argv_free(server);
	if (envp != NULL)
		postgres_env_free(envp);
	free(data);
	free(program);
	free(server_program);
	free(socket_opt);
	return rc;
}

int
postgres_cluster_endpoint(const struct postgres_cluster *c,
			  struct postgres_config *cfg, struct cairn_error *err)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->job = strdup("drill");
	cfg->format = POSTGRES_FORMAT_CUSTOM;
	cfg->jobs = 1;
	if (cfg->job == NULL ||
	    postgres_params_set(&cfg->params, "host", c->dir) == -1 ||
	    postgres_params_set(&cfg->params, "port", POSTGRES_CLUSTER_PORT) ==
		    -1 ||
	    postgres_params_set(&cfg->params, "user",
				POSTGRES_CLUSTER_SUPERUSER) == -1 ||
	    postgres_params_set(&cfg->params, "connect_timeout", "30") == -1) {
		postgres_error(err, "out of memory");
		free(cfg->job);
		postgres_params_free(&cfg->params);
		return -1;
	}
	return 0;
}

const char *
postgres_cluster_superuser(void)
{
	return POSTGRES_CLUSTER_SUPERUSER;
}

void
postgres_cluster_stop(struct postgres_cluster *c, const struct cairn_host *host)
{
	char code;
	int value, status, r;

	if (c->keeper > 0) {
		if (cluster_command(c, KEEPER_STOP) == 0) {
			/* Everything but KEEPER_STOPPED is news already had. */
			while ((r = cluster_reply(c, -1, &code, &value)) == 1 &&
			       code != KEEPER_STOPPED)
				;
		}
		while (waitpid(c->keeper, &status, 0) == -1 && errno == EINTR)
			;
		if (host != NULL)
			host->log(host, CAIRN_LOG_INFO,
				  "stopped and removed the throwaway cluster "
				  "in '%s'",
				  c->dir);
	}
	if (c->command_fd >= 0)
		close(c->command_fd);
	if (c->status_fd >= 0)
		close(c->status_fd);
	free(c->dir);
	free(c->scratch_dir);
	free(c->server_log);
	free(c->initdb_log);
	free(c->bin_dir);
	postgres_cluster_init(c);
}
