/*
 * The kong plugin's internal interfaces, shared by its source files:
 *
 *   kong.c      the plugin entry: configuration, check, backup,
 *               restore and drill callbacks;
 *   http.c      the Admin API client (libcurl): one connection per
 *               operation, token and TLS settings, Kong's error bodies
 *               turned into messages naming the URL;
 *   entities.c  the entity kinds of Kong 3.x, reading every page of
 *               them, and the declarative document (kong.json) built
 *               from them and parsed back;
 *   restore.c   the restore plan (created, updated, unchanged, extra
 *               per kind) and its application, used by restore and
 *               drill.
 *
 * Entities are held "flat", as the Admin API returns them: one JSON array
 * per kind, each entity an object whose foreign keys are {"id": ...}
 * objects. Only the document nests children under their parents.
 *
 * Consumer group memberships (consumer_group_consumers) have no id in
 * Kong: their primary key is the pair {consumer_group, consumer}. In
 * memory each carries a made-up "id", "<group id>:<consumer id>", so that
 * the plan, the drill and the messages treat them like any other entity;
 * the document never holds it.
 */
#ifndef CAIRN_KONG_H
#define CAIRN_KONG_H

#include <stddef.h>

#include <curl/curl.h>

#include <cairn/plugin.h>

#include "json.h"

/* The job's settings, validated by kong_config_parse. */
struct kong_config {
	char *admin_url; /* without trailing '/', NULL for restore-only */
	char *token_file;
	char **headers; /* "Name: value" lines */
	size_t header_count;
	char *ca_file;
	char *client_cert;
	char *client_key;
	char *client_key_passphrase_file;
	char *workspace;
	char *select_tags; /* Kong's tags filter, "a,b" */
	long timeout;	   /* seconds, per request */
	char *drill_target;
};

/* One Admin API endpoint being talked to. */
struct kong_client {
	CURL *curl;
	struct curl_slist *headers;
	char base[1024];    /* URL prefix requests are made under */
	char display[1024]; /* the same, without user:password, for messages */
	char *passphrase;   /* client key passphrase, wiped on close */
	char curl_error[CURL_ERROR_SIZE];
	const struct cairn_host *host;
};

/*
 * Opens a client for `url` (an Admin API base URL) with the job's token,
 * headers, TLS files, workspace and timeout. Reads the secrets through the
 * host. Release with kong_client_close, also after a failure.
 */
int kong_client_open(struct kong_client *client,
		     const struct kong_config *config,
		     const struct cairn_host *host, const char *url,
		     struct cairn_error *err);
void kong_client_close(struct kong_client *client);

/*
 * Sends one request to `path` (starting with '/', relative to the base
 * URL) with an optional JSON body. On 0, *status is the HTTP status and
 * *response the parsed JSON body (NULL when the body is empty), owned by
 * the caller. Returns -1 when the server could not be reached, the
 * transfer broke off or the body is not JSON, naming the URL.
 */
int kong_client_request(struct kong_client *client, const char *method,
			const char *path, const char *body, size_t length,
			long *status, struct json_value **response,
			struct cairn_error *err);

/*
 * Like kong_client_request, but any status outside 200-299 is an error
 * naming the URL, the status and Kong's message, except that a 404 is
 * returned as 1 when `allow_404` is set. *response may be NULL on return.
 */
int kong_client_call(struct kong_client *client, const char *method,
		     const char *path, const char *body, size_t length,
		     int allow_404, struct json_value **response,
		     struct cairn_error *err);

/* The URL of `path` as shown in messages (no credentials). */
void kong_client_url(const struct kong_client *client, const char *path,
		     char *out, size_t size);

