/*
 * SFTP targets (offsite.h) through libcurl's libssh2 backend.
 */
#include "offsite.h"

#include "error.h"

int offsite_sftp_open(struct offsite *o, struct cairn_error *err);

int
offsite_sftp_open(struct offsite *o, struct cairn_error *err)
{
	error_set(err, "offsite %s: SFTP targets are not supported yet",
		  o->target->name);
	return -1;
}
