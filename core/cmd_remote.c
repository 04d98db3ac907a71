/*
 * The commands on the copies an offsite target holds: list --remote NAME,
 * verify --remote NAME [--deep], and prune of each target by its own
 * retention (also --remote NAME alone). They read the target's catalogue
 * (offsite_state.h) and ask the target itself what it holds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "arc_verify.h"
#include "chain.h"
#include "commands.h"
#include "encryption.h"
#include "error.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "offsite_blob.h"
#include "offsite_copy.h"
#include "offsite_read.h"
#include "offsite_state.h"
#include "progress.h"
#include "retention.h"
#include "sha256.h"
#include "timefmt.h"

/* The target --remote names, or NULL after logging why. */
static const struct offsite_target *
named_target(struct context *ctx, const char *name, int *status)
{
	const struct offsite_target *t = config_find_offsite(&ctx->config,
							     name);

	if (t == NULL) {
		log_error("no offsite target '%s' in '%s'", name,
			  ctx->config.file);
		*status = EXIT_NOT_FOUND;
	}
	return t;
}

/* The repository directory, which holds the target's catalogue. */
static int
open_repository(struct context *ctx, struct repository *repo)
{
	struct cairn_error err;
	int rc;

	if (ctx->repository_path == NULL) {
		log_error("no repository: give -r DIR or [repository] path");
		return EXIT_CONFIG;
	}
	rc = repository_open(repo, ctx->repository_path, 0, &err);
	if (rc < 0) {
		log_error("%s", err.message);
		return EXIT_JOB_FAILED;
	}
	if (rc > 0) {
		log_error("no repository at '%s'", ctx->repository_path);
		return EXIT_NOT_FOUND;
	}
	return EXIT_OK;
}

static const struct offsite_item *
listed(const struct offsite_listing *l, const char *path)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		if (strcmp(l->items[i].path, path) == 0)
			return &l->items[i];
	return NULL;
}

static int
copy_size(const struct catalog_record *r, uint64_t *size)
{
	int64_t n;

	if (json_get_int64(json_object_get(r->extra, "copy"), "size", &n) !=
		    0 ||
	    n < 0)
		return -1;
	*size = (uint64_t)n;
	return 0;
}

static const char *
copy_string(const struct catalog_record *r, const char *key)
{
	return json_get_string(json_object_get(r->extra, "copy"), key);
}

