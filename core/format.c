/*
 * The archive format's small rules, format.h.
 */
#include "format.h"

#include <archive_entry.h>
#include <string.h>

#include "error.h"
#include "fsutil.h"
#include "xalloc.h"

#define ZERO_SIZE (1024 * 1024)
static const unsigned char zeros[ZERO_SIZE];

#define PART_SUFFIX ".part-"
#define PART_DIGITS 6

char *
format_entry_name(const char *tar_name)
{
	char *name = xstrdup(tar_name);
	size_t n;

	/* "/" stays itself. */
	for (n = strlen(name); n > 1 && name[n - 1] == '/'; n--)
		name[n - 1] = '\0';
	return name;
}

int
format_name_is(const char *tar_name, const char *name)
{
	size_t length = strlen(name);

	if (strncmp(tar_name, name, length) != 0)
		return 0;
	tar_name += length;
	while (*tar_name == '/')
		tar_name++;
	return *tar_name == '\0';
}

enum format_own
format_own_entry(const char *tar_name)
{
	if (strcmp(tar_name, FORMAT_MANIFEST_NAME) == 0)
		return FORMAT_MANIFEST;
	if (strncmp(tar_name, FORMAT_INDEX_PREFIX,
		    strlen(FORMAT_INDEX_PREFIX)) == 0)
		return FORMAT_INDEX_CHUNK;
	if (strncmp(tar_name, FORMAT_REMOVED_PREFIX,
		    strlen(FORMAT_REMOVED_PREFIX)) == 0)
		return FORMAT_REMOVED_CHUNK;
	return FORMAT_NOT_OWN;
}

void
format_index_chunk_name(size_t number, struct buf *out)
{
	buf_reset(out);
	buf_printf(out, "%s%06zu", FORMAT_INDEX_PREFIX, number);
}

void
format_removed_chunk_name(size_t number, struct buf *out)
{
	buf_reset(out);
	buf_printf(out, "%s%06zu", FORMAT_REMOVED_PREFIX, number);
}

void
format_part_name(const char *name, unsigned int number, struct buf *out)
{
	buf_reset(out);
	buf_printf(out, "%s%s%0*u", name, PART_SUFFIX, PART_DIGITS, number);
}

size_t
format_part_base(const char *name, unsigned int *number)
{
	const size_t suffix_length = strlen(PART_SUFFIX) + PART_DIGITS;
	size_t length = strlen(name), i;
	const char *suffix;
	unsigned int n = 0;

	/* A part of nothing (".part-000001") is no part. */
	if (length <= suffix_length)
		return 0;
	suffix = name + length - suffix_length;
	if (memcmp(suffix, PART_SUFFIX, strlen(PART_SUFFIX)) != 0)
		return 0;
	for (i = strlen(PART_SUFFIX); i < suffix_length; i++) {
		if (suffix[i] < '0' || suffix[i] > '9')
			return 0;
		n = n * 10 + (unsigned int)(suffix[i] - '0');
	}
	*number = n;
	return length - suffix_length;
}

enum cairn_entry_type
format_entry_type(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae) != NULL)
		return CAIRN_ENTRY_HARDLINK;
	switch (archive_entry_filetype(ae)) {
	case AE_IFDIR:
		return CAIRN_ENTRY_DIRECTORY;
	case AE_IFLNK:
		return CAIRN_ENTRY_SYMLINK;
	case AE_IFIFO:
		return CAIRN_ENTRY_FIFO;
	case AE_IFCHR:
		return CAIRN_ENTRY_CHARDEV;
	case AE_IFBLK:
		return CAIRN_ENTRY_BLOCKDEV;
	default:
		return CAIRN_ENTRY_FILE;
	}
}

int
format_next_line(const struct buf *chunk, size_t *position, const char **line,
		 size_t *length)
{
	const char *start, *end;

	if (*position >= chunk->length)
		return 0;
	start = chunk->data + *position;
	end = memchr(start, '\n', chunk->length - *position);
	if (end == NULL)
		end = chunk->data + chunk->length;
	*line = start;
	*length = (size_t)(end - start);
	*position = (size_t)(end - chunk->data) + 1;
	return 1;
}

int
format_zeros(int64_t length, format_zeros_fn emit, void *context,
	     struct cairn_error *err)
{
	while (length > 0) {
		size_t n = length > ZERO_SIZE ? ZERO_SIZE : (size_t)length;

		if (emit(context, zeros, n, err) != 0)
			return -1;
		length -= (int64_t)n;
	}
	return 0;
}

static int
hash_block(void *context, const void *data, size_t length,
	   struct cairn_error *err)
{
	(void)err;
	sha256_update(context, data, length);
	return 0;
}

void
format_hash_zeros(struct sha256 *hash, int64_t length)
{
	(void)format_zeros(length, hash_block, hash, NULL);
}

static int
write_block(void *context, const void *data, size_t length,
	    struct cairn_error *err)
{
	(void)err;
	return fsutil_write_all(*(const int *)context, data, length);
}

int
format_write_zeros(int fd, int64_t length)
{
	return format_zeros(length, write_block, &fd, NULL);
}

void
format_checksum_mismatch(struct cairn_error *err, const char *archive,
			 const char *entry)
{
	error_set(err,
		  "archive '%s': entry '%s' is damaged (its checksum does not "
		  "match the manifest)",
		  archive, entry);
}

void
format_entry_missing(struct cairn_error *err, const char *archive,
		     const char *entry)
{
	error_set(err, "archive '%s': entry '%s' is missing", archive, entry);
}
