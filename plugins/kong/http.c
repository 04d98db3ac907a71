/*
 * The Admin API client of the kong plugin: a libcurl easy handle kept for
 * the whole operation (one keep-alive connection), the job's headers
 * (Kong-Admin-Token read from token-file, extra headers), TLS files and
 * timeout. Every failure names the URL: a transport error carries curl's
 * message, an HTTP error Kong's own message from its JSON body
 * ({"message": ...}), so an operator reads "'http://...:40081/services'
 * answered HTTP 401: Invalid RBAC credentials" rather than a status code.
 * The token never appears in a message or a log line; the header list that
 * holds it is wiped before it is freed.
 */
#include "kong.h"

#include <cairn/helpers.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A response larger than this is not an Admin API answer. */
#define KONG_RESPONSE_MAX (512u * 1024u * 1024u)

struct kong_buffer {
	char *data;
	size_t length;
	size_t size;
	int too_large;
};

int
kong_error(struct cairn_error *err, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	cairn_error_vset(err, format, ap);
	va_end(ap);
	return -1;
}

static size_t
kong_http_write(char *data, size_t size, size_t count, void *opaque)
{
	struct kong_buffer *buffer = opaque;
	size_t length = size * count;
	char *grown;
	size_t want;

	if (buffer->length + length + 1 > KONG_RESPONSE_MAX) {
		buffer->too_large = 1;
		return 0;
	}
	if (buffer->length + length + 1 > buffer->size) {
		want = buffer->size ? buffer->size : 16384;
		while (want < buffer->length + length + 1)
			want *= 2;
		grown = realloc(buffer->data, want);
		if (grown == NULL)
			return 0;
		buffer->data = grown;
		buffer->size = want;
	}
	memcpy(buffer->data + buffer->length, data, length);
	buffer->length += length;
	buffer->data[buffer->length] = '\0';
	return length;
}

/* The URL without "user:password@", for messages. */
static void
kong_http_redact(const char *url, char *out, size_t size)
{
	const char *scheme = strstr(url, "://");
	const char *at, *slash;

	if (scheme == NULL) {
		snprintf(out, size, "%s", url);
		return;
	}
	scheme += 3;
	slash = strchr(scheme, '/');
	at = strchr(scheme, '@');
	if (at == NULL || (slash != NULL && at > slash)) {
		snprintf(out, size, "%s", url);
		return;
	}
	snprintf(out, size, "%.*s%s", (int)(scheme - url), url, at + 1);
}

static int
kong_http_add_header(struct kong_client *client, const char *line,
		     struct cairn_error *err)
{
	struct curl_slist *grown = curl_slist_append(client->headers, line);

	if (grown == NULL)
		return kong_error(err, "out of memory");
	client->headers = grown;
	return 0;
}

static int
kong_http_token(struct kong_client *client, const struct kong_config *config,
		struct cairn_error *err)
{
	char *token = NULL;
	char line[4200];
	int n, rc = -1;

	if (client->host->secret_read(client->host, config->token_file, &token,
				      err) != 0)
		return -1;
	if (token[0] == '\0' || strpbrk(token, "\r\n") != NULL) {
		kong_error(err,
			   "token file '%s' is empty or holds several "
			   "lines",
			   config->token_file);
		goto out;
	}
	n = snprintf(line, sizeof(line), "Kong-Admin-Token: %s", token);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		kong_error(err, "token in '%s' is too long",
			   config->token_file);
		goto out;
	}
	rc = kong_http_add_header(client, line, err);
out:
	cairn_wipe(line, sizeof(line));
	client->host->secret_free(token);
	return rc;
}

int
kong_client_open(struct kong_client *client, const struct kong_config *config,
		 const struct cairn_host *host, const char *url,
		 struct cairn_error *err)
{
	size_t i;
	int n;

	memset(client, 0, sizeof(*client));
	client->host = host;
	n = snprintf(client->base, sizeof(client->base), "%s%s%s", url,
		     config->workspace ? "/" : "",
		     config->workspace ? config->workspace : "");
	if (n < 0 || (size_t)n >= sizeof(client->base))
		return kong_error(err, "Admin API URL '%s' is too long", url);
	while (n > 0 && client->base[n - 1] == '/')
		client->base[--n] = '\0';
	kong_http_redact(client->base, client->display,
			 sizeof(client->display));

	client->curl = curl_easy_init();
	if (client->curl == NULL)
		return kong_error(err, "cannot initialise libcurl");
	if (kong_http_add_header(client, "Accept: application/json", err) ||
	    kong_http_add_header(client, "Content-Type: application/json",
				 err) ||
	    kong_http_add_header(client, "Expect:", err))
		return -1;
	for (i = 0; i < config->header_count; i++)
		if (kong_http_add_header(client, config->headers[i], err))
			return -1;
	if (config->token_file != NULL &&
	    kong_http_token(client, config, err) != 0)
		return -1;
	if (config->client_key_passphrase_file != NULL &&
	    host->secret_read(host, config->client_key_passphrase_file,
			      &client->passphrase, err) != 0)
		return -1;

