/*
 * Restoring a declarative configuration into a Kong Admin API.
 *
 * The plan compares the archive with what the target holds, kind by kind
 * and id by id: an archived entity absent from the target is created, one
 * that differs is updated, one whose every archived field is equal is
 * unchanged (updated_at aside, which Kong refreshes on every write).
 * Entities of the target that the archive lacks are extra: listed, left
 * alone, and deleted only with --force (children first, before anything
 * is written, so that they cannot hold a unique name the archive needs).
 *
 * A database-backed target is written with PUT by id, in dependency order
 * (see entities.c): PUT creates or replaces, so running the same
 * restore twice changes nothing, and the second run writes nothing at
 * all. Targets are the exception: Kong's PUT (and PATCH)
 * /upstreams/{u}/targets/{t} only updates, answering 404 for a target it
 * does not hold yet (target_endpoint and update_target_cb in
 * kong/api/routes/upstreams.lua), so a missing target is created by POST
 * /upstreams/{u}/targets carrying its id and fields, and one that differs
 * is updated by PUT. That POST updates instead of creating when the
 * upstream already has a target of the same host:port (under another
 * id): such a target is skipped with a warning, unless --force deletes
 * the other one first. Every other kind's PUT upserts (the generated
 * put_entity_endpoint of kong/api/endpoints.lua, which
 * kong/api/routes/consumer_groups.lua's PUT calls as well).
 *
 * A DB-less target cannot be written entity by entity; it gets the
 * whole document through POST /config, which replaces its configuration,
 * so it requires --force when the target holds extra entities and cannot
 * honour --only.
 *
 * Consumer group memberships have no id and no PUT: one is created by
 * POST /consumer_groups/{group}/consumers {"consumer": id} when the target
 * lacks it, deleted by DELETE /consumer_groups/{group}/consumers/
 * {consumer} when it is extra, and otherwise left alone (a membership is
 * nothing but its pair). One whose consumer or group is neither in the
 * target nor restored with it (--only consumer_groups into a target
 * without the consumers) is skipped with a warning rather than failing
 * on Kong's 404.
 *
 * Hashed secrets are the one thing the Admin API cannot restore as they
 * were: Kong keeps a basic-auth password as sha1(password + consumer id),
 * and an OAuth2 client secret of hash_secret: true as a salted PBKDF2
 * hash (kong/plugins/oauth2/secret.lua), and hashes whatever it is sent,
 * so writing the archived hash back would store the hash of a hash and
 * lock the consumer out (and, the salt being random, differ on every
 * run). They are restored exactly through POST /config (the document says
 * _transform: false) or `kong config db_import`; through the Admin API a
 * credential whose hash already matches is left alone or updated by a
 * PATCH without its secret (nor hash_secret, the input of OAuth2's
 * transformation), and any
 * other is skipped with a warning that says so.
 */
#include "kong.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum kong_action {
	KONG_UNCHANGED,
	KONG_CREATE,
	KONG_UPDATE,
	KONG_UPDATE_KEEP_PASSWORD, /* hashed secret: PATCH without it */
	KONG_SKIP,
};

/* At most this many extra entities are named per kind in the log. */
#define KONG_EXTRA_SHOWN 20

struct kong_plan {
	unsigned char *actions[KONG_KIND_COUNT]; /* per archived entity */
	size_t *extras[KONG_KIND_COUNT];	 /* positions in `live` */
	size_t extra_count[KONG_KIND_COUNT];
	struct kong_restore_totals per_kind[KONG_KIND_COUNT];
};

struct kong_id_index {
	const char *id;
	size_t position;
};

static int
kong_id_compare(const void *a, const void *b)
{
	const struct kong_id_index *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static struct kong_id_index *
kong_id_index(const struct json_value *items)
{
	size_t i, count = json_length(items);
	struct kong_id_index *index = calloc(count + 1, sizeof(*index));

	if (index == NULL)
		return NULL;
	for (i = 0; i < count; i++) {
		index[i].id = json_get_string(json_array_at(items, i), "id");
		if (index[i].id == NULL)
			index[i].id = "";
		index[i].position = i;
	}
	qsort(index, count, sizeof(*index), kong_id_compare);
	return index;
}

static const struct json_value *
kong_id_lookup(const struct kong_id_index *index,
	       const struct json_value *items, const char *id)
{
	struct kong_id_index key = {id, 0};
	const struct kong_id_index *found;

	if (id == NULL)
		return NULL;
	found = bsearch(&key, index, json_length(items), sizeof(*index),
			kong_id_compare);
	return found ? json_array_at(items, found->position) : NULL;
}

static void
kong_plan_release(struct kong_plan *plan)
{
	int kind;

	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		free(plan->actions[kind]);
		free(plan->extras[kind]);
	}
}

