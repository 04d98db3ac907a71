/*
 * The volume plugin: backs up directory trees (Docker volumes, data
 * directories) with their full metadata and restores them.
 *
 * Backup walks each configured path with directory file descriptors
 * (openat/fstatat, names sorted in byte order so archives of an unchanged
 * tree list their entries in the same order), and writes one entry per
 * file, named by its absolute path without the leading '/', as tar does.
 * It keeps type, permissions, numeric owners and their names, nanosecond
 * modification and access times, symlink targets, hard links (the second
 * and later links name the first), sparse files (SEEK_DATA/SEEK_HOLE: only
 * the data regions are written), extended attributes of the user, trusted
 * and security namespaces, POSIX ACLs (decoded from the
 * system.posix_acl_* attributes into the POSIX.1e text form, with numeric
 * ids), fifos and device nodes. Sockets are skipped. A file that vanishes,
 * cannot be read or changes while it is read is a warning naming it,
 * never a silent success; a file that shrank is padded with zeros to the
 * size its entry declared.
 *
 * Restore turns each entry into a libarchive archive_entry and hands it
 * to archive_write_disk with the secure extraction flags, after refusing
 * by itself any name or hard link target that is absolute or has a ".."
 * component. It works from inside the target directory (fchdir, undone
 * before returning), so entry names stay relative and libarchive's own
 * checks apply to them as they stand. Owners are restored by numeric id,
 * which is what a container reading a volume sees.
 *
 * Drill restores into a private scratch directory, reads every restored
 * regular file back and compares its SHA-256 with the SHA-256 of what the
 * archive delivered (holes counted as zeros), then removes the directory.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
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
	char *xnames;          /* listxattr result */
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
	struct volume_map owners; /* (0, uid) or (1, gid) -> name */

	int64_t entries;
	int64_t files;
	int64_t bytes;
	int64_t problems;
};

/* The metadata of a directory to apply after its content is restored. */
struct volume_fixup {
	char *name;
	unsigned int mode;
	int64_t uid;
	int64_t gid;
	struct timespec times[2]; /* atime, mtime */
	struct cairn_xattr *xattrs; /* names and values owned */
	size_t xattr_count;
	char *acl[2]; /* access, default */
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

static const char *const volume_keys[] = {
	"paths",
	"exclude",
	"one-file-system",
	NULL,
};

/* ---- small helpers ------------------------------------------------- */

static void
volume_error(struct cairn_error *err, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static void
volume_error(struct cairn_error *err, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	/* A truncated message is still a message. */
	(void)vsnprintf(err->message, sizeof(err->message), format, ap);
	va_end(ap);
}

static void
volume_free_words(char **words, size_t count)
{
	size_t i;

	if (words == NULL)
		return;
	for (i = 0; i < count; i++)
		free(words[i]);
	free(words);
}

static int
volume_grow(void **block, size_t *capacity, size_t needed, size_t size)
{
	size_t wanted = *capacity > 0 ? *capacity : 16;
	void *grown;

	if (needed <= *capacity)
		return 0;
	while (wanted < needed) {
		if (wanted > SIZE_MAX / 2 / size)
			return -1;
		wanted *= 2;
	}
	grown = realloc(*block, wanted * size);
	if (grown == NULL)
		return -1;
	*block = grown;
	*capacity = wanted;
	return 0;
}

static int
volume_append_word(char ***words, size_t *count, const char *word,
		   size_t length)
{
	char **grown;
	char *copy;

	copy = strndup(word, length);
	if (copy == NULL)
		return -1;
	grown = realloc(*words, (*count + 1) * sizeof(**words));
	if (grown == NULL) {
		free(copy);
		return -1;
	}
	grown[(*count)++] = copy;
	*words = grown;
	return 0;
}

/*
 * Splits a value into words separated by white space. A double-quoted
 * part may hold white space; inside it, \" and \\ stand for " and \.
 */
static int
volume_split(const char *value, char ***words, size_t *count,
	     struct cairn_error *err)
{
	const char *p = value;
	char *word = NULL;
	size_t length, capacity = 0;
	int quoted, rc = -1;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		length = 0;
		quoted = 0;
		while (*p != '\0' &&
		       (quoted || (*p != ' ' && *p != '\t' && *p != '\n' &&
				   *p != '\r'))) {
			char c = *p++;

			if (c == '"') {
				quoted = !quoted;
				continue;
			}
			if (quoted && c == '\\' && (*p == '"' || *p == '\\'))
				c = *p++;
			if (volume_grow((void **)&word, &capacity, length + 2,
					1) == -1)
				goto nomem;
			word[length++] = c;
		}
		if (quoted) {
			volume_error(err, "unterminated quote in '%s'", value);
			goto out;
		}
		if (length == 0) {
			volume_error(err, "empty word in '%s'", value);
			goto out;
		}
		if (volume_append_word(words, count, word, length) == -1)
			goto nomem;
	}
	rc = 0;
	goto out;
nomem:
	volume_error(err, "out of memory");
out:
	free(word);
	return rc;
}

/* Appends `word` to `out`, quoted when volume_split would need it. */
static int
volume_quote(char **out, size_t *length, size_t *capacity, const char *word)
{
	int quote = strpbrk(word, " \t\r\n\"\\") != NULL;
	const char *p;

	if (volume_grow((void **)out, capacity,
			*length + 2 * strlen(word) + 5, 1) == -1)
		return -1;
	if (*length > 0)
		(*out)[(*length)++] = ' ';
	if (quote)
		(*out)[(*length)++] = '"';
	for (p = word; *p != '\0'; p++) {
		if (quote && (*p == '"' || *p == '\\'))
			(*out)[(*length)++] = '\\';
		(*out)[(*length)++] = *p;
	}
	if (quote)
		(*out)[(*length)++] = '"';
	(*out)[*length] = '\0';
	return 0;
}

/*
 * Normalises an absolute path in place: repeated and trailing slashes
 * and "." components go; ".." is refused.
 */
static int
volume_normalise(char *path, struct cairn_error *err)
{
	char *in = path, *out = path;

	if (path[0] != '/') {
		volume_error(err, "path '%s' is not absolute", path);
		return -1;
	}
	while (*in != '\0') {
		size_t length;

		while (*in == '/')
			in++;
		length = strcspn(in, "/");
		if (length == 0)
			break;
		if (length == 1 && in[0] == '.') {
			in += 1;
			continue;
		}
		if (length == 2 && in[0] == '.' && in[1] == '.') {
			volume_error(err,
				     "path '%s' must not contain '..' "
				     "components",
				     path);
			return -1;
		}
		*out++ = '/';
		memmove(out, in, length);
		out += length;
		in += length;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
	return 0;
}

/* Whether `path` (absolute, normalised) lies inside or at `root`. */
static int
volume_inside(const char *root, const char *path)
{
	size_t length = strlen(root);

	if (strcmp(root, "/") == 0)
		return 1;
	return strncmp(root, path, length) == 0 &&
	       (path[length] == '\0' || path[length] == '/');
}

/* ---- the map ------------------------------------------------------- */

static uint64_t
volume_hash(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ b;

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static struct volume_slot *
volume_map_find(const struct volume_map *map, uint64_t a, uint64_t b)
{
	size_t i;

	if (map->capacity == 0)
		return NULL;
	i = volume_hash(a, b) & (map->capacity - 1);
	while (map->slots[i].used) {
		if (map->slots[i].a == a && map->slots[i].b == b)
			return &map->slots[i];
		i = (i + 1) & (map->capacity - 1);
	}
	return NULL;
}

/* Takes ownership of `value` (which may be NULL) on success. */
static int
volume_map_put(struct volume_map *map, uint64_t a, uint64_t b, char *value)
{
	size_t i;

	if ((map->count + 1) * 2 > map->capacity) {
		struct volume_map bigger;
		size_t j;

		bigger.capacity = map->capacity > 0 ? map->capacity * 2 : 64;
		bigger.count = 0;
		bigger.slots = calloc(bigger.capacity, sizeof(*bigger.slots));
		if (bigger.slots == NULL)
			return -1;
		for (j = 0; j < map->capacity; j++) {
			struct volume_slot *s = &map->slots[j];

			if (!s->used)
				continue;
			i = volume_hash(s->a, s->b) & (bigger.capacity - 1);
			while (bigger.slots[i].used)
				i = (i + 1) & (bigger.capacity - 1);
			bigger.slots[i] = *s;
			bigger.count++;
		}
		free(map->slots);
		*map = bigger;
	}
	i = volume_hash(a, b) & (map->capacity - 1);
	while (map->slots[i].used)
		i = (i + 1) & (map->capacity - 1);
	map->slots[i].a = a;
	map->slots[i].b = b;
	map->slots[i].value = value;
	map->slots[i].used = 1;
	map->count++;
	return 0;
}

static void
volume_map_release(struct volume_map *map)
{
	size_t i;

	for (i = 0; i < map->capacity; i++)
		if (map->slots[i].used)
			free(map->slots[i].value);
	free(map->slots);
	memset(map, 0, sizeof(*map));
}

/* ---- configure ----------------------------------------------------- */

static void
volume_free(struct volume *vol)
{
	if (vol == NULL)
		return;
	free(vol->job);
	volume_free_words(vol->paths, vol->path_count);
	volume_free_words(vol->excludes, vol->exclude_count);
	free(vol);
}

static int
volume_boolean(const char *value, int *result)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*result = 1;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*result = 0;
			return 0;
		}
	}
	return -1;
}

static int
volume_configure_paths(struct volume *vol, const struct cairn_setting *s,
		       struct cairn_error *err)
{
	size_t first = vol->path_count, i, j;

