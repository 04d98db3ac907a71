/*
 * Internal interface of the volume plugin, shared by its source files.
 * Nothing here is exported from the shared object: the plugin's only
 * public symbol is cairn_plugin_entry.
 *
 * The plugin is split by concern:
 *   volume.c    the descriptor, configure, release, small helpers
 *   paths.c     word lists (split, quote) and absolute paths
 *   map.c       a map from two integers to a string
 *   owner.c     user and group names to ids and back
 *   acl.c       POSIX ACLs of a file to text and back (libacl)
 *   walk.c      the walk over the configured trees (backup, check)
 *   backup.c    what each file the walk meets becomes: its entry
 *   incr.c      incremental backups: states, and the base merged in
 *   xattr.c     reading a file's extended attributes and ACLs
 *   check.c     check: what a backup would read, and what it cannot
 *   target.c    where a restore may write, and which names it takes
 *   restore.c   restore: each entry to disk, and --only, drill hashing
 *   extract.c   entries to disk relative to directory descriptors
 *   dircache.c  the directories of a restore target kept open
 *   fixup.c     metadata of directories that existed before a restore
 *   drill.c     drill: restore into scratch, read back, compare
 *
 * Ownership: strings in the structures are owned by them; a function
 * that returns a pointer into a structure says how long it stays valid.
 */
#ifndef CAIRN_PLUGIN_VOLUME_H
#define CAIRN_PLUGIN_VOLUME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <archive.h>
#include <openssl/evp.h>

#include <cairn/plugin.h>

/* Large reads: one buffer per backup, restore or drill. */
#define VOLUME_BUFFER_SIZE (1024 * 1024)
/* How many names a check reports before summing up the rest. */
#define VOLUME_CHECK_PROBLEMS 20

#define VOLUME_ACL_ACCESS "system.posix_acl_access"
#define VOLUME_ACL_DEFAULT "system.posix_acl_default"

/* What configure leaves for the other callbacks. */
struct volume {
	char *job;
	char **paths; /* absolute, normalised, no trailing '/' */
	size_t path_count;
	char **excludes;
	size_t exclude_count;
	int one_file_system;
	int restore_only;
};

/* A small open-addressing map from two integers to an owned string. */
struct volume_slot {
	uint64_t a;
	uint64_t b;
	char *value;
	int used;
};

struct volume_map {
	struct volume_slot *slots;
	size_t capacity; /* a power of two, or 0 */
	size_t count;
};

/* The two kinds of owner, also the first key of the owner name cache. */
enum volume_owner_kind {
	VOLUME_OWNER_USER = 0,
	VOLUME_OWNER_GROUP = 1,
};

/* One walk over the configured paths, for backup or for check. */
struct volume_walk {
	const struct volume *vol;
	const struct cairn_host *host;
	struct cairn_sink *sink;     /* NULL when only counting (check) */
	struct cairn_report *report; /* check: where warnings go */
	struct cairn_error *err;

	const char *root; /* the configured path being walked */
	size_t root_length;
	dev_t root_dev;

	char *path; /* absolute path of the current file */
	size_t path_length;
	size_t path_capacity;

	unsigned char *buffer; /* read buffer, VOLUME_BUFFER_SIZE */
	char *xnames;	       /* listxattr result */
	size_t xnames_capacity;
	unsigned char *xvalues; /* attribute values, back to back */
	size_t xvalues_capacity;
	struct cairn_xattr *xattrs;
	size_t xattrs_capacity;
	size_t *xoffsets; /* where each value starts in xvalues */
	size_t xoffsets_capacity;
	char *acl_text[2]; /* access, default */
	size_t acl_capacity[2];
	struct cairn_extent *extents;
	size_t extents_capacity;

	struct volume_map links;  /* (dev, inode) -> first entry's name */
	struct volume_map owners; /* (kind, uid or gid) -> name */

	int64_t entries;
	int64_t files;
	int64_t bytes;
	int64_t problems;

