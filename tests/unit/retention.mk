# The retention policy's unit test.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_retention
TESTS += tests/unit/test_retention
tests_unit_test_retention_SOURCES = tests/unit/test_retention.c
tests_unit_test_retention_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_retention_LDADD = libcairncore.la $(CMOCKA_LIBS)
endif