	if (volume_split(s->value, &vol->paths, &vol->path_count, err) == -1)
		return -1;
	if (vol->path_count == first) {
		volume_error(err, "'paths' names no directory");
		return -1;
	}
	for (i = first; i < vol->path_count; i++) {
		char *path = vol->paths[i];

		if (volume_normalise(path, err) == -1)
			return -1;
		if (strncmp(path, "/.cairn", 7) == 0) {
			volume_error(err,
				     "path '%s' starts with '.cairn', a name "
				     "reserved for the archive's own entries",
				     path);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (volume_inside(vol->paths[j], path) ||
			    volume_inside(path, vol->paths[j])) {
				volume_error(err,
					     "paths '%s' and '%s' overlap",
					     vol->paths[j], path);
				return -1;
			}
		}
	}
	return 0;
}

static int
volume_configure(const struct cairn_host *host,
		 const struct cairn_job_config *config, void **state,
		 struct cairn_error *err)
{
	const struct cairn_setting *paths = NULL;
	struct volume *vol;
	size_t i;

	(void)host;
	*state = NULL;
	vol = calloc(1, sizeof(*vol));
	if (vol == NULL || (vol->job = strdup(config->job ? config->job
							  : "")) == NULL) {
		volume_error(err, "out of memory");
		goto fail;
	}
	vol->restore_only = config->restore_only;
	for (i = 0; i < config->count; i++) {
		const struct cairn_setting *s = &config->settings[i];

		err->setting = s;
		if (strcmp(s->key, "paths") == 0) {
			paths = s;
			if (volume_configure_paths(vol, s, err) == -1)
				goto fail;
		} else if (strcmp(s->key, "exclude") == 0) {
			if (volume_split(s->value, &vol->excludes,
					 &vol->exclude_count, err) == -1)
				goto fail;
		} else if (strcmp(s->key, "one-file-system") == 0) {
			if (volume_boolean(s->value, &vol->one_file_system) ==
			    -1) {
				volume_error(err,
					     "'one-file-system' must be yes or "
					     "no, not '%s'",
					     s->value);
				goto fail;
			}
		} else {
			volume_error(err, "unknown key '%s'", s->key);
			goto fail;
		}
	}
	err->setting = NULL;
	if (paths == NULL && !config->restore_only) {
		volume_error(err, "job '%s' has no 'paths' key", vol->job);
		goto fail;
	}
	*state = vol;
	return 0;
fail:
	volume_free(vol);
	return -1;
}

static void
volume_release(void *state)
{
	volume_free(state);
}

/* ---- walking ------------------------------------------------------- */

static void
volume_warn(struct volume_walk *w, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/*
 * A problem met while walking: a warning during backup, a problem of the
 * report during check (the first few of them).
 */
static void
volume_warn(struct volume_walk *w, const char *format, ...)
{
	char message[CAIRN_ERROR_MESSAGE_SIZE + PATH_MAX];
	va_list ap;

	va_start(ap, format);
	(void)vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);
	w->problems++;
	if (w->report == NULL)
		w->host->log(w->host, CAIRN_LOG_WARNING, "%s", message);
	else if (w->problems <= VOLUME_CHECK_PROBLEMS)
		w->host->report_problem(w->report, "%s", message);
}

static void
volume_progress(const struct cairn_host *host, const char *current,
		int64_t done, int64_t total)
{
	if (host->progress != NULL)
		host->progress(host, current, done, total);
}

/* Appends "/name" to the walk's path; volume_walk_pop undoes it. */
static int
volume_walk_push(struct volume_walk *w, const char *name)
{
	size_t length = strlen(name);
	int slash = !(w->path_length == 1 && w->path[0] == '/');

	if (volume_grow((void **)&w->path, &w->path_capacity,
			w->path_length + length + 2, 1) == -1) {
		volume_error(w->err, "out of memory");
		return -1;
	}
	if (slash)
		w->path[w->path_length++] = '/';
	memcpy(w->path + w->path_length, name, length + 1);
	w->path_length += length;
	return 0;
}

static void
volume_walk_pop(struct volume_walk *w, size_t length)
{
	w->path_length = length;
	w->path[length] = '\0';
}

/*
 * Exclusion: a pattern starting with '/' matches the absolute path; a
 * pattern holding a '/' elsewhere matches the path relative to the
 * configured root; a pattern without '/' matches the base name. '*' does
 * not match '/' in the first two forms.
 */
static int
volume_excluded(const struct volume_walk *w, const char *base)
{
	const char *relative;
	size_t i;

	relative = w->path + w->root_length;
	if (w->root_length > 1)
		relative++;
	for (i = 0; i < w->vol->exclude_count; i++) {
		const char *pattern = w->vol->excludes[i];

		if (pattern[0] == '/') {
			if (fnmatch(pattern, w->path, FNM_PATHNAME) == 0)
				return 1;
		} else if (strchr(pattern, '/') != NULL) {
			if (fnmatch(pattern, relative, FNM_PATHNAME) == 0)
				return 1;
		} else if (fnmatch(pattern, base, 0) == 0) {
			return 1;
		}
	}
	return 0;
}

/* The name of a uid (kind 0) or gid (kind 1), cached; NULL if none. */
static const char *
volume_owner(struct volume_walk *w, int kind, uint64_t id)
{
	struct volume_slot *slot = volume_map_find(&w->owners, kind, id);
	char buffer[16384];
	char *name = NULL;

	if (slot != NULL)
		return slot->value;
	if (kind == 0) {
		struct passwd pw, *found = NULL;

		if (getpwuid_r((uid_t)id, &pw, buffer, sizeof(buffer),
			       &found) == 0 &&
		    found != NULL)
			name = strdup(found->pw_name);
	} else {
		struct group gr, *found = NULL;

		if (getgrgid_r((gid_t)id, &gr, buffer, sizeof(buffer),
			       &found) == 0 &&
		    found != NULL)
			name = strdup(found->gr_name);
	}
	if (volume_map_put(&w->owners, kind, id, name) == -1) {
		free(name);
		return NULL;
	}
	return name;
}

/*
 * Decodes a system.posix_acl_* value (a little-endian version 2 header
 * and 8-byte entries: tag, permissions, id) into the POSIX.1e long text
 * form with numeric ids, one entry per line, as acl_to_text() writes it.
 */
static int
volume_acl_text(struct volume_walk *w, int which, const unsigned char *value,
		size_t size)
{
	size_t i, count, length = 0;
	char *text;

	if (size < 4 || (size - 4) % 8 != 0 ||
	    (value[0] | value[1] << 8 | value[2] << 16 |
	     (uint32_t)value[3] << 24) != 2)
		return -1;
	count = (size - 4) / 8;
	if (volume_grow((void **)&w->acl_text[which], &w->acl_capacity[which],
			count * 32 + 1, 1) == -1)
		return -1;
	text = w->acl_text[which];
	text[0] = '\0';
	for (i = 0; i < count; i++) {
		const unsigned char *e = value + 4 + i * 8;
		unsigned int tag = e[0] | e[1] << 8, perm = e[2] | e[3] << 8;
		uint32_t id = e[4] | e[5] << 8 | e[6] << 16 |
			      (uint32_t)e[7] << 24;
		char qualifier[16] = "";
		const char *kind;
		int n;

		switch (tag) {
		case 0x01:
			kind = "user";
			break;
		case 0x02:
			kind = "user";
			(void)snprintf(qualifier, sizeof(qualifier), "%" PRIu32,
				       id);
			break;
		case 0x04:
			kind = "group";
			break;
		case 0x08:
			kind = "group";
			(void)snprintf(qualifier, sizeof(qualifier), "%" PRIu32,
				       id);
			break;
		case 0x10:
			kind = "mask";
			break;
		case 0x20:
			kind = "other";
			break;
		default:
			return -1;
		}
		n = snprintf(text + length, w->acl_capacity[which] - length,
			     "%s:%s:%c%c%c\n", kind, qualifier,
			     perm & 4 ? 'r' : '-', perm & 2 ? 'w' : '-',
			     perm & 1 ? 'x' : '-');
		if (n < 0 || (size_t)n >= w->acl_capacity[which] - length)
			return -1;
		length += (size_t)n;
	}
	return 0;
}

/*
 * Reads one attribute value into w->xvalues at `used`, growing it as
 * needed. Returns its size, or -1 with errno set.
 */
static ssize_t
volume_get_xattr(struct volume_walk *w, int fd, const char *name, size_t used)
{
	ssize_t size;

	for (;;) {
		size_t room = w->xvalues_capacity - used;

		size = fd >= 0 ? fgetxattr(fd, name, w->xvalues + used, room)
			       : lgetxattr(w->path, name, w->xvalues + used,
					   room);
		if (size >= 0 || errno != ERANGE)
			return size;
		size = fd >= 0 ? fgetxattr(fd, name, NULL, 0)
			       : lgetxattr(w->path, name, NULL, 0);
		if (size < 0)
			return -1;
		if (volume_grow((void **)&w->xvalues, &w->xvalues_capacity,
				used + (size_t)size + 4096, 1) == -1) {
			errno = ENOMEM;
			return -1;
		}
	}
}

/*
 * Reads the extended attributes and ACLs of the current file into
 * `entry`, through `fd` when there is one, else by path without
 * following a symlink. Problems are warnings: the file is still saved.
 */