/* The entity kinds, in restore (dependency) order. */
struct kong_kind {
	const char *name;	/* schema and document name: "services" */
	const char *path;	/* Admin API collection: "key-auths" */
	const char *parent;	/* kind it nests under in the document */
	const char *parent_fk;	/* its field naming the parent */
	const char *foreign[5]; /* other foreign key fields, NULL-ended */
	const char *label;	/* field naming an entity in messages */
	int through_parent;	/* only listed and written via the parent */
	int membership;		/* consumer_group_consumers: see above */
	int post_creates;	/* PUT only updates: created by POST */
};

enum {
	KONG_KIND_COUNT = 20
};

extern const struct kong_kind kong_kinds[KONG_KIND_COUNT];

/* The index of a kind by its name or its Admin API path, or -1. */
int kong_kind_find(const char *name);

/* Entities of every kind; a kind the server lacks is not `present`. */
struct kong_set {
	struct json_value *items[KONG_KIND_COUNT]; /* arrays, never NULL */
	int present[KONG_KIND_COUNT];
};

int kong_set_init(struct kong_set *set);
void kong_set_release(struct kong_set *set);
size_t kong_set_count(const struct kong_set *set, int kind);

/*
 * Reads every entity of the kinds flagged in `wanted` (all when NULL),
 * following `next` through every page of `size=1000`, with Kong's `tags`
 * filter when `tags` is not NULL. A kind the server answers 404 for is
 * left not present and noted in the log. Memberships are read through
 * each consumer group (GET /consumer_groups/{id}/consumers); with `tags`,
 * only those of consumers read are kept.
 */
int kong_fetch(struct kong_client *client, const char *tags, const int *wanted,
	       struct kong_set *set, struct cairn_error *err);

/* The declarative configuration of `set`; NULL when out of memory. */
struct json_value *kong_document_build(const struct kong_set *set);

/*
 * Fills `set` (initialised, empty) from a declarative configuration,
 * flattening nested entities and turning string foreign keys into
 * {"id": ...}. Kinds the document has are present.
 */
int kong_document_parse(const struct json_value *document,
			const struct cairn_host *host, struct kong_set *set,
			struct cairn_error *err);

/*
 * Whether the entity `live` read from a target holds what `archived`
 * holds: every member of `archived` but updated_at is equal in `live`.
 */
int kong_entity_same(const struct json_value *archived,
		     const struct json_value *live);

/*
 * The field of `entity` that Kong stores hashed and hashes again whenever
 * it is written through the Admin API: a basic-auth credential's
 * "password", an OAuth2 credential's "client_secret" when its hash_secret
 * is true; NULL for any other entity.
 */
const char *kong_hashed_secret(int kind, const struct json_value *entity);

/* "services 'payment-api'" or "keyauth_credentials 'uuid'". */
void kong_entity_label(int kind, const struct json_value *entity, char *out,
		       size_t size);

/* The Admin API path of one entity, for PUT and DELETE. */
int kong_entity_path(int kind, const struct json_value *entity, char *out,
		     size_t size);

/*
 * The collection one entity is created in by POST: "/upstreams/{upstream
 * id}/targets" for a target.
 */
int kong_collection_path(int kind, const struct json_value *entity, char *out,
			 size_t size);

/*
 * Selected kinds for --only; every kind when `count` is 0. Selecting
 * consumer_groups selects their memberships too.
 */
int kong_select_kinds(const char *const *only, size_t count, int *wanted,
		      struct cairn_error *err);

/* What restore and drill do with an archive. */
struct kong_restore_request {
	const struct kong_config *config;
	const struct kong_set *archive;
	const char *document; /* the archived kong.json, for POST /config */
	size_t document_length;
	const char *target;
	const int *wanted;
	int dry_run;
	int force;
	const char *archived_version; /* fact, or NULL */
};

struct kong_restore_totals {
	size_t created, updated, unchanged, extra, deleted, skipped;
};

int kong_restore_run(const struct cairn_host *host,
		     const struct kong_restore_request *request,
		     struct kong_restore_totals *totals,
		     struct cairn_error *err);

/* Formats into err->message; always returns -1. */
int kong_error(struct cairn_error *err, const char *format, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

#endif