int
cmd_list_remote(struct context *ctx)
{
	const struct options *opt = ctx->options;
	const struct offsite_target *t;
	struct repository repo = {NULL};
	struct catalog held = {NULL, 0, 0, 0};
	struct offsite_listing listing = {NULL, 0};
	struct offsite *o = NULL;
	struct json_value *json = NULL;
	struct cairn_error err;
	int status = EXIT_OK;
	size_t i;

	t = named_target(ctx, opt->remote, &status);
	if (t == NULL)
		return status;
	status = open_repository(ctx, &repo);
	if (status != EXIT_OK)
		return status;
	if (offsite_catalog_load(repo.path, t->name, &held, &err) != 0 ||
	    offsite_open(&o, t, repo.path, &err) != 0 ||
	    o->ops->list(o, "archives/", &listing, &err) != 0) {
		log_error("%s", err.message);
		status = EXIT_JOB_FAILED;
		goto out;
	}
	catalog_sort(&held);
	if (opt->json)
		json = json_new_array();
	else
		printf("%-36s %-20s %-20s %10s %-8s %s\n", "ID", "JOB",
		       "CREATED", "SIZE", "STATUS", "LOCKED UNTIL");
	for (i = 0; i < held.count; i++) {
		const struct catalog_record *r = &held.records[i];
		const struct offsite_item *item = listed(&listing, r->file);
		const char *lock = copy_string(r, "lock-until");
		char when[TIMEFMT_RFC3339_SIZE], size_text[32];
		uint64_t size = 0;
		const char *state;

		if (opt->job != NULL && strcmp(r->job, opt->job) != 0)
			continue;
		copy_size(r, &size);
		state = item == NULL	     ? "missing"
			: item->size != size ? "damaged"
					     : "ok";
		if (json != NULL) {
			struct json_value *v = catalog_record_to_json(r);

			json_object_set_string(v, "target", t->name);
			json_object_set_string(v, "status", state);
			json_array_append(json, v);
			continue;
		}
		timefmt_rfc3339(r->created, 0, when, sizeof(when));
		format_bytes(size, size_text, sizeof(size_text));
		printf("%-36s %-20s %-20s %10s %-8s %s\n", r->id, r->job, when,
		       size_text, state, lock ? lock : "-");
	}
	/* What the target holds that its catalogue does not know. */
	for (i = 0; i < listing.count; i++) {
		size_t j;

		for (j = 0; j < held.count; j++)
			if (strcmp(held.records[j].file,
				   listing.items[i].path) == 0)
				break;
		if (j < held.count)
			continue;
		if (json != NULL) {
			struct json_value *v = json_new_object();

			json_object_set_string(v, "target", t->name);
			json_object_set_string(v, "file",
					       listing.items[i].path);
			json_object_set_int64(v, "size",
					      (int64_t)listing.items[i].size);
			json_object_set_string(v, "status", "uncatalogued");
			json_array_append(json, v);
		} else {
			printf("%-36s %-20s %-20s %10" PRIu64 " %-8s %s\n", "-",
			       "-", "-", listing.items[i].size, "unknown",
			       listing.items[i].path);
		}
	}
	if (json != NULL) {
		output_json(json);
		json = NULL;
	}
out:
	json_free(json);
	offsite_listing_release(&listing);
	offsite_close(o);
	catalog_release(&held);
	repository_release(&repo);
	return status;
}

/*
 * Everything a local verify checks, on the copy read through a remote
 * blob once: every frame decompressed and every entry's SHA-256, and the
 * SHA-256 of the object as stored, which the blob hashes as the verify
 * reads it (an encrypted archive without the identity: that alone).
 * 0 ok, 1 damaged, -1 the target failed.
 */
static int
deep_verify(struct offsite *o, const struct catalog_record *r, uint64_t size,
	    const char *sha256, struct cairn_error *err)
{
	struct verify_totals totals;
	struct arc *archive = NULL;
	struct blob *stored = NULL, *b;
	struct cairn_error verify_err;
	char hex[SHA256_HEX_SIZE];
	size_t length = strlen(r->file);
	uint64_t hashed = 0;
	int encrypted = length > 4 && strcmp(r->file + length - 4, ".age") == 0;
	int damaged = 0, rc;

	if (offsite_blob_open(&stored, o, r->file, size, r->id, NULL, err) != 0)
		return -1;
	offsite_blob_hash_start(stored);
	error_clear(&verify_err);
	/* The archive owns the stored blob from here, under the decrypting
	 * one; it stays readable until arc_close. */
	b = stored;
	if (!encrypted || encryption_has_identity()) {
		/* Either failure closes the blobs: nothing is left to hash. */
		if (encryption_open_blob(&b, err) != 0 ||
		    arc_open_blob(&archive, b, err) != 0) {
			error_prefix(err, "the copy on %s", o->target->name);
			return 1;
		}
		damaged = arc_verify(archive, &totals, &verify_err) != 0;
	}
	rc = offsite_blob_hash_finish(stored, hex, &hashed, err);
	if (archive != NULL)
		arc_close(archive);
	else
		blob_close(stored);
	if (rc != 0)
		return -1;
	if (hashed != size || strcmp(hex, sha256) != 0) {
		error_set(err,
			  "archive %s: the copy on %s (%s) is damaged: "
			  "%" PRIu64 " bytes with SHA-256 %s, not %" PRIu64
			  " with %s",
			  r->id, o->target->name, r->file, hashed, hex, size,
			  sha256);
		return 1;
	}
	if (damaged) {
		*err = verify_err;
		error_prefix(err, "the copy on %s", o->target->name);
		return 1;
	}
	return 0;
}

