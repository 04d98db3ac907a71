/*
 * Unit tests of the Signature V4 signer against AWS's published examples:
 * get-vanilla and get-vanilla-query-order-key-case of the SigV4 test
 * suite, and the GET object, PUT object, GET lifecycle and list objects
 * examples of S3's "Authenticating Requests: Using the Authorization
 * Header" page, whose signatures are published.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sigv4.h"

/* The test suite's credentials and the S3 page's. */
static const struct sigv4_credentials suite_keys =
	{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
static const struct sigv4_credentials s3_keys =
	{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};

static void
expect_signature(const struct sigv4_request *r,
		 const struct sigv4_credentials *c, const char *expected)
{
	struct cairn_error err;
	struct buf out = BUF_INIT;
	const char *signature;

	assert_int_equal(sigv4_authorization(r, c, &out, &err), 0);
	signature = strstr(buf_str(&out), "Signature=");
	assert_non_null(signature);
	assert_string_equal(signature + strlen("Signature="), expected);
	buf_release(&out);
}

static void
test_get_vanilla(void **state)
{
	static const struct sigv4_pair headers[] = {
		{"Host", "example.amazonaws.com"},
		{"X-Amz-Date", "20150830T123600Z"},
	};
	struct sigv4_request r = {
		.method = "GET",
		.path = "/",
		.headers = headers,
		.header_count = 2,
		.payload_sha256 = SIGV4_EMPTY_SHA256,
		.amz_date = "20150830T123600Z",
		.region = "us-east-1",
		.service = "service",
	};
	struct buf out = BUF_INIT;
	struct cairn_error err;

	(void)state;
	sigv4_canonical_request(&r, &out);
	assert_string_equal(buf_str(&out),
			    "GET\n/\n\nhost:example.amazonaws.com\n"
			    "x-amz-date:20150830T123600Z\n\nhost;x-amz-"
			    "date\n" SIGV4_EMPTY_SHA256);
	buf_reset(&out);
	sigv4_string_to_sign(&r, &out);
	assert_string_equal(
		buf_str(&out),
		"AWS4-HMAC-SHA256\n20150830T123600Z\n"
		"20150830/us-east-1/service/aws4_request\n"
		"bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1"
		"c25292927e63");
	buf_reset(&out);
	assert_int_equal(sigv4_authorization(&r, &suite_keys, &out, &err), 0);
	assert_string_equal(
		buf_str(&out),
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
		"service/aws4_request, SignedHeaders=host;x-amz-date, "
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8"
		"aae1d763fbf31");
	buf_release(&out);
}

static void
test_query_order_key_case(void **state)
{
	static const struct sigv4_pair headers[] = {
		{"Host", "example.amazonaws.com"},
		{"X-Amz-Date", "20150830T123600Z"},
	};
	static const struct sigv4_pair query[] = {
		{"Param2", "value2"},
		{"Param1", "value1"},
	};
	struct sigv4_request r = {
		.method = "GET",
		.path = "/",
		.query = query,
		.query_count = 2,
		.headers = headers,
		.header_count = 2,
		.payload_sha256 = SIGV4_EMPTY_SHA256,
		.amz_date = "20150830T123600Z",
		.region = "us-east-1",
		.service = "service",
	};
	struct buf out = BUF_INIT;

	(void)state;
	sigv4_canonical_query(&r, &out);
	assert_string_equal(buf_str(&out), "Param1=value1&Param2=value2");
	buf_release(&out);
	expect_signature(&r, &suite_keys,
			 "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d32"
			 "19ec94cdf2500");
}

static void
test_s3_get_object(void **state)
{
	static const struct sigv4_pair headers[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"Range", "bytes=0-9"},
		{"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
		{"x-amz-date", "20130524T000000Z"},
	};
	struct sigv4_request r = {
		.method = "GET",
		.path = "/test.txt",
		.headers = headers,
		.header_count = 4,
		.payload_sha256 = SIGV4_EMPTY_SHA256,
		.amz_date = "20130524T000000Z",
		.region = "us-east-1",
		.service = "s3",
	};
	struct buf out = BUF_INIT;

	(void)state;
	sigv4_canonical_request(&r, &out);
	assert_string_equal(
		buf_str(&out),
		"GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
		"range:bytes=0-9\nx-amz-content-sha256:" SIGV4_EMPTY_SHA256
		"\nx-amz-date:20130524T000000Z\n\n"
		"host;range;x-amz-content-sha256;x-amz-"
		"date\n" SIGV4_EMPTY_SHA256);
	buf_release(&out);
	expect_signature(&r, &s3_keys,
			 "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91"
			 "039c6036bdb41");
}

static void
test_s3_put_object(void **state)
{
	/* "Welcome to Amazon S3." */
	static const char body_sha[] = "44ce7dd67c959e0d3524ffac1771dfbba87d2b"
				       "6b4b4e99e42034a8b803f8b072";
	static const struct sigv4_pair headers[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
		{"x-amz-date", "20130524T000000Z"},
		{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
		{"x-amz-content-sha256", body_sha},
	};
	struct sigv4_request r = {
		.method = "PUT",
		.path = "/test$file.text",
		.headers = headers,
		.header_count = 5,
		.payload_sha256 = body_sha,
		.amz_date = "20130524T000000Z",
		.region = "us-east-1",
		.service = "s3",
	};
	struct buf out = BUF_INIT;

	(void)state;
	sigv4_canonical_request(&r, &out);
	/* The key's '$' is encoded in the canonical URI. */
	assert_memory_equal(buf_str(&out), "PUT\n/test%24file.text\n\n", 23);
	buf_release(&out);
	expect_signature(&r, &s3_keys,
			 "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b59"
			 "71af0ece108bd");
}

static void
test_s3_get_lifecycle(void **state)
{
	static const struct sigv4_pair headers[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-date", "20130524T000000Z"},
		{"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
	};
	static const struct sigv4_pair query[] = {{"lifecycle", ""}};
	struct sigv4_request r = {
		.method = "GET",
		.path = "/",
		.query = query,
		.query_count = 1,
		.headers = headers,
		.header_count = 3,
		.payload_sha256 = SIGV4_EMPTY_SHA256,
		.amz_date = "20130524T000000Z",
		.region = "us-east-1",
		.service = "s3",
	};

	(void)state;
	expect_signature(&r, &s3_keys,
			 "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a2"
			 "00a0136783543");
}

static void
test_s3_list_objects(void **state)
{
	static const struct sigv4_pair headers[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-date", "20130524T000000Z"},
		{"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
	};
	static const struct sigv4_pair query[] = {
		{"prefix", "J"},
		{"max-keys", "2"},
	};
	struct sigv4_request r = {
		.method = "GET",
		.path = "/",
		.query = query,
		.query_count = 2,
		.headers = headers,
		.header_count = 3,
		.payload_sha256 = SIGV4_EMPTY_SHA256,
		.amz_date = "20130524T000000Z",
		.region = "us-east-1",
		.service = "s3",
	};

	(void)state;
	expect_signature(&r, &s3_keys,
			 "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed"
			 "5711ef69dc6f7");
}

static void
test_uri_encode(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	sigv4_uri_encode(&out, "a b/c~d_e.f-g+h=i&j%\xc3\xa9", 1);
	assert_string_equal(buf_str(&out),
			    "a%20b/c~d_e.f-g%2Bh%3Di%26j%25%C3%A9");
	buf_reset(&out);
	sigv4_uri_encode(&out, "archives/job/x", 0);
	assert_string_equal(buf_str(&out), "archives%2Fjob%2Fx");
	buf_release(&out);
}

static void
test_header_values_trimmed(void **state)
{
	static const struct sigv4_pair headers[] = {
		{"X-Amz-Date", "20150830T123600Z"},
		{"My-Header1", "  value1   with  spaces "},
		{"Host", "example.amazonaws.com"},
	};
	struct sigv4_request r = {
		.method = "GET",
		.path = "/",
		.headers = headers,
		.header_count = 3,
		.payload_sha256 = SIGV4_EMPTY_SHA256,
		.amz_date = "20150830T123600Z",
		.region = "us-east-1",
		.service = "service",
	};
	struct buf out = BUF_INIT;

	(void)state;
	sigv4_canonical_request(&r, &out);
	assert_non_null(strstr(buf_str(&out), "\nhost:example.amazonaws.com\n"
					      "my-header1:value1 with spaces\n"
					      "x-amz-date:20150830T123600Z\n\n"
					      "host;my-header1;x-amz-date\n"));
	buf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_vanilla),
		cmocka_unit_test(test_query_order_key_case),
		cmocka_unit_test(test_s3_get_object),
		cmocka_unit_test(test_s3_put_object),
		cmocka_unit_test(test_s3_get_lifecycle),
		cmocka_unit_test(test_s3_list_objects),
		cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_header_values_trimmed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
