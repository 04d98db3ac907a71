/*
 * An open offsite target: the [offsite NAME] section with its secrets
 * read, behind one set of operations whatever the transport (S3 or SFTP).
 * Paths are relative to the target's prefix and mirror the repository's
 * ("archives/JOB/FILE", "catalog/...").
 *
 * Ownership: offsite_open returns a target owning its client and the
 * secrets it read (wiped when closed); offsite_close frees it.
 */
#ifndef CAIRN_OFFSITE_H
#define CAIRN_OFFSITE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cairn/plugin.h>

#include "offsite_config.h"
#include "s3.h"

struct offsite;

/* What the target holds of one object. */
struct offsite_stat {
	uint64_t size;
	char sha256[65];    /* as recorded with the object, "" if unknown */
	time_t lock_until;  /* object lock, 0: none */
	time_t server_date; /* the server's clock, 0: unknown */
	time_t modified;    /* the object's mtime, by the server's clock */
};

struct offsite_listing {
	struct offsite_item {
		char *path; /* relative to the prefix */
		uint64_t size;
	} * items;
	size_t count;
};

struct offsite_put {
	int fd;
	uint64_t size;
	const char *sha256;
	/* 1: sha256 is a recorded one, checked against the bytes as they
	 * go (see s3_upload); only for targets with verifies_sha256. */
	int verify_sha256;
	time_t lock_until; /* ignored by targets without object lock */
	s3_progress_fn progress;
	void *progress_context;
};

struct offsite_ops {
	int (*put_file)(struct offsite *o, const char *path,
			const struct offsite_put *put, struct cairn_error *err);
	int (*put_bytes)(struct offsite *o, const char *path, const void *data,
			 size_t length, struct cairn_error *err);
	/* 1 found, 0 absent, -1 error */
	int (*stat)(struct offsite *o, const char *path,
		    struct offsite_stat *st, struct cairn_error *err);
	int (*read_at)(struct offsite *o, const char *path, uint64_t offset,
		       void *buffer, size_t length, size_t *got,
		       struct cairn_error *err);
	int (*remove)(struct offsite *o, const char *path,
		      struct cairn_error *err);
	int (*list)(struct offsite *o, const char *path_prefix,
		    struct offsite_listing *listing, struct cairn_error *err);
	/* Cleans up uploads a killed process left behind. */
	int (*cleanup)(struct offsite *o, struct cairn_error *err);
	void (*close)(struct offsite *o);
	/* put_file honours offsite_put.verify_sha256. */
	int verifies_sha256;
};

struct offsite {
	const struct offsite_ops *ops;
	const struct offsite_target *target; /* not owned */
	char *journal; /* REPO/offsite/NAME/uploads: uploads in progress */
	void *client;  /* the transport's */
};

/*
 * Opens target t for the repository at `repository` (where the journal of
 * uploads in progress lives). Reads the credentials. 0 or -1.
 */
int offsite_open(struct offsite **o, const struct offsite_target *t,
		 const char *repository, struct cairn_error *err);
/*
 * Another connection to o's target, for another thread (a target's client
 * is not safe to use from two threads at once). Reads the credentials
 * again. 0 or -1; closed with offsite_close.
 */
int offsite_reopen(struct offsite **copy, const struct offsite *o,
		   struct cairn_error *err);
void offsite_close(struct offsite *o);

void offsite_listing_release(struct offsite_listing *listing);

#endif