/* One copy: 0 ok, 1 damaged or missing, -1 the target failed. */
static int
verify_copy(struct offsite *o, const struct catalog_record *r, int deep,
	    struct cairn_error *err)
{
	const char *sha256 = copy_string(r, "sha256");
	struct offsite_stat st;
	uint64_t size = 0;
	int found;

	if (sha256 == NULL || copy_size(r, &size) != 0) {
		error_set(err,
			  "archive %s: the target's catalogue lacks the "
			  "copy's size or SHA-256",
			  r->id);
		return 1;
	}
	found = o->ops->stat(o, r->file, &st, err);
	if (found < 0)
		return -1;
	if (found == 0) {
		error_set(err, "archive %s: the copy on %s (%s) is missing",
			  r->id, o->target->name, r->file);
		return 1;
	}
	if (st.size != size ||
	    (st.sha256[0] && strcmp(st.sha256, sha256) != 0)) {
		error_set(err,
			  "archive %s: the copy on %s (%s) is damaged: "
			  "%" PRIu64 " bytes, SHA-256 '%s'; the catalogue "
			  "says %" PRIu64 ", '%s'",
			  r->id, o->target->name, r->file, st.size, st.sha256,
			  size, sha256);
		return 1;
	}
	if (!deep)
		return 0;
	return deep_verify(o, r, size, sha256, err);
}

int
cmd_verify_remote(struct context *ctx)
{
	const struct options *opt = ctx->options;
	const struct offsite_target *t;
	struct repository repo = {NULL};
	struct catalog held = {NULL, 0, 0, 0};
	struct offsite *o = NULL;
	struct cairn_error err;
	size_t i, index, count, bad = 0, failed = 0;
	int status = EXIT_OK, rc;

	t = named_target(ctx, opt->remote, &status);
	if (t == NULL)
		return status;
	status = open_repository(ctx, &repo);
	if (status != EXIT_OK)
		return status;
	if (offsite_catalog_load(repo.path, t->name, &held, &err) != 0 ||
	    offsite_open(&o, t, repo.path, &err) != 0) {
		log_error("%s", err.message);
		status = EXIT_JOB_FAILED;
		goto out;
	}
	catalog_sort(&held);
	count = opt->arg_count ? opt->arg_count : held.count;
	for (i = 0; i < count; i++) {
		const struct catalog_record *r;

		if (opt->arg_count) {
			status = context_resolve(ctx, &held, opt->args[i],
						 &index);
			if (status != EXIT_OK)
				goto out;
		} else {
			index = i;
		}
		r = &held.records[index];
		progress_start(r->id);
		rc = verify_copy(o, r, opt->deep, &err);
		progress_finish();
		if (rc != 0) {
			log_error("%s", err.message);
			if (rc > 0)
				bad++;
			else
				failed++;
			if (!opt->json)
				printf("%-8s %s  %-20s %s\n",
				       rc > 0 ? "damaged" : "failed", r->id,
				       r->job, err.message);
		} else if (!opt->json) {
			printf("ok       %s  %-20s %s\n", r->id, r->job,
			       opt->deep ? "read back whole, SHA-256 matches"
					 : "size and SHA-256 match");
		}
	}
	status = bad ? EXIT_DAMAGED : failed ? EXIT_JOB_FAILED : EXIT_OK;
out:
	offsite_close(o);
	catalog_release(&held);
	repository_release(&repo);
	return status;
}

/* ---- prune on targets --------------------------------------------- */

static int
by_created_desc(const void *a, const void *b, void *catalog)
{
	const struct catalog *c = catalog;
	const struct catalog_record *x = &c->records[*(const size_t *)a];
	const struct catalog_record *y = &c->records[*(const size_t *)b];

	if (catalog_record_newer(x, y))
		return -1;
	if (catalog_record_newer(y, x))
		return 1;
	return strcmp(y->id, x->id);
}

