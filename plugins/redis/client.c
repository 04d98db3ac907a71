/*
 * Talking to a Redis server with hiredis 0.14: connecting over TCP or a
 * Unix socket with a timeout, authenticating (ACL user or the default
 * user), running commands given as argument vectors, and reading INFO
 * fields. Also the redis:// target syntax of restores.
 *
 * Passwords only pass through here on their way to AUTH: they are read
 * through the host's secret service and wiped as soon as AUTH returned.
 */
#include "autoconfig.h"

#include "redis.h"

#include <cairn/helpers.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *
client_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

void
redis_endpoint_describe(struct redis_endpoint *endpoint)
{
	int n;

	if (endpoint->socket != NULL)
		n = snprintf(endpoint->address, sizeof(endpoint->address), "%s",
			     endpoint->socket);
	else if (strchr(endpoint->host, ':') != NULL)
		n = snprintf(endpoint->address, sizeof(endpoint->address),
			     "[%s]:%d", endpoint->host, endpoint->port);
	else
		n = snprintf(endpoint->address, sizeof(endpoint->address),
			     "%s:%d", endpoint->host, endpoint->port);
	if (n < 0 || (size_t)n >= sizeof(endpoint->address))
		snprintf(endpoint->address, sizeof(endpoint->address),
			 "(address too long)");
}

void
redis_endpoint_release(struct redis_endpoint *endpoint)
{
	free(endpoint->host);
	free(endpoint->socket);
	free(endpoint->user);
	free(endpoint->password_file);
	if (endpoint->password != NULL) {
		explicit_bzero(endpoint->password, strlen(endpoint->password));
		free(endpoint->password);
	}
	memset(endpoint, 0, sizeof(*endpoint));
}

