/*
 * Kong 3.x's entity kinds and the declarative document.
 *
 * The kinds are listed in restore order: certificates, CA certificates,
 * consumers, consumer groups, vaults and key sets first; then SNIs,
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
	{"certificates", "certificates", NULL, NULL, {NULL}, NULL, 0},
	{"ca_certificates", "ca_certificates", NULL, NULL, {NULL}, NULL, 0},
	{"consumers", "consumers", NULL, NULL, {NULL}, "username", 0},
	{"consumer_groups", "consumer_groups", NULL, NULL, {NULL}, "name", 0},
	{"vaults", "vaults", NULL, NULL, {NULL}, "prefix", 0},
	{"key_sets", "key-sets", NULL, NULL, {NULL}, "name", 0},
	{"snis", "snis", "certificates", "certificate", {NULL}, "name", 0},
	{"services", "services", NULL, NULL, {"client_certificate", NULL},
	 "name", 0},
	{"upstreams", "upstreams", NULL, NULL, {"client_certificate", NULL},
	 "name", 0},
	{"keys", "keys", "key_sets", "set", {NULL}, "name", 0},
	{"keyauth_credentials", "key-auths", "consumers", "consumer", {NULL},
	 NULL, 0},
	{"basicauth_credentials", "basic-auths", "consumers", "consumer",
	 {NULL}, "username", 0},
	{"jwt_secrets", "jwts", "consumers", "consumer", {NULL}, NULL, 0},
	{"hmacauth_credentials", "hmac-auths", "consumers", "consumer", {NULL},
	 "username", 0},
	{"oauth2_credentials", "oauth2", "consumers", "consumer", {NULL},
	 "name", 0},
	{"acls", "acls", "consumers", "consumer", {NULL}, "group", 0},
	{"routes", "routes", "services", "service", {NULL}, "name", 0},
	{"targets", "targets", "upstreams", "upstream", {NULL}, "target", 1},
	{"plugins", "plugins", NULL, NULL,
	 {"service", "route", "consumer", "consumer_group", NULL}, "name", 0},
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
			return kong_error(err, "unknown Kong entity kind '%s' "
					  "(kinds: services, routes, plugins, "
					  "consumers, key-auths, ... or their "
					  "schema names)", only[i]);
		wanted[kind] = 1;
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

/* Takes the entities of one page into `into`, cleaned for the document. */
static int
kong_take_page(int kind, const struct json_value *page,
	       struct json_value *into, size_t *count, struct cairn_error *err)
{
	const struct json_value *data = json_object_get(page, "data");
	struct json_value *copy;
	size_t i;

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
		      const char *tags, struct json_value *into,
		      struct cairn_error *err)
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
		rc = kong_client_call(client, "GET", current, NULL, 0, 1,
				      &page, err);
		if (rc != 0) {
			json_free(page);
			if (rc == 1 && pages == 0)
				return 1;
			if (rc == 1) {
				kong_client_url(client, current, next_path,
						sizeof(next_path));
				kong_error(err, "'%s' answered HTTP 404 in "
					   "the middle of a listing",
					   next_path);
			}
			return -1;
		}
		if (kong_take_page(kind, page, into, &count, err) != 0) {
			char shown[4096];
			char reason[CAIRN_ERROR_MESSAGE_SIZE];

			memcpy(reason, err->message, sizeof(reason));
			kong_client_url(client, current, shown,
					sizeof(shown));
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
			return kong_error(err, "'%s' answered an unusable "
					  "'next' link", current);
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

/* Targets: through each upstream of the server. */
static int
kong_fetch_targets(struct kong_client *client, const char *tags,
		   struct kong_set *set, struct cairn_error *err)
{
	int upstreams = kong_kind_find("upstreams");
	int targets = kong_kind_find("targets");
	struct json_value *list = NULL;
	const struct json_value *source;
	char path[512];
	size_t i;
	int rc = -1;

	source = set->items[upstreams];
	if (!set->present[upstreams]) {
		/* Not asked for: read them just for their ids. */
		list = json_new_array();
		if (list == NULL)
			return kong_error(err, "out of memory");
		rc = kong_fetch_collection(client, upstreams, "/upstreams",
					   NULL, list, err);
		if (rc != 0)
			goto out;
		source = list;
	}
	for (i = 0; i < json_length(source); i++) {
		const char *id = json_get_string(json_array_at(source, i),
						 "id");

		snprintf(path, sizeof(path), "/upstreams/%s/targets", id);
		rc = kong_fetch_collection(client, targets, path, tags,
					   set->items[targets], err);
		if (rc != 0)
			goto out;
	}
	set->present[targets] = 1;
	rc = 0;
out:
	json_free(list);
	return rc;
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
		if (kong_kinds[kind].through_parent) {
			rc = kong_fetch_targets(client, tags, set, err);
		} else {
			snprintf(path, sizeof(path), "/%s",
				 kong_kinds[kind].path);
			rc = kong_fetch_collection(client, kind, path, tags,
						   set->items[kind], err);
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
	found = bsearch(&key, index, count, sizeof(*index),
			kong_index_compare);
	return found ? (long)found->position : -1;
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
kong_document_entity(int kind, const struct json_value *entity,
		     int nested)
{
	struct json_value *copy = json_clone(entity);
	const struct kong_kind *k = &kong_kinds[kind];
	const char *id;
	size_t i;

	if (copy == NULL)
		return NULL;
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
			const struct json_value *entity =
				json_array_at(items, i);
			struct json_value *copy, *holder, *list;
			long at = -1;

			if (parent >= 0)
				at = kong_index_find(
					index, json_length(set->items[parent]),
					kong_foreign_id(
						entity,
						kong_kinds[kind].parent_fk));
			copy = kong_document_entity(kind, entity, at >= 0);
			if (copy == NULL)
				goto fail;
			if (at < 0) {
				if (json_array_append(copies[kind], copy))
					goto fail;
				continue;
			}
			/* The parent's copy sits at the same position. */
			holder = (struct json_value *)(uintptr_t)json_array_at(
				copies[parent], (size_t)at);
			list = (struct json_value *)(uintptr_t)json_object_get(
				holder, kong_kinds[kind].name);
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
			if (kong_parse_entity(child,
					      json_array_at(children, i), id,
					      host, set, err) != 0) {
				json_free(children);
				json_free(copy);
				return -1;
			}
		}
		json_free(children);
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
	return 0;
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

void
kong_entity_label(int kind, const struct json_value *entity, char *out,
		  size_t size)
{
	const char *label = NULL, *id = json_get_string(entity, "id");

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
	if (kong_kinds[kind].through_parent) {
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
