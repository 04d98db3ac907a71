/*
 * Just enough XML to read S3's replies (errors, ListObjectsV2, multipart
 * uploads): flat documents of elements holding text or other elements, in
 * S3's default namespace, without a DTD. An element is found by name
 * within a span of the document and its text decoded (the five named
 * entities and numeric character references). Anything that does not
 * scan (an unclosed element, an unknown entity, a DOCTYPE, which could
 * declare entities) is refused rather than guessed at.
 *
 * Why not libxml2: these replies use a dozen element names and no XML
 * feature beyond character references, and a scanner of that subset is a
 * smaller surface to audit than a general parser with entity expansion.
 *
 * Ownership: spans point into the caller's text; xml_text's result is
 * the caller's to free.
 */
#ifndef CAIRN_XML_H
#define CAIRN_XML_H

#include <stddef.h>

struct xml_span {
	const char *start;
	size_t length;
};

/*
 * Finds the next element `name` in `within` at or after `*cursor`
 * (an offset into within) and sets `content` to what lies between its
 * tags (empty for <name/>); *cursor moves past its end tag. 1 when found,
 * 0 when there is none, -1 when the document does not scan.
 */
int xml_next(const struct xml_span *within, size_t *cursor, const char *name,
	     struct xml_span *content);

/* The first `name` in `within`, decoded; NULL when absent or malformed. */
char *xml_find_text(const struct xml_span *within, const char *name);

/* The span's text with references decoded, or NULL when one is bad. */
char *xml_text(const struct xml_span *span);

#endif