/*
 * Decides what a credential whose `field` Kong stores hashed can become
 * on a live target.
 */
static enum kong_action
kong_plan_hashed(const struct cairn_host *host, int kind,
		 const struct json_value *archived,
		 const struct json_value *live, const char *field)
{
	char label[512];
	const char *stored, *current;
	int basicauth = strcmp(field, "password") == 0;

	kong_entity_label(kind, archived, label, sizeof(label));
	stored = json_get_string(archived, field);
	current = live ? json_get_string(live, field) : NULL;
	if (live != NULL && stored != NULL && current != NULL &&
	    strcmp(stored, current) == 0)
		return kong_entity_same(archived, live)
			       ? KONG_UNCHANGED
			       : KONG_UPDATE_KEEP_PASSWORD;
	host->log(host, CAIRN_LOG_WARNING,
		  "%s not restored: Kong stores %s hashed and hashes any %s "
		  "it is sent, so the archived hash cannot be written back "
		  "through the Admin API; load kong.json with 'kong config "
		  "db_import' (it says _transform: false) or set a new %s",
		  label,
		  basicauth ? "basic-auth passwords"
			    : "the client_secret of OAuth2 credentials with "
			      "hash_secret",
		  basicauth ? "password" : "secret",
		  basicauth ? "password" : "client_secret");
	return KONG_SKIP;
}

/*
 * A live entity of a POST-created kind (a target) that holds the same
 * host:port under the same upstream as `archived`, but another id; NULL
 * when there is none.
 */
static const struct json_value *
kong_same_key(int kind, const struct json_value *archived,
	      const struct json_value *items)
{
	const char *field = kong_kinds[kind].label;
	const char *fk = kong_kinds[kind].parent_fk;
	const char *key = json_get_string(archived, field);
	const char *parent = json_get_string(json_object_get(archived, fk),
					     "id");
	const struct json_value *entity;
	const char *other, *other_parent;
	size_t i;

	if (key == NULL || parent == NULL)
		return NULL;
	for (i = 0; i < json_length(items); i++) {
		entity = json_array_at(items, i);
		other = json_get_string(entity, field);
		other_parent = json_get_string(json_object_get(entity, fk),
					       "id");
		if (other != NULL && other_parent != NULL &&
		    strcmp(other, key) == 0 &&
		    strcmp(other_parent, parent) == 0)
			return entity;
	}
	return NULL;
}

/* Decides whether a missing target can be created by POST. */
static enum kong_action
kong_plan_post(const struct cairn_host *host,
	       const struct kong_restore_request *request, int kind,
	       const struct json_value *archived,
	       const struct json_value *items)
{
	const struct json_value *other = kong_same_key(kind, archived, items);
	char label[512];

	if (other == NULL || request->force)
		return KONG_CREATE;
	kong_entity_label(kind, archived, label, sizeof(label));
	host->log(host, CAIRN_LOG_WARNING,
		  "%s not restored: the target holds the same %s under "
		  "another id (%s), which Kong's POST would update instead; "
		  "use --force to replace it",
		  label, kong_kinds[kind].label,
		  json_get_string(other, "id") ? json_get_string(other, "id")
					       : "?");
	return KONG_SKIP;
}

/*
 * Whether the entity of `kind` with `id` exists in the target once the
 * kinds being restored are written: in the target already, or archived
 * and restored now.
 */
static int
kong_will_exist(const struct kong_restore_request *request,
		const struct kong_set *live, int kind, const char *id)
{
	const struct json_value *items;
	size_t i;

	if (id == NULL)
		return 0;
	items = live->items[kind];
	for (i = 0; i < json_length(items); i++)
		if (strcmp(json_get_string(json_array_at(items, i), "id"),
			   id) == 0)
			return 1;
	if (!request->wanted[kind])
		return 0;
	items = request->archive->items[kind];
	for (i = 0; i < json_length(items); i++) {
		const char *other = json_get_string(json_array_at(items, i),
						    "id");

		if (other != NULL && strcmp(other, id) == 0)
			return 1;
	}
	return 0;
}

