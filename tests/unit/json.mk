# JSON module unit test.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_json
TESTS += tests/unit/test_json
tests_unit_test_json_SOURCES = tests/unit/test_json.c
tests_unit_test_json_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_json_LDADD = libcairnshared.la $(CMOCKA_LIBS)
endif
