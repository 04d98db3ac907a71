/*
 * cairn plugin ABI.
 *
 * This is the only header a cairn plugin includes. A plugin is a shared
 * object that exports one constant, cairn_plugin_entry, describing its
 * name, the configuration keys it accepts and its callbacks. The core hands
 * every callback a table of services (struct cairn_host), so a plugin links
 * against nothing of the core's: it never sees the archive format, the
 * compressor, the catalogue or the repository. It produces named entries
 * through a sink during backup and consumes them from a source during
 * restore and drill.
 *
 * Stability rules:
 *   - CAIRN_PLUGIN_ABI_VERSION changes whenever an existing member of any
 *     structure below changes type, meaning or position. The core refuses a
 *     plugin built against another version.
 *   - New host services are appended at the end of struct cairn_host; its
 *     `size` member tells a plugin which ones the running core provides
 *     (CAIRN_HOST_HAS below). Structures handed to the plugin by
 *     pointer are only ever extended the same way.
 *
 * Conventions:
 *   - Callbacks return 0 on success and -1 on failure, after filling the
 *     caller-owned struct cairn_error with a lowercase message without a
 *     final period that names its subject in quotes.
 *   - Plugins never print and never exit; they log through the host.
 *   - Strings handed to a plugin are owned by the core and stay valid for
 *     the duration of the callback unless stated otherwise.
 *   - Callbacks of one plugin state are never called concurrently. Sink
 *     services may be called from several threads of the plugin at once.
 */
#ifndef CAIRN_PLUGIN_H
#define CAIRN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_PLUGIN_ABI_VERSION 1

/* The symbol the core looks up in each plugin. */
#define CAIRN_PLUGIN_ENTRY_SYMBOL "cairn_plugin_entry"

#define CAIRN_ERROR_MESSAGE_SIZE 1024

struct cairn_setting;

/*
 * An error, owned by the caller of the function that fills it. `setting`
 * points at the configuration setting at fault, when there is one, so the
 * core can name its file, line, section and key.
 */
struct cairn_error {
	char message[CAIRN_ERROR_MESSAGE_SIZE];
	const struct cairn_setting *setting;
};

enum cairn_log_level {
	CAIRN_LOG_ERROR,
	/* A warning during a backup is recorded with the job's result. */
	CAIRN_LOG_WARNING,
	CAIRN_LOG_INFO,
	CAIRN_LOG_DEBUG,
};

/* One `key = value` line of a job's section. */
struct cairn_setting {
	const char *key;
	const char *value;
	int line;
};

/*
 * The configuration of one job: its section, minus the keys the core
 * handles itself (plugin, before, after, retention and scheduling keys).
 * Every key is one the plugin listed in `keys`; the plugin validates
 * values and reports missing required keys.
 *
 * When `restore_only` is non-zero the job is not in the configuration any
 * more (an archive is being restored with --to): `count` is 0 and the
 * plugin must accept a configuration without its required keys.
 */
struct cairn_job_config {
	const char *job;
	const char *file;
	int section_line;
	const struct cairn_setting *settings;
	size_t count;
	int restore_only;
};

enum cairn_entry_type {
	CAIRN_ENTRY_FILE,
	CAIRN_ENTRY_DIRECTORY,
	CAIRN_ENTRY_SYMLINK,
	/* A hard link to the earlier entry named by `link`. */
	CAIRN_ENTRY_HARDLINK,
	CAIRN_ENTRY_FIFO,
	CAIRN_ENTRY_CHARDEV,
	CAIRN_ENTRY_BLOCKDEV,
};

/* The size of an entry whose content is streamed and not known ahead. */
#define CAIRN_SIZE_UNKNOWN (-1)

struct cairn_xattr {
	const char *name;
	const void *value;
	size_t size;
};

/* A region of a sparse file that holds data; the rest reads as zeros. */
struct cairn_extent {
	int64_t offset;
	int64_t length;
};

/*
 * What the plugin knows about an entry. Only `name` and `type` are
 * required; zero means "not known" for the other members, except `size`.
 *
 * `name` is relative, '/'-separated, without "." or ".." components and
 * without a leading '/'. Names starting with ".cairn" are reserved.
 *
 * `size` is the logical size of a regular file, or CAIRN_SIZE_UNKNOWN for
 * content streamed from a process whose length cannot be known first. The
 * plugin must then write exactly `size` bytes (padding a file that shrank
 * while it was read, after logging a warning).
 *
 * A sparse file lists the regions that hold data in `extents`, in
 * increasing order; the plugin then writes only the bytes of those regions,
 * in order, and the holes are recorded as holes.
 */
