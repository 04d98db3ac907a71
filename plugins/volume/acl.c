/*
 * POSIX ACLs between a file and the text form archive entries carry,
 * through libacl. The text is what cairn has always written (archives
 * made before libacl was used restore the same): the POSIX.1e long form
 * with numeric ids, one entry per line, each line ending in a newline,
 * entries in the order the kernel keeps them (by tag, then id), e.g.
 *
 *     user::rw-
 *     user:1000:r--
 *     group::r-x
 *     mask::rw-
 *     other::---
 *
 * which is also what libarchive and setfacl read. On restore the text may
 * name users and groups, abbreviate tags, separate entries by commas and
 * carry comments: acl_from_text reads all of that.
 */
#include "autoconfig.h"

#include "volume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acl/libacl.h>
#include <sys/acl.h>

/* The ACL of `fd` (access only), or of `path` when fd is -1 or for the
 * default ACL, which libacl reads by path only. */
static acl_t
volume_acl_get(int fd, const char *path, int which)
{
	if (which == VOLUME_ACL_OF_ACCESS && fd >= 0)
		return acl_get_fd(fd);
	return acl_get_file(path, which == VOLUME_ACL_OF_DEFAULT
					  ? ACL_TYPE_DEFAULT
					  : ACL_TYPE_ACCESS);
}

int
volume_acl_read(int fd, const char *path, int which, char **text,
		size_t *capacity)
{
	acl_t acl = volume_acl_get(fd, path, which);
	char *words = NULL;
	size_t length;
	int rc = -1, saved;

	if (acl == NULL)
		return -1;
	/* An empty default ACL is no default ACL. */
	if (acl_entries(acl) <= 0) {
		errno = ENODATA;
		goto out;
	}
	words = acl_to_any_text(acl, NULL, '\n', TEXT_NUMERIC_IDS);
	if (words == NULL)
		goto out;
	length = strlen(words);
	/* Room for the final newline acl_to_any_text does not write. */
	if (volume_grow((void **)text, capacity, length + 2, 1) == -1) {
		errno = ENOMEM;
		goto out;
	}
	memcpy(*text, words, length);
	if (length > 0 && words[length - 1] != '\n')
		(*text)[length++] = '\n';
	(*text)[length] = '\0';
	rc = 0;
out:
	saved = errno;
	acl_free(words);
	acl_free(acl);
	errno = saved;
	return rc;
}

int
volume_acl_write(int fd, const char *path, int which, const char *text)
{
	acl_t acl = acl_from_text(text);
	int rc, saved;

	if (acl == NULL)
		return -1;
	if (which == VOLUME_ACL_OF_ACCESS && fd >= 0) {
		rc = acl_set_fd(fd, acl);
	} else {
		acl_type_t type = which == VOLUME_ACL_OF_DEFAULT
					  ? ACL_TYPE_DEFAULT
					  : ACL_TYPE_ACCESS;
		char own[64];
		int n;

		/*
		 * libacl sets a default ACL by path only: the descriptor's
		 * own, which resolves nothing else, where /proc is there.
		 */
		rc = -1;
		errno = ENOENT;
		n = snprintf(own, sizeof(own), "/proc/self/fd/%d", fd);
		if (fd >= 0 && n > 0 && (size_t)n < sizeof(own))
			rc = acl_set_file(own, type, acl);
		if (rc == -1 && errno == ENOENT)
			rc = acl_set_file(path, type, acl);
	}
	saved = errno;
	acl_free(acl);
	errno = saved;
	return rc;
}
