/*
 * Internal interface of the postgres plugin, shared by its source files
 * and its tests. Nothing here is exported from the shared object: the
 * plugin's only public symbol is cairn_plugin_entry.
 *
 * The plugin is split by concern:
 *   util.c        pure logic: lists, name encoding, versions, row count
 *                 files, psql message parsing (no server, no process)
 *   config.c      job settings to struct postgres_config
 *   conn.c        libpq connections, endpoints (server + credentials),
 *                 sessions for child processes, client discovery
 *   spawn.c       child processes (pg_dump, psql...) without a shell
 *   backup.c      backup: globals, one pg_dump per database, in parallel
 *   restore.c     restore and drill
 *   props.c       database-level properties as SQL (database.sql entries)
 *   grants.c      records of roles, owners and grants, and their comparison
 *   cluster.c     throwaway clusters for drills, and their keeper process
 *   drill.c       drill: into a throwaway cluster, or into drill-target
 *   postgres.c    the descriptor, configure, check, release
 *
 * Ownership: every function that fills a structure documents how to
 * release it; strings returned in structures are owned by the structure.
 */
#ifndef CAIRN_PLUGIN_POSTGRES_H
#define CAIRN_PLUGIN_POSTGRES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include <cairn/plugin.h>

/* Reads from a child's stdout are gathered up to this size. */
#define POSTGRES_READ_SIZE (1024 * 1024)
/* ...and handed to the sink once at least this much is there. */
#define POSTGRES_READ_MIN (256 * 1024)
/* How much of a child's stderr is kept for the error message. */
#define POSTGRES_STDERR_KEEP 2048
#define POSTGRES_MAX_JOBS 32
#define POSTGRES_PARAMS_MAX 32

enum postgres_format {
	POSTGRES_FORMAT_CUSTOM,
	POSTGRES_FORMAT_PLAIN,
};

/* libpq keyword/value pairs; both strings owned, values wiped on free. */
struct postgres_params {
	char *keys[POSTGRES_PARAMS_MAX];
	char *values[POSTGRES_PARAMS_MAX];
	size_t count;
};

/* A list of strings, each owned. */
struct postgres_list {
	char **items;
	size_t count;
};

/* A job's validated settings. Released with postgres_config_free. */
struct postgres_config {
	char *job;
	/* host, port, user, service, ssl*, connect_timeout: no password */
	struct postgres_params params;
	char *password_file;
	struct postgres_list databases; /* empty: all */
	struct postgres_list excludes;	/* fnmatch patterns */
	enum postgres_format format;
	int jobs;
	char *bin_dir; /* NULL: choose the newest suitable client */
	char *drill_target;
	char *drill_user; /* who runs a throwaway drill cluster */
	int restore_only;
};

/*
 * A server and the credentials to reach it: connection parameters, the
 * password (wiped on release) and the database used for administration.
 */
struct postgres_endpoint {
	struct postgres_params params;
	char *password;
	char *maintenance_db; /* from the target URI; NULL: "postgres" */
	char label[256];      /* "host:port" for messages, never secret */
};

/*
 * What child processes need: an endpoint, a private 0700 directory with a
 * 0600 password file when there is a password, the environment handed to
 * children and the directory of the client programs.
 */
struct postgres_session {
	struct postgres_endpoint ep;
	char *tmpdir;
	char *passfile;
	char **envp;
	char *bin_dir;
	int client_version; /* PG_VERSION_NUM style of bin_dir's pg_dump */
	char client_version_text[64];
};

/* One child process; see spawn.c. */
#define POSTGRES_CHILD_STDIN 1
#define POSTGRES_CHILD_STDOUT 2

struct postgres_child {
	pid_t pid;
	int in_fd;
	int out_fd;
	int err_fd;
	char name[32]; /* program name for messages */
	char errbuf[POSTGRES_STDERR_KEEP];
	size_t errlen;
	/* Optional: called with each complete stderr line. */
	void (*on_line)(void *arg, const char *line);
	void *line_arg;
	char line[1024];
	size_t linelen;
	/* Optional: a flag another thread sets to stop the child. */
	const volatile int *abort_flag;
};

