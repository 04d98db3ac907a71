/*
 * The XML subset reader of xml.h.
 */
#include "xml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static const char *
find(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= end; p++)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* Whether the tag at p (just after '<' or "</") is `name` whole. */
static int
tag_is(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	if ((size_t)(end - p) <= n || memcmp(p, name, n) != 0)
		return 0;
	p += n;
	return *p == '>' || *p == '/' || *p == ' ' || *p == '\t' ||
	       *p == '\r' || *p == '\n';
}

/*
 * Skips the markup at p ('<'): a declaration, comment or CDATA section.
 * Returns where it ends, or NULL when it does not close or is a DOCTYPE.
 */
static const char *
skip_special(const char *p, const char *end)
{
	const char *close;

	if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
		close = find(p + 4, end, "-->");
		return close ? close + 3 : NULL;
	}
	if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
		close = find(p + 9, end, "]]>");
		return close ? close + 3 : NULL;
	}
	if (end - p >= 2 && memcmp(p, "<?", 2) == 0) {
		close = find(p + 2, end, "?>");
		return close ? close + 2 : NULL;
	}
	return NULL; /* <!DOCTYPE and anything else */
}

int
xml_next(const struct xml_span *within, size_t *cursor, const char *name,
	 struct xml_span *content)
{
	const char *base = within->start, *end = base + within->length;
	const char *p = base + *cursor, *open_end, *body;
	int depth;

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		if (p + 1 < end && (p[1] == '!' || p[1] == '?')) {
			p = skip_special(p, end);
			if (p == NULL)
				return -1;
			continue;
		}
		if (!tag_is(p + 1, end, name)) {
			p++;
			continue;
		}
		open_end = memchr(p, '>', (size_t)(end - p));
		if (open_end == NULL)
			return -1;
		if (open_end[-1] == '/') { /* <name/> */
			content->start = open_end + 1;
			content->length = 0;
			*cursor = (size_t)(open_end + 1 - base);
			return 1;
		}
		body = open_end + 1;
		/* The matching end tag, counting nested same-name elements. */
		depth = 1;
		for (p = body; (p = memchr(p, '<', (size_t)(end - p)));) {
			if (p + 1 < end && (p[1] == '!' || p[1] == '?')) {
				p = skip_special(p, end);
				if (p == NULL)
					return -1;
				continue;
			}
			if (p + 1 < end && p[1] == '/' &&
			    tag_is(p + 2, end, name)) {
				if (--depth == 0)
					break;
			} else if (tag_is(p + 1, end, name)) {
				const char *e = memchr(p, '>',
						       (size_t)(end - p));
				if (e == NULL)
					return -1;
				if (e[-1] != '/')
					depth++;
			}
			p++;
		}
		if (p == NULL)
			return -1;
		content->start = body;
		content->length = (size_t)(p - body);
		p = memchr(p, '>', (size_t)(end - p));
		if (p == NULL)
			return -1;
		*cursor = (size_t)(p + 1 - base);
		return 1;
	}
	return 0;
}

static void
append_utf8(struct buf *out, uint32_t c)
{
	if (c < 0x80) {
		buf_append_char(out, (char)c);
	} else if (c < 0x800) {
		buf_append_char(out, (char)(0xc0 | (c >> 6)));
		buf_append_char(out, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		buf_append_char(out, (char)(0xe0 | (c >> 12)));
		buf_append_char(out, (char)(0x80 | ((c >> 6) & 0x3f)));
		buf_append_char(out, (char)(0x80 | (c & 0x3f)));
	} else {
		buf_append_char(out, (char)(0xf0 | (c >> 18)));
		buf_append_char(out, (char)(0x80 | ((c >> 12) & 0x3f)));
		buf_append_char(out, (char)(0x80 | ((c >> 6) & 0x3f)));
		buf_append_char(out, (char)(0x80 | (c & 0x3f)));
	}
}

/* Decodes the reference at p ('&') into out; its length, or 0. */
static size_t
decode_reference(const char *p, const char *end, struct buf *out)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"&lt;", '<'},
		     {"&gt;", '>'},
		     {"&amp;", '&'},
		     {"&quot;", '"'},
		     {"&apos;", '\''}};
	const char *semi = memchr(p, ';', (size_t)(end - p)), *start = p;
	uint32_t c = 0;
	size_t i;
	int hex;

	if (semi == NULL || semi - p > 12)
		return 0;
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if ((size_t)(semi + 1 - p) == strlen(named[i].name) &&
		    memcmp(p, named[i].name, strlen(named[i].name)) == 0) {
			buf_append_char(out, named[i].c);
			return strlen(named[i].name);
		}
	if (p[1] != '#')
		return 0;
	hex = p[2] == 'x';
	for (p += hex ? 3 : 2; p < semi; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (hex && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (hex && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return 0;
		c = c * (hex ? 16 : 10) + (uint32_t)d;
		if (c > 0x10ffff)
			return 0;
	}
	if (c == 0 || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	if (p == start + (hex ? 3 : 2))
		return 0; /* "&#;" */
	append_utf8(out, c);
	return (size_t)(semi + 1 - start);
}

char *
xml_text(const struct xml_span *span)
{
	const char *p = span->start, *end = p + span->length, *close;
	struct buf out = BUF_INIT;
	size_t n;

	buf_append(&out, "", 0);
	while (p < end) {
		if (*p == '&') {
			n = decode_reference(p, end, &out);
			if (n == 0)
				goto bad;
			p += n;
		} else if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
			close = find(p + 9, end, "]]>");
			if (close == NULL)
				goto bad;
			buf_append(&out, p + 9, (size_t)(close - p - 9));
			p = close + 3;
		} else if (*p == '<') {
			goto bad; /* markup where text was expected */
		} else {
			buf_append_char(&out, *p++);
		}
	}
	return buf_detach(&out);
bad:
	buf_release(&out);
	return NULL;
}

char *
xml_find_text(const struct xml_span *within, const char *name)
{
	struct xml_span content;
	size_t cursor = 0;

	if (xml_next(within, &cursor, name, &content) != 1)
		return NULL;
	return xml_text(&content);
}
