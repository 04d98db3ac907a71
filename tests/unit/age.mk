# age v1 unit test: the C2SP vectors of tests/fixtures/age-testkit (some
# zlib-compressed, hence -lz), keys and random access.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_age
TESTS += tests/unit/test_age
tests_unit_test_age_SOURCES = tests/unit/test_age.c \
	tests/unit/test_helpers.c tests/unit/test_helpers.h
tests_unit_test_age_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS) \
	-DAGE_TESTKIT_DIR='"$(abs_top_srcdir)/tests/fixtures/age-testkit"'
tests_unit_test_age_LDADD = libcairncore.la $(CMOCKA_LIBS) -lz
endif
EXTRA_DIST += tests/fixtures/age-testkit