static void
volume_read_xattrs(struct volume_walk *w, int fd, struct cairn_entry *entry)
{
	ssize_t listed, size;
	size_t count = 0, used = 0, i;
	char *name;

	/* With no buffer at all, listxattr would only return a size. */
	if (volume_grow((void **)&w->xnames, &w->xnames_capacity, 4096, 1) ==
	    -1)
		goto nomem;
	for (;;) {
		listed = fd >= 0 ? flistxattr(fd, w->xnames, w->xnames_capacity)
				 : llistxattr(w->path, w->xnames,
					      w->xnames_capacity);
		if (listed >= 0 || errno != ERANGE)
			break;
		size = fd >= 0 ? flistxattr(fd, NULL, 0)
			       : llistxattr(w->path, NULL, 0);
		if (size < 0 || volume_grow((void **)&w->xnames,
					    &w->xnames_capacity,
					    (size_t)size + 1, 1) == -1)
			break;
	}
	if (listed <= 0) {
		if (listed < 0 && errno != ENOTSUP && errno != ENOENT)
			volume_warn(w,
				    "cannot list the extended attributes of "
				    "'%s': %s",
				    w->path, strerror(errno));
		return;
	}
	if (volume_grow((void **)&w->xvalues, &w->xvalues_capacity, 4096, 1) ==
	    -1)
		goto nomem;
	for (name = w->xnames; name < w->xnames + listed;
	     name += strlen(name) + 1) {
		int acl = -1;

		if (strcmp(name, VOLUME_ACL_ACCESS) == 0)
			acl = 0;
		else if (strcmp(name, VOLUME_ACL_DEFAULT) == 0)
			acl = 1;
		else if (strncmp(name, "system.", 7) == 0)
			continue;
		size = volume_get_xattr(w, fd, name, used);
		if (size < 0) {
			if (errno != ENODATA)
				volume_warn(w,
					    "cannot read extended attribute "
					    "'%s' of '%s': %s",
					    name, w->path, strerror(errno));
			continue;
		}
		if (acl >= 0) {
			if (volume_acl_text(w, acl, w->xvalues + used,
					    (size_t)size) == -1)
				volume_warn(w, "cannot decode the ACL of '%s'",
					    w->path);
			else if (acl == 0)
				entry->acl_access = w->acl_text[0];
			else
				entry->acl_default = w->acl_text[1];
			continue;
		}
		if (volume_grow((void **)&w->xattrs, &w->xattrs_capacity,
				count + 1, sizeof(*w->xattrs)) == -1 ||
		    volume_grow((void **)&w->xoffsets, &w->xoffsets_capacity,
				count + 1, sizeof(*w->xoffsets)) == -1)
			goto nomem;
		w->xattrs[count].name = name;
		w->xattrs[count].size = (size_t)size;
		w->xoffsets[count] = used;
		count++;
		used += (size_t)size;
		/* Room for the next value's first attempt. */
		if (volume_grow((void **)&w->xvalues, &w->xvalues_capacity,
				used + 4096, 1) == -1)
			goto nomem;
	}
	/* Values are placed only now: xvalues may have moved. */
	for (i = 0; i < count; i++)
		w->xattrs[i].value = w->xvalues + w->xoffsets[i];
	entry->xattrs = count > 0 ? w->xattrs : NULL;
	entry->xattr_count = count;
	return;
nomem:
	volume_warn(w, "out of memory reading the attributes of '%s'",
		    w->path);
}

/*
 * Lists the data regions of a file that may be sparse. Returns the
 * number of extents, or 0 when the file is best read whole.
 */
static size_t
volume_extents(struct volume_walk *w, int fd, int64_t size)
{
	size_t count = 0;
	off_t offset = 0;

	while (offset < size) {
		off_t data = lseek(fd, offset, SEEK_DATA), hole;

		if (data == -1) {
			if (errno == ENXIO)
				break;
			return 0;
		}
		if (data >= size)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole == -1)
			return 0;
		if (hole > size)
			hole = size;
		if (volume_grow((void **)&w->extents, &w->extents_capacity,
				count + 1, sizeof(*w->extents)) == -1)
			return 0;
		w->extents[count].offset = data;
		w->extents[count].length = hole - data;
		count++;
		offset = hole;
	}
	if (count == 1 && w->extents[0].offset == 0 &&
	    w->extents[0].length == size)
		return 0;
	if (count == 0) {
		/* All hole: one zero byte at the end keeps the size. */
		if (volume_grow((void **)&w->extents, &w->extents_capacity, 1,
				sizeof(*w->extents)) == -1)
			return 0;
		w->extents[0].offset = size - 1;
		w->extents[0].length = 1;
		count = 1;
	}
	return count;
}

static int
volume_open_read(int dirfd, const char *name, int flags)
{
	int fd;

	fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd == -1 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

static int
volume_write_zeros(struct volume_walk *w, struct cairn_stream *stream,
		   int64_t count)
{
	memset(w->buffer, 0, VOLUME_BUFFER_SIZE);
	while (count > 0) {
		size_t chunk = count > VOLUME_BUFFER_SIZE ? VOLUME_BUFFER_SIZE
							  : (size_t)count;

		if (w->host->stream_write(stream, w->buffer, chunk, w->err) ==
		    -1)
			return -1;
		count -= (int64_t)chunk;
	}
	return 0;
}

/*
 * Writes the content of an open regular file: the extents listed, or
 * the whole file. Sets *shrank when the file ended early (the rest is
 * zeros) and *failed on a read error (likewise).
 */
static int
volume_copy(struct volume_walk *w, struct cairn_stream *stream, int fd,
	    const struct cairn_entry *entry, int *shrank, int *failed)
{
	struct cairn_extent whole = {0, entry->size};
	const struct cairn_extent *extents = entry->extents;
	size_t count = entry->extent_count, i;
	int64_t missing = 0;

	if (count == 0) {
		extents = &whole;
		count = 1;
	}
	for (i = 0; i < count; i++) {
		int64_t done = 0;

		if (*shrank || *failed) {
			missing += extents[i].length;
			continue;
		}
		while (done < extents[i].length) {
			int64_t left = extents[i].length - done;
			size_t want = left > VOLUME_BUFFER_SIZE
					      ? VOLUME_BUFFER_SIZE
					      : (size_t)left;
			ssize_t n = pread(fd, w->buffer, want,
					  extents[i].offset + done);

			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == -1) {
					*failed = errno;
				} else {
					*shrank = 1;
				}
				missing += left;
				break;
			}
			if (w->host->stream_write(stream, w->buffer, (size_t)n,
						  w->err) == -1)
				return -1;
			done += n;
			w->bytes += n;
			volume_progress(w->host, entry->name, w->bytes, -1);
		}
	}
	return missing > 0 ? volume_write_zeros(w, stream, missing) : 0;
}

static int
volume_same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Writes one entry without content. */
static int
volume_put(struct volume_walk *w, const struct cairn_entry *entry)
{
	struct cairn_stream *stream;

	if (w->host->stream_open(w->sink, entry, &stream, w->err) == -1)
		return -1;
	w->entries++;
	return w->host->stream_close(stream, w->err);
}

/*
 * Backs up a regular file of non-zero size: open, list its extents,
 * copy, and compare what fstat says after with before. Returns 0 when
 * the file was written or skipped with a warning.
 */
static int
volume_put_file(struct volume_walk *w, int dirfd, const char *base,
		struct cairn_entry *entry, struct stat *st, int *written)
{
	struct cairn_stream *stream = NULL;
	struct stat after;
	int fd, shrank = 0, failed = 0, rc = -1;

	*written = 0;
	fd = volume_open_read(dirfd, base,
			      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			volume_warn(w, "file '%s' vanished before it was read",
				    w->path);
		else
			volume_warn(w, "cannot open '%s': %s; skipped",
				    w->path, strerror(errno));
		return 0;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		volume_warn(w, "file '%s' was replaced while it was read; "
			       "skipped",
			    w->path);
		rc = 0;
		goto out;
	}
	entry->size = st->st_size;
	entry->mode = st->st_mode & 07777;
	entry->mtime = st->st_mtim;
	entry->atime = st->st_atim;
	volume_read_xattrs(w, fd, entry);
	if (st->st_size > 0 && (int64_t)st->st_blocks * 512 < st->st_size) {
		entry->extent_count = volume_extents(w, fd, st->st_size);
		entry->extents = entry->extent_count > 0 ? w->extents : NULL;
	}
	if (st->st_size > VOLUME_BUFFER_SIZE)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	volume_progress(w->host, entry->name, w->bytes, -1);
	if (w->host->stream_open(w->sink, entry, &stream, w->err) == -1)
		goto out;
	if (volume_copy(w, stream, fd, entry, &shrank, &failed) == -1)
		goto out;
	rc = w->host->stream_close(stream, w->err);
	stream = NULL;
	if (rc == -1)
		goto out;
	w->entries++;
	w->files++;
	*written = 1;
	if (failed)
		volume_warn(w,
			    "cannot read '%s': %s; the rest of it is "
			    "archived as zeros",
			    w->path, strerror(failed));
	else if (shrank)
		volume_warn(w,
			    "file '%s' shrank while it was read; padded "
			    "with zeros to %" PRId64 " bytes",
			    w->path, entry->size);
	else if (fstat(fd, &after) == 0 &&
		 (after.st_size != st->st_size ||
		  !volume_same_time(&after.st_mtim, &st->st_mtim) ||
		  after.st_ino != st->st_ino))
		volume_warn(w, "file '%s' changed while it was read",
			    w->path);
out:
	/* An open stream is discarded by the core with the archive. */
	(void)stream;
	close(fd);
	return rc;
}

/*
 * Writes the entry of the file at w->path (base name `base` in
 * `dirfd`). `fd` is an open descriptor of it when it is a directory.
 */
static int
volume_visit(struct volume_walk *w, int dirfd, const char *base,
	     struct stat *st, int fd)
{
	struct cairn_entry entry;
	struct volume_slot *first = NULL;
	char *target = NULL;
	int written = 1, rc = -1;