/* Decides whether a membership the target lacks can be created. */
static enum kong_action
kong_plan_member(const struct cairn_host *host,
		 const struct kong_restore_request *request,
		 const struct kong_set *live, const struct json_value *member,
		 size_t *skipped)
{
	int groups = kong_kind_find("consumer_groups");
	int consumers = kong_kind_find("consumers");
	const char *group, *consumer;
	char label[512];

	group = json_get_string(json_object_get(member, "consumer_group"),
				"id");
	consumer = json_get_string(json_object_get(member, "consumer"), "id");
	if (kong_will_exist(request, live, groups, group) &&
	    kong_will_exist(request, live, consumers, consumer))
		return KONG_CREATE;
	if ((*skipped)++ < KONG_EXTRA_SHOWN) {
		kong_entity_label(kong_kind_find("consumer_group_consumers"),
				  member, label, sizeof(label));
		host->log(host, CAIRN_LOG_WARNING,
			  "%s not restored: the target has no %s '%s' and "
			  "it is not being restored (restore consumers and "
			  "consumer_groups with it)",
			  label,
			  kong_will_exist(request, live, groups, group)
				  ? "consumer"
				  : "consumer group",
			  kong_will_exist(request, live, groups, group)
				  ? consumer
				  : group);
	}
	return KONG_SKIP;
}

static int
kong_plan_kind(const struct cairn_host *host,
	       const struct kong_restore_request *request,
	       const struct kong_set *live, int kind, int dbless,
	       struct kong_plan *plan, struct cairn_error *err)
{
	const struct json_value *archived = request->archive->items[kind];
	const struct json_value *items = live->items[kind];
	struct kong_restore_totals *totals = &plan->per_kind[kind];
	struct kong_id_index *live_index, *archive_index;
	size_t i, count = json_length(archived);
	const struct json_value *entity, *match;
	enum kong_action action;
	size_t unreferenced = 0;

	plan->actions[kind] = calloc(count + 1, 1);
	plan->extras[kind] = calloc(json_length(items) + 1, sizeof(size_t));
	live_index = kong_id_index(items);
	archive_index = kong_id_index(archived);
	if (plan->actions[kind] == NULL || plan->extras[kind] == NULL ||
	    live_index == NULL || archive_index == NULL) {
		free(live_index);
		free(archive_index);
		return kong_error(err, "out of memory");
	}
	for (i = 0; i < count; i++) {
		entity = json_array_at(archived, i);
		match = kong_id_lookup(live_index, items,
				       json_get_string(entity, "id"));
		if (!dbless && kong_hashed_secret(kind, entity) != NULL)
			action = kong_plan_hashed(host, kind, entity, match,
						  kong_hashed_secret(kind,
								     entity));
		else if (!dbless && match == NULL &&
			 kong_kinds[kind].membership)
			action = kong_plan_member(host, request, live, entity,
						  &unreferenced);
		else if (!dbless && match == NULL &&
			 kong_kinds[kind].post_creates)
			action = kong_plan_post(host, request, kind, entity,
						items);
		else if (match == NULL)
			action = KONG_CREATE;
		else if (kong_entity_same(entity, match))
			action = KONG_UNCHANGED;
		else
			action = KONG_UPDATE;
		plan->actions[kind][i] = (unsigned char)action;
		switch (action) {
		case KONG_CREATE:
			totals->created++;
			break;
		case KONG_UPDATE:
		case KONG_UPDATE_KEEP_PASSWORD:
			totals->updated++;
			break;
		case KONG_SKIP:
			totals->skipped++;
			break;
		default:
			totals->unchanged++;
		}
	}
	for (i = 0; i < json_length(items); i++) {
		entity = json_array_at(items, i);
		if (kong_id_lookup(archive_index, archived,
				   json_get_string(entity, "id")) == NULL)
			plan->extras[kind][plan->extra_count[kind]++] = i;
	}
	totals->extra = plan->extra_count[kind];
	if (unreferenced > KONG_EXTRA_SHOWN)
		host->log(host, CAIRN_LOG_WARNING,
			  "... and %zu more %s not restored for the same "
			  "reason",
			  unreferenced - KONG_EXTRA_SHOWN,
			  kong_kinds[kind].name);
	free(live_index);
	free(archive_index);
	return 0;
}

