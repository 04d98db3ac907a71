/*
 * Metadata of directories that existed before a --force restore.
 * archive_write_disk leaves an existing directory's owner, mode, times,
 * attributes and ACLs alone, so a restore over live data would keep
 * whatever the directories hold now. Their metadata is remembered as
 * their entries pass and applied once their content is written: the
 * content would change their times, and a read-only mode would stop it
 * from being written at all. extract.c leaves the metadata of the
 * directories it makes to this file too, as archive_write_disk defers
 * theirs.
 */
#include "autoconfig.h"

#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static void
volume_fixup_free(struct volume_fixup *fx)
{
	size_t i;

	free(fx->name);
	for (i = 0; i < fx->xattr_count; i++) {
		free(fx->xattrs[i].name);
		free(fx->xattrs[i].value);
	}
	free(fx->xattrs);
	free(fx->acl[0]);
	free(fx->acl[1]);
}

int
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
void
volume_fixup_apply(struct volume_restore *r)
{
	size_t i = r->fixup_count, j;

	while (i-- > 0) {
		struct volume_fixup *fx = &r->fixups[i];
		int fd = volume_extract_open_dir(r, fx->name);

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
			if (fx->acl[j] == NULL || fx->acl[j][0] == '\0')
				continue;
			if (volume_acl_write(fd, fx->name, (int)j,
					     fx->acl[j]) == -1)
				r->host->log(r->host, CAIRN_LOG_WARNING,
					     "cannot restore the %s ACL of "
					     "'%s': %s",
					     j == 0 ? "access" : "default",
					     fx->name, strerror(errno));
		}
		if (futimens(fd, fx->times) == -1)
			volume_failure(r,
				       "cannot restore the times of '%s': %s",
				       fx->name, strerror(errno));
		close(fd);
	}
}

void
volume_fixup_release(struct volume_restore *r)
{
	size_t i;

	for (i = 0; i < r->fixup_count; i++)
		volume_fixup_free(&r->fixups[i]);
	free(r->fixups);
	r->fixups = NULL;
	r->fixup_count = r->fixup_capacity = 0;
}