	if (w->sink == NULL) {
		/* check: count only */
		w->entries++;
		if (S_ISREG(st->st_mode)) {
			w->files++;
			w->bytes += st->st_size;
		}
		return 0;
	}
	memset(&entry, 0, sizeof(entry));
	entry.name = w->path + 1;
	if (entry.name[0] == '\0')
		return 0; /* "/" itself has no name */
	if (strncmp(entry.name, ".cairn", 6) == 0) {
		volume_warn(w, "'%s' has a name reserved by cairn; skipped",
			    w->path);
		return 0;
	}
	entry.mode = st->st_mode & 07777;
	entry.uid = st->st_uid;
	entry.gid = st->st_gid;
	entry.uname = volume_owner(w, 0, st->st_uid);
	entry.gname = volume_owner(w, 1, st->st_gid);
	entry.mtime = st->st_mtim;
	entry.atime = st->st_atim;

	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		first = volume_map_find(&w->links, st->st_dev, st->st_ino);
		if (first != NULL) {
			entry.type = CAIRN_ENTRY_HARDLINK;
			entry.link = first->value;
			return volume_put(w, &entry);
		}
	}

	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		entry.type = CAIRN_ENTRY_FILE;
		if (st->st_size > 0) {
			rc = volume_put_file(w, dirfd, base, &entry, st,
					     &written);
			if (rc == -1 || !written)
				goto out;
			break;
		}
		volume_read_xattrs(w, -1, &entry);
		w->files++;
		rc = volume_put(w, &entry);
		break;
	case S_IFDIR:
		entry.type = CAIRN_ENTRY_DIRECTORY;
		volume_read_xattrs(w, fd, &entry);
		rc = volume_put(w, &entry);
		break;
	case S_IFLNK: {
		size_t size = st->st_size > 0 ? (size_t)st->st_size + 1
					      : PATH_MAX;
		ssize_t n;

		target = malloc(size);
		if (target == NULL) {
			volume_error(w->err, "out of memory");
			goto out;
		}
		n = readlinkat(dirfd, base, target, size);
		if (n < 0 || (size_t)n >= size) {
			volume_warn(w, "cannot read symlink '%s': %s; skipped",
				    w->path,
				    n < 0 ? strerror(errno) : "it changed");
			rc = 0;
			written = 0;
			goto out;
		}
		target[n] = '\0';
		entry.type = CAIRN_ENTRY_SYMLINK;
		entry.link = target;
		volume_read_xattrs(w, -1, &entry);
		rc = volume_put(w, &entry);
		break;
	}
	case S_IFIFO:
		entry.type = CAIRN_ENTRY_FIFO;
		volume_read_xattrs(w, -1, &entry);
		rc = volume_put(w, &entry);
		break;
	case S_IFCHR:
	case S_IFBLK:
		entry.type = S_ISCHR(st->st_mode) ? CAIRN_ENTRY_CHARDEV
						  : CAIRN_ENTRY_BLOCKDEV;
		entry.rdev_major = major(st->st_rdev);
		entry.rdev_minor = minor(st->st_rdev);
		volume_read_xattrs(w, -1, &entry);
		rc = volume_put(w, &entry);
		break;
	default:
		w->host->log(w->host, CAIRN_LOG_DEBUG,
			     "'%s' is a socket or of an unknown type; skipped",
			     w->path);
		rc = 0;
		written = 0;
		break;
	}
	if (rc == 0 && written && !S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		char *name = strdup(entry.name);

		if (name == NULL ||
		    volume_map_put(&w->links, st->st_dev, st->st_ino, name) ==
			    -1) {
			free(name);
			volume_error(w->err, "out of memory");
			rc = -1;
		}
	}
out:
	free(target);
	return rc;
}

static int volume_walk_dir(struct volume_walk *w, int fd);