static void
print_target_plan(const char *target, const struct catalog_record *r,
		  const char *action, const char *why, struct json_value *json)
{
	char when[TIMEFMT_RFC3339_SIZE];

	timefmt_rfc3339(r->created, 0, when, sizeof(when));
	if (json != NULL) {
		struct json_value *o = json_new_object();

		json_object_set_string(o, "target", target);
		json_object_set_string(o, "id", r->id);
		json_object_set_string(o, "job", r->job);
		json_object_set_string(o, "created", when);
		json_object_set_string(o, "action", action);
		json_object_set_string(o, "rules", why);
		json_array_append(json, o);
		return;
	}
	printf("%s: %-6s %s  %-20s %s  %s\n", target, action, r->id, r->job,
	       when, why);
}

/*
 * Marks, per job, the copies the target's policy lets go "removing";
 * those under object lock are kept and shown with the lock's end.
 */
static size_t
plan_target(struct context *ctx, const struct offsite_target *t,
	    struct catalog *held, struct json_value *json, int *failed)
{
	struct retention policy = offsite_effective_retention(&ctx->config, t);
	size_t *records = xcalloc(held->count + 1, sizeof(size_t));
	time_t *created = xcalloc(held->count + 1, sizeof(time_t));
	unsigned int *reasons = xcalloc(held->count + 1, sizeof(unsigned));
	size_t *child = xcalloc(held->count + 1, sizeof(size_t));
	time_t now = time(NULL);
	struct cairn_error err;
	size_t i, j, n, marked = 0;
	char why[128];

	for (i = 0; i < held->count; i++) {
		const char *job = held->records[i].job;

		/* Each job once, at its first record. */
		for (j = 0; j < i; j++)
			if (strcmp(held->records[j].job, job) == 0)
				break;
		if (j < i)
			continue;
		if (ctx->options->job != NULL &&
		    strcmp(ctx->options->job, job) != 0)
			continue;
		if (ctx->options->job == NULL &&
		    config_find_job(&ctx->config, job) == NULL)
			continue; /* kept, as local prune keeps them */
		for (n = 0, j = 0; j < held->count; j++)
			if (strcmp(held->records[j].job, job) == 0 &&
			    strcmp(held->records[j].status, "ok") == 0)
				records[n++] = j;
		qsort_r(records, n, sizeof(size_t), by_created_desc, held);
		for (j = 0; j < n; j++)
			created[j] = held->records[records[j]].created.tv_sec;
		if (retention_plan(&policy, created, n, reasons, &err) != 0) {
			log_error("offsite %s: job '%s': %s", t->name, job,
				  err.message);
			*failed = 1;
			continue;
		}
		/* The target's chains stay whole, as the local ones do. */
		chain_keep_parents(held, records, n, reasons, child);
		for (j = 0; j < n; j++) {
			struct catalog_record *r = &held->records[records[j]];
			const char *lock = copy_string(r, "lock-until");
			struct timespec until = {0, 0};

			if (reasons[j] != 0) {
				retention_describe(
					reasons[j] &
						~(unsigned int)KEPT_AS_PARENT,
					why, sizeof(why));
				if (reasons[j] & KEPT_AS_PARENT)
					snprintf(
						why + strlen(why),
						sizeof(why) - strlen(why),
						"%sparent of %.36s",
						why[0] ? ", " : "",
						held->records[records[child[j]]]
							.id);
				print_target_plan(t->name, r, "keep", why,
						  json);
				continue;
			}
			if (lock != NULL &&
			    timefmt_parse_rfc3339(lock, &until) == 0 &&
			    until.tv_sec > now) {
				snprintf(why, sizeof(why),
					 "object lock until %s", lock);
				print_target_plan(t->name, r, "keep", why,
						  json);
				continue;
			}
			print_target_plan(t->name, r, "remove", "", json);
			if (!ctx->options->dry_run) {
				free(r->status);
				r->status = xstrdup("removing");
				marked++;
			}
		}
	}
	free(records);
	free(created);
	free(reasons);
	free(child);
	return marked;
}