static void
kong_plan_log(const struct cairn_host *host,
	      const struct kong_restore_request *request,
	      const struct kong_set *live, const struct kong_plan *plan,
	      int kind)
{
	const struct kong_restore_totals *t = &plan->per_kind[kind];
	char label[512];
	size_t i;

	if (t->created + t->updated + t->unchanged + t->extra + t->skipped == 0)
		return;
	host->log(host, CAIRN_LOG_INFO,
		  "%s: %zu %s, %zu %s, %zu unchanged, %zu extra in the "
		  "target%s%s",
		  kong_kinds[kind].name, t->created,
		  request->dry_run ? "to create" : "created", t->updated,
		  request->dry_run ? "to update" : "updated", t->unchanged,
		  t->extra,
		  t->extra == 0 ? ""
		  : request->force
			  ? (request->dry_run ? " (to delete)" : " (deleted)")
			  : " (left alone)",
		  t->skipped ? ", some skipped" : "");
	for (i = 0; i < plan->extra_count[kind] && i < KONG_EXTRA_SHOWN; i++) {
		kong_entity_label(kind,
				  json_array_at(live->items[kind],
						plan->extras[kind][i]),
				  label, sizeof(label));
		host->log(host, CAIRN_LOG_INFO, "extra in the target: %s",
			  label);
	}
	if (plan->extra_count[kind] > KONG_EXTRA_SHOWN)
		host->log(host, CAIRN_LOG_INFO, "... and %zu more extra %s",
			  plan->extra_count[kind] - KONG_EXTRA_SHOWN,
			  kong_kinds[kind].name);
}

/* A membership: POST {"consumer": id} to its group's consumers. */
static int
kong_write_member(struct kong_client *client, const struct json_value *member,
		  const char *label, struct cairn_error *err)
{
	char path[512], reason[CAIRN_ERROR_MESSAGE_SIZE];
	struct json_value *body, *response = NULL;
	const char *group, *consumer;
	char *text = NULL;
	size_t length;
	int rc = -1;

	group = json_get_string(json_object_get(member, "consumer_group"),
				"id");
	consumer = json_get_string(json_object_get(member, "consumer"), "id");
	if (group == NULL || consumer == NULL ||
	    strpbrk(group, "/?#%& ") != NULL)
		return kong_error(err, "cannot restore %s: bad id", label);
	snprintf(path, sizeof(path), "/consumer_groups/%s/consumers", group);
	body = json_new_object();
	if (body == NULL ||
	    json_object_set_string(body, "consumer", consumer) ||
	    (text = json_serialize(body, JSON_COMPACT, &length)) == NULL) {
		kong_error(err, "out of memory");
		goto out;
	}
	if (kong_client_call(client, "POST", path, text, length, 0, &response,
			     err) != 0) {
		memcpy(reason, err->message, sizeof(reason));
		kong_error(err, "cannot restore %s: %s", label, reason);
		goto out;
	}
	rc = 0;
out:
	json_free(response);
	json_free(body);
	free(text);
	return rc;
}

/*
 * The request that writes one entity: PUT by id (it creates or replaces),
 * PATCH for a credential kept with its hashed secret, and for a
 * kind whose PUT only updates (targets), POST to the collection to create
 * and PUT without the id (it is in the path) to update.
 */
static int
kong_write_request(int kind, const struct json_value *entity,
		   enum kong_action action, struct json_value *body,
		   const char **method, char *path, size_t size)
{
	*method = action == KONG_UPDATE_KEEP_PASSWORD ? "PATCH" : "PUT";
	if (!kong_kinds[kind].post_creates)
		return kong_entity_path(kind, entity, path, size);
	if (action == KONG_CREATE) {
		*method = "POST";
		return kong_collection_path(kind, entity, path, size);
	}
	json_free(json_object_take(body, "id"));
	return kong_entity_path(kind, entity, path, size);
}