static int
volume_open_dir(int dirfd, const char *name)
{
	return volume_open_read(dirfd, name,
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
}

/* One name found in a directory: stat it, write it, descend into it. */
static int
volume_walk_child(struct volume_walk *w, int dirfd, const char *name)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			volume_warn(w, "'%s' vanished while it was read",
				    w->path);
		else
			volume_warn(w, "cannot stat '%s': %s; skipped",
				    w->path, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return volume_visit(w, dirfd, name, &st, -1);
	fd = volume_open_dir(dirfd, name);
	if (fd == -1) {
		if (errno == ENOENT) {
			volume_warn(w, "'%s' vanished while it was read",
				    w->path);
			return 0;
		}
		volume_warn(w, "cannot read directory '%s': %s; its content "
			       "is skipped",
			    w->path, strerror(errno));
		return volume_visit(w, dirfd, name, &st, -1);
	}
	if (fstat(fd, &st) == -1 || volume_visit(w, dirfd, name, &st, fd) ==
					    -1) {
		if (w->err->message[0] == '\0')
			volume_error(w->err, "cannot stat '%s': %s", w->path,
				     strerror(errno));
		close(fd);
		return -1;
	}
	rc = 0;
	if (w->vol->one_file_system && st.st_dev != w->root_dev)
		w->host->log(w->host, CAIRN_LOG_INFO,
			     "'%s' is another file system; not descending",
			     w->path);
	else
		rc = volume_walk_dir(w, fd);
	close(fd);
	return rc;
}

static int
volume_compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Reads every name of the directory open as `fd` into one block, sorts
 * them, and walks each. The descriptor stays open for openat.
 */
static int
volume_walk_dir(struct volume_walk *w, int fd)
{
	char *block = NULL, **names = NULL;
	size_t used = 0, capacity = 0, count = 0, names_capacity = 0, i;
	size_t length = w->path_length;
	int rc = -1;

	for (;;) {
		ssize_t n, pos;

		if (volume_grow((void **)&block, &capacity, used + 65536, 1) ==
		    -1)
			goto nomem;
		n = getdents64(fd, block + used, capacity - used);
		if (n == -1) {
			volume_warn(w,
				    "cannot read directory '%s': %s; its "
				    "content is skipped",
				    w->path, strerror(errno));
			rc = 0;
			goto out;
		}
		if (n == 0)
			break;
		for (pos = 0; pos < n;) {
			struct dirent64 *d =
				(struct dirent64 *)(void *)(block + used + pos);

			pos += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			if (volume_grow((void **)&names, &names_capacity,
					count + 1, sizeof(*names)) == -1)
				goto nomem;
			/* An offset for now: the block may move. */
			names[count++] = (char *)(uintptr_t)(used + pos -
							     d->d_reclen +
							     offsetof(struct dirent64,
								      d_name));
		}
		used += (size_t)n;
	}
	for (i = 0; i < count; i++)
		names[i] = block + (uintptr_t)names[i];
	if (count > 1)
		qsort(names, count, sizeof(*names), volume_compare_names);
	for (i = 0; i < count; i++) {
		if (volume_walk_push(w, names[i]) == -1)
			goto out;
		if (!volume_excluded(w, names[i]) &&
		    volume_walk_child(w, fd, names[i]) == -1) {
			volume_walk_pop(w, length);
			goto out;
		}
		volume_walk_pop(w, length);
	}
	rc = 0;
	goto out;
nomem:
	volume_error(w->err, "out of memory reading directory '%s'",
		     w->path);
out:
	free(names);
	free(block);
	return rc;
}

/* Walks one configured path; a missing or unreadable root fails. */
static int
volume_walk_root(struct volume_walk *w, const char *root)
{
	struct stat st;
	int fd, rc = -1;

	w->root = root;
	w->root_length = strlen(root);
	if (volume_grow((void **)&w->path, &w->path_capacity,
			w->root_length + 1, 1) == -1) {
		volume_error(w->err, "out of memory");
		return -1;
	}
	memcpy(w->path, root, w->root_length + 1);
	w->path_length = w->root_length;
	fd = volume_open_read(AT_FDCWD, root,
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		volume_error(w->err, "cannot open directory '%s': %s", root,
			     strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		volume_error(w->err, "cannot stat '%s': %s", root,
			     strerror(errno));
		goto out;
	}
	w->root_dev = st.st_dev;
	if (volume_visit(w, AT_FDCWD, root, &st, fd) == -1)
		goto out;
	rc = volume_walk_dir(w, fd);
out:
	close(fd);
	return rc;
}

static void
volume_walk_release(struct volume_walk *w)
{
	free(w->path);
	free(w->buffer);
	free(w->xnames);
	free(w->xvalues);
	free(w->xattrs);
	free(w->xoffsets);
	free(w->acl_text[0]);
	free(w->acl_text[1]);
	free(w->extents);
	volume_map_release(&w->links);
	volume_map_release(&w->owners);
}

/* ---- backup -------------------------------------------------------- */

static void
volume_fact_number(const struct cairn_host *host, struct cairn_sink *sink,
		   const char *key, int64_t value)
{
	char text[32];

	(void)snprintf(text, sizeof(text), "%" PRId64, value);
	host->fact_set(sink, key, text);
}

static int
volume_backup(void *state, const struct cairn_host *host,
	      struct cairn_sink *sink, struct cairn_error *err)
{
	const struct volume *vol = state;
	struct volume_walk w;
	char *paths = NULL;
	size_t length = 0, capacity = 0, i;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.vol = vol;
	w.host = host;
	w.sink = sink;
	w.err = err;
	err->message[0] = '\0';
	if (vol->path_count == 0) {
		volume_error(err, "job '%s' has no paths to back up",
			     vol->job);
		return -1;
	}
	w.buffer = malloc(VOLUME_BUFFER_SIZE);
	if (w.buffer == NULL) {
		volume_error(err, "out of memory");
		goto out;
	}
	for (i = 0; i < vol->path_count; i++) {
		if (volume_walk_root(&w, vol->paths[i]) == -1)
			goto out;
		if (volume_quote(&paths, &length, &capacity, vol->paths[i]) ==
		    -1) {
			volume_error(err, "out of memory");
			goto out;
		}
	}
	host->fact_set(sink, "paths", paths);
	volume_fact_number(host, sink, "entries", w.entries);
	volume_fact_number(host, sink, "files", w.files);
	volume_fact_number(host, sink, "bytes", w.bytes);
	rc = 0;
out:
	free(paths);
	volume_walk_release(&w);
	return rc;
}

/* ---- check --------------------------------------------------------- */

static void
volume_human(char *text, size_t size, double bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB",
					    "PiB"};
	size_t unit = 0;

	while (bytes >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1024;
		unit++;
	}
	(void)snprintf(text, size, unit == 0 ? "%.0f %s" : "%.1f %s", bytes,
		       units[unit]);
}

static int
volume_check(void *state, const struct cairn_host *host,
	     struct cairn_report *report, struct cairn_error *err)
{
	const struct volume *vol = state;
	struct volume_walk w;
	char value[256], size[32], free_text[32];
	int64_t files = 0, bytes = 0;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.vol = vol;
	w.host = host;
	w.report = report;
	w.err = err;
	for (i = 0; i < vol->path_count; i++) {
		const char *path = vol->paths[i];
		struct statvfs fs;
		struct stat st;

		if (stat(path, &st) == -1) {
			host->report_problem(report, "path '%s': %s", path,
					     strerror(errno));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			host->report_problem(report,
					     "path '%s' is not a directory",
					     path);
			continue;
		}
		if (access(path, R_OK | X_OK) == -1) {
			host->report_problem(report,
					     "path '%s' is not readable: %s",
					     path, strerror(errno));
			continue;
		}
		w.entries = w.files = w.bytes = 0;
		err->message[0] = '\0';
		if (volume_walk_root(&w, path) == -1) {
			host->report_problem(report, "path '%s': %s", path,
					     err->message);
			continue;
		}
		volume_human(size, sizeof(size), (double)w.bytes);
		if (statvfs(path, &fs) == 0)
			volume_human(free_text, sizeof(free_text),
				     (double)fs.f_bavail * fs.f_frsize);
		else
			(void)snprintf(free_text, sizeof(free_text), "unknown");
		(void)snprintf(value, sizeof(value),
			       "%" PRId64 " files, %" PRId64
			       " bytes (%s), %s free",
			       w.files, w.bytes, size, free_text);
		host->report_item(report, path, value);
		files += w.files;
		bytes += w.bytes;
	}
	if (w.problems > VOLUME_CHECK_PROBLEMS)
		host->report_problem(report,
				     "%" PRId64 " more unreadable files",
				     w.problems - VOLUME_CHECK_PROBLEMS);
	(void)snprintf(value, sizeof(value), "%" PRId64, files);
	host->report_item(report, "files", value);
	(void)snprintf(value, sizeof(value), "%" PRId64, bytes);
	host->report_item(report, "bytes", value);
	volume_walk_release(&w);
	err->message[0] = '\0';
	return 0;
}

/* ---- restore ------------------------------------------------------- */

/* Whether a name is relative and free of ".." components. */
static int
volume_name_safe(const char *name)
{
	const char *p = name;

	if (name == NULL || name[0] == '\0' || name[0] == '/')
		return 0;
	while (*p != '\0') {
		size_t length = strcspn(p, "/");

		if (length == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += length;
		while (*p == '/')
			p++;
	}
	return 1;
}

/* Whether `name` is under one of the archived roots (restoring in place). */
static int
volume_under_roots(const struct volume_restore *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->root_count; i++) {
		size_t length = strlen(r->roots[i]);

		if (length == 0 || (strncmp(r->roots[i], name, length) == 0 &&
				    (name[length] == '\0' ||
				     name[length] == '/')))
			return 1;
	}
	return 0;
}

/*
 * --only: a glob matches the entry's name or the name of one of its
 * parent directories, so a directory brings everything below it. A
 * leading '/' and trailing '/' of the glob are ignored; '*' matches '/'.
 */
static int
volume_selected(const struct cairn_restore_options *options,
		const char *name)
{
	char prefix[PATH_MAX];
	size_t i;

	if (options->only_count == 0)
		return 1;
	for (i = 0; i < options->only_count; i++) {
		const char *glob = options->only[i];
		char trimmed[PATH_MAX];
		size_t length, cut;
		int n;

		while (*glob == '/')
			glob++;
		n = snprintf(trimmed, sizeof(trimmed), "%s", glob);
		if (n < 0 || (size_t)n >= sizeof(trimmed))
			continue;
		length = (size_t)n;
		while (length > 1 && trimmed[length - 1] == '/')
			trimmed[--length] = '\0';
		if (fnmatch(trimmed, name, 0) == 0)
			return 1;
		for (cut = 0; name[cut] != '\0'; cut++) {
			if (name[cut] != '/' || cut >= sizeof(prefix))
				continue;
			memcpy(prefix, name, cut);
			prefix[cut] = '\0';
			if (fnmatch(trimmed, prefix, 0) == 0)
				return 1;
		}
	}
	return 0;
}

static const char *
volume_type_name(enum cairn_entry_type type)
{
	switch (type) {
	case CAIRN_ENTRY_FILE:
		return "file";
	case CAIRN_ENTRY_DIRECTORY:
		return "directory";
	case CAIRN_ENTRY_SYMLINK:
		return "symlink";
	case CAIRN_ENTRY_HARDLINK:
		return "hard link";
	case CAIRN_ENTRY_FIFO:
		return "fifo";
	case CAIRN_ENTRY_CHARDEV:
		return "character device";
	case CAIRN_ENTRY_BLOCKDEV:
		return "block device";
	}
	return "entry";
}

/* Owners by number: a name is looked up only when no number came. */
static la_int64_t
volume_lookup_uid(void *data, const char *name, la_int64_t id)
{
	struct passwd pw, *found = NULL;
	char buffer[16384];

	(void)data;
	if (id >= 0 || name == NULL)
		return id;
	if (getpwnam_r(name, &pw, buffer, sizeof(buffer), &found) == 0 &&
	    found != NULL)
		return found->pw_uid;
	return id;
}

static la_int64_t
volume_lookup_gid(void *data, const char *name, la_int64_t id)
{
	struct group gr, *found = NULL;
	char buffer[16384];

	(void)data;
	if (id >= 0 || name == NULL)
		return id;
	if (getgrnam_r(name, &gr, buffer, sizeof(buffer), &found) == 0 &&
	    found != NULL)
		return found->gr_gid;
	return id;
}

/* Fills r->entry from a cairn entry. */
static int
volume_to_archive(struct volume_restore *r, const struct cairn_entry *e)
{
	struct archive_entry *ae = r->entry;
	unsigned int type = AE_IFREG;
	size_t i;

	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, e->name);
	switch (e->type) {
	case CAIRN_ENTRY_FILE:
	case CAIRN_ENTRY_HARDLINK:
		type = AE_IFREG;
		break;
	case CAIRN_ENTRY_DIRECTORY:
		type = AE_IFDIR;
		break;
	case CAIRN_ENTRY_SYMLINK:
		type = AE_IFLNK;
		break;
	case CAIRN_ENTRY_FIFO:
		type = AE_IFIFO;
		break;
	case CAIRN_ENTRY_CHARDEV:
		type = AE_IFCHR;
		break;
	case CAIRN_ENTRY_BLOCKDEV:
		type = AE_IFBLK;
		break;
	}
	archive_entry_set_filetype(ae, type);
	/*
	 * The permissions go in before the ACL: libarchive takes the
	 * owner, owning group and other entries of an access ACL as the
	 * mode bits, and the mask then comes back through the ACL.
	 */
	archive_entry_set_perm(ae, e->mode & 07777);
	archive_entry_set_uid(ae, e->uid);
	archive_entry_set_gid(ae, e->gid);
	if (e->uname != NULL)
		archive_entry_set_uname(ae, e->uname);
	if (e->gname != NULL)
		archive_entry_set_gname(ae, e->gname);
	if (e->mtime.tv_sec != 0 || e->mtime.tv_nsec != 0)
		archive_entry_set_mtime(ae, e->mtime.tv_sec, e->mtime.tv_nsec);
	if (e->atime.tv_sec != 0 || e->atime.tv_nsec != 0)
		archive_entry_set_atime(ae, e->atime.tv_sec, e->atime.tv_nsec);
	if (e->type != CAIRN_ENTRY_FILE)
		archive_entry_set_size(ae, 0);
	else if (e->size >= 0)
		archive_entry_set_size(ae, e->size);
	else
		archive_entry_unset_size(ae);
	if (e->type == CAIRN_ENTRY_SYMLINK)
		archive_entry_set_symlink(ae, e->link != NULL ? e->link : "");
	if (e->type == CAIRN_ENTRY_HARDLINK)
		archive_entry_set_hardlink(ae, e->link);
	if (e->type == CAIRN_ENTRY_CHARDEV || e->type == CAIRN_ENTRY_BLOCKDEV) {
		archive_entry_set_rdevmajor(ae, e->rdev_major);
		archive_entry_set_rdevminor(ae, e->rdev_minor);
	}
	for (i = 0; i < e->xattr_count; i++)
		archive_entry_xattr_add_entry(ae, e->xattrs[i].name,
					      e->xattrs[i].value,
					      e->xattrs[i].size);
	if (e->acl_access != NULL && e->acl_access[0] != '\0' &&
	    archive_entry_acl_from_text(ae, e->acl_access,
					ARCHIVE_ENTRY_ACL_TYPE_ACCESS) !=
		    ARCHIVE_OK)
		r->host->log(r->host, CAIRN_LOG_WARNING,
			     "cannot parse the access ACL of '%s'", e->name);
	if (e->acl_default != NULL && e->acl_default[0] != '\0' &&
	    archive_entry_acl_from_text(ae, e->acl_default,
					ARCHIVE_ENTRY_ACL_TYPE_DEFAULT) !=
		    ARCHIVE_OK)
		r->host->log(r->host, CAIRN_LOG_WARNING,
			     "cannot parse the default ACL of '%s'", e->name);
	return 0;
}