/* Deletes the objects of records marked "removing", then the records. */
static int
finish_target_removals(const char *repository, struct offsite *o,
		       struct catalog *held)
{
	struct cairn_error err;
	size_t i = 0, removed = 0;
	int rc = 0;

	while (i < held->count) {
		struct catalog_record *r = &held->records[i];

		if (strcmp(r->status, "removing") != 0) {
			i++;
			continue;
		}
		if (o->ops->remove(o, r->file, &err) != 0) {
			log_error("%s", err.message);
			rc = -1;
			i++;
			continue;
		}
		log_info("offsite %s: removed the copy of archive '%s' of job "
			 "'%s'",
			 o->target->name, r->id, r->job);
		catalog_remove(held, i);
		removed++;
	}
	if (offsite_catalog_save(repository, o->target->name, held, &err) !=
	    0) {
		log_error("%s", err.message);
		return -1;
	}
	if (removed > 0 && offsite_put_snapshot(o, held, &err) != 0) {
		log_error("%s", err.message);
		rc = -1;
	}
	return rc;
}

static int
prune_target(struct context *ctx, const char *repository,
	     const struct offsite_target *t, struct json_value *json)
{
	struct catalog held = {NULL, 0, 0, 0};
	struct offsite *o = NULL;
	struct cairn_error err;
	int failed = 0;
	size_t marked;

	if (offsite_catalog_load(repository, t->name, &held, &err) != 0) {
		log_error("%s", err.message);
		return -1;
	}
	if (held.count == 0) {
		catalog_release(&held);
		return 0;
	}
	marked = plan_target(ctx, t, &held, json, &failed);
	if (!ctx->options->dry_run) {
		int pending = marked > 0;
		size_t i;

		for (i = 0; i < held.count && !pending; i++)
			pending = strcmp(held.records[i].status, "removing") ==
				  0; /* left by an interrupted prune */
		if (pending && (offsite_catalog_save(repository, t->name, &held,
						     &err) != 0 ||
				offsite_open(&o, t, repository, &err) != 0)) {
			log_error("%s", err.message);
			failed = 1;
		} else if (pending &&
			   finish_target_removals(repository, o, &held) != 0) {
			failed = 1;
		}
	}
	offsite_close(o);
	catalog_release(&held);
	return failed ? -1 : 0;
}

int
prune_targets(struct context *ctx, const char *repository,
	      struct json_value *json)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < ctx->config.offsite_count; i++)
		if (prune_target(ctx, repository, &ctx->config.offsites[i],
				 json) != 0)
			failed = 1;
	return failed ? -1 : 0;
}

int
cmd_prune_remote(struct context *ctx)
{
	const struct offsite_target *t;
	struct repository repo = {NULL};
	struct repo_lock lock = {-1};
	struct json_value *json = NULL;
	struct cairn_error err;
	int status = EXIT_OK, rc;

	t = named_target(ctx, ctx->options->remote, &status);
	if (t == NULL)
		return status;
	status = open_repository(ctx, &repo);
	if (status != EXIT_OK)
		return status;
	if (!ctx->options->dry_run) {
		rc = lock_acquire(&lock, repo.path, ctx->options->wait, &err);
		if (rc != 0) {
			log_error("%s", err.message);
			repository_release(&repo);
			return rc > 0 ? EXIT_LOCKED : EXIT_JOB_FAILED;
		}
	}
	if (ctx->options->json)
		json = json_new_array();
	status = prune_target(ctx, repo.path, t, json) == 0 ? EXIT_OK
							    : EXIT_JOB_FAILED;
	if (json != NULL)
		output_json(json);
	lock_release(&lock);
	repository_release(&repo);
	return status;
}

/* ---- catalog rebuild --from ----------------------------------------- */

#define SNAPSHOT_LIMIT (512 * 1024 * 1024)

