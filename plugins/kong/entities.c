/*
 * Kong 3.x's entity kinds and the declarative document.
 *
 * The kinds are listed in restore order: certificates, CA certificates,
 * consumers, consumer groups, the consumers' memberships of the groups,
 * vaults and key sets first; then SNIs,
 * services, upstreams, keys and credentials, which reference them; then
 * routes and targets; plugins last, since they may reference services,
 * routes, consumers and consumer groups.
 *
 * Reading a kind follows Kong's pagination (kong/api/endpoints.lua): ask
 * for size=1000, follow the `next` link until it is null. Kong's nested
 * collections (/upstreams/{id}/targets) drop `size` and `tags` from their
 * `next` link, so they are put back. Targets have no top-level collection
 * in Kong 3.x: they are read through each upstream.
 *
 * Memberships (consumer_group_consumers) have no collection either
 * (generate_admin_api = false): GET /consumer_groups/{id}/consumers lists
 * the consumers of one group, page by page in Kong 3.4 and later, all in
 * one {"consumers": [...]} answer before (kong/api/routes/
 * consumer_groups.lua). The document holds them as `kong config
 * db_export` writes them and db_import and POST /config read them: a
 * top-level `consumer_group_consumers` list of {consumer_group, consumer}
 * id pairs. decK's own form, `groups: [{name: ...}]` in a consumer, is
 * read too.
 *
 * The document is what `kong config db_export` writes and `kong config
 * db_import`, POST /config and decK read: `_format_version: "3.0"`,
 * `_transform: false` (credentials are exported as stored, so a basic-auth
 * password hash must not be hashed again on import), entities with their
 * ids. Children are nested under their parent (routes in services, SNIs in
 * certificates, targets in upstreams, keys in key sets, credentials in
 * consumers), which both Kong and decK read, and which keeps the SNIs of a
 * certificate in one place only; the certificate's own `snis` name list of
 * the Admin API is dropped, since restoring it as well would create the
 * SNIs twice. Other foreign keys (a plugin's service, a service's client
 * certificate) are written as the id string, as Kong's export does.
 */
#include "kong.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KONG_PAGE_SIZE "1000"
/* A `next` chain longer than this is a server going round in circles. */
#define KONG_MAX_PAGES 100000

const struct kong_kind kong_kinds[KONG_KIND_COUNT] = {
	{"certificates", "certificates", NULL, NULL, {NULL}, NULL, 0, 0, 0},
	{"ca_certificates",
	 "ca_certificates",
	 NULL,
	 NULL,
	 {NULL},
	 NULL,
	 0,
	 0,
	 0},
	{"consumers", "consumers", NULL, NULL, {NULL}, "username", 0, 0, 0},
	{"consumer_groups",
	 "consumer_groups",
	 NULL,
	 NULL,
	 {NULL},
	 "name",
	 0,
	 0,
	 0},
	{"consumer_group_consumers",
	 "consumer_group_consumers",
	 NULL,
	 NULL,
	 {"consumer_group", "consumer", NULL},
	 NULL,
	 0,
	 1,
	 0},
	{"vaults", "vaults", NULL, NULL, {NULL}, "prefix", 0, 0, 0},
	{"key_sets", "key-sets", NULL, NULL, {NULL}, "name", 0, 0, 0},
	{"snis",
	 "snis",
	 "certificates",
	 "certificate",
	 {NULL},
	 "name",
	 0,
	 0,
	 0},
	{"services",
	 "services",
	 NULL,
	 NULL,
	 {"client_certificate", NULL},
	 "name",
	 0,
	 0,
	 0},
	{"upstreams",
	 "upstreams",
	 NULL,
	 NULL,
	 {"client_certificate", NULL},
	 "name",
	 0,
	 0,
	 0},
	{"keys", "keys", "key_sets", "set", {NULL}, "name", 0, 0, 0},
	{"keyauth_credentials",
	 "key-auths",
	 "consumers",
	 "consumer",
	 {NULL},
	 NULL,
	 0,
	 0,
	 0},
	{"basicauth_credentials",
	 "basic-auths",
	 "consumers",
	 "consumer",
	 {NULL},
	 "username",
	 0,
	 0,
	 0},
	{"jwt_secrets", "jwts", "consumers", "consumer", {NULL}, NULL, 0, 0, 0},
	{"hmacauth_credentials",
	 "hmac-auths",
	 "consumers",
	 "consumer",
	 {NULL},
	 "username",
	 0,
	 0,
	 0},
	{"oauth2_credentials",
	 "oauth2",
	 "consumers",
	 "consumer",
	 {NULL},
	 "name",
	 0,
	 0,
	 0},
	{"acls", "acls", "consumers", "consumer", {NULL}, "group", 0, 0, 0},
	{"routes", "routes", "services", "service", {NULL}, "name", 0, 0, 0},
	{"targets",
	 "targets",
	 "upstreams",
	 "upstream",
	 {NULL},
	 "target",
	 1,
	 0,
	 1},
	{"plugins",
	 "plugins",
	 NULL,
	 NULL,
	 {"service", "route", "consumer", "consumer_group", NULL},
	 "name",
	 0,
	 0,
	 0},
};