struct cairn_entry {
	const char *name;
	enum cairn_entry_type type;
	unsigned int mode; /* permission bits, 07777 */
	int64_t uid;
	int64_t gid;
	const char *uname;
	const char *gname;
	struct timespec mtime;
	struct timespec atime;
	int64_t size;
	const char *link; /* symlink target, or hard link's earlier entry */
	unsigned long rdev_major;
	unsigned long rdev_minor;
	const struct cairn_xattr *xattrs;
	size_t xattr_count;
	const char *acl_access; /* POSIX.1e text form, as acl_to_text() */
	const char *acl_default;
	const struct cairn_extent *extents;
	size_t extent_count;
};

/*
 * An entry of the tree as the job's previous archive left it (the base
 * of an incremental backup): what that backup's plugin recorded. `state`
 * is the string the plugin gave stream_state, or NULL.
 */
struct cairn_base_entry {
	const char *name;
	enum cairn_entry_type type;
	int64_t size;
	const char *state;
};

/* Opaque handles the core passes to callbacks. */
struct cairn_sink;   /* where a backup writes its entries */
struct cairn_stream; /* one entry being written */
struct cairn_source; /* where a restore or drill reads entries */
struct cairn_report; /* where check and drill describe what they found */

/* What `cairn restore` asks of the plugin. */
struct cairn_restore_options {
	/* Where to restore; NULL means the job's own source. */
	const char *target;
	/* --only NAME arguments; their meaning is the plugin's. */
	const char *const *only;
	size_t only_count;
	int dry_run;
	int force;
};

/* What `cairn drill` gives the plugin: a private scratch directory. */
struct cairn_drill_options {
	const char *scratch_dir;
	/* The job's drill-target key, or NULL when it has none. */
	const char *drill_target;
};

/*
 * The services of the core. Every function is safe to call from the
 * callback it was handed to, and the sink functions from any thread the
 * plugin starts during backup.
 */
struct cairn_host {
	/* sizeof(struct cairn_host) as the running core was built. */
	size_t size;

	void (*log)(const struct cairn_host *host, enum cairn_log_level level,
		    const char *format, ...)
#if defined(__GNUC__)
		__attribute__((format(printf, 3, 4)))
#endif
		;

	/*
	 * Reads a secret (password, token) from `path`, without its trailing
	 * newline, warning when the file is readable by group or others.
	 * On success *secret is a NUL-terminated string owned by the caller,
	 * to be released with secret_free, which wipes it.
	 */
	int (*secret_read)(const struct cairn_host *host, const char *path,
			   char **secret, struct cairn_error *err);
	void (*secret_free)(char *secret);

	/*
	 * Backup. stream_open starts an entry; several unknown-size entries
	 * may be open at once (from several threads), but an entry of known
	 * size holds the sink until it is closed. The entry's strings are
	 * copied. stream_close checks the size and records the checksum. On
	 * failure the plugin simply returns -1 from backup: the core discards
	 * the whole archive, including streams left open.
	 */
	int (*stream_open)(struct cairn_sink *sink,
			   const struct cairn_entry *entry,
			   struct cairn_stream **stream,
			   struct cairn_error *err);
	int (*stream_write)(struct cairn_stream *stream, const void *data,
			    size_t length, struct cairn_error *err);
	int (*stream_close)(struct cairn_stream *stream,
			    struct cairn_error *err);
	/* A fact about the source for the manifest: versions, sizes. */
	void (*fact_set)(struct cairn_sink *sink, const char *key,
			 const char *value);

	/*
	 * Restore and drill. entry_next returns 1 and the next entry (valid
	 * until the next call), 0 at the end, -1 on error. entry_read
	 * returns 1 and the next block of the current entry with its offset
	 * in the file (blocks skip the holes of sparse files), 0 at the end
	 * of the entry, -1 on error, including a checksum mismatch. Entries
	 * stored in parts are presented whole.
	 */
	int (*entry_next)(struct cairn_source *source,
			  const struct cairn_entry **entry,
			  struct cairn_error *err);
	int (*entry_read)(struct cairn_source *source, const void **data,
			  size_t *length, int64_t *offset,
			  struct cairn_error *err);
	/* A fact the backup recorded, or NULL. */
	const char *(*fact_get)(struct cairn_source *source, const char *key);

