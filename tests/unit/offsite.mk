# Unit tests of the offsite modules: the signer on AWS's published
# examples, the XML reader and the S3 client's replies.
if HAVE_CMOCKA
offsite_unit_tests = tests/unit/test_sigv4 tests/unit/test_xml \
	tests/unit/test_s3
check_PROGRAMS += $(offsite_unit_tests)
TESTS += $(offsite_unit_tests)
tests_unit_test_sigv4_SOURCES = tests/unit/test_sigv4.c
tests_unit_test_sigv4_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sigv4_LDADD = libcairncore.la $(CMOCKA_LIBS)
tests_unit_test_xml_SOURCES = tests/unit/test_xml.c
tests_unit_test_xml_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_xml_LDADD = libcairncore.la $(CMOCKA_LIBS)
tests_unit_test_s3_SOURCES = tests/unit/test_s3.c
tests_unit_test_s3_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_s3_LDADD = libcairncore.la $(CMOCKA_LIBS)
endif

# The offsite integration script and its S3 server (npm ci from the lock).
EXTRA_DIST += tests/integration/offsite.sh tests/s3/package.json \
	tests/s3/package-lock.json tests/s3/server.js \
	tests/s3/faultproxy.py