	/* Incremental backups (volume_incr.c). */
	int stating;	 /* the host records entry states */
	int incremental; /* this backup builds on the base */
	struct timespec base_started;
	const struct cairn_base_entry *base; /* current, NULL at the end */
	char state[256];		     /* the current file's */
	int64_t unchanged;
	int64_t removed;
	int base_pending; /* the current file was in the base, as it is */
};

/* An extended attribute of a volume_fixup; name and value owned. */
struct volume_fixup_xattr {
	char *name;
	void *value;
	size_t size;
};

/* The metadata of a directory to apply after its content is restored. */
struct volume_fixup {
	char *name;
	unsigned int mode;
	int64_t uid;
	int64_t gid;
	struct timespec times[2]; /* atime, mtime */
	struct volume_fixup_xattr *xattrs;
	size_t xattr_count;
	char *acl[2]; /* access, default */
};

/* Directories a restore keeps open; more than a tree's usual depth. */
#define VOLUME_DIR_CACHE 16

struct volume_dir {
	char *path; /* relative to the target, normalised; NULL: free */
	size_t length;
	int fd; /* O_PATH */
	unsigned long used;
};

/* dircache.c: the target's directories open, by name. */
struct volume_dirs {
	int target; /* borrowed */
	struct volume_dir dir[VOLUME_DIR_CACHE];
	unsigned long clock;
};

/* A normalised name, and where its base name starts. */
struct volume_name {
	char *text;
	size_t capacity;
	size_t length;
	size_t base; /* 0 when the parent is the target itself */
};

/* One restore or drill. */
struct volume_restore {
	const struct volume *vol;
	const struct cairn_host *host;
	struct cairn_source *source;
	const struct cairn_restore_options *options;
	struct cairn_error *err;

	char **roots; /* restoring in place: the archived paths, no '/' */
	size_t root_count;

	/* Where entries go: extract.c's writer, or else archive_write_disk. */
	struct volume_extract *extract;
	struct archive *disk;
	struct archive_entry *entry;
	/*
	 * Directories that existed before a --force restore: libarchive
	 * leaves their metadata alone, so it is applied here at the end.
	 */
	struct volume_fixup *fixups;
	size_t fixup_count;
	size_t fixup_capacity;
	int64_t total;
	int64_t done;
	int64_t entries;
	int64_t files;
	int64_t failed;
	char first_failure[CAIRN_ERROR_MESSAGE_SIZE];

	/* Drill only. */
	struct cairn_report *report;
	EVP_MD_CTX *md;
	unsigned char *buffer;
	unsigned char *zeros;
	int64_t mismatches;
	int64_t bytes;
};

/* volume.c */