static void
volume_failure(struct volume_restore *r, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* An entry that could not be restored: logged, counted, restore goes on. */
static void
volume_failure(struct volume_restore *r, const char *format, ...)
{
	char message[CAIRN_ERROR_MESSAGE_SIZE];
	va_list ap;

	va_start(ap, format);
	(void)vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);
	r->host->log(r->host, CAIRN_LOG_ERROR, "%s", message);
	if (r->failed++ == 0)
		(void)snprintf(r->first_failure, sizeof(r->first_failure),
			       "%s", message);
	if (r->report != NULL)
		r->host->report_problem(r->report, "%s", message);
}

static int
volume_hash_zeros(struct volume_restore *r, int64_t count)
{
	while (count > 0) {
		size_t chunk = count > VOLUME_BUFFER_SIZE ? VOLUME_BUFFER_SIZE
							  : (size_t)count;

		if (EVP_DigestUpdate(r->md, r->zeros, chunk) != 1)
			return -1;
		count -= (int64_t)chunk;
	}
	return 0;
}

/*
 * Drill: reads back the file just restored and compares its size and
 * SHA-256 with `expected`.
 */
static void
volume_read_back(struct volume_restore *r, const struct cairn_entry *e,
		 const unsigned char *expected)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_length = 0;
	int64_t size = 0;
	int fd;

	fd = open(e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		r->mismatches++;
		r->host->report_problem(r->report,
					"cannot read back '%s': %s", e->name,
					strerror(errno));
		return;
	}
	if (EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		goto fail;
	for (;;) {
		ssize_t n = read(fd, r->buffer, VOLUME_BUFFER_SIZE);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r->mismatches++;
			r->host->report_problem(r->report,
						"cannot read back '%s': %s",
						e->name, strerror(errno));
			close(fd);
			return;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(r->md, r->buffer, (size_t)n) != 1)
			goto fail;
		size += n;
	}
	close(fd);
	fd = -1;
	if (EVP_DigestFinal_ex(r->md, digest, &digest_length) != 1)
		goto fail;
	if (size != e->size) {
		r->mismatches++;
		r->host->report_problem(r->report,
					"'%s' restored with %" PRId64
					" bytes, %" PRId64 " in the archive",
					e->name, size, e->size);
	} else if (memcmp(digest, expected, digest_length) != 0) {
		r->mismatches++;
		r->host->report_problem(r->report,
					"'%s' restored differs from the "
					"archive (SHA-256)",
					e->name);
	}
	return;
fail:
	if (fd != -1)
		close(fd);
	r->mismatches++;
	r->host->report_problem(r->report, "cannot hash '%s'", e->name);
}

/*
 * Copies the current entry's blocks to disk at their offsets; in a
 * drill, hashes them with the holes between them as zeros. *ok becomes
 * 0 when the entry could not be written or hashed whole.
 */
