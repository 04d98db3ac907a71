/*
 * Archives read from an offsite target, offsite_read.h.
 */
#include "offsite_read.h"

#include <stdio.h>
#include <string.h>

#include "arc.h"
#include "commands.h"
#include "encryption.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "offsite_blob.h"
#include "offsite_state.h"

int
offsite_arc_open(struct offsite *o, struct arc **a, const char *path,
		 const struct catalog_record *r,
		 const struct offsite_blob_shape *shape,
		 struct cairn_error *err)
{
	const struct json_value *copy = json_object_get(r->extra, "copy");
	struct blob *b = NULL;
	int64_t size;

	*a = NULL;
	if (json_get_int64(copy, "size", &size) != 0 || size < 0) {
		error_set(err,
			  "archive %s: the catalogue of offsite %s lacks "
			  "the copy's size",
			  r->id, o->target->name);
		return -1;
	}
	if (offsite_blob_open(&b, o, path, (uint64_t)size, r->id, shape, err) !=
	    0)
		return -1;
	/* An encrypted archive is read through its decrypting blob, over
	 * the remote one, as a local file would be. */
	if (encryption_open_blob(&b, err) != 0)
		return -1;
	return arc_open_blob(a, b, err);
}

/* The archives of an incremental chain, opened on the --from target. */
struct remote_chain {
	struct chain_opener opener;
	struct offsite *o;
	const struct catalog *catalog; /* the target's */
	size_t links;		       /* counted at the first open */
	char where[128];
};

static const struct catalog_record *
record_of(const struct catalog *c, const char *id)
{
	long index = catalog_find(c, id);

	return index < 0 ? NULL : &c->records[index];
}

/* How many archives the chain ending at `r` holds, as the target's
 * catalogue tells (the manifests decide when they are read). */
static size_t
chain_length(const struct catalog *c, const struct catalog_record *r)
{
	size_t links = 1;

	while (r != NULL && r->incremental && links < CHAIN_LIMIT) {
		r = record_of(c, r->parent);
		if (r != NULL)
			links++;
	}
	return links;
}

static int
remote_chain_open(void *context, const char *id, struct arc **a, char **path,
		  struct cairn_error *err)
{
	struct remote_chain *rc = context;
	const struct catalog_record *r = record_of(rc->catalog, id);
	struct offsite_blob_shape shape;

	*a = NULL;
	*path = NULL;
	if (r == NULL)
		return 1;
	if (rc->links == 0)
		rc->links = chain_length(rc->catalog, r);
	offsite_blob_chain_shape(&shape, rc->links);
	*path = xstrdup(r->file);
	return offsite_arc_open(rc->o, a, r->file, r, &shape, err);
}

int
offsite_run_on_archive(struct context *ctx, const char *spec,
		       arc_command command)
{
	const struct offsite_target *t =
		config_find_offsite(&ctx->config, ctx->options->from);
	struct repository repo = {NULL};
	struct catalog held = {NULL, 0, 0, 0};
	struct offsite *o = NULL;
	struct remote_chain chain = {{NULL, NULL, NULL}, NULL, NULL, 0, ""};
	struct cairn_error err;
	size_t index;
	int status, rc;

	if (t == NULL) {
		log_error("no offsite target '%s' in '%s'", ctx->options->from,
			  ctx->config.file);
		return EXIT_NOT_FOUND;
	}
	if (ctx->repository_path == NULL) {
		log_error("no repository: give -r DIR or [repository] path");
		return EXIT_CONFIG;
	}
	rc = repository_open(&repo, ctx->repository_path, 0, &err);
	if (rc != 0) {
		if (rc > 0)
			log_error("no repository at '%s' (on a new host, run "
				  "'cairn catalog rebuild --from %s' first)",
				  ctx->repository_path, t->name);
		else
			log_error("%s", err.message);
		return rc > 0 ? EXIT_NOT_FOUND : EXIT_JOB_FAILED;
	}
	if (offsite_catalog_load(repo.path, t->name, &held, &err) != 0) {
		log_error("%s", err.message);
		status = EXIT_JOB_FAILED;
		goto out;
	}
	status = context_resolve(ctx, &held, spec, &index);
	if (status != EXIT_OK)
		goto out;
	if (offsite_open(&o, t, repo.path, &err) != 0) {
		log_error("%s", err.message);
		status = EXIT_JOB_FAILED;
		goto out;
	}
	chain.opener.open = remote_chain_open;
	chain.opener.context = &chain;
	chain.opener.where = chain.where;
	chain.o = o;
	chain.catalog = &held;
	snprintf(chain.where, sizeof(chain.where), "offsite %s", t->name);
	ctx->remote = o;
	ctx->chain_opener = &chain.opener;
	status = command(ctx, held.records[index].file, &held.records[index]);
	ctx->remote = NULL;
	ctx->chain_opener = NULL;
out:
	offsite_close(o);
	catalog_release(&held);
	repository_release(&repo);
	return status;
}