int
kong_kind_find(const char *name)
{
	int i;

	for (i = 0; i < KONG_KIND_COUNT; i++)
		if (strcmp(kong_kinds[i].name, name) == 0 ||
		    strcmp(kong_kinds[i].path, name) == 0)
			return i;
	return -1;
}

int
kong_set_init(struct kong_set *set)
{
	int i;

	memset(set, 0, sizeof(*set));
	for (i = 0; i < KONG_KIND_COUNT; i++) {
		set->items[i] = json_new_array();
		if (set->items[i] == NULL) {
			kong_set_release(set);
			return -1;
		}
	}
	return 0;
}

void
kong_set_release(struct kong_set *set)
{
	int i;

	for (i = 0; i < KONG_KIND_COUNT; i++)
		json_free(set->items[i]);
	memset(set, 0, sizeof(*set));
}

size_t
kong_set_count(const struct kong_set *set, int kind)
{
	return json_length(set->items[kind]);
}

int
kong_select_kinds(const char *const *only, size_t count, int *wanted,
		  struct cairn_error *err)
{
	size_t i;
	int kind;

	for (kind = 0; kind < KONG_KIND_COUNT; kind++)
		wanted[kind] = count == 0;
	for (i = 0; i < count; i++) {
		kind = kong_kind_find(only[i]);
		if (kind < 0)
			return kong_error(err,
					  "unknown Kong entity kind '%s' "
					  "(kinds: services, routes, plugins, "
					  "consumers, consumer_groups, "
					  "consumer_group_consumers, "
					  "key-auths, ... or their schema "
					  "names)",
					  only[i]);
		wanted[kind] = 1;
		/* A group's members go with the group. */
		if (strcmp(kong_kinds[kind].name, "consumer_groups") == 0)
			wanted[kong_kind_find("consumer_group_consumers")] = 1;
	}
	return 0;
}