static int
volume_restore_data(struct volume_restore *r, const struct cairn_entry *e,
		    unsigned char *digest, int *ok)
{
	int hashing = r->md != NULL, rc;
	int64_t position = 0, offset;
	unsigned int digest_length;
	const void *data;
	size_t length;

	*ok = 1;
	if (hashing && EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		goto digest;
	while ((rc = r->host->entry_read(r->source, &data, &length, &offset,
					 r->err)) == 1) {
		la_ssize_t written;

		if (hashing && offset < position) {
			volume_failure(r, "entry '%s': blocks out of order",
				       e->name);
			hashing = 0;
			*ok = 0;
		}
		if (hashing) {
			if (volume_hash_zeros(r, offset - position) == -1 ||
			    EVP_DigestUpdate(r->md, data, length) != 1)
				goto digest;
			position = offset + (int64_t)length;
		}
		r->done += (int64_t)length;
		volume_progress(r->host, e->name, r->done, r->total);
		if (!*ok)
			continue; /* drain the entry */
		written = archive_write_data_block(r->disk, data, length,
						   offset);
		if (written == ARCHIVE_FATAL) {
			volume_error(r->err, "cannot write '%s': %s", e->name,
				     archive_error_string(r->disk));
			return -1;
		}
		if (written == ARCHIVE_WARN) {
			r->host->log(r->host, CAIRN_LOG_WARNING, "'%s': %s",
				     e->name, archive_error_string(r->disk));
		} else if (written < ARCHIVE_OK) {
			volume_failure(r, "cannot write '%s': %s", e->name,
				       archive_error_string(r->disk));
			*ok = 0;
		}
	}
	if (rc == -1)
		return -1;
	if (hashing) {
		if (e->size > position &&
		    volume_hash_zeros(r, e->size - position) == -1)
			goto digest;
		if (EVP_DigestFinal_ex(r->md, digest, &digest_length) != 1)
			goto digest;
		r->bytes += e->size;
	} else if (r->md != NULL) {
		*ok = 0;
	}
	return 0;
digest:
	volume_error(r->err, "cannot compute SHA-256 of '%s'", e->name);
	return -1;
}

/*
 * Encodes a POSIX.1e text ACL (entries separated by newlines or commas,
 * "tag:qualifier:permissions", qualifiers numeric or names) into a
 * system.posix_acl_* value. Returns its size, or -1.
 */
static ssize_t
volume_acl_encode(const char *text, unsigned char *out, size_t size)
{
	size_t count = 0, i, j;
	const char *p = text;

	if (size < 4)
		return -1;
	out[0] = 2;
	out[1] = out[2] = out[3] = 0;
	while (*p != '\0') {
		char field[3][256];
		size_t length = strcspn(p, ",\n"), k = 0, f = 0;
		unsigned int tag, perm = 0;
		uint32_t id = 0xffffffff;
		unsigned char *e;
		const char *c;

		memset(field, 0, sizeof(field));
		for (c = p; c < p + length && *c != '#'; c++) {
			if (*c == ':') {
				if (++f >= 3)
					break;
				k = 0;
			} else if (k + 1 < sizeof(field[0]) && *c != ' ' &&
				   *c != '\t') {
				field[f][k++] = *c;
			}
		}
		p += length;
		if (*p != '\0')
			p++;
		if (field[0][0] == '\0')
			continue;
		if (f < 2)
			return -1;
		if (strcmp(field[0], "user") == 0 || strcmp(field[0], "u") == 0)
			tag = field[1][0] != '\0' ? 0x02 : 0x01;
		else if (strcmp(field[0], "group") == 0 ||
			 strcmp(field[0], "g") == 0)
			tag = field[1][0] != '\0' ? 0x08 : 0x04;
		else if (strcmp(field[0], "mask") == 0 ||
			 strcmp(field[0], "m") == 0)
			tag = 0x10;
		else if (strcmp(field[0], "other") == 0 ||
			 strcmp(field[0], "o") == 0)
			tag = 0x20;
		else
			return -1;
		if (tag == 0x02 || tag == 0x08) {
			char *end;
			unsigned long n = strtoul(field[1], &end, 10);

			if (*end == '\0') {
				id = (uint32_t)n;
			} else {
				la_int64_t found =
					tag == 0x02
						? volume_lookup_uid(NULL,
								    field[1],
								    -1)
						: volume_lookup_gid(NULL,
								    field[1],
								    -1);

				if (found < 0)
					return -1;
				id = (uint32_t)found;
			}
		}
		for (c = field[2]; *c != '\0'; c++)
			perm |= *c == 'r' ? 4 : *c == 'w' ? 2 : *c == 'x' ? 1
									  : 0;
		if (4 + (count + 1) * 8 > size)
			return -1;
		e = out + 4 + count * 8;
		e[0] = tag & 0xff;
		e[1] = 0;
		e[2] = perm & 0xff;
		e[3] = 0;
		e[4] = id & 0xff;
		e[5] = (id >> 8) & 0xff;
		e[6] = (id >> 16) & 0xff;
		e[7] = id >> 24;
		count++;
	}
	/* The kernel wants entries ordered by tag, then id. */
	for (i = 1; i < count; i++) {
		for (j = i; j > 0; j--) {
			unsigned char *a = out + 4 + (j - 1) * 8, *b = a + 8;
			uint64_t ka = (uint64_t)(a[0] | a[1] << 8) << 32 |
				      (uint32_t)(a[4] | a[5] << 8 | a[6] << 16 |
						 (uint32_t)a[7] << 24);
			uint64_t kb = (uint64_t)(b[0] | b[1] << 8) << 32 |
				      (uint32_t)(b[4] | b[5] << 8 | b[6] << 16 |
						 (uint32_t)b[7] << 24);
			unsigned char t[8];

			if (ka <= kb)
				break;
			memcpy(t, a, 8);
			memcpy(a, b, 8);
			memcpy(b, t, 8);
		}
	}
	return (ssize_t)(4 + count * 8);
}

static void
volume_fixup_free(struct volume_fixup *fx)
{
	size_t i;

	free(fx->name);
	for (i = 0; i < fx->xattr_count; i++) {
		free((void *)(uintptr_t)fx->xattrs[i].name);
		free((void *)(uintptr_t)fx->xattrs[i].value);
	}
	free(fx->xattrs);
	free(fx->acl[0]);
	free(fx->acl[1]);
}

/* Remembers the metadata of a directory entry that already exists. */
static int
volume_fixup_add(struct volume_restore *r, const struct cairn_entry *e)
{
	struct volume_fixup *fx;
	size_t i;

	if (volume_grow((void **)&r->fixups, &r->fixup_capacity,
			r->fixup_count + 1, sizeof(*r->fixups)) == -1)
		goto nomem;
	fx = &r->fixups[r->fixup_count];
	memset(fx, 0, sizeof(*fx));
	fx->mode = e->mode & 07777;
	fx->uid = e->uid;
	fx->gid = e->gid;
	fx->times[0] = e->atime;
	fx->times[1] = e->mtime;
	if (e->atime.tv_sec == 0 && e->atime.tv_nsec == 0)
		fx->times[0].tv_nsec = UTIME_OMIT;
	if (e->mtime.tv_sec == 0 && e->mtime.tv_nsec == 0)
		fx->times[1].tv_nsec = UTIME_OMIT;
	if ((fx->name = strdup(e->name)) == NULL)
		goto nomem;
	r->fixup_count++;
	if (e->acl_access != NULL &&
	    (fx->acl[0] = strdup(e->acl_access)) == NULL)
		goto nomem;
	if (e->acl_default != NULL &&
	    (fx->acl[1] = strdup(e->acl_default)) == NULL)
		goto nomem;
	if (e->xattr_count == 0)
		return 0;
	fx->xattrs = calloc(e->xattr_count, sizeof(*fx->xattrs));
	if (fx->xattrs == NULL)
		goto nomem;
	for (i = 0; i < e->xattr_count; i++) {
		void *value = malloc(e->xattrs[i].size + 1);

		if (value != NULL)
			memcpy(value, e->xattrs[i].value, e->xattrs[i].size);
		fx->xattrs[i].name = strdup(e->xattrs[i].name);
		fx->xattrs[i].value = value;
		fx->xattrs[i].size = e->xattrs[i].size;
		fx->xattr_count++;
		if (value == NULL || fx->xattrs[i].name == NULL)
			goto nomem;
	}
	return 0;
nomem:
	volume_error(r->err, "out of memory");
	return -1;
}

/*
 * Applies the remembered metadata, deepest directories first, in the
 * order libarchive uses: owner, mode, attributes, ACLs, times.
 */
static void
volume_fixup_apply(struct volume_restore *r)
{
	unsigned char acl[4 + 8 * 1024];
	size_t i = r->fixup_count, j;

	while (i-- > 0) {
		struct volume_fixup *fx = &r->fixups[i];
		int fd = open(fx->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);

		if (fd == -1) {
			volume_failure(r, "cannot set the metadata of '%s': %s",
				       fx->name, strerror(errno));
			continue;
		}
		if (geteuid() == 0 &&
		    fchown(fd, (uid_t)fx->uid, (gid_t)fx->gid) == -1)
			r->host->log(r->host, CAIRN_LOG_WARNING,
				     "cannot restore the owner of '%s': %s",
				     fx->name, strerror(errno));
		if (fchmod(fd, fx->mode) == -1)
			volume_failure(r, "cannot restore the mode of '%s': %s",
				       fx->name, strerror(errno));
		for (j = 0; j < fx->xattr_count; j++)
			if (fsetxattr(fd, fx->xattrs[j].name,
				      fx->xattrs[j].value, fx->xattrs[j].size,
				      0) == -1)
				r->host->log(r->host, CAIRN_LOG_WARNING,
					     "cannot restore attribute '%s' "
					     "of '%s': %s",
					     fx->xattrs[j].name, fx->name,
					     strerror(errno));
		for (j = 0; j < 2; j++) {
			ssize_t size;

			if (fx->acl[j] == NULL || fx->acl[j][0] == '\0')
				continue;
			size = volume_acl_encode(fx->acl[j], acl, sizeof(acl));
			if (size < 0 ||
			    fsetxattr(fd, j == 0 ? VOLUME_ACL_ACCESS
						 : VOLUME_ACL_DEFAULT,
				      acl, (size_t)size, 0) == -1)
				r->host->log(r->host, CAIRN_LOG_WARNING,
					     "cannot restore the %s ACL of "
					     "'%s'",
					     j == 0 ? "access" : "default",
					     fx->name);
		}
		if (futimens(fd, fx->times) == -1)
			volume_failure(r, "cannot restore the times of '%s': %s",
				       fx->name, strerror(errno));
		close(fd);
	}
}

/* Refuses names that would land outside the target. */
static int
volume_restore_vet(struct volume_restore *r, const struct cairn_entry *e)
{
	if (!volume_name_safe(e->name)) {
		volume_error(r->err,
			     "refusing entry '%s': its name is absolute or "
			     "climbs out with '..'",
			     e->name != NULL ? e->name : "");
		return -1;
	}
	if (e->type == CAIRN_ENTRY_HARDLINK && !volume_name_safe(e->link)) {
		volume_error(r->err,
			     "refusing hard link '%s' to '%s': the target "
			     "is absolute or climbs out with '..'",
			     e->name, e->link != NULL ? e->link : "");
		return -1;
	}
	if (r->options->target == NULL &&
	    (!volume_under_roots(r, e->name) ||
	     (e->type == CAIRN_ENTRY_HARDLINK &&
	      !volume_under_roots(r, e->link)))) {
		volume_error(r->err,
			     "refusing entry '%s': it is outside the paths "
			     "the archive was made of",
			     e->name);
		return -1;
	}
	return 0;
}

/* One entry of the source. Returns -1 only when the restore must stop. */
static int
volume_restore_entry(struct volume_restore *r, const struct cairn_entry *e)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	struct stat st;
	int ok = 1, status;

	if (volume_restore_vet(r, e) == -1)
		return -1;
	if (!volume_selected(r->options, e->name))
		return 0;
	r->entries++;
	if (r->options->dry_run) {
		if (e->type == CAIRN_ENTRY_FILE)
			r->host->log(r->host, CAIRN_LOG_INFO,
				     "would restore file '%s' (%" PRId64
				     " bytes)",
				     e->name, e->size);
		else if (e->type == CAIRN_ENTRY_HARDLINK ||
			 e->type == CAIRN_ENTRY_SYMLINK)
			r->host->log(r->host, CAIRN_LOG_INFO,
				     "would restore %s '%s' to '%s'",
				     volume_type_name(e->type), e->name,
				     e->link != NULL ? e->link : "");
		else
			r->host->log(r->host, CAIRN_LOG_INFO,
				     "would restore %s '%s'",
				     volume_type_name(e->type), e->name);
		return 0;
	}
	if (e->type == CAIRN_ENTRY_HARDLINK && r->options->only_count > 0 &&
	    fstatat(AT_FDCWD, e->link, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		r->host->log(r->host, CAIRN_LOG_WARNING,
			     "hard link '%s' skipped: its target '%s' was "
			     "not selected",
			     e->name, e->link);
		return 0;
	}
	if (e->type == CAIRN_ENTRY_DIRECTORY && r->options->force &&
	    fstatat(AT_FDCWD, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) {
		if (volume_fixup_add(r, e) == -1)
			return -1;
		/* Its content is replaced: open it up until the fixup. */
		if ((st.st_mode & 0700) != 0700 && geteuid() != 0 &&
		    fchmodat(AT_FDCWD, e->name, (st.st_mode & 07777) | 0700,
			     0) == -1)
			r->host->log(r->host, CAIRN_LOG_WARNING,
				     "cannot make '%s' writable: %s", e->name,
				     strerror(errno));
	}
	volume_to_archive(r, e);
	status = archive_write_header(r->disk, r->entry);
	if (status == ARCHIVE_FATAL) {
		volume_error(r->err, "cannot restore '%s': %s", e->name,
			     archive_error_string(r->disk));
		return -1;
	}
	if (status == ARCHIVE_WARN) {
		r->host->log(r->host, CAIRN_LOG_WARNING, "'%s': %s", e->name,
			     archive_error_string(r->disk));
	} else if (status != ARCHIVE_OK) {
		volume_failure(r, "cannot restore '%s': %s", e->name,
			       archive_error_string(r->disk));
		return 0;
	}
	if (e->type == CAIRN_ENTRY_FILE) {
		if (volume_restore_data(r, e, digest, &ok) == -1)
			return -1;
		r->files++;
	}
	status = archive_write_finish_entry(r->disk);
	if (status == ARCHIVE_FATAL) {
		volume_error(r->err, "cannot restore '%s': %s", e->name,
			     archive_error_string(r->disk));
		return -1;
	}
	if (status == ARCHIVE_WARN)
		r->host->log(r->host, CAIRN_LOG_WARNING, "'%s': %s", e->name,
			     archive_error_string(r->disk));
	else if (status != ARCHIVE_OK) {
		volume_failure(r, "cannot restore '%s': %s", e->name,
			       archive_error_string(r->disk));
		ok = 0;
	}
	if (ok && r->md != NULL && e->type == CAIRN_ENTRY_FILE)
		volume_read_back(r, e, digest);
	return 0;
}

/* Creates `path` and missing parents with mode 0700. */
static int
volume_mkdirs(const char *path, struct cairn_error *err)
{
	char copy[PATH_MAX];
	char *p;
	int n;

	n = snprintf(copy, sizeof(copy), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(copy)) {
		volume_error(err, "target '%s' is too long", path);
		return -1;
	}
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) == -1 && errno != EEXIST) {
			volume_error(err, "cannot create directory '%s': %s",
				     copy, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(copy, 0700) == -1 && errno != EEXIST) {
		volume_error(err, "cannot create directory '%s': %s", copy,
			     strerror(errno));
		return -1;
	}
	return 0;
}

/* 1 when the directory is empty, 0 when not, -1 on error. */
static int
volume_empty(const char *path)
{
	struct dirent *d;
	DIR *dir;
	int empty = 1;

	dir = opendir(path);
	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 &&
		    strcmp(d->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(dir);
	return empty;
}

/* Checks (and unless dry-run, creates) the target; opens it. */
static int
volume_prepare_target(const struct cairn_restore_options *options,
		      const char *job, int *fd, struct cairn_error *err)
{
	const char *target = options->target;
	struct stat st;
	int empty;

	*fd = -1;
	if (target == NULL) {
		if (!options->force) {
			volume_error(err,
				     "restoring job '%s' without --to writes "
				     "over its live directories: give --to "
				     "DIR, or --force",
				     job);
			return -1;
		}
		target = "/";
	} else if (target[0] == '\0') {
		volume_error(err, "empty restore target");
		return -1;
	} else if (stat(target, &st) == -1) {
		if (errno != ENOENT) {
			volume_error(err, "cannot use target '%s': %s", target,
				     strerror(errno));
			return -1;
		}
		if (options->dry_run)
			return 0;
		if (volume_mkdirs(target, err) == -1)
			return -1;
	} else if (!S_ISDIR(st.st_mode)) {
		volume_error(err, "target '%s' is not a directory", target);
		return -1;
	} else if (!options->force) {
		empty = volume_empty(target);
		if (empty == -1) {
			volume_error(err, "cannot read target '%s': %s",
				     target, strerror(errno));
			return -1;
		}
		if (!empty) {
			volume_error(err,
				     "target '%s' is not empty (use --force "
				     "to restore into it anyway)",
				     target);
			return -1;
		}
	}
	*fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd == -1) {
		volume_error(err, "cannot open target '%s': %s", target,
			     strerror(errno));
		return -1;
	}
	return 0;
}

/* The roots an in-place restore may write under, without leading '/'. */
static int
volume_restore_roots(struct volume_restore *r)
{
	const char *fact = r->host->fact_get(r->source, "paths");
	size_t i;

	if (fact != NULL) {
		if (volume_split(fact, &r->roots, &r->root_count, r->err) == -1)
			return -1;
	} else {
		for (i = 0; i < r->vol->path_count; i++)
			if (volume_append_word(&r->roots, &r->root_count,
					       r->vol->paths[i],
					       strlen(r->vol->paths[i])) == -1)
				goto nomem;
	}
	if (r->root_count == 0) {
		volume_error(r->err,
			     "job '%s': the archive names no paths to "
			     "restore into; give --to DIR",
			     r->vol->job);
		return -1;
	}
	for (i = 0; i < r->root_count; i++) {
		char *root = r->roots[i];

		if (volume_normalise(root, r->err) == -1)
			return -1;
		memmove(root, root + 1, strlen(root));
	}
	return 0;
nomem:
	volume_error(r->err, "out of memory");
	return -1;
}

static int
volume_restore_run(struct volume_restore *r)
{
	const struct cairn_restore_options *options = r->options;
	const struct cairn_entry *e;
	const char *fact;
	int target = -1, cwd = -1, flags, status, rc = -1;
	size_t i;

	r->err->message[0] = '\0';
	if (options->target == NULL && volume_restore_roots(r) == -1)
		return -1;
	if (volume_prepare_target(options, r->vol->job, &target, r->err) ==
	    -1)
		return -1;
	fact = r->host->fact_get(r->source, "bytes");
	r->total = fact != NULL ? strtoll(fact, NULL, 10) : -1;
	if (!options->dry_run) {
		cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cwd == -1) {
			volume_error(r->err,
				     "cannot open the working directory: %s",
				     strerror(errno));
			goto out;
		}
		r->disk = archive_write_disk_new();
		r->entry = archive_entry_new();
		if (r->disk == NULL || r->entry == NULL) {
			volume_error(r->err, "out of memory");
			goto out;
		}
		flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
			ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
			ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_XATTR |
			ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_SPARSE;
		if (geteuid() == 0)
			flags |= ARCHIVE_EXTRACT_OWNER;
		if (archive_write_disk_set_options(r->disk, flags) !=
			    ARCHIVE_OK ||
		    archive_write_disk_set_user_lookup(
			    r->disk, NULL, volume_lookup_uid, NULL) !=
			    ARCHIVE_OK ||
		    archive_write_disk_set_group_lookup(
			    r->disk, NULL, volume_lookup_gid, NULL) !=
			    ARCHIVE_OK) {
			volume_error(r->err, "cannot set up the restore: %s",
				     archive_error_string(r->disk));
			goto out;
		}
		if (fchdir(target) == -1) {
			volume_error(r->err, "cannot enter target '%s': %s",
				     options->target ? options->target : "/",
				     strerror(errno));
			goto out;
		}
	}
	while ((status = r->host->entry_next(r->source, &e, r->err)) == 1) {
		if (volume_restore_entry(r, e) == -1)
			goto out;
	}
	if (status == -1)
		goto out;
	if (r->disk != NULL) {
		/* Directory modes and times are set now, after their content. */
		status = archive_write_close(r->disk);
		if (status != ARCHIVE_OK) {
			volume_failure(r, "cannot finish restoring: %s",
				       archive_error_string(r->disk));
			if (status == ARCHIVE_FATAL)
				goto out;
		}
		volume_fixup_apply(r);
	}
	if (r->failed > 0) {
		volume_error(r->err,
			     "%" PRId64 " entr%s of job '%s' could not be "
			     "restored; first: %s",
			     r->failed, r->failed == 1 ? "y" : "ies",
			     r->vol->job, r->first_failure);
		goto out;
	}
	rc = 0;
out:
	if (r->disk != NULL) {
		/* Closes it if still open: fixes up what was restored. */
		archive_write_free(r->disk);
		r->disk = NULL;
	}
	archive_entry_free(r->entry);
	r->entry = NULL;
	for (i = 0; i < r->fixup_count; i++)
		volume_fixup_free(&r->fixups[i]);
	free(r->fixups);
	r->fixups = NULL;
	r->fixup_count = r->fixup_capacity = 0;
	if (cwd != -1) {
		if (fchdir(cwd) == -1 && rc == 0) {
			volume_error(r->err,
				     "cannot return to the working "
				     "directory: %s",
				     strerror(errno));
			rc = -1;
		}
		close(cwd);
	}
	if (target != -1)
		close(target);
	return rc;
}

