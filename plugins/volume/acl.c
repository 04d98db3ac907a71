/*
 * POSIX ACLs between the two forms cairn meets them in. The kernel shows
 * a file's ACLs as the extended attributes system.posix_acl_access and
 * system.posix_acl_default, whose value is a little-endian header (the
 * version, 2) and 8-byte entries (tag, permissions, id); archive entries
 * carry them in the POSIX.1e text form that libarchive and setfacl read.
 * Backup decodes the attributes into text with numeric ids; a restore
 * over existing directories encodes the text back, names or numbers.
 */
#include "autoconfig.h"

#include "volume.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACL_VERSION 2
#define ACL_HEADER_SIZE 4
#define ACL_ENTRY_SIZE 8

/* The tags of the entries, as <linux/posix_acl.h> numbers them. */
enum {
	ACL_TAG_USER_OBJ = 0x01,
	ACL_TAG_USER = 0x02,
	ACL_TAG_GROUP_OBJ = 0x04,
	ACL_TAG_GROUP = 0x08,
	ACL_TAG_MASK = 0x10,
	ACL_TAG_OTHER = 0x20,
};

static unsigned int
volume_acl_le16(const unsigned char *p)
{
	return (unsigned int)p[0] | (unsigned int)p[1] << 8;
}

static uint32_t
volume_acl_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The sort key of an entry: its tag, then its id. */
static uint64_t
volume_acl_key(const unsigned char *entry)
{
	return (uint64_t)volume_acl_le16(entry) << 32 |
	       volume_acl_le32(entry + 4);
}

int
volume_acl_to_text(const unsigned char *value, size_t size, char **text,
		   size_t *capacity)
{
	size_t i, count, length = 0;

	if (size < ACL_HEADER_SIZE ||
	    (size - ACL_HEADER_SIZE) % ACL_ENTRY_SIZE != 0 ||
	    volume_acl_le32(value) != ACL_VERSION)
		return -1;
	count = (size - ACL_HEADER_SIZE) / ACL_ENTRY_SIZE;
	/* Room for the longest line, "group:4294967295:rwx\n", and more. */
	if (volume_grow((void **)text, capacity, count * 32 + 1, 1) == -1)
		return -1;
	(*text)[0] = '\0';
	for (i = 0; i < count; i++) {
		const unsigned char *e =
			value + ACL_HEADER_SIZE + i * ACL_ENTRY_SIZE;
		unsigned int tag = volume_acl_le16(e),
			     perm = volume_acl_le16(e + 2);
		uint32_t id = volume_acl_le32(e + 4);
		char qualifier[16] = "";
		const char *kind;
		int n;

		switch (tag) {
		case ACL_TAG_USER_OBJ:
		case ACL_TAG_USER:
			kind = "user";
			break;
		case ACL_TAG_GROUP_OBJ:
		case ACL_TAG_GROUP:
			kind = "group";
			break;
		case ACL_TAG_MASK:
			kind = "mask";
			break;
		case ACL_TAG_OTHER:
			kind = "other";
			break;
		default:
			return -1;
		}
		/* Only named users and groups have a qualifier: their id. */
		if (tag == ACL_TAG_USER || tag == ACL_TAG_GROUP)
			(void)snprintf(qualifier, sizeof(qualifier), "%" PRIu32,
				       id);
		n = snprintf(*text + length, *capacity - length,
			     "%s:%s:%c%c%c\n", kind, qualifier,
			     perm & 4 ? 'r' : '-', perm & 2 ? 'w' : '-',
			     perm & 1 ? 'x' : '-');
		if (n < 0 || (size_t)n >= *capacity - length)
			return -1;
		length += (size_t)n;
	}
	return 0;
}

/*
 * Encodes a text ACL: what follows a '#' in an entry and blanks are
 * ignored, a tag may be abbreviated to its first letter, permissions
 * other than r, w and x count for nothing.
 */
ssize_t
volume_acl_from_text(const char *text, unsigned char *out, size_t size)
{
	size_t count = 0, i, j;
	const char *p = text;

	if (size < ACL_HEADER_SIZE)
		return -1;
	out[0] = ACL_VERSION;
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
			tag = field[1][0] != '\0' ? ACL_TAG_USER
						  : ACL_TAG_USER_OBJ;
		else if (strcmp(field[0], "group") == 0 ||
			 strcmp(field[0], "g") == 0)
			tag = field[1][0] != '\0' ? ACL_TAG_GROUP
						  : ACL_TAG_GROUP_OBJ;
		else if (strcmp(field[0], "mask") == 0 ||
			 strcmp(field[0], "m") == 0)
			tag = ACL_TAG_MASK;
		else if (strcmp(field[0], "other") == 0 ||
			 strcmp(field[0], "o") == 0)
			tag = ACL_TAG_OTHER;
		else
			return -1;
		if (tag == ACL_TAG_USER || tag == ACL_TAG_GROUP) {
			char *end;
			unsigned long n = strtoul(field[1], &end, 10);

			if (*end == '\0') {
				id = (uint32_t)n;
			} else {
				int64_t found = volume_owner_id(
					tag == ACL_TAG_USER
						? VOLUME_OWNER_USER
						: VOLUME_OWNER_GROUP,
					field[1]);

				if (found < 0)
					return -1;
				id = (uint32_t)found;
			}
		}
		for (c = field[2]; *c != '\0'; c++)
			perm |= *c == 'r' ? 4 : *c == 'w' ? 2 : *c == 'x' ? 1
									  : 0;
		if (ACL_HEADER_SIZE + (count + 1) * ACL_ENTRY_SIZE > size)
			return -1;
		e = out + ACL_HEADER_SIZE + count * ACL_ENTRY_SIZE;
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
			unsigned char *a = out + ACL_HEADER_SIZE +
					   (j - 1) * ACL_ENTRY_SIZE;
			unsigned char *b = a + ACL_ENTRY_SIZE;
			unsigned char t[ACL_ENTRY_SIZE];

			if (volume_acl_key(a) <= volume_acl_key(b))
				break;
			memcpy(t, a, ACL_ENTRY_SIZE);
			memcpy(a, b, ACL_ENTRY_SIZE);
			memcpy(b, t, ACL_ENTRY_SIZE);
		}
	}
	return (ssize_t)(ACL_HEADER_SIZE + count * ACL_ENTRY_SIZE);
}
