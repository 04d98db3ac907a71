/*
 * Reading a file's extended attributes for its entry: those of the user,
 * trusted and security namespaces as they are, and the POSIX ACLs, which
 * the kernel lists as the system.posix_acl_* attributes (only when a file
 * has more than its mode bits), read through libacl in their text form
 * (acl.c). Other system.* attributes are the
 * file system's own and are left out. Names and values are read into
 * buffers of the walk that grow as needed and are reused from file to
 * file.
 */
#include "autoconfig.h"

#include "volume.h"

#include <errno.h>
#include <string.h>
#include <sys/xattr.h>

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

void
volume_xattr_read(struct volume_walk *w, int fd, struct cairn_entry *entry)
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
		if (size < 0 ||
		    volume_grow((void **)&w->xnames, &w->xnames_capacity,
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
			acl = VOLUME_ACL_OF_ACCESS;
		else if (strcmp(name, VOLUME_ACL_DEFAULT) == 0)
			acl = VOLUME_ACL_OF_DEFAULT;
		else if (strncmp(name, "system.", 7) == 0)
			continue;
		if (acl >= 0) {
			if (volume_acl_read(fd, w->path, acl, &w->acl_text[acl],
					    &w->acl_capacity[acl]) == -1) {
				if (errno != ENODATA)
					volume_warn(w,
						    "cannot read the ACL of "
						    "'%s': %s",
						    w->path, strerror(errno));
			} else if (acl == VOLUME_ACL_OF_ACCESS) {
				entry->acl_access = w->acl_text[acl];
			} else {
				entry->acl_default = w->acl_text[acl];
			}
			continue;
		}
		size = volume_get_xattr(w, fd, name, used);
		if (size < 0) {
			if (errno != ENODATA)
				volume_warn(w,
					    "cannot read extended attribute "
					    "'%s' of '%s': %s",
					    name, w->path, strerror(errno));
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
	volume_warn(w, "out of memory reading the attributes of '%s'", w->path);
}