/* One write; the error names the entity, the URL and Kong's message. */
static int
kong_write_entity(struct kong_client *client, int kind,
		  const struct json_value *entity, enum kong_action action,
		  struct cairn_error *err)
{
	char path[512], label[512], reason[CAIRN_ERROR_MESSAGE_SIZE];
	struct json_value *body = NULL, *response = NULL;
	const char *method;
	char *text = NULL;
	size_t length;
	int rc = -1;

	kong_entity_label(kind, entity, label, sizeof(label));
	if (kong_kinds[kind].membership)
		return kong_write_member(client, entity, label, err);
	body = json_clone(entity);
	if (body == NULL)
		return kong_error(err, "out of memory");
	if (kong_write_request(kind, entity, action, body, &method, path,
			       sizeof(path)) != 0) {
		kong_error(err, "cannot restore %s: bad id", label);
		goto out;
	}
	/* Kong sets updated_at itself on every write. */
	json_free(json_object_take(body, "updated_at"));
	if (action == KONG_UPDATE_KEEP_PASSWORD) {
		json_free(json_object_take(body,
					   kong_hashed_secret(kind, entity)));
		json_free(json_object_take(body, "hash_secret"));
	}
	text = json_serialize(body, JSON_COMPACT, &length);
	if (text == NULL) {
		kong_error(err, "out of memory");
		goto out;
	}
	if (kong_client_call(client, method, path, text, length, 0, &response,
			     err) != 0) {
		memcpy(reason, err->message, sizeof(reason));
		kong_error(err, "cannot restore %s: %s", label, reason);
		goto out;
	}
	rc = 0;
out:
	json_free(response);
	json_free(body);
	free(text);
	return rc;
}

static int
kong_delete_entity(struct kong_client *client, int kind,
		   const struct json_value *entity, struct cairn_error *err)
{
	char path[512], label[512], reason[CAIRN_ERROR_MESSAGE_SIZE];
	struct json_value *response = NULL;
	int rc;

	kong_entity_label(kind, entity, label, sizeof(label));
	if (kong_entity_path(kind, entity, path, sizeof(path)) != 0)
		return kong_error(err, "cannot delete %s: bad id", label);
	/* 404: already gone with its parent (ON DELETE CASCADE). */
	rc = kong_client_call(client, "DELETE", path, NULL, 0, 1, &response,
			      err);
	json_free(response);
	if (rc < 0) {
		memcpy(reason, err->message, sizeof(reason));
		return kong_error(err, "cannot delete extra %s: %s", label,
				  reason);
	}
	return 0;
}

static int
kong_apply(const struct cairn_host *host, struct kong_client *client,
	   const struct kong_restore_request *request,
	   const struct kong_set *live, const struct kong_plan *plan,
	   struct kong_restore_totals *totals, struct cairn_error *err)
{
	const struct json_value *archived;
	int kind;
	size_t i, done;

	if (request->force) {
		for (kind = KONG_KIND_COUNT - 1; kind >= 0; kind--) {
			for (i = 0; i < plan->extra_count[kind]; i++) {
				if (kong_delete_entity(
					    client, kind,
					    json_array_at(live->items[kind],
							  plan->extras[kind]
								      [i]),
					    err) != 0)
					return -1;
				totals->deleted++;
			}
		}
	}
	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		if (plan->actions[kind] == NULL)
			continue;
		archived = request->archive->items[kind];
		done = 0;
		for (i = 0; i < json_length(archived); i++) {
			enum kong_action action = plan->actions[kind][i];

			if (action == KONG_UNCHANGED || action == KONG_SKIP)
				continue;
			if (kong_write_entity(client, kind,
					      json_array_at(archived, i),
					      action, err) != 0)
				return -1;
			if (host->progress != NULL && (++done % 100) == 0)
				host->progress(host, kong_kinds[kind].name,
					       (int64_t)done,
					       (int64_t)json_length(archived));
		}
	}
	return 0;
}

/* DB-less: the whole document in one POST /config. */
static int
kong_apply_dbless(struct kong_client *client,
		  const struct kong_restore_request *request,
		  const struct kong_restore_totals *totals,
		  struct cairn_error *err)
{
	struct json_value *response = NULL;
	char reason[CAIRN_ERROR_MESSAGE_SIZE];
	int kind;