/* Appends "&size=..." and "&tags=..." to a nested `next` link lacking them. */
static int
kong_fix_next(const char *next, const char *tags, char *out, size_t size)
{
	const char *query = strchr(next, '?');
	int n;

	n = snprintf(out, size, "%s%s%s%s%s", next,
		     query && strstr(query, "size=") ? "" : "&size=",
		     query && strstr(query, "size=") ? "" : KONG_PAGE_SIZE,
		     tags && !(query && strstr(query, "tags=")) ? "&tags=" : "",
		     tags && !(query && strstr(query, "tags=")) ? tags : "");
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* {"id": id}, for a foreign key. */
static struct json_value *
kong_reference(const char *id)
{
	struct json_value *object = json_new_object();

	if (object == NULL || json_object_set_string(object, "id", id)) {
		json_free(object);
		return NULL;
	}
	return object;
}

/* A membership as held in memory; NULL when out of memory. */
static struct json_value *
kong_membership_new(const char *group, const char *consumer)
{
	struct json_value *member = json_new_object();
	char id[512];

	snprintf(id, sizeof(id), "%s:%s", group, consumer);
	if (member == NULL || json_object_set_string(member, "id", id) ||
	    json_object_set(member, "consumer_group", kong_reference(group)) ||
	    json_object_set(member, "consumer", kong_reference(consumer))) {
		json_free(member);
		return NULL;
	}
	return member;
}

/* The consumers of one page of a group's members, as memberships. */
static int
kong_take_members(const char *group, const struct json_value *page,
		  struct json_value *into, size_t *count,
		  struct cairn_error *err)
{
	const struct json_value *data = json_object_get(page, "data");
	struct json_value *member;
	const char *consumer;
	size_t i;

	/* Before Kong 3.4: {"consumers": [...]}, no member when empty. */
	if (data == NULL)
		data = json_object_get(page, "consumers");
	if (data == NULL || json_type(data) == JSON_NULL)
		return 0;
	if (json_type(data) != JSON_ARRAY)
		return kong_error(err, "answer without a 'data' array");
	for (i = 0; i < json_length(data); i++) {
		consumer = json_get_string(json_array_at(data, i), "id");
		if (consumer == NULL)
			return kong_error(err, "a consumer without an id");
		member = kong_membership_new(group, consumer);
		if (member == NULL || json_array_append(into, member))
			return kong_error(err, "out of memory");
		(*count)++;
	}
	return 0;
}

/*
 * Takes the entities of one page into `into`, cleaned for the document.
 * `owner` is the consumer group whose members the page lists.
 */
static int
kong_take_page(int kind, const char *owner, const struct json_value *page,
	       struct json_value *into, size_t *count, struct cairn_error *err)
{
	const struct json_value *data = json_object_get(page, "data");
	struct json_value *copy;
	size_t i;

	if (kong_kinds[kind].membership)
		return kong_take_members(owner, page, into, count, err);
	if (json_type(data) != JSON_ARRAY)
		return kong_error(err, "answer without a 'data' array");
	for (i = 0; i < json_length(data); i++) {
		copy = json_clone(json_array_at(data, i));
		if (copy == NULL || json_type(copy) != JSON_OBJECT ||
		    json_get_string(copy, "id") == NULL) {
			json_free(copy);
			return kong_error(err, "%s entity without an id",
					  kong_kinds[kind].name);
		}
		/* Workspace ids belong to the source node. */
		json_free(json_object_take(copy, "ws_id"));
		if (strcmp(kong_kinds[kind].name, "certificates") == 0)
			json_free(json_object_take(copy, "snis"));
		if (json_array_append(into, copy) != 0)
			return kong_error(err, "out of memory");
		(*count)++;
	}
	return 0;
}

/* Reads one collection, page after page. 1 when it does not exist. */
static int
kong_fetch_collection(struct kong_client *client, int kind, const char *path,
		      const char *tags, const char *owner,
		      struct json_value *into, struct cairn_error *err)
{
	char current[4096], next_path[4096];
	struct json_value *page = NULL;
	const char *next;
	size_t count = 0, pages = 0;
	int n, rc;

	n = snprintf(current, sizeof(current), "%s?size=%s%s%s", path,
		     KONG_PAGE_SIZE, tags ? "&tags=" : "", tags ? tags : "");
	if (n < 0 || (size_t)n >= sizeof(current))
		return kong_error(err, "path '%s' is too long", path);
	for (;;) {
		rc = kong_client_call(client, "GET", current, NULL, 0, 1, &page,
				      err);
		if (rc != 0) {
			json_free(page);
			if (rc == 1 && pages == 0)
				return 1;
			if (rc == 1) {
				kong_client_url(client, current, next_path,
						sizeof(next_path));
				kong_error(err,
					   "'%s' answered HTTP 404 in "
					   "the middle of a listing",
					   next_path);
			}
			return -1;
		}
		if (kong_take_page(kind, owner, page, into, &count, err) != 0) {
			char shown[4096];
			char reason[CAIRN_ERROR_MESSAGE_SIZE];

			memcpy(reason, err->message, sizeof(reason));
			kong_client_url(client, current, shown, sizeof(shown));
			json_free(page);
			return kong_error(err, "'%s': %s", shown, reason);
		}
		pages++;
		next = json_get_string(page, "next");
		if (next == NULL || next[0] == '\0')
			break;
		if (next[0] != '/' || pages >= KONG_MAX_PAGES ||
		    kong_fix_next(next, tags, next_path, sizeof(next_path))) {
			kong_client_url(client, current, current,
					sizeof(current));
			json_free(page);
			return kong_error(err,
					  "'%s' answered an unusable "
					  "'next' link",
					  current);
		}
		/* Kong's links are relative to the root, not the workspace. */
		memcpy(current, next_path, sizeof(current));
		json_free(page);
		page = NULL;
	}
	json_free(page);
	if (client->host->progress != NULL)
		client->host->progress(client->host, kong_kinds[kind].name,
				       (int64_t)count, (int64_t)count);
	return 0;
}

/* An id index of one kind, for finding parents. */
struct kong_index_entry {
	const char *id;
	size_t position;
};

static int
kong_index_compare(const void *a, const void *b)
{
	const struct kong_index_entry *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static struct kong_index_entry *
kong_index_build(const struct json_value *items)
{
	size_t i, count = json_length(items);
	struct kong_index_entry *index;

	index = calloc(count + 1, sizeof(*index));
	if (index == NULL)
		return NULL;
	for (i = 0; i < count; i++) {
		index[i].id = json_get_string(json_array_at(items, i), "id");
		index[i].position = i;
	}
	qsort(index, count, sizeof(*index), kong_index_compare);
	return index;
}

static long
kong_index_find(const struct kong_index_entry *index, size_t count,
		const char *id)
{
	struct kong_index_entry key = {id, 0};
	const struct kong_index_entry *found;

	if (id == NULL)
		return -1;
	found = bsearch(&key, index, count, sizeof(*index), kong_index_compare);
	return found ? (long)found->position : -1;
}

/*
 * Targets through each upstream, memberships through each consumer group:
 * `kind`'s entities, read under every entity of the kind it is listed
 * under.
 */
static int
kong_fetch_through(struct kong_client *client, const char *tags, int kind,
		   struct kong_set *set, struct cairn_error *err)
{
	const struct kong_kind *k = &kong_kinds[kind];
	int membership = k->membership;
	int parent = kong_kind_find(membership ? "consumer_groups" : k->parent);
	struct json_value *list = NULL;
	const struct json_value *source;
	char path[512];
	size_t i;
	int rc = -1;

	source = set->items[parent];
	if (!set->present[parent]) {
		/* Not asked for: read them just for their ids. */
		list = json_new_array();
		if (list == NULL)
			return kong_error(err, "out of memory");
		snprintf(path, sizeof(path), "/%s", kong_kinds[parent].path);
		rc = kong_fetch_collection(client, parent, path, NULL, NULL,
					   list, err);
		if (rc != 0)
			goto out;
		source = list;
	}
	for (i = 0; i < json_length(source); i++) {
		const char *id = json_get_string(json_array_at(source, i),
						 "id");

		snprintf(path, sizeof(path), "/%s/%s/%s",
			 kong_kinds[parent].path, id,
			 membership ? "consumers" : k->path);
		/* A group's members are consumers: no tags of its own. */
		rc = kong_fetch_collection(client, kind, path,
					   membership ? NULL : tags, id,
					   set->items[kind], err);
		if (rc != 0)
			goto out;
	}
	set->present[kind] = 1;
	rc = 0;
out:
	json_free(list);
	return rc;
}

/*
 * With a tags filter, the memberships of consumers the filter left out
 * are dropped: the document must not name consumers it does not hold.
 */
static int
kong_filter_members(struct kong_set *set, int kind, struct cairn_error *err)
{
	int consumers = kong_kind_find("consumers");
	const struct json_value *items = set->items[kind], *member;
	struct kong_index_entry *index;
	struct json_value *kept;
	size_t i, count = json_length(set->items[consumers]);

	if (!set->present[consumers])
		return 0;
	index = kong_index_build(set->items[consumers]);
	kept = json_new_array();
	if (index == NULL || kept == NULL) {
		free(index);
		json_free(kept);
		return kong_error(err, "out of memory");
	}
	for (i = 0; i < json_length(items); i++) {
		member = json_array_at(items, i);
		if (kong_index_find(index, count,
				    json_get_string(json_object_get(member,
								    "consumer"),
						    "id")) < 0)
			continue;
		if (json_array_append(kept, json_clone(member))) {
			free(index);
			json_free(kept);
			return kong_error(err, "out of memory");
		}
	}
	free(index);
	json_free(set->items[kind]);
	set->items[kind] = kept;
	return 0;
}

int
kong_fetch(struct kong_client *client, const char *tags, const int *wanted,
	   struct kong_set *set, struct cairn_error *err)
{
	char path[128];
	int kind, rc;

	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		if (wanted != NULL && !wanted[kind])
			continue;
		if (kong_kinds[kind].through_parent ||
		    kong_kinds[kind].membership) {
			rc = kong_fetch_through(client, tags, kind, set, err);
			if (rc == 0 && kong_kinds[kind].membership &&
			    tags != NULL &&
			    kong_filter_members(set, kind, err) != 0)
				return -1;
		} else {
			snprintf(path, sizeof(path), "/%s",
				 kong_kinds[kind].path);
			rc = kong_fetch_collection(client, kind, path, tags,
						   NULL, set->items[kind], err);
		}
		if (rc < 0)
			return -1;
		if (rc == 1) {
			client->host->log(client->host, CAIRN_LOG_INFO,
					  "'%s' has no '%s' entities "
					  "(older Kong or plugin not "
					  "installed): skipped",
					  client->display,
					  kong_kinds[kind].path);
			continue;
		}
		set->present[kind] = 1;
	}
	return 0;
}

/* The id of a foreign key as the Admin API gives it, or NULL. */
static const char *
kong_foreign_id(const struct json_value *entity, const char *field)
{
	const struct json_value *value = json_object_get(entity, field);

	if (json_type(value) == JSON_STRING)
		return json_string(value);
	return json_get_string(value, "id");
}

/* A copy of an entity for the document: foreign keys as id strings. */
static struct json_value *
kong_document_entity(int kind, const struct json_value *entity, int nested)
{
	struct json_value *copy = json_clone(entity);
	const struct kong_kind *k = &kong_kinds[kind];
	const char *id;
	size_t i;

	if (copy == NULL)
		return NULL;
	/* Kong's memberships have no id: the pair is their key. */
	if (k->membership)
		json_free(json_object_take(copy, "id"));
	if (nested)
		json_free(json_object_take(copy, k->parent_fk));
	else if (k->parent_fk != NULL &&
		 (id = kong_foreign_id(entity, k->parent_fk)) != NULL &&
		 json_object_set_string(copy, k->parent_fk, id) != 0)
		goto fail;
	for (i = 0; k->foreign[i] != NULL; i++) {
		id = kong_foreign_id(entity, k->foreign[i]);
		if (id != NULL &&
		    json_object_set_string(copy, k->foreign[i], id) != 0)
			goto fail;
	}
	return copy;
fail:
	json_free(copy);
	return NULL;
}

/*
 * Builds the document arrays of every kind: `out[kind]` holds the
 * top-level entities; children with a parent in the set go into their
 * parent's copy.
 */
struct json_value *
kong_document_build(const struct kong_set *set)
{
	struct json_value *document, *copies[KONG_KIND_COUNT] = {NULL};
	struct kong_index_entry *index = NULL;
	int kind, parent;
	size_t i;

	document = json_new_object();
	if (document == NULL ||
	    json_object_set_string(document, "_format_version", "3.0") ||
	    json_object_set(document, "_transform", json_new_bool(0)))
		goto fail;
	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		copies[kind] = json_new_array();
		if (copies[kind] == NULL)
			goto fail;
	}
	/*
	 * Parents are all top-level kinds listed before their children, so
	 * copies[parent] holds every parent, in the order of the set.
	 */
	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		const struct json_value *items = set->items[kind];

		parent = kong_kinds[kind].parent
				 ? kong_kind_find(kong_kinds[kind].parent)
				 : -1;
		free(index);
		index = NULL;
		if (parent >= 0) {
			index = kong_index_build(set->items[parent]);
			if (index == NULL)
				goto fail;
		}
		for (i = 0; i < json_length(items); i++) {
			const struct json_value *entity = json_array_at(items,
									i);
			struct json_value *copy, *holder, *list;
			long at = -1;

			if (parent >= 0)
				at = kong_index_find(
					index, json_length(set->items[parent]),
					kong_foreign_id(entity,
							kong_kinds[kind]
								.parent_fk));
			copy = kong_document_entity(kind, entity, at >= 0);
			if (copy == NULL)
				goto fail;
			if (at < 0) {
				if (json_array_append(copies[kind], copy))
					goto fail;
				continue;
			}
			/* The parent's copy sits at the same position. */
			holder = json_array_at_mutable(copies[parent],
						       (size_t)at);
			list = json_object_get_mutable(holder,
						       kong_kinds[kind].name);
			if (list == NULL) {
				list = json_new_array();
				if (list == NULL ||
				    json_object_set(holder,
						    kong_kinds[kind].name,
						    list)) {
					json_free(copy);
					goto fail;
				}
			}
			if (json_array_append(list, copy))
				goto fail;
		}
	}
	free(index);
	index = NULL;
	for (kind = 0; kind < KONG_KIND_COUNT; kind++) {
		if (json_length(copies[kind]) == 0) {
			json_free(copies[kind]);
			copies[kind] = NULL;
			continue;
		}
		if (json_object_set(document, kong_kinds[kind].name,
				    copies[kind])) {
			copies[kind] = NULL;
			goto fail;
		}
		copies[kind] = NULL;
	}
	return document;