	/* check and drill: one finding, and one problem, per call. */
	void (*report_item)(struct cairn_report *report, const char *key,
			    const char *value);
	void (*report_problem)(struct cairn_report *report, const char *format,
			       ...)
#if defined(__GNUC__)
		__attribute__((format(printf, 2, 3)))
#endif
		;

	/* Optional progress hint: what is being read now, and how far. */
	void (*progress)(const struct cairn_host *host, const char *current,
			 int64_t done, int64_t total);

	/*
	 * Incremental backups (appended; test with CAIRN_HOST_HAS(host,
	 * stream_state)). The core decides whether a backup may build on
	 * the job's previous archive (the job's `incremental` and
	 * `full-every`, the state of the chain); the plugin decides what
	 * changed.
	 *
	 * stream_state records with the entry of `stream` (before it is
	 * closed) a string of the plugin's own, at most 4096 bytes without a
	 * newline, that tells next time whether the entry changed (sizes,
	 * times, inode numbers, a digest). Entries without one can never be
	 * found unchanged.
	 *
	 * base_open returns 1 when this backup is an incremental one, with
	 * *started the time the base archive's backup started (for changes
	 * within the timestamp granularity), or 0 when it must be a full
	 * one. base_next returns 1 and the next entry of the base (valid
	 * until the next call), 0 at the end, -1 on error. Base entries come
	 * in chain order: names compared byte by byte, '/' sorting before
	 * every other byte (a directory just before its content); an
	 * incremental backup writes its entries in that order too.
	 *
	 * An incremental backup then writes every entry that changed or is
	 * new, every directory, and for each base entry either nothing more
	 * than base_unchanged (called while it is the current one: the
	 * archive carries it over from the base) or base_removed (it is
	 * gone, or changed type and is written again). Neither may be
	 * called while the calling thread holds an entry of known size.
	 */
	int (*stream_state)(struct cairn_stream *stream, const char *state,
			    struct cairn_error *err);
	int (*base_open)(struct cairn_sink *sink, struct timespec *started,
			 struct cairn_error *err);
	int (*base_next)(struct cairn_sink *sink,
			 const struct cairn_base_entry **entry,
			 struct cairn_error *err);
	int (*base_unchanged)(struct cairn_sink *sink, struct cairn_error *err);
	int (*base_removed)(struct cairn_sink *sink, const char *name,
			    struct cairn_error *err);
};

/* Whether the running core provides the host service `member`. */
#define CAIRN_HOST_HAS(host, member)                                           \
	((host)->size >=                                                       \
	 offsetof(struct cairn_host, member) + sizeof((host)->member))

/*
 * The descriptor a plugin exports as cairn_plugin_entry. `abi_version` is
 * read before anything else. configure, backup, restore and release are
 * required; check and drill may be NULL.
 */
struct cairn_plugin {
	unsigned int abi_version;
	const char *name;
	const char *version;
	const char *description;
	/* NULL-terminated list of the job keys this plugin accepts. */
	const char *const *keys;

	/*
	 * Validates the job's settings and returns, in *state, what the
	 * other callbacks need; released with release(). Opens no
	 * connection: that is check's and backup's business.
	 */
	int (*configure)(const struct cairn_host *host,
			 const struct cairn_job_config *config, void **state,
			 struct cairn_error *err);

	/* Health of the source: reachable, authenticated, versions, size. */
	int (*check)(void *state, const struct cairn_host *host,
		     struct cairn_report *report, struct cairn_error *err);

	/* Writes the source's entries and facts into the sink. */
	int (*backup)(void *state, const struct cairn_host *host,
		      struct cairn_sink *sink, struct cairn_error *err);

	/* Reads entries from the source and restores them. */
	int (*restore)(void *state, const struct cairn_host *host,
		       struct cairn_source *source,
		       const struct cairn_restore_options *options,
		       struct cairn_error *err);

	/*
	 * Restores into a scratch target and checks what it restored
	 * against the archive, reporting each finding; -1 when the drill
	 * failed.
	 */
	int (*drill)(void *state, const struct cairn_host *host,
		     struct cairn_source *source,
		     const struct cairn_drill_options *options,
		     struct cairn_report *report, struct cairn_error *err);

	void (*release)(void *state);
};

extern const struct cairn_plugin cairn_plugin_entry;

#ifdef __cplusplus
}
#endif

#endif /* CAIRN_PLUGIN_H */
