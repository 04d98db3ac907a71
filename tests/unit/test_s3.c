/*
 * Unit tests of the S3 client's reading of replies, on replies recorded
 * from AWS S3 and S3-compatible servers, including those the test server
 * cannot produce: SlowDown, RequestTimeout, an object lock's end date, a
 * 200 whose body is an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "s3.h"

static const char slow_down[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown"
	"</Code><Message>Please reduce your request rate.</Message>"
	"<RequestId>4VC0V6DX1T6YJ2VZ</RequestId></Error>";
static const char request_timeout[] =
	"<Error><Code>RequestTimeout</Code><Message>Your socket connection "
	"to the server was not read from or written to within the timeout "
	"period.</Message></Error>";
static const char signature[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
	"SignatureDoesNotMatch</Code><Message>The request signature we "
	"calculated does not match the signature you provided. Check your "
	"key and signing method.</Message><AWSAccessKeyId>AKIA</AWSAccessKeyId>"
	"</Error>";
static const char locked[] =
	"<Error><Code>AccessDenied</Code><Message>Access Denied because "
	"object protected by object lock.</Message></Error>";
static const char not_implemented[] =
	"<Error><Code>NotImplemented</Code><Message>A header you provided "
	"implies functionality that is not implemented</Message></Error>";

static void
test_retryable(void **state)
{
	(void)state;
	assert_true(s3_reply_retryable(503, slow_down, strlen(slow_down)));
	assert_true(s3_reply_retryable(500, NULL, 0));
	assert_true(s3_reply_retryable(502, "<html>bad gateway</html>", 24));
	assert_true(s3_reply_retryable(429, NULL, 0));
	assert_true(s3_reply_retryable(408, NULL, 0));
	/* S3 sends RequestTimeout as a 400. */
	assert_true(s3_reply_retryable(400, request_timeout,
				       strlen(request_timeout)));
	assert_false(s3_reply_retryable(403, signature, strlen(signature)));
	assert_false(s3_reply_retryable(403, locked, strlen(locked)));
	assert_false(s3_reply_retryable(404, NULL, 0));
	assert_false(s3_reply_retryable(501, not_implemented,
					strlen(not_implemented)));
}

static void
test_error_messages(void **state)
{
	static const char hostile[] =
		"<Error><Code>X</Code><Message>a\nb\rc</Message></Error>";
	struct buf message = BUF_INIT;

	(void)state;
	s3_reply_error(403, signature, strlen(signature), &message);
	assert_string_equal(buf_str(&message),
			    "403 SignatureDoesNotMatch: The request signature "
			    "we calculated does not match the signature you "
			    "provided. Check your key and signing method.");
	buf_reset(&message);
	s3_reply_error(403, locked, strlen(locked), &message);
	assert_string_equal(buf_str(&message),
			    "403 AccessDenied: Access Denied because object "
			    "protected by object lock.");
	buf_reset(&message);
	s3_reply_error(404, NULL, 0, &message);
	assert_string_equal(buf_str(&message), "404 Not Found");
	buf_reset(&message);
	/* A hostile reply is one line, and not all of it. */
	s3_reply_error(400, hostile, strlen(hostile), &message);
	assert_string_equal(buf_str(&message), "400 X: a b c");
	buf_release(&message);
}

static void
test_part_size(void **state)
{
	const uint64_t mib = 1024 * 1024;

	(void)state;
	assert_int_equal(s3_part_size(100 * mib, 8 * mib), 8 * mib);
	/* 10,000 parts of 8 MiB hold 78 GiB; 1 TiB needs 128 MiB parts. */
	assert_int_equal(s3_part_size(1024ULL * 1024 * mib, 8 * mib),
			 128 * mib);
	assert_true((1024ULL * 1024 * mib +
		     s3_part_size(1024ULL * 1024 * mib, 8 * mib) - 1) /
			    s3_part_size(1024ULL * 1024 * mib, 8 * mib) <=
		    10000);
	/* Below S3's minimum of 5 MiB a part, the minimum. */
	assert_int_equal(s3_part_size(10 * mib, mib), 5 * mib);
}

static void
test_parts_in_flight(void **state)
{
	const uint64_t mib = 1024 * 1024;

	(void)state;
	/* The default 8 MiB parts: 4 at once, 32 MiB of buffers. */
	assert_int_equal(s3_parts_in_flight(8 * mib), 4);
	assert_int_equal(s3_parts_in_flight(5 * mib), 4);
	/* Larger parts, fewer at once: the buffers stay within 32 MiB. */
	assert_int_equal(s3_parts_in_flight(16 * mib), 2);
	assert_int_equal(s3_parts_in_flight(20 * mib), 1);
	/* One at least, however large (part-size goes up to 5 GiB). */
	assert_int_equal(s3_parts_in_flight(5120 * mib), 1);
}

static void
test_dates(void **state)
{
	(void)state;
	/* x-amz-object-lock-retain-until-date as S3 returns it. */
	assert_int_equal(s3_parse_date("2026-12-31T00:00:00.000Z"), 1798675200);
	assert_int_equal(s3_parse_date("2026-12-31T00:00:00Z"), 1798675200);
	/* The Date header, for the clock skew. */
	assert_int_equal(s3_parse_date("Thu, 31 Dec 2026 00:00:00 GMT"),
			 1798675200);
	assert_int_equal(s3_parse_date("yesterday"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retryable),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_part_size),
		cmocka_unit_test(test_parts_in_flight),
		cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