fail:
	free(index);
	for (kind = 0; kind < KONG_KIND_COUNT; kind++)
		json_free(copies[kind]);
	json_free(document);
	return NULL;
}

/* Foreign key `field` of `entity` as {"id": ...}, from a string. */
static int
kong_expand_foreign(struct json_value *entity, const char *field)
{
	const struct json_value *value = json_object_get(entity, field);
	struct json_value *object;

	if (json_type(value) != JSON_STRING)
		return 0;
	object = json_new_object();
	if (object == NULL ||
	    json_object_set_string(object, "id", json_string(value))) {
		json_free(object);
		return -1;
	}
	return json_object_set(entity, field, object);
}

/*
 * A foreign key of a membership as a document gives it: an id or a name
 * (Kong's declarative configuration accepts the endpoint key), bare or
 * in an object.
 */
static const char *
kong_member_key(const struct json_value *value, const char *name_field)
{
	const char *key;

	if (json_type(value) == JSON_STRING)
		return json_string(value);
	key = json_get_string(value, "id");
	return key ? key : json_get_string(value, name_field);
}

/*
 * Adds a membership from the document, the group and the consumer as the
 * document names them; kong_resolve_members turns names into ids.
 */
static int
kong_parse_member(const char *group, const char *consumer, struct kong_set *set,
		  struct cairn_error *err)
{
	int kind = kong_kind_find("consumer_group_consumers");