static int
compare_paths(const void *a, const void *b)
{
	const struct offsite_item *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* Reads a whole (small) object. 0 or -1. */
static int
read_object(struct offsite *o, const struct offsite_item *item, struct buf *out,
	    struct cairn_error *err)
{
	size_t got;

	if (item->size > SNAPSHOT_LIMIT) {
		error_set(err, "offsite %s: %s is too large for a catalogue",
			  o->target->name, item->path);
		return -1;
	}
	buf_grow(out, (size_t)item->size + 1);
	if (o->ops->read_at(o, item->path, 0, out->data, (size_t)item->size,
			    &got, err) != 0)
		return -1;
	out->length = got;
	out->data[got] = '\0';
	return 0;
}

/* An archive's name ends so (repository.c), then ENCRYPTION_SUFFIX when
 * it is encrypted. */
#define ARCHIVE_SUFFIX ".tar.zst"

/* Whether `path` names an archive (not a checksum file beside one). */
static int
is_archive_object(const char *path)
{
	size_t length = strlen(path), plain = strlen(ARCHIVE_SUFFIX),
	       age = strlen(ARCHIVE_SUFFIX ENCRYPTION_SUFFIX);

	return (length > plain &&
		strcmp(path + length - plain, ARCHIVE_SUFFIX) == 0) ||
	       (length > age && strcmp(path + length - age,
				       ARCHIVE_SUFFIX ENCRYPTION_SUFFIX) == 0);
}

static int
held_has(const struct catalog *held, const char *file)
{
	size_t i;

	for (i = 0; i < held->count; i++)
		if (strcmp(held->records[i].file, file) == 0)
			return 1;
	return 0;
}

/*
 * Adds to `held` the records of the objects in `wanted` (the target's
 * archives the snapshot used does not know) that an older snapshot holds
 * with the same size, newest snapshot first; an adopted object's entry
 * in wanted is set to NULL. `older` snapshots are items[0..count).
 */
static void
adopt_from_snapshots(struct offsite *o, const struct offsite_item *older,
		     size_t count, const struct offsite_item **wanted,
		     size_t wanted_count, struct catalog *held)
{
	struct buf text = BUF_INIT;
	struct cairn_error err;
	size_t left = wanted_count, i, j, k;

	for (i = count; i-- > 0 && left > 0;) {
		struct catalog c = {NULL, 0, 0, 0};

		buf_reset(&text);
		if (read_object(o, &older[i], &text, &err) != 0 ||
		    catalog_parse(&c, text.data, text.length) != 0)
			continue;
		for (j = 0; j < c.count; j++) {
			const struct catalog_record *r = &c.records[j];
			uint64_t size = 0;

			copy_size(r, &size);
			for (k = 0; k < wanted_count; k++) {
				struct catalog_record copy;

				if (wanted[k] == NULL ||
				    strcmp(wanted[k]->path, r->file) != 0 ||
				    wanted[k]->size != size)
					continue;
				offsite_record_clone(&copy, r);
				catalog_add(held, &copy);
				log_info(
					"offsite %s: archive %s taken from the "
					"older snapshot %s",
					o->target->name, r->id, older[i].path);
				wanted[k] = NULL;
				left--;
			}
		}
		catalog_release(&c);
	}
	buf_release(&text);
}

/*
 * The record of an object no snapshot knows, from the archive's own
 * manifest read from the target (an encrypted one with the identity),
 * with the size and SHA-256 the target records for it. 0 or -1.
 */
static int
adopt_from_object(struct offsite *o, const struct offsite_item *item,
		  struct catalog *held, struct cairn_error *err)
{
	static const struct age_recipients unknown = {0};
	const char *name = strrchr(item->path, '/');
	size_t length, suffix = strlen(ARCHIVE_SUFFIX);
	struct catalog_record probe, record;
	struct json_value *facts;
	struct offsite_stat st;
	struct arc *archive = NULL;
	char when[TIMEFMT_RFC3339_SIZE];
	struct timespec now;
	int encrypted;

	name = name != NULL ? name + 1 : item->path;
	length = strlen(name);
	encrypted = !(length > suffix &&
		      strcmp(name + length - suffix, ARCHIVE_SUFFIX) == 0);
	if (encrypted)
		suffix += strlen(ENCRYPTION_SUFFIX);
	if (length < suffix + ARC_ID_SIZE - 1) {
		error_set(err, "its name holds no archive id");
		return -1;
	}
	if (o->ops->stat(o, item->path, &st, err) != 1) {
		if (err->message[0] == '\0')
			error_set(err, "it is gone");
		return -1;
	}
	if (st.sha256[0] == '\0') {
		error_set(err, "the target records no SHA-256 for it");
		return -1;
	}
	memset(&probe, 0, sizeof(probe));
	memcpy(probe.id, name + length - suffix - (ARC_ID_SIZE - 1),
	       ARC_ID_SIZE - 1);
	probe.id[ARC_ID_SIZE - 1] = '\0';
	probe.extra = json_new_object();
	facts = json_new_object();
	if (probe.extra == NULL || facts == NULL ||
	    json_object_set_int64(facts, "size", (int64_t)item->size) != 0 ||
	    json_object_set(probe.extra, "copy", facts) != 0)
		abort();
	if (offsite_arc_open(o, &archive, item->path, &probe, NULL, err) != 0) {
		json_free(probe.extra);
		return -1;
	}
	json_free(probe.extra);
	if (strcmp(archive->manifest.id, probe.id) != 0) {
		error_set(err, "it holds archive %s, not the one its name says",
			  archive->manifest.id);
		arc_close(archive);
		return -1;
	}
	catalog_record_from_manifest(&record, &archive->manifest, item->path,
				     item->size);
	arc_close(archive);
	if (encrypted)
		encryption_record_set(&record, &unknown, st.sha256);
	/* When it was uploaded is not known; it is verified now (its
	 * manifest read, its size and checksum as the target records). */
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_nsec = 0;
	timefmt_rfc3339(now, 0, when, sizeof(when));
	facts = json_new_object();
	if (record.extra == NULL)
		record.extra = json_new_object();
	if (facts == NULL || record.extra == NULL ||
	    json_object_set_int64(facts, "size", (int64_t)item->size) != 0 ||
	    json_object_set_string(facts, "sha256", st.sha256) != 0 ||
	    json_object_set_string(facts, "verified", when) != 0 ||
	    json_object_set(record.extra, "copy", facts) != 0)
		abort();
	if (st.lock_until > 0) {
		struct timespec until = {st.lock_until, 0};

		timefmt_rfc3339(until, 0, when, sizeof(when));
		if (json_object_set_string(facts, "lock-until", when) != 0)
			abort();
	}
	catalog_add(held, &record);
	log_info("offsite %s: archive %s is in no catalogue snapshot: taken "
		 "from its manifest",
		 o->target->name, record.id);
	return 0;
}

/*
 * The target's catalogue from its newest whole snapshot (catalog/ is
 * sorted by time stamp), each record checked against what the target
 * lists: a record whose object is gone or of another size is dropped and
 * reported. An archive on the target the snapshot does not know (a copy
 * whose snapshot was not written, another host's) is taken from an older
 * snapshot, else from its own manifest read from the target; one that
 * cannot be read is reported and left out.
 */
int
cmd_catalog_rebuild_from(struct context *ctx)
{
	const struct offsite_target *t;
	struct repository repo = {NULL};
	struct repo_lock lock = {-1};
	struct catalog held = {NULL, 0, 0, 0};
	struct offsite_listing snapshots = {NULL, 0}, objects = {NULL, 0};
	struct offsite *o = NULL;
	struct buf text = BUF_INIT;
	struct cairn_error err;
	const struct offsite_item **wanted = NULL;
	const char *used = NULL;
	size_t i, used_index = 0, wanted_count = 0, dropped = 0, unknown = 0;
	int status = EXIT_OK, rc;

	t = named_target(ctx, ctx->options->from, &status);
	if (t == NULL)
		return status;
	if (ctx->repository_path == NULL) {
		log_error("no repository: give -r DIR or [repository] path");
		return EXIT_CONFIG;
	}
	/* A new host: the repository is made here, empty. */
	if (repository_open(&repo, ctx->repository_path, 1, &err) != 0) {
		log_error("%s", err.message);
		return EXIT_JOB_FAILED;
	}
	rc = lock_acquire(&lock, repo.path, ctx->options->wait, &err);
	if (rc != 0) {
		log_error("%s", err.message);
		repository_release(&repo);
		return rc > 0 ? EXIT_LOCKED : EXIT_JOB_FAILED;
	}
	if (offsite_open(&o, t, repo.path, &err) != 0 ||
	    o->ops->list(o, "catalog/", &snapshots, &err) != 0 ||
	    o->ops->list(o, "archives/", &objects, &err) != 0) {
		log_error("%s", err.message);
		status = EXIT_JOB_FAILED;
		goto out;
	}
	qsort(snapshots.items, snapshots.count, sizeof(*snapshots.items),
	      compare_paths);
	/* The newest snapshot that reads whole; a damaged one is skipped. */
	for (i = snapshots.count; i-- > 0 && used == NULL;) {
		buf_reset(&text);
		if (read_object(o, &snapshots.items[i], &text, &err) != 0) {
			log_error("%s", err.message);
			status = EXIT_JOB_FAILED;
			goto out;
		}
		if (catalog_parse(&held, text.data, text.length) == 0) {
			used = snapshots.items[i].path;
			used_index = i;
		} else
			log_warning("offsite %s: snapshot %s is damaged; "
				    "trying the one before",
				    t->name, snapshots.items[i].path);
	}
	if (used == NULL) {
		log_error("offsite %s: no whole catalogue snapshot under "
			  "catalog/",
			  t->name);
		status = EXIT_NOT_FOUND;
		goto out;
	}
	for (i = 0; i < held.count;) {
		const struct catalog_record *r = &held.records[i];
		const struct offsite_item *item = listed(&objects, r->file);
		uint64_t size = 0;

		copy_size(r, &size);
		if (item == NULL || item->size != size) {
			log_warning("offsite %s: archive %s (%s) is %s the "
				    "target: left out",
				    t->name, r->id, r->file,
				    item ? "of another size on" : "not on");
			catalog_remove(&held, i);
			dropped++;
			continue;
		}
		i++;
	}
	wanted = xcalloc(objects.count + 1,
			 sizeof(const struct offsite_item *));
	for (i = 0; i < objects.count; i++)
		if (is_archive_object(objects.items[i].path) &&
		    !held_has(&held, objects.items[i].path))
			wanted[wanted_count++] = &objects.items[i];
	adopt_from_snapshots(o, snapshots.items, used_index, wanted,
			     wanted_count, &held);
	for (i = 0; i < wanted_count; i++) {
		if (wanted[i] == NULL)
			continue;
		error_clear(&err);
		if (adopt_from_object(o, wanted[i], &held, &err) == 0)
			continue;
		log_warning("offsite %s: %s is in no catalogue snapshot and "
			    "cannot be read (%s): left out",
			    t->name, wanted[i]->path, err.message);
		unknown++;
	}
	catalog_sort(&held);
	if (offsite_catalog_save(repo.path, t->name, &held, &err) != 0) {
		log_error("%s", err.message);
		status = EXIT_JOB_FAILED;
		goto out;
	}
	log_info("offsite %s: catalogue rebuilt from %s: %zu archives, %zu "
		 "left out, %zu objects unknown",
		 t->name, used, held.count, dropped, unknown);
	if (!ctx->options->json && ctx->options->verbosity >= 0)
		printf("%zu archives on offsite target %s (from %s)\n",
		       held.count, t->name, used);
out:
	free(wanted);
	buf_release(&text);
	offsite_listing_release(&snapshots);
	offsite_listing_release(&objects);
	offsite_close(o);
	catalog_release(&held);
	lock_release(&lock);
	repository_release(&repo);
	return status;
}
