/*
 * User and group names and their ids, both ways. An archive keeps owners
 * by number, with the names they had when the backup ran, so a restore
 * can fall back on a name where no number came; the names are looked up
 * once per id during a backup, since a tree mostly has few owners.
 */
#include "autoconfig.h"

#include "volume.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

/* Big enough for the entries of any sane passwd or group database. */
#define VOLUME_OWNER_BUFFER 16384

const char *
volume_owner_name(struct volume_map *cache, enum volume_owner_kind kind,
		  uint64_t id)
{
	struct volume_slot *slot = volume_map_find(cache, kind, id);
	char buffer[VOLUME_OWNER_BUFFER];
	char *name = NULL;

	if (slot != NULL)
		return slot->value;
	if (kind == VOLUME_OWNER_USER) {
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
	/* A name that is not there is cached too, as NULL. */
	if (volume_map_put(cache, kind, id, name) == -1) {
		free(name);
		return NULL;
	}
	return name;
}

int64_t
volume_owner_id(enum volume_owner_kind kind, const char *name)
{
	char buffer[VOLUME_OWNER_BUFFER];

	if (kind == VOLUME_OWNER_USER) {
		struct passwd pw, *found = NULL;

		if (getpwnam_r(name, &pw, buffer, sizeof(buffer), &found) ==
			    0 &&
		    found != NULL)
			return found->pw_uid;
	} else {
		struct group gr, *found = NULL;

		if (getgrnam_r(name, &gr, buffer, sizeof(buffer), &found) ==
			    0 &&
		    found != NULL)
			return found->gr_gid;
	}
	return -1;
}

int64_t
volume_owner_resolve(enum volume_owner_kind kind, const char *name, int64_t id)
{
	if (id >= 0 || name == NULL)
		return id < 0 ? -1 : id;
	return volume_owner_id(kind, name);
}