int
redis_endpoint_copy(struct redis_endpoint *to,
		    const struct redis_endpoint *from)
{
	memset(to, 0, sizeof(*to));
	to->host = client_strdup(from->host);
	to->socket = client_strdup(from->socket);
	to->user = client_strdup(from->user);
	to->password_file = client_strdup(from->password_file);
	to->password = client_strdup(from->password);
	to->port = from->port;
	to->db = -1;
	memcpy(to->address, from->address, sizeof(to->address));
	if ((from->host && !to->host) || (from->socket && !to->socket) ||
	    (from->user && !to->user) ||
	    (from->password_file && !to->password_file) ||
	    (from->password && !to->password)) {
		redis_endpoint_release(to);
		return -1;
	}
	return 0;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A percent-decoded copy of s[0, length), or NULL. */
static char *
url_decode(const char *s, size_t length)
{
	char *out = malloc(length + 1), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < length; i++) {
		if (s[i] == '%' && i + 2 < length && hex_value(s[i + 1]) >= 0 &&
		    hex_value(s[i + 2]) >= 0) {
			*o++ = (char)(hex_value(s[i + 1]) * 16 +
				      hex_value(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int
parse_number(const char *s, size_t length, long min, long max, long *value)
{
	char text[32], *end;

	if (length == 0 || length >= sizeof(text))
		return -1;
	memcpy(text, s, length);
	text[length] = '\0';
	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	*value = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || *value < min || *value > max)
		return -1;
	return 0;
}

int
redis_url_parse(const char *url, struct redis_endpoint *endpoint,
		struct cairn_error *err)
{
	const char *p, *at, *hostport, *slash, *colon, *host_end;
	long value;

	memset(endpoint, 0, sizeof(*endpoint));
	endpoint->db = -1;
	endpoint->port = REDIS_DEFAULT_PORT;
	if (strncmp(url, "redis://", 8) != 0) {
		redis_errorf(err, "target '%s' is not a redis:// URI", url);
		return -1;
	}
	p = url + 8;
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at != NULL) {
		const char *sep = memchr(p, ':', (size_t)(at - p));

		if (sep != NULL) {
			endpoint->user = url_decode(p, (size_t)(sep - p));
			endpoint->password = url_decode(sep + 1,
							(size_t)(at - sep - 1));
			if (endpoint->user == NULL ||
			    endpoint->password == NULL)
				goto nomem;
			if (endpoint->user[0] == '\0') {
				free(endpoint->user);
				endpoint->user = NULL;
			}
		} else {
			endpoint->user = url_decode(p, (size_t)(at - p));
			if (endpoint->user == NULL)
				goto nomem;
		}
		hostport = at + 1;
	} else {
		hostport = p;
	}
	host_end = slash ? slash : hostport + strlen(hostport);
	if (hostport[0] == '[') {
		const char *close = memchr(hostport, ']',
					   (size_t)(host_end - hostport));

		if (close == NULL)
			goto bad;
		endpoint->host = strndup(hostport + 1,
					 (size_t)(close - hostport - 1));
		colon = close + 1 < host_end && close[1] == ':' ? close + 1
								: NULL;
		if (close + 1 < host_end && colon == NULL)
			goto bad;
	} else {
		colon = memchr(hostport, ':', (size_t)(host_end - hostport));
		endpoint->host = strndup(hostport,
					 (size_t)((colon ? colon : host_end) -
						  hostport));
	}
	if (endpoint->host == NULL)
		goto nomem;
	if (endpoint->host[0] == '\0')
		goto bad;
	if (colon != NULL) {
		if (parse_number(colon + 1, (size_t)(host_end - colon - 1), 1,
				 65535, &value) == -1)
			goto bad;
		endpoint->port = (int)value;
	}
	if (slash != NULL && slash[1] != '\0') {
		if (parse_number(slash + 1, strlen(slash + 1), 0, INT_MAX,
				 &value) == -1)
			goto bad;
		endpoint->db = (int)value;
	}
	redis_endpoint_describe(endpoint);
	return 0;
bad:
	redis_errorf(err,
		     "target '%s' is not of the form "
		     "redis://[user[:password]@]host[:port][/db]",
		     endpoint->password ? "redis://..." : url);
	redis_endpoint_release(endpoint);
	return -1;
nomem:
	redis_errorf(err, "out of memory");
	redis_endpoint_release(endpoint);
	return -1;
}

redisReply *
redis_command(redisContext *context, const char *address,
	      struct cairn_error *err, int argc, const char *const *argv)
{
	const char *args[16];
	size_t lengths[16];
	redisReply *reply;
	int i;

	if (argc > 16) {
		redis_errorf(err, "too many arguments for '%s'", argv[0]);
		return NULL;
	}
	for (i = 0; i < argc; i++) {
		args[i] = argv[i];
		lengths[i] = strlen(argv[i]);
	}
	reply = redisCommandArgv(context, argc, args, lengths);
	if (reply == NULL)
		redis_errorf(err, "'%s' on '%s' failed: %s", argv[0], address,
			     context->errstr[0] ? context->errstr
						: "connection lost");
	return reply;
}

redisReply *
redis_command_ok(redisContext *context, const char *address,
		 struct cairn_error *err, int argc, const char *const *argv)
{
	redisReply *reply = redis_command(context, address, err, argc, argv);

	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		redis_errorf(err, "'%s' on '%s' failed: %s", argv[0], address,
			     reply->str);
		freeReplyObject(reply);
		return NULL;
	}
	return reply;
}

int
redis_connect(const struct cairn_host *host,
	      const struct redis_endpoint *endpoint, int connect_timeout,
	      int command_timeout, redisContext **context,
	      struct cairn_error *err)
{
	struct timeval tv = {.tv_sec = connect_timeout, .tv_usec = 0};
	char *secret = NULL;
	const char *password = endpoint->password;
	redisContext *c;
	redisReply *reply = NULL;
	int rc = -1;

	*context = NULL;
	if (endpoint->socket != NULL)
		c = redisConnectUnixWithTimeout(endpoint->socket, tv);
	else
		c = redisConnectWithTimeout(endpoint->host, endpoint->port, tv);
	if (c == NULL || c->err) {
		redis_errorf(err, "cannot connect to '%s': %s",
			     endpoint->address,
			     c ? c->errstr : "out of memory");
		goto out;
	}
	tv.tv_sec = command_timeout;
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		redis_errorf(err, "cannot set a timeout on '%s': %s",
			     endpoint->address, c->errstr);
		goto out;
	}
	if (password == NULL && endpoint->password_file != NULL) {
		if (host->secret_read(host, endpoint->password_file, &secret,
				      err) == -1)
			goto out;
		password = secret;
	}
	if (password != NULL) {
		const char *argv[3] = {"AUTH", NULL, NULL};
		int argc = 2;

		if (endpoint->user != NULL) {
			argv[1] = endpoint->user;
			argv[2] = password;
			argc = 3;
		} else {
			argv[1] = password;
		}
		reply = redis_command(c, endpoint->address, err, argc, argv);
		if (secret != NULL) {
			host->secret_free(secret);
			secret = NULL;
		}
		if (reply == NULL)
			goto out;
		if (reply->type == REDIS_REPLY_ERROR) {
			redis_errorf(err,
				     "cannot authenticate to '%s'%s%s%s: %s",
				     endpoint->address,
				     endpoint->user ? " as '" : "",
				     endpoint->user ? endpoint->user : "",
				     endpoint->user ? "'" : "", reply->str);
			goto out;
		}
		freeReplyObject(reply);
		reply = NULL;
	} else if (endpoint->user != NULL) {
		redis_errorf(err,
			     "user '%s' for '%s' has no password: set "
			     "password-file",
			     endpoint->user, endpoint->address);
		goto out;
	}
	{
		const char *argv[1] = {"PING"};

		reply = redis_command(c, endpoint->address, err, 1, argv);
		if (reply == NULL)
			goto out;
		if (reply->type == REDIS_REPLY_ERROR &&
		    strncmp(reply->str, "LOADING", 7) != 0) {
			redis_errorf(err, "'%s' refuses commands: %s%s",
				     endpoint->address, reply->str,
				     strncmp(reply->str, "NOAUTH", 6) == 0
					     ? " (set password-file)"
					     : "");
			goto out;
		}
	}
	*context = c;
	c = NULL;
	rc = 0;
out:
	if (secret != NULL)
		host->secret_free(secret);
	if (reply != NULL)
		freeReplyObject(reply);
	if (c != NULL)
		redisFree(c);
	return rc;
}

int
redis_info_field(const char *info, const char *field, char *value, size_t size)
{
	size_t length = strlen(field);
	const char *line = info;

	while (line != NULL && *line != '\0') {
		if (strncmp(line, field, length) == 0 && line[length] == ':') {
			const char *start = line + length + 1;
			size_t n = strcspn(start, "\r\n");

			if (n >= size)
				n = size - 1;
			memcpy(value, start, n);
			value[n] = '\0';
			return 0;
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return -1;
}

char *
redis_info(redisContext *context, const char *address, const char *section,
	   struct cairn_error *err)
{
	const char *argv[2] = {"INFO", section};
	redisReply *reply;
	char *info = NULL;

	reply = redis_command_ok(context, address, err, 2, argv);
	if (reply == NULL)
		return NULL;
	if (reply->type != REDIS_REPLY_STRING &&
	    reply->type != REDIS_REPLY_STATUS) {
		redis_errorf(err, "'INFO %s' on '%s' gave an unexpected reply",
			     section, address);
	} else {
		info = strdup(reply->str);
		if (info == NULL)
			redis_errorf(err, "out of memory");
	}
	freeReplyObject(reply);
	return info;
}

void
redis_keyspace_each(const char *info,
		    void (*each)(void *arg, int db, uint64_t keys,
				 uint64_t expires),
		    void *arg)
{
	const char *line = info;

	while (line != NULL && *line != '\0') {
		unsigned long long keys = 0, expires = 0;
		int db;

		if (sscanf(line, "db%d:keys=%llu,expires=%llu", &db, &keys,
			   &expires) >= 2)
			each(arg, db, keys, expires);
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
}

void
redis_errorf(struct cairn_error *err, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	cairn_error_vset(err, format, ap);
	va_end(ap);
}

void
redis_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int64_t
redis_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