	if (group == NULL || consumer == NULL)
		return kong_error(err,
				  "document: a consumer group membership "
				  "without its consumer_group and consumer");
	set->present[kind] = 1;
	if (json_array_append(set->items[kind],
			      kong_membership_new(group, consumer)))
		return kong_error(err, "out of memory");
	return 0;
}

/* decK's form: a consumer's `groups`, [{name: ...}] or [{id: ...}]. */
static int
kong_parse_groups(const struct json_value *groups, const char *consumer,
		  struct kong_set *set, struct cairn_error *err)
{
	size_t i;

	if (json_type(groups) != JSON_ARRAY)
		return kong_error(err,
				  "document: the 'groups' of consumer "
				  "'%s' is not a list",
				  consumer);
	for (i = 0; i < json_length(groups); i++)
		if (kong_parse_member(kong_member_key(json_array_at(groups, i),
						      "name"),
				      consumer, set, err) != 0)
			return -1;
	return 0;
}

/* The id of the entity of `kind` whose `field` is `key`, or NULL. */
static const char *
kong_find_key(const struct kong_set *set, int kind, const char *field,
	      const char *key)
{
	const struct json_value *items = set->items[kind], *entity;
	const char *value;
	size_t i;

	for (i = 0; i < json_length(items); i++) {
		entity = json_array_at(items, i);
		if ((value = json_get_string(entity, field)) != NULL &&
		    strcmp(value, key) == 0)
			return json_get_string(entity, "id");
	}
	return NULL;
}