/* A table's row count, or the large object count (schema NULL). */
struct postgres_rowcount {
	char *schema;
	char *table;
	int64_t rows;
};

struct postgres_rowcounts {
	struct postgres_rowcount *items;
	size_t count;
	int64_t large_objects;
};

/* --- util.c ----------------------------------------------------- */

void postgres_error(struct cairn_error *err, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
char *postgres_strdup(const char *s);
void postgres_list_free(struct postgres_list *list);
int postgres_list_add(struct postgres_list *list, const char *item);
int postgres_list_contains(const struct postgres_list *list, const char *item);

/*
 * Splits a list of database names separated by blanks or commas; a name
 * may be written in double quotes ("" for a quote). 0, or -1 with a
 * message about the value.
 */
int postgres_list_parse(const char *value, struct postgres_list *list,
			struct cairn_error *err);

/*
 * Database names as entry names: '%', '/', ' ' and control characters are
 * written %XX. Both return a malloc'ed string, or NULL (decode: on a
 * malformed escape).
 */
char *postgres_name_encode(const char *name);
char *postgres_name_decode(const char *encoded);

/*
 * Splits "databases/<encoded>.<suffix>" into the decoded database name
 * (malloc'ed) and the suffix ("dump", "sql", "rowcounts", "grants" or
 * "database.sql"). -1 when the
 * entry is not a database entry.
 */
int postgres_entry_parse(const char *entry, char **name, const char **suffix);

/*
 * "pg_dump (PostgreSQL) 15.20 (Debian...)" or "15.20" or "9.6.24" or
 * "17beta1" to PG_VERSION_NUM style (150020, 90624, 170000); -1 if none.
 */
int postgres_version_parse(const char *text);
/*
 * The major version of a PG_VERSION_NUM as a number that compares across
 * numbering schemes: 1500 for 150020, 906 for 90624.
 */
int postgres_version_major(int version);
/* "15" or "9.6": the printable major version. */
void postgres_version_major_text(int version, char *buf, size_t size);

/*
 * Of n clients of the given versions, the index of the newest one able to
 * dump a server of server_version (major not older), or -1.
 */
int postgres_client_pick(const int *versions, size_t n, int server_version);

/*
 * Reads a psql stderr line "psql:<stdin>:12: ERROR:  42710: role ..."
 * (VERBOSITY=verbose): 1 and the SQLSTATE (6 bytes with NUL) with
 * *message pointing into line, or 0 for a line that carries none.
 */
int postgres_psql_sqlstate(const char *line, char sqlstate[6],
			   const char **message);
/* Whether an SQLSTATE is an error (not a notice or warning). */
int postgres_sqlstate_is_error(const char *sqlstate);

/* Row count files: "cairn-rowcounts 1" then one table per line. */
char *postgres_rowcounts_format(const struct postgres_rowcounts *rc,
				size_t *length);
int postgres_rowcounts_parse(const char *text, size_t length,
			     struct postgres_rowcounts *rc,
			     struct cairn_error *err);
int postgres_rowcounts_add(struct postgres_rowcounts *rc, const char *schema,
			   const char *table, int64_t rows);
void postgres_rowcounts_free(struct postgres_rowcounts *rc);
const struct postgres_rowcount *
postgres_rowcounts_find(const struct postgres_rowcounts *rc, const char *schema,
			const char *table);

/*
 * Text that grows; a failed allocation sticks in `failed` and later calls
 * do nothing, so a caller checks once at the end. data is owned, NULL
 * until something is added; release with postgres_text_release.
 */
struct postgres_text {
	char *data;
	size_t length;
	size_t capacity;
	int failed;
};

void postgres_text_add(struct postgres_text *t, const char *s);
void postgres_text_addf(struct postgres_text *t, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Adds text with '%', tab, newline and controls written %XX. */
void postgres_text_add_field(struct postgres_text *t, const char *text);
void postgres_text_release(struct postgres_text *t);

/*
 * Settings whose value is a list pg_dump quotes item by item
 * (search_path...), and the split of such a stored value ("a, \"B c\"")
 * into its items the way PostgreSQL's SplitGUCList does. -1 on a
 * malformed value or no memory.
 */
int postgres_guc_is_list(const char *name);
int postgres_guc_list_split(const char *value, struct postgres_list *list);

/* Human sizes: "1.5 GiB". */
void postgres_size_text(int64_t bytes, char *buf, size_t size);

/* --- params (util.c) -------------------------------------------- */

int postgres_params_set(struct postgres_params *p, const char *key,
			const char *value);
const char *postgres_params_get(const struct postgres_params *p,
				const char *key);
int postgres_params_copy(struct postgres_params *to,
			 const struct postgres_params *from);
void postgres_params_free(struct postgres_params *p);

/* --- config.c --------------------------------------------------- */

extern const char *const postgres_keys[];

int postgres_config_parse(const struct cairn_job_config *config,
			  struct postgres_config **out,
			  struct cairn_error *err);
void postgres_config_free(struct postgres_config *cfg);

/* --- conn.c ----------------------------------------------------- */

/*
 * The job's own server (target NULL) or a target URI laid over the job's
 * settings: what the URI names wins, a user or password in it included.
 * The password comes from the URI, else the job's password-file. Release
 * with postgres_endpoint_release.
 */
int postgres_endpoint_init(struct postgres_endpoint *ep,
			   const struct postgres_config *cfg,
			   const struct cairn_host *host, const char *target,
			   struct cairn_error *err);
void postgres_endpoint_release(struct postgres_endpoint *ep);
/* The database for administration when working on `dbname`. */
const char *postgres_endpoint_admin_db(const struct postgres_endpoint *ep,
				       const char *dbname);

/* Connects to `dbname` (or the maintenance database when NULL). */
int postgres_connect(const struct postgres_endpoint *ep, const char *dbname,
		     PGconn **conn, struct cairn_error *err);
/* Runs a command; -1 with the server's message. */
int postgres_exec(PGconn *conn, const char *what, const char *sql,
		  struct cairn_error *err);
/* Runs a query returning rows; *res owned by the caller (PQclear). */
int postgres_query(PGconn *conn, const char *what, const char *sql, int nparams,
		   const char *const *params, PGresult **res,
		   struct cairn_error *err);
/* The SQLSTATE of the last failure on conn, "" if none. */

/*
 * Prepares a session for child processes on an endpoint: the password
 * file, the environment and the client directory (the configured
 * pg-bin-dir, or the newest installed client not older than
 * server_version). Release with postgres_session_release, which removes
 * the temporary directory.
 */
int postgres_session_init(struct postgres_session *s,
			  const struct postgres_config *cfg,
			  const struct cairn_host *host, const char *target,
			  struct cairn_error *err);
int postgres_session_choose_client(struct postgres_session *s,
				   const struct postgres_config *cfg,
				   int server_version, struct cairn_error *err);
void postgres_session_release(struct postgres_session *s);

/* Runs `bin_dir/prog --version` and parses it. */
int postgres_tool_version(const char *bin_dir, const char *prog,
			  char *const *envp, int *version, char *text,
			  size_t text_size, struct cairn_error *err);

/* Quoted conninfo "dbname='...'" for a child's --dbname; malloc'ed. */
char *postgres_dbname_arg(const char *dbname);

/* --- spawn.c ---------------------------------------------------- */

/* Sets an idle child: no process, no descriptors. */
void postgres_child_init(struct postgres_child *c);
int postgres_child_spawn(struct postgres_child *c, const char *bin_dir,
			 const char *prog, const char *const *argv,
			 char *const *envp, int flags, struct cairn_error *err);
/*
 * Reads the child's stdout into buf until at least POSTGRES_READ_MIN bytes
 * (or size) are there or the output ends; *n is 0 at the end.
 */
int postgres_child_read(struct postgres_child *c, void *buf, size_t size,
			size_t *n, struct cairn_error *err);
/* Writes all of data to the child's stdin. */
int postgres_child_write(struct postgres_child *c, const void *data,
			 size_t length, struct cairn_error *err);
/*
 * Closes stdin, drains the output, waits for the child: 0 when it exited
 * with status 0, else -1 with its status and the start of its stderr.
 */
int postgres_child_wait(struct postgres_child *c, struct cairn_error *err);
/* Kills and reaps the child if it is running; closes its pipes. */
void postgres_child_kill(struct postgres_child *c);
/* The kept stderr on one line, for messages. */
void postgres_child_stderr(const struct postgres_child *c, char *buf,
			   size_t size);

/* Environment for children: environ minus what we set, plus `set`. */
char **postgres_env_build(const char *const *set, size_t count);
void postgres_env_free(char **envp);

/* --- props.c ------------------------------------------------------- */

/*
 * The SQL that gives the connected database its database-level
 * properties back (owner, connection limit, template flag, comment, ACL,
 * its settings and its roles' settings), named `name`. *sql is malloc'ed,
 * owned by the caller.
 */
int postgres_props_sql(PGconn *conn, const char *name, char **sql,
		       size_t *length, struct cairn_error *err);

/* --- grants.c ------------------------------------------------------ */

/*
 * Records of roles (but skip_role, "" for none; passwords: whether to
 * record which roles have one, superusers only) and of the connected
 * database's owners and grants. out is filled, released by the caller.
 */
int postgres_grants_roles(PGconn *conn, int passwords, const char *skip_role,
			  struct postgres_text *out, struct cairn_error *err);
int postgres_grants_database(PGconn *conn, const char *name,
			     struct postgres_text *out,
			     struct cairn_error *err);
/*
 * Reports each difference between the archive's record and the one read
 * after the restore, each message starting with scope ("database 'x': "
 * or ""). 0 when equal; *checks is the number of properties compared.
 */
int postgres_grants_compare(const struct cairn_host *host,
			    struct cairn_report *report, const char *scope,
			    const char *expected, size_t expected_length,
			    const char *actual, size_t actual_length,
			    size_t *checks, size_t *differences);

/* --- cluster.c ---------------------------------------------------- */

/* A throwaway cluster for drills; see cluster.c. */
struct postgres_cluster {
	pid_t keeper;	/* the process that owns the cluster */
	int command_fd; /* to the keeper */
	int status_fd;	/* from the keeper */
	pid_t server;	/* the postmaster, the keeper's child */
	char *dir;	/* SCRATCH/pg: data/, the socket, logs */
	char *scratch_dir;
	char *server_log;
	char *initdb_log;
	char *bin_dir; /* initdb and postgres */
	int version;   /* PG_VERSION_NUM style */
	char version_text[64];
	uid_t uid;
	gid_t gid;
	int switch_user;
	char user[64];
};

void postgres_cluster_init(struct postgres_cluster *c);
/*
 * Creates and starts a cluster in SCRATCH/pg whose server is not older
 * than archive_version. Whether it succeeds or not, postgres_cluster_stop
 * must follow: it stops the server and removes the directory.
 */
int postgres_cluster_start(struct postgres_cluster *c,
			   const struct postgres_config *cfg,
			   const struct cairn_host *host,
			   const char *scratch_dir, int archive_version,
			   struct cairn_error *err);
/*
 * Settings that reach the cluster (its socket, its superuser), as a
 * configuration for postgres_session_init; release with
 * postgres_config_free's fields: free(cfg->job), postgres_params_free.
 */
int postgres_cluster_endpoint(const struct postgres_cluster *c,
			      struct postgres_config *cfg,
			      struct cairn_error *err);
/*
 * For check: the cluster a drill of a server of server_version would
 * start ("throwaway cluster, PostgreSQL 15.4 from DIR, run as USER"), or
 * why it cannot.
 */
int postgres_cluster_describe(const struct postgres_config *cfg,
			      int server_version, char *text, size_t size,
			      struct cairn_error *err);
/* The cluster's bootstrap superuser, not one of the archive's roles. */
const char *postgres_cluster_superuser(void);
void postgres_cluster_stop(struct postgres_cluster *c,
			   const struct cairn_host *host);

/* --- backup.c / restore.c ------------------------------------ */

/* The archive's databases as restore and drill see them. */
struct postgres_rdb {
	char *name;
	char *encoded;
	int selected;
	int exists;
	int empty;
	int done;
	int whole; /* pg_restore --create brought its properties too */
	/* drill */
	char scratch[64];
	int created;
	int restored;
	struct postgres_rowcounts counts; /* after restore */
	int have_counts;
	struct postgres_rowcounts expected;
	int have_expected;
	char *grants; /* the archive's record, when it has one */
	size_t grants_length;
};

struct postgres_rplan {
	struct postgres_rdb *dbs;
	size_t count;
	enum postgres_format format;
	int drill; /* restoring into a throwaway cluster */
};

/* What psql said on stderr, sorted by SQLSTATE. */
struct postgres_psql_filter {
	const char *tolerated;
	size_t tolerated_count;
	size_t error_count;
	char first_error[512];
};

/* The archive's databases, from its facts; release with rplan_free. */
int postgres_rplan_load(struct postgres_rplan *plan,
			const struct cairn_host *host,
			struct cairn_source *source, struct cairn_error *err);
void postgres_rplan_free(struct postgres_rplan *plan);
struct postgres_rdb *postgres_rplan_find(struct postgres_rplan *plan,
					 const char *name);
/* A psql stderr line into a filter (a child's on_line callback). */
void postgres_psql_line(void *arg, const char *line);
/* Reads the current entry into *text (malloc'ed), up to max bytes. */
int postgres_entry_slurp(const struct cairn_host *host,
			 struct cairn_source *source, size_t max, char **text,
			 size_t *total, struct cairn_error *err);
/* Runs prog fed with the current entry; errors name `what`. */
int postgres_run_fed(const struct postgres_session *s,
		     const struct cairn_host *host, struct cairn_source *source,
		     const struct cairn_entry *entry, const char *prog,
		     const char *const *argv,
		     struct postgres_psql_filter *filter, const char *what,
		     struct cairn_error *err);
/* Sets db->exists and db->empty on the endpoint's server. */
int postgres_db_probe(const struct postgres_endpoint *ep,
		      struct postgres_rdb *db, struct cairn_error *err);
int postgres_db_drop(const struct postgres_endpoint *ep, const char *name,
		     struct cairn_error *err);
/* CREATE DATABASE name with the encoding, locale (and owner) recorded. */
int postgres_db_create(const struct postgres_endpoint *ep,
		       const struct cairn_host *host,
		       struct cairn_source *source, const char *encoded,
		       const char *name, int with_owner,
		       struct cairn_error *err);
/*
 * Runs globals.sql; existing roles are kept and updated. With lenient,
 * failed statements are counted there instead of failing the restore.
 */
int postgres_restore_globals(const struct postgres_session *s,
			     const struct cairn_host *host,
			     struct cairn_source *source,
			     const struct cairn_entry *entry,
			     struct postgres_psql_filter *lenient,
			     struct cairn_error *err);
/* Restores one database from its dump entry (see restore.c). */
int postgres_restore_db(
	const struct postgres_session *s, const struct postgres_config *cfg,
	const struct cairn_host *host, struct cairn_source *source,
	const struct cairn_entry *entry, const struct postgres_rplan *plan,
	struct postgres_rdb *db, int force, struct cairn_error *err);
/* Runs a database.sql entry unless pg_restore --create did its work. */
int postgres_restore_props(const struct postgres_session *s,
			   const struct cairn_host *host,
			   struct cairn_source *source,
			   const struct cairn_entry *entry,
			   const struct postgres_rdb *db,
			   struct cairn_error *err);
/* Whether s's pg_restore reads what the archive's pg_dump wrote. */
int postgres_check_client(const struct postgres_session *s,
			  const struct cairn_host *host,
			  struct cairn_source *source, struct cairn_error *err);

int postgres_backup(void *state, const struct cairn_host *host,
		    struct cairn_sink *sink, struct cairn_error *err);
int postgres_restore(void *state, const struct cairn_host *host,
		     struct cairn_source *source,
		     const struct cairn_restore_options *options,
		     struct cairn_error *err);
int postgres_drill(void *state, const struct cairn_host *host,
		   struct cairn_source *source,
		   const struct cairn_drill_options *options,
		   struct cairn_report *report, struct cairn_error *err);

/* Row counts of a connected database (backup and drill). */
int postgres_count_rows(PGconn *conn, const char *what,
			struct postgres_rowcounts *rc, struct cairn_error *err);

#endif
