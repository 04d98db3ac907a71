/*
 * What the files of the redis plugin share: the job's configuration, the
 * client helpers of client.c (connecting with hiredis, authenticating,
 * reading INFO fields, parsing redis:// targets) and the entry points of
 * the backup, restore and drill halves.
 */
#ifndef CAIRN_REDIS_H
#define CAIRN_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include <cairn/plugin.h>

#define REDIS_DEFAULT_PORT 6379
#define REDIS_DEFAULT_TIMEOUT 3600
#define REDIS_DEFAULT_CONNECT_TIMEOUT 10
/* A replication link silent for this long (not even a keep-alive) fails. */
#define REDIS_IDLE_TIMEOUT 60
/* The entry name of the snapshot in an archive. */
#define REDIS_ENTRY "dump.rdb"

enum redis_mode {
	REDIS_MODE_BGSAVE,
	REDIS_MODE_SAVE,
};

/* Where to connect, and as whom. Strings owned by the holder. */
struct redis_endpoint {
	char *host;
	int port;
	char *socket;	     /* a Unix socket path instead of host:port */
	char *user;	     /* ACL user, NULL for the default user */
	char *password_file; /* NULL: no password */
	char *password;	     /* a password given in a URI (wiped) */
	int db;		     /* -1: every database */
	char address[512];   /* "host:port" or the socket path, for messages */
};

/* A job's configuration, as configure validated it. */
struct redis_config {
	char *job;
	int restore_only;
	struct redis_endpoint endpoint;
	enum redis_mode mode;
	char *rdb_path; /* NULL: auto */
	int rdb_remote;
	int timeout;	     /* seconds: the save and the transfer */
	int connect_timeout; /* seconds: connecting, each command */
	char *drill_target;  /* redis-server binary for drills */
};

/* client.c */

/* Sets endpoint->address from its host/port or socket. */
void redis_endpoint_describe(struct redis_endpoint *endpoint);
void redis_endpoint_release(struct redis_endpoint *endpoint);
/* Copies the connection settings (not db) of `from` into `to`. */
int redis_endpoint_copy(struct redis_endpoint *to,
			const struct redis_endpoint *from);

/*
 * Parses "redis://[user[:password]@]host[:port][/db]" into *endpoint
 * (zeroed first; release it with redis_endpoint_release). Returns 0, or
 * -1 after filling err.
 */
int redis_url_parse(const char *url, struct redis_endpoint *endpoint,
		    struct cairn_error *err);

/*
 * Connects, sets the command timeout, authenticates (password file read
 * through the host, wiped after use) and checks the server answers. On
 * success *context is owned by the caller (redisFree).
 */
int redis_connect(const struct cairn_host *host,
		  const struct redis_endpoint *endpoint, int connect_timeout,
		  int command_timeout, redisContext **context,
		  struct cairn_error *err);

/*
 * Runs a command given as NUL-terminated arguments (no format string, so
 * nothing is interpreted). Returns the reply (caller frees it with
 * freeReplyObject), or NULL after filling err when the connection failed.
 * An error reply is returned as a reply.
 */
redisReply *redis_command(redisContext *context, const char *address,
			  struct cairn_error *err, int argc,
			  const char *const *argv);

/* Runs a command; fails on a connection error or an error reply. */
redisReply *redis_command_ok(redisContext *context, const char *address,
			     struct cairn_error *err, int argc,
			     const char *const *argv);

/*
 * The value of `field` in an INFO reply ("field:value" lines) copied into
 * value; 0 when found, -1 when absent.
 */
int redis_info_field(const char *info, const char *field, char *value,
		     size_t size);

/* INFO `section` as a string the caller frees, or NULL after err. */
char *redis_info(redisContext *context, const char *address,
		 const char *section, struct cairn_error *err);

/*
 * Keys per database from an INFO keyspace reply: calls `each` with the
 * database number, keys and expires of every "dbN:keys=..." line.
 */
void redis_keyspace_each(const char *info,
			 void (*each)(void *arg, int db, uint64_t keys,
				      uint64_t expires),
			 void *arg);

/* Fills err->message (cut to fit: it is a message). */
void redis_errorf(struct cairn_error *err, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* Sleeps for `ms` milliseconds. */
void redis_sleep_ms(int ms);
/* Monotonic clock in milliseconds. */
int64_t redis_now_ms(void);

/* backup.c */
int redis_backup_run(const struct redis_config *config,
		     const struct cairn_host *host, struct cairn_sink *sink,
		     struct cairn_error *err);

/* check.c */
int redis_check_run(const struct redis_config *config,
		    const struct cairn_host *host, struct cairn_report *report,
		    struct cairn_error *err);

/* restore.c */
int redis_restore_run(const struct redis_config *config,
		      const struct cairn_host *host,
		      struct cairn_source *source,
		      const struct cairn_restore_options *options,
		      struct cairn_error *err);

/* drill.c */
int redis_drill_run(const struct redis_config *config,
		    const struct cairn_host *host, struct cairn_source *source,
		    const struct cairn_drill_options *options,
		    struct cairn_report *report, struct cairn_error *err);

#endif