/*
 * Memberships that name their group or consumer (not by id) get the id
 * of the entity of that name in the document, and their key "id".
 */
static int
kong_resolve_members(struct kong_set *set, struct cairn_error *err)
{
	int kind = kong_kind_find("consumer_group_consumers");
	int groups = kong_kind_find("consumer_groups");
	int consumers = kong_kind_find("consumers");
	struct kong_index_entry *group_index = NULL, *consumer_index = NULL;
	const struct json_value *member;
	struct json_value *resolved;
	const char *group, *consumer;
	size_t i;
	int rc = -1;

	if (json_length(set->items[kind]) == 0)
		return 0;
	resolved = json_new_array();
	group_index = kong_index_build(set->items[groups]);
	consumer_index = kong_index_build(set->items[consumers]);
	if (resolved == NULL || group_index == NULL || consumer_index == NULL) {
		kong_error(err, "out of memory");
		goto out;
	}
	for (i = 0; i < json_length(set->items[kind]); i++) {
		member = json_array_at(set->items[kind], i);
		group = kong_foreign_id(member, "consumer_group");
		consumer = kong_foreign_id(member, "consumer");
		if (kong_index_find(group_index,
				    json_length(set->items[groups]),
				    group) < 0) {
			const char *id = kong_find_key(set, groups, "name",
						       group);

			group = id ? id : group;
		}
		if (kong_index_find(consumer_index,
				    json_length(set->items[consumers]),
				    consumer) < 0) {
			const char *id = kong_find_key(set, consumers,
						       "username", consumer);

			consumer = id ? id : consumer;
		}
		if (json_array_append(resolved,
				      kong_membership_new(group, consumer))) {
			kong_error(err, "out of memory");
			goto out;
		}
	}
	json_free(set->items[kind]);
	set->items[kind] = resolved;
	resolved = NULL;
	rc = 0;
out:
	free(group_index);
	free(consumer_index);
	json_free(resolved);
	return rc;
}