/* Fills err->message (cut to fit: it is a message). */
void volume_error(struct cairn_error *err, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/*
 * Grows *block (an array of *capacity elements of `size` bytes) by
 * doubling until it holds `needed` elements; the content is kept. Returns
 * 0, or -1 when out of memory, leaving *block and *capacity as they were.
 */
int volume_grow(void **block, size_t *capacity, size_t needed, size_t size);

/* Tells the host how far we are, when it wants to know. */
void volume_progress(const struct cairn_host *host, const char *current,
		     int64_t done, int64_t total);

/* paths.c */

/* Frees an array of `count` strings and the array; NULL is fine. */
void volume_free_words(char **words, size_t count);

/*
 * Appends a copy of the first `length` bytes of `word` to *words
 * (owned, freed with volume_free_words). Returns 0, or -1 when out of
 * memory.
 */
int volume_append_word(char ***words, size_t *count, const char *word,
		       size_t length);

/*
 * Splits a value into words separated by white space and appends them to
 * *words. A double-quoted part may hold white space; inside it, \" and
 * \\ stand for " and \. Returns 0, or -1 after filling err (unterminated
 * quote, empty word, no memory); words appended before stay appended.
 */
int volume_split(const char *value, char ***words, size_t *count,
		 struct cairn_error *err);

/*
 * Appends `word` to the string *out (length *length, *capacity bytes
 * allocated, owned by the caller), after a space when *out is not empty,
 * quoted when volume_split would need it to read it back. Returns 0, or
 * -1 when out of memory.
 */
int volume_quote(char **out, size_t *length, size_t *capacity,
		 const char *word);

/*
 * Normalises an absolute path in place: repeated and trailing slashes
 * and "." components go; ".." is refused. Returns 0, or -1 after filling
 * err.
 */
int volume_normalise(char *path, struct cairn_error *err);

/* Whether `path` (absolute, normalised) lies inside or at `root`. */
int volume_inside(const char *root, const char *path);

/* map.c */

/* The slot of (a, b), or NULL. Valid until the next volume_map_put. */
struct volume_slot *volume_map_find(const struct volume_map *map, uint64_t a,
				    uint64_t b);

/*
 * Adds (a, b) -> value; the key must not be there yet. Takes ownership
 * of `value` (which may be NULL) on success only. Returns 0, or -1 when
 * out of memory. A zeroed map is an empty map.
 */
int volume_map_put(struct volume_map *map, uint64_t a, uint64_t b, char *value);

/* Frees the slots and the values; the map is empty again. */
void volume_map_release(struct volume_map *map);

/* owner.c */

/*
 * The name of a uid or gid, looked up once and then kept in `cache`; NULL
 * when the id has no name (or memory ran out). Owned by the cache.
 */
const char *volume_owner_name(struct volume_map *cache,
			      enum volume_owner_kind kind, uint64_t id);

/* The uid or gid of a name, or -1 when the system does not know it. */
int64_t volume_owner_id(enum volume_owner_kind kind, const char *name);
/*
 * The owner a restored entry gets: owners go by number, and a name is
 * looked up only when no number came (id < 0); -1 when neither gives one.
 */
int64_t volume_owner_resolve(enum volume_owner_kind kind, const char *name,
			     int64_t id);

/* acl.c */

/* Which of a file's two ACLs. */
enum {
	VOLUME_ACL_OF_ACCESS = 0,
	VOLUME_ACL_OF_DEFAULT = 1,
};

/*
 * Reads the access or default ACL of the file open as `fd`, or at `path`
 * (which names the same file; used when fd is -1 and for the default
 * ACL) in the text form archives carry: numeric ids, one entry per line,
 * each ended by a newline (acl.c shows it). The text goes into *text, a
 * buffer of *capacity bytes the caller owns and may reuse, grown as
 * needed. Returns 0, or -1 with errno set (ENODATA: no default ACL).
 */
int volume_acl_read(int fd, const char *path, int which, char **text,
		    size_t *capacity);

/*
 * Sets the access or default ACL of `fd` or `path` (as above) from a
 * POSIX.1e text ACL: entries separated by newlines or commas, qualifiers
 * numeric or names. Returns 0, or -1 with errno set (EINVAL: not an ACL,
 * or an unknown name).
 */
int volume_acl_write(int fd, const char *path, int which, const char *text);

/* walk.c */

/*
 * A problem met while walking: a warning during backup, a problem of the
 * report during check (the first VOLUME_CHECK_PROBLEMS of them). Counted
 * in w->problems.
 */
void volume_warn(struct volume_walk *w, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/*
 * openat without updating the access time when we may (O_NOATIME is
 * refused for files we do not own). Returns the descriptor, or -1 with
 * errno set.
 */
int volume_open_read(int dirfd, const char *name, int flags);

/*
 * Walks one configured path: its root, then everything below it, names
 * of a directory in byte order, exclusions and one-file-system applied,
 * calling volume_visit for each file. Problems with single files are
 * warnings (volume_warn); a missing or unreadable root fails. Returns 0,
 * or -1 after filling w->err.
 */
int volume_walk_root(struct volume_walk *w, const char *root);

/* Frees what the walk allocated (not w itself). */
void volume_walk_release(struct volume_walk *w);

/* backup.c */

/*
 * Writes the entry of the file at w->path (base name `base` in `dirfd`,
 * stat `st`) to w->sink, or only counts it when w->sink is NULL. `fd` is
 * an open descriptor of it when it is a directory, else -1. A file that
 * cannot be read is a warning and 0; -1 (w->err filled) stops the walk.
 */
int volume_visit(struct volume_walk *w, int dirfd, const char *base,
		 struct stat *st, int fd);

/* The backup callback. */
int volume_backup(void *state, const struct cairn_host *host,
		  struct cairn_sink *sink, struct cairn_error *err);

/* incr.c */

/* Chain order: strcmp, but '/' sorts before every other byte. */
int volume_name_compare(const char *a, const char *b);

/*
 * Formats into w->state what tells the file of `st` and entry `e` (its
 * xattrs, ACLs and link target read) unchanged next time. 0, or -1.
 */
int volume_state_make(struct volume_walk *w, const struct stat *st,
		      const struct cairn_entry *e);

/* Moves to the next base entry (the first, the first time). 0 or -1. */
int volume_base_start(struct volume_walk *w);

/*
 * Brings the base up to `name`, telling the host of every base name
 * passed (removed), and compares: 1 when the file is unchanged (carried
 * over: write nothing), 0 when it must be written, -1 on error.
 */
int volume_base_match(struct volume_walk *w, const char *name,
		      const struct stat *st);

/* Every base name left is removed. 0 or -1. */
int volume_base_finish(struct volume_walk *w);

/* xattr.c */

/*
 * Reads the extended attributes and ACLs of the file at w->path into
 * `entry`, through `fd` when it is not -1, else by path without following
 * a symlink. What it sets in `entry` points into w and stays valid until
 * the next call. Problems are warnings: the file is still saved.
 */
void volume_xattr_read(struct volume_walk *w, int fd,
		       struct cairn_entry *entry);

/* check.c */

/* The check callback. */
int volume_check(void *state, const struct cairn_host *host,
		 struct cairn_report *report, struct cairn_error *err);

/* target.c */

/*
 * Checks the target of `options` (none: the live directories, which
 * takes --force), creates it unless dry-running, and opens it into *fd
 * (-1 when a dry run finds nothing to open). Returns 0, or -1 after
 * filling err.
 */
int volume_target_prepare(const struct cairn_restore_options *options,
			  const char *job, int *fd, struct cairn_error *err);

/*
 * Sets r->roots to the directories an in-place restore may write under,
 * without their leading '/': the archive's "paths" fact, or else the
 * job's paths. Returns 0, or -1 after filling r->err.
 */
int volume_target_roots(struct volume_restore *r);

/*
 * Refuses an entry whose name, or hard link target, is absolute, climbs
 * out with "..", or (restoring in place) lies outside r->roots. Returns
 * 0, or -1 after filling r->err: the restore must stop.
 */
int volume_target_vet(struct volume_restore *r, const struct cairn_entry *e);

/* restore.c */

/*
 * An entry that could not be restored: logged as an error, counted, the
 * first one kept for the final message, reported in a drill. The restore
 * goes on.
 */
void volume_failure(struct volume_restore *r, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/*
 * Restores every entry of r->source into r->options->target (or in
 * place), hashing and comparing regular files when r->md is set (drill).
 * Works from inside the target and returns to the working directory
 * before returning. Returns 0, or -1 after filling r->err; r->roots is
 * left for the caller to free.
 */
int volume_restore_run(struct volume_restore *r);

/* The restore callback. */
int volume_restore(void *state, const struct cairn_host *host,
		   struct cairn_source *source,
		   const struct cairn_restore_options *options,
		   struct cairn_error *err);

/* extract.c */

/*
 * Sets r->extract up to write entries beneath `target` (an open
 * directory, borrowed until volume_extract_end). Returns 1, 0 when the
 * kernel lacks openat2 or CAIRN_TEST_NO_OPENAT2=1 asks for
 * archive_write_disk, or -1 after filling r->err.
 */
int volume_extract_start(struct volume_restore *r, int target);

/*
 * Makes entry `e` (vetted by volume_target_vet) in the target; a regular
 * file is left open for volume_extract_data. Returns 0, 1 when the
 * entry could not be made (a failure, counted: skip it), or -1 after
 * filling r->err (stop).
 */
int volume_extract_header(struct volume_restore *r,
			  const struct cairn_entry *e);

/*
 * Writes a block of the open file at `offset`, zero blocks as holes. A
 * write that fails is a failure of the entry, whose file is removed by
 * volume_extract_finish; the rest of the data is ignored. Returns 0.
 */
int volume_extract_data(struct volume_restore *r, const struct cairn_entry *e,
			const void *data, size_t length, int64_t offset);

/*
 * Ends the entry made by volume_extract_header: a regular file gets its
 * size, owner, mode, attributes, ACL and times, and is closed. Returns
 * 1 when the file is whole, 0 when not (failures counted).
 */
int volume_extract_finish(struct volume_restore *r,
			  const struct cairn_entry *e);

/*
 * Closes and removes the file being written (its data stopped short).
 * Returns 1 when it is gone, 0 when it could not be removed.
 */
int volume_extract_discard(struct volume_restore *r);

/*
 * Opens the directory `name` of the target for its metadata: through
 * openat2 beneath the target with no symlink followed when r->extract
 * is set, else relative to the working directory without following a
 * final symlink. Returns the descriptor, or -1 with errno set.
 */
int volume_extract_open_dir(struct volume_restore *r, const char *name);

/* Frees r->extract and closes its directories; NULL is fine. */
void volume_extract_end(struct volume_restore *r);

/* dircache.c */

/*
 * openat2(2) of `path` relative to `dirfd` with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS (and O_CLOEXEC added to `flags`). Returns the
 * descriptor, or -1 with errno set (ENOSYS: the kernel has no openat2).
 */
int volume_openat2(int dirfd, const char *path, int flags);

/*
 * Sets n to `name` without its empty and "." components (names are
 * vetted: relative, no ".."). n's text is owned by n (free it), grown as
 * needed. Returns 0, or -1 when out of memory.
 */
int volume_name_set(struct volume_name *n, const char *name);

/* An empty cache of directories beneath `target` (borrowed). */
void volume_dirs_init(struct volume_dirs *c, int target);

/*
 * The descriptor of the directory named by the first `length` bytes of
 * `path` (normalised), the target itself when `length` is 0: from the
 * cache, or opened into it, what is missing on disk created. Borrowed
 * from the cache: valid until the next lookup but one. Returns -1 with
 * errno set when it cannot be opened (ELOOP: a symlink is in the way,
 * ENOTDIR: something else).
 */
int volume_dirs_get(struct volume_dirs *c, const char *path, size_t length);

/* The parent directory of n, as volume_dirs_get. */
int volume_dirs_parent(struct volume_dirs *c, const struct volume_name *n);

/* Forgets the directories at `name` (`length` bytes) and below. */
void volume_dirs_forget(struct volume_dirs *c, const char *name, size_t length);

/* Closes the cached directories. */
void volume_dirs_release(struct volume_dirs *c);

/* fixup.c */

/*
 * Remembers the metadata of directory entry `e`, which already exists on
 * disk (or was just made by extract.c), to apply after its content.
 * Returns 0, or -1 after filling r->err.
 */
int volume_fixup_add(struct volume_restore *r, const struct cairn_entry *e);

/*
 * Applies the remembered metadata, deepest directories first. What fails
 * is a failure (volume_failure) or a warning, never a stop.
 */
void volume_fixup_apply(struct volume_restore *r);

/* Frees the remembered metadata. */
void volume_fixup_release(struct volume_restore *r);

/* drill.c */

/*
 * Reads back the file just restored as e->name (relative to the working
 * directory) and compares its size and SHA-256 with `expected`; a
 * difference is a problem of r->report and counted in r->mismatches.
 */
void volume_drill_compare(struct volume_restore *r, const struct cairn_entry *e,
			  const unsigned char *expected);

/* The drill callback. */
int volume_drill(void *state, const struct cairn_host *host,
		 struct cairn_source *source,
		 const struct cairn_drill_options *options,
		 struct cairn_report *report, struct cairn_error *err);

#endif