	for (kind = 0; kind < KONG_KIND_COUNT; kind++)
		if (!request->wanted[kind])
			return kong_error(err,
					  "'%s' runs without a database: "
					  "POST /config replaces its whole "
					  "configuration, so --only cannot "
					  "be honoured",
					  client->display);
	if (totals->extra > 0 && !request->force)
		return kong_error(err,
				  "'%s' runs without a database and holds "
				  "%zu entities the archive does not have: "
				  "POST /config would remove them; use "
				  "--force to replace its configuration",
				  client->display, totals->extra);
	if (totals->created + totals->updated + totals->extra == 0)
		return 0;
	if (kong_client_call(client, "POST", "/config", request->document,
			     request->document_length, 0, &response,
			     err) != 0) {
		memcpy(reason, err->message, sizeof(reason));
		return kong_error(err, "cannot load the configuration: %s",
				  reason);
	}
	json_free(response);
	return 0;
}

static void
kong_check_version(const struct cairn_host *host, const char *archived,
		   const char *target, const char *url)
{
	if (archived == NULL || target == NULL)
		return;
	if (strtol(archived, NULL, 10) != strtol(target, NULL, 10))
		host->log(host, CAIRN_LOG_WARNING,
			  "the archive comes from Kong %s and '%s' runs "
			  "Kong %s: entities may not match its schema",
			  archived, url, target);
}

int
kong_restore_run(const struct cairn_host *host,
		 const struct kong_restore_request *request,
		 struct kong_restore_totals *totals, struct cairn_error *err)
{
	struct kong_client client;
	struct kong_set live;
	struct kong_plan plan;
	struct json_value *info = NULL;
	const char *version, *database;
	int fetched[KONG_KIND_COUNT];
	int kind, dbless, rc = -1;

	memset(totals, 0, sizeof(*totals));
	memset(&plan, 0, sizeof(plan));
	if (kong_set_init(&live) != 0)
		return kong_error(err, "out of memory");
	if (kong_client_open(&client, request->config, host, request->target,
			     err) != 0)
		goto out;
	if (kong_client_call(&client, "GET", "/", NULL, 0, 0, &info, err))
		goto out;
	version = json_get_string(info, "version");
	database = json_get_string(json_object_get(info, "configuration"),
				   "database");
	dbless = database != NULL && strcmp(database, "off") == 0;
	kong_check_version(host, request->archived_version, version,
			   client.display);

	/* Memberships are planned against the consumers and groups. */
	memcpy(fetched, request->wanted, sizeof(fetched));
	if (fetched[kong_kind_find("consumer_group_consumers")]) {
		fetched[kong_kind_find("consumers")] = 1;
		fetched[kong_kind_find("consumer_groups")] = 1;
	}
	if (kong_fetch(&client, request->config->select_tags, fetched, &live,
		       err) != 0)
		goto out;
	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		if (!request->wanted[kind])
			continue;
		if (!live.present[kind]) {
			if (kong_set_count(request->archive, kind) > 0) {
				kong_error(err,
					   "'%s' has no '%s' entities "
					   "(older Kong or plugin not "
					   "installed): cannot restore %zu "
					   "of them",
					   client.display,
					   kong_kinds[kind].path,
					   kong_set_count(request->archive,
							  kind));
				goto out;
			}
			continue;
		}
		if (kong_plan_kind(host, request, &live, kind, dbless, &plan,
				   err) != 0)
			goto out;
		totals->created += plan.per_kind[kind].created;
		totals->updated += plan.per_kind[kind].updated;
		totals->unchanged += plan.per_kind[kind].unchanged;
		totals->extra += plan.per_kind[kind].extra;
		totals->skipped += plan.per_kind[kind].skipped;
		kong_plan_log(host, request, &live, &plan, kind);
	}
	if (request->dry_run) {
		rc = 0;
		goto out;
	}
	if (dbless)
		rc = kong_apply_dbless(&client, request, totals, err);
	else
		rc = kong_apply(host, &client, request, &live, &plan, totals,
				err);
	if (rc == 0 && dbless && request->force)
		totals->deleted = totals->extra;
out:
	kong_plan_release(&plan);
	json_free(info);
	kong_set_release(&live);
	kong_client_close(&client);
	return rc;
}
