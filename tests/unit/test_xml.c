/*
 * Unit tests of the XML subset reader on replies recorded from S3 and
 * S3-compatible servers, and on documents it must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "xml.h"

static struct xml_span
span_of(const char *text)
{
	struct xml_span s = {text, strlen(text)};

	return s;
}

static void
test_error_reply(void **state)
{
	struct xml_span doc = span_of(
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"
		"<Code>SignatureDoesNotMatch</Code><Message>The request "
		"signature we calculated does not match &amp; &lt;so&gt; "
		"&#233;&#x263A;</Message><RequestId>4442587FB7D0A2F9"
		"</RequestId></Error>");
	char *code = xml_find_text(&doc, "Code");
	char *message = xml_find_text(&doc, "Message");

	(void)state;
	assert_string_equal(code, "SignatureDoesNotMatch");
	assert_string_equal(message,
			    "The request signature we calculated "
			    "does not match & <so> \xc3\xa9\xe2\x98\xba");
	assert_null(xml_find_text(&doc, "Resource"));
	assert_null(xml_find_text(&doc, "Cod")); /* whole names only */
	free(code);
	free(message);
}

static void
test_list_objects(void **state)
{
	struct xml_span doc = span_of(
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/"
		"2006-03-01/\"><Name>b</Name><Prefix>p/</Prefix><KeyCount>2"
		"</KeyCount><IsTruncated>true</IsTruncated>"
		"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36"
		"Hy4vbOwM=</NextContinuationToken><Contents><Key>p/a b"
		"</Key><LastModified>2026-11-24T02:00:00.000Z</LastModified>"
		"<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>"
		"<Size>10</Size><StorageClass>STANDARD</StorageClass>"
		"</Contents><Contents><Key>p/c</Key><Size>0</Size>"
		"</Contents><Contents/></ListBucketResult>");
	struct xml_span item;
	size_t cursor = 0;
	char *text;

	(void)state;
	text = xml_find_text(&doc, "IsTruncated");
	assert_string_equal(text, "true");
	free(text);
	assert_int_equal(xml_next(&doc, &cursor, "Contents", &item), 1);
	text = xml_find_text(&item, "Key");
	assert_string_equal(text, "p/a b");
	free(text);
	text = xml_find_text(&item, "ETag");
	assert_string_equal(text, "\"9b2cf535f27731c974343645a3985328\"");
	free(text);
	assert_int_equal(xml_next(&doc, &cursor, "Contents", &item), 1);
	text = xml_find_text(&item, "Size");
	assert_string_equal(text, "0");
	free(text);
	assert_int_equal(xml_next(&doc, &cursor, "Contents", &item), 1);
	assert_int_equal(item.length, 0);
	assert_int_equal(xml_next(&doc, &cursor, "Contents", &item), 0);
}

static void
test_refused(void **state)
{
	struct xml_span unclosed = span_of("<Error><Code>Slow");
	struct xml_span entity = span_of("<Code>&bogus;</Code>");
	struct xml_span zero = span_of("<Code>&#0;</Code>");
	struct xml_span doctype = span_of(
		"<!DOCTYPE x [<!ENTITY a \"b\">]><Code>&a;</Code>");
	struct xml_span nested = span_of("<Code><b>x</b></Code>");
	struct xml_span item;
	size_t cursor = 0;

	(void)state;
	assert_int_equal(xml_next(&unclosed, &cursor, "Code", &item), -1);
	assert_null(xml_find_text(&entity, "Code"));
	assert_null(xml_find_text(&zero, "Code"));
	cursor = 0;
	assert_int_equal(xml_next(&doctype, &cursor, "Code", &item), -1);
	assert_null(xml_find_text(&nested, "Code"));
}

static void
test_comments_and_cdata(void **state)
{
	struct xml_span doc = span_of(
		"<!-- <Code>no</Code> --><Code><![CDATA[a<b]]>c</Code>");
	char *text = xml_find_text(&doc, "Code");

	(void)state;
	assert_string_equal(text, "a<bc");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_list_objects),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_comments_and_cdata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