static int
volume_restore(void *state, const struct cairn_host *host,
	       struct cairn_source *source,
	       const struct cairn_restore_options *options,
	       struct cairn_error *err)
{
	struct volume_restore r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.vol = state;
	r.host = host;
	r.source = source;
	r.options = options;
	r.err = err;
	rc = volume_restore_run(&r);
	volume_free_words(r.roots, r.root_count);
	return rc;
}

/* ---- drill --------------------------------------------------------- */

/* Removes a tree without following symlinks, making directories writable. */
static int
volume_remove_at(int dirfd, const char *name)
{
	struct dirent *d;
	DIR *dir;
	int fd, rc = 0;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	/* A directory restored read-only must be emptied all the same. */
	if (fchmodat(dirfd, name, 0700, 0) == -1 && errno == ENOENT)
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
	if (fd == -1)
		return -1;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 ||
		    strcmp(d->d_name, "..") == 0)
			continue;
		if (volume_remove_at(fd, d->d_name) == -1)
			rc = -1;
	}
	closedir(dir);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == -1)
		rc = -1;
	return rc;
}

static int
volume_drill(void *state, const struct cairn_host *host,
	     struct cairn_source *source,
	     const struct cairn_drill_options *options,
	     struct cairn_report *report, struct cairn_error *err)
{
	struct cairn_restore_options restore;
	struct volume_restore r;
	char scratch[PATH_MAX], value[32];
	int n, rc = -1;

	memset(&r, 0, sizeof(r));
	memset(&restore, 0, sizeof(restore));
	n = snprintf(scratch, sizeof(scratch), "%s/volume",
		     options->scratch_dir);
	if (n < 0 || (size_t)n >= sizeof(scratch)) {
		volume_error(err, "scratch directory '%s' is too long",
			     options->scratch_dir);
		return -1;
	}
	if (volume_remove_at(AT_FDCWD, scratch) == -1) {
		volume_error(err, "cannot clear '%s': %s", scratch,
			     strerror(errno));
		return -1;
	}
	restore.target = scratch;
	r.vol = state;
	r.host = host;
	r.source = source;
	r.options = &restore;
	r.err = err;
	r.report = report;
	r.md = EVP_MD_CTX_new();
	r.buffer = malloc(VOLUME_BUFFER_SIZE);
	r.zeros = calloc(1, VOLUME_BUFFER_SIZE);
	if (r.md == NULL || r.buffer == NULL || r.zeros == NULL) {
		volume_error(err, "out of memory");
		goto out;
	}
	rc = volume_restore_run(&r);
	(void)snprintf(value, sizeof(value), "%" PRId64, r.entries);
	host->report_item(report, "entries", value);
	(void)snprintf(value, sizeof(value), "%" PRId64, r.files);
	host->report_item(report, "files", value);
	(void)snprintf(value, sizeof(value), "%" PRId64, r.bytes);
	host->report_item(report, "bytes", value);
	(void)snprintf(value, sizeof(value), "%" PRId64, r.mismatches);
	host->report_item(report, "mismatches", value);
	if (rc == 0 && r.mismatches > 0) {
		volume_error(err,
			     "%" PRId64 " restored file%s of job '%s' differ "
			     "from the archive",
			     r.mismatches, r.mismatches == 1 ? "" : "s",
			     r.vol->job);
		rc = -1;
	}
out:
	if (volume_remove_at(AT_FDCWD, scratch) == -1 && rc == 0) {
		volume_error(err, "cannot remove '%s': %s", scratch,
			     strerror(errno));
		rc = -1;
	}
	EVP_MD_CTX_free(r.md);
	free(r.buffer);
	free(r.zeros);
	volume_free_words(r.roots, r.root_count);
	return rc;
}

const struct cairn_plugin cairn_plugin_entry = {
	.abi_version = CAIRN_PLUGIN_ABI_VERSION,
	.name = "volume",
	.version = PACKAGE_VERSION,
	.description = "directory trees with their full metadata",
	.keys = volume_keys,
	.configure = volume_configure,
	.check = volume_check,
	.backup = volume_backup,
	.restore = volume_restore,
	.drill = volume_drill,
	.release = volume_release,
};