	curl_easy_setopt(client->curl, CURLOPT_HTTPHEADER, client->headers);
	curl_easy_setopt(client->curl, CURLOPT_ERRORBUFFER, client->curl_error);
	curl_easy_setopt(client->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(client->curl, CURLOPT_TIMEOUT, config->timeout);
	curl_easy_setopt(client->curl, CURLOPT_CONNECTTIMEOUT,
			 config->timeout < 10 ? config->timeout : 10L);
	curl_easy_setopt(client->curl, CURLOPT_USERAGENT, "cairn-kong");
	curl_easy_setopt(client->curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(client->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(client->curl, CURLOPT_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (config->ca_file != NULL)
		curl_easy_setopt(client->curl, CURLOPT_CAINFO, config->ca_file);
	if (config->client_cert != NULL)
		curl_easy_setopt(client->curl, CURLOPT_SSLCERT,
				 config->client_cert);
	if (config->client_key != NULL)
		curl_easy_setopt(client->curl, CURLOPT_SSLKEY,
				 config->client_key);
	if (client->passphrase != NULL)
		curl_easy_setopt(client->curl, CURLOPT_KEYPASSWD,
				 client->passphrase);
	return 0;
}

void
kong_client_close(struct kong_client *client)
{
	struct curl_slist *item;

	if (client->curl != NULL)
		curl_easy_cleanup(client->curl);
	for (item = client->headers; item != NULL; item = item->next)
		cairn_wipe(item->data, strlen(item->data));
	curl_slist_free_all(client->headers);
	if (client->passphrase != NULL)
		client->host->secret_free(client->passphrase);
	memset(client, 0, sizeof(*client));
}

void
kong_client_url(const struct kong_client *client, const char *path, char *out,
		size_t size)
{
	int n = snprintf(out, size, "%s%s", client->display, path);

	if (n < 0 || (size_t)n >= size) {
		/* Long offsets are not worth showing whole. */
		if (size > 4)
			memcpy(out + size - 4, "...", 4);
	}
}

int
kong_client_request(struct kong_client *client, const char *method,
		    const char *path, const char *body, size_t length,
		    long *status, struct json_value **response,
		    struct cairn_error *err)
{
	struct kong_buffer buffer = {0};
	char url[4096], shown[4096], parse_error[256];
	CURLcode code;
	int n, rc = -1;

	*response = NULL;
	*status = 0;
	n = snprintf(url, sizeof(url), "%s%s", client->base, path);
	kong_client_url(client, path, shown, sizeof(shown));
	if (n < 0 || (size_t)n >= sizeof(url))
		return kong_error(err, "URL '%s' is too long", shown);

	client->curl_error[0] = '\0';
	curl_easy_setopt(client->curl, CURLOPT_URL, url);
	curl_easy_setopt(client->curl, CURLOPT_WRITEFUNCTION, kong_http_write);
	curl_easy_setopt(client->curl, CURLOPT_WRITEDATA, &buffer);
	if (body != NULL) {
		curl_easy_setopt(client->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(client->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(client->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)length);
	} else {
		curl_easy_setopt(client->curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(client->curl, CURLOPT_CUSTOMREQUEST,
			 strcmp(method, body ? "POST" : "GET") == 0 ? NULL
								    : method);
	if (client->host->log != NULL)
		client->host->log(client->host, CAIRN_LOG_DEBUG, "%s %s",
				  method, shown);

	code = curl_easy_perform(client->curl);
	if (code != CURLE_OK) {
		if (buffer.too_large)
			kong_error(err, "'%s' answered more than %u bytes",
				   shown, KONG_RESPONSE_MAX);
		else
			kong_error(err, "cannot reach '%s': %s", shown,
				   client->curl_error[0]
					   ? client->curl_error
					   : curl_easy_strerror(code));
		goto out;
	}
	curl_easy_getinfo(client->curl, CURLINFO_RESPONSE_CODE, status);
	if (buffer.length > 0) {
		*response = json_parse(buffer.data, buffer.length, parse_error,
				       sizeof(parse_error));
		if (*response == NULL) {
			kong_error(err,
				   "'%s' answered HTTP %ld with a body "
				   "that is not JSON (%s)",
				   shown, *status, parse_error);
			goto out;
		}
	}
	rc = 0;
out:
	free(buffer.data);
	return rc;
}

int
kong_client_call(struct kong_client *client, const char *method,
		 const char *path, const char *body, size_t length,
		 int allow_404, struct json_value **response,
		 struct cairn_error *err)
{
	char shown[4096];
	const char *message;
	long status;

	if (kong_client_request(client, method, path, body, length, &status,
				response, err) != 0)
		return -1;
	if (status >= 200 && status < 300)
		return 0;
	if (status == 404 && allow_404)
		return 1;
	kong_client_url(client, path, shown, sizeof(shown));
	message = json_get_string(*response, "message");
	if (message == NULL)
		message = json_get_string(*response, "error");
	kong_error(err, "'%s' answered HTTP %ld: %s", shown, status,
		   message ? message : "(no message)");
	json_free(*response);
	*response = NULL;
	return -1;
}