static int
kong_parse_entity(int kind, const struct json_value *item,
		  const char *parent_id, const struct cairn_host *host,
		  struct kong_set *set, struct cairn_error *err)
{
	const struct kong_kind *k = &kong_kinds[kind];
	struct json_value *copy, *children, *fk;
	const char *id;
	int child;
	size_t i;

	if (k->membership)
		return kong_parse_member(
			kong_member_key(json_object_get(item, "consumer_group"),
					"name"),
			kong_member_key(json_object_get(item, "consumer"),
					"username"),
			set, err);
	if (json_type(item) != JSON_OBJECT ||
	    (id = json_get_string(item, "id")) == NULL)
		return kong_error(err, "document: a '%s' entry without an id",
				  k->name);
	copy = json_clone(item);
	if (copy == NULL)
		return kong_error(err, "out of memory");
	for (child = 0; child < KONG_KIND_COUNT; child++) {
		if (kong_kinds[child].parent == NULL ||
		    strcmp(kong_kinds[child].parent, k->name) != 0)
			continue;
		children = json_object_take(copy, kong_kinds[child].name);
		if (children == NULL)
			continue;
		for (i = 0; i < json_length(children); i++) {
			if (kong_parse_entity(child, json_array_at(children, i),
					      id, host, set, err) != 0) {
				json_free(children);
				json_free(copy);
				return -1;
			}
		}
		json_free(children);
	}
	if (strcmp(k->name, "consumers") == 0 &&
	    (children = json_object_take(copy, "groups")) != NULL) {
		child = kong_parse_groups(children, id, set, err);
		json_free(children);
		if (child != 0) {
			json_free(copy);
			return -1;
		}
	}
	if (parent_id != NULL) {
		fk = json_new_object();
		if (fk == NULL || json_object_set_string(fk, "id", parent_id) ||
		    json_object_set(copy, k->parent_fk, fk))
			goto oom;
	} else if (k->parent_fk != NULL &&
		   kong_expand_foreign(copy, k->parent_fk)) {
		goto oom;
	}
	for (i = 0; k->foreign[i] != NULL; i++)
		if (kong_expand_foreign(copy, k->foreign[i]))
			goto oom;
	set->present[kind] = 1;
	if (json_array_append(set->items[kind], copy))
		return kong_error(err, "out of memory");
	return 0;
oom:
	json_free(copy);
	return kong_error(err, "out of memory");
}

int
kong_document_parse(const struct json_value *document,
		    const struct cairn_host *host, struct kong_set *set,
		    struct cairn_error *err)
{
	const char *version, *key;
	const struct json_value *items;
	size_t i, j;
	int kind;

	if (json_type(document) != JSON_OBJECT)
		return kong_error(err, "document is not a JSON object");
	version = json_get_string(document, "_format_version");
	if (version == NULL)
		return kong_error(err, "document has no '_format_version'");
	if (strcmp(version, "3.0") != 0)
		host->log(host, CAIRN_LOG_WARNING,
			  "document format version '%s', expected '3.0'",
			  version);
	for (i = 0; i < json_length(document); i++) {
		key = json_object_key_at(document, i);
		items = json_object_value_at(document, i);
		if (key[0] == '_')
			continue;
		kind = kong_kind_find(key);
		if (kind < 0 || json_type(items) != JSON_ARRAY) {
			host->log(host, CAIRN_LOG_WARNING,
				  "document member '%s' is not an "
				  "entity kind this plugin knows: skipped",
				  key);
			continue;
		}
		set->present[kind] = 1;
		for (j = 0; j < json_length(items); j++)
			if (kong_parse_entity(kind, json_array_at(items, j),
					      NULL, host, set, err) != 0)
				return -1;
	}
	return kong_resolve_members(set, err);
}

int
kong_entity_same(const struct json_value *archived,
		 const struct json_value *live)
{
	const char *key;
	size_t i;

	if (json_type(archived) != JSON_OBJECT ||
	    json_type(live) != JSON_OBJECT)
		return json_equal(archived, live);
	for (i = 0; i < json_length(archived); i++) {
		key = json_object_key_at(archived, i);
		if (strcmp(key, "updated_at") == 0)
			continue;
		if (!json_equal(json_object_value_at(archived, i),
				json_object_get(live, key)))
			return 0;
	}
	return 1;
}

const char *
kong_hashed_secret(int kind, const struct json_value *entity)
{
	const struct json_value *hash_secret;

	if (strcmp(kong_kinds[kind].name, "basicauth_credentials") == 0)
		return "password";
	if (strcmp(kong_kinds[kind].name, "oauth2_credentials") != 0)
		return NULL;
	/* kong/plugins/oauth2/daos.lua: hashed on write when asked to. */
	hash_secret = json_object_get(entity, "hash_secret");
	if (json_type(hash_secret) == JSON_BOOL && json_bool(hash_secret))
		return "client_secret";
	return NULL;
}

void
kong_entity_label(int kind, const struct json_value *entity, char *out,
		  size_t size)
{
	const char *label = NULL, *id = json_get_string(entity, "id");

	if (kong_kinds[kind].membership) {
		const char *group = kong_foreign_id(entity, "consumer_group");
		const char *consumer = kong_foreign_id(entity, "consumer");

		snprintf(out, size, "%s (consumer '%s' in group '%s')",
			 kong_kinds[kind].name, consumer ? consumer : "?",
			 group ? group : "?");
		return;
	}

	if (kong_kinds[kind].label != NULL)
		label = json_get_string(entity, kong_kinds[kind].label);
	if (label != NULL)
		snprintf(out, size, "%s '%s' (%s)", kong_kinds[kind].name,
			 label, id ? id : "?");
	else
		snprintf(out, size, "%s '%s'", kong_kinds[kind].name,
			 id ? id : "?");
}

int
kong_entity_path(int kind, const struct json_value *entity, char *out,
		 size_t size)
{
	const char *id = json_get_string(entity, "id");
	const char *parent;
	int n;

	if (id == NULL || strpbrk(id, "/?#%& ") != NULL)
		return -1;
	if (kong_kinds[kind].membership) {
		const char *group = kong_foreign_id(entity, "consumer_group");
		const char *consumer = kong_foreign_id(entity, "consumer");

		if (group == NULL || consumer == NULL ||
		    strpbrk(group, "/?#%& ") != NULL ||
		    strpbrk(consumer, "/?#%& ") != NULL)
			return -1;
		n = snprintf(out, size, "/consumer_groups/%s/consumers/%s",
			     group, consumer);
	} else if (kong_kinds[kind].through_parent) {
		parent = kong_foreign_id(entity, kong_kinds[kind].parent_fk);
		if (parent == NULL || strpbrk(parent, "/?#%& ") != NULL)
			return -1;
		n = snprintf(out, size, "/%s/%s/%s/%s",
			     kong_kinds[kong_kind_find(kong_kinds[kind].parent)]
				     .path,
			     parent, kong_kinds[kind].path, id);
	} else {
		n = snprintf(out, size, "/%s/%s", kong_kinds[kind].path, id);
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
kong_collection_path(int kind, const struct json_value *entity, char *out,
		     size_t size)
{
	const char *parent;
	int n;

	if (kong_kinds[kind].through_parent) {
		parent = kong_foreign_id(entity, kong_kinds[kind].parent_fk);
		if (parent == NULL || strpbrk(parent, "/?#%& ") != NULL)
			return -1;
		n = snprintf(out, size, "/%s/%s/%s",
			     kong_kinds[kong_kind_find(kong_kinds[kind].parent)]
				     .path,
			     parent, kong_kinds[kind].path);
	} else {
		n = snprintf(out, size, "/%s", kong_kinds[kind].path);
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
