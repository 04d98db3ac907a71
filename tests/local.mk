# Unit tests (cmocka), plugin tests against the fake host, loader fixtures.
include tests/unit/json.mk

if HAVE_CMOCKA
# One program per subsystem of the core, linked against the core's
# convenience library.
core_unit_tests = \
	tests/unit/test_config \
	tests/unit/test_arc_id \
	tests/unit/test_catalog \
	tests/unit/test_format \
	tests/unit/test_manifest \
	tests/unit/test_chain \
	tests/unit/test_options \
	tests/unit/test_timefmt \
	tests/unit/test_fsutil \
	tests/unit/test_plugin_loader
check_PROGRAMS += $(core_unit_tests)
TESTS += $(core_unit_tests)

CORE_TEST_SOURCES = tests/unit/test_helpers.c tests/unit/test_helpers.h
CORE_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
CORE_TEST_LDADD = libcairncore.la $(CMOCKA_LIBS)

tests_unit_test_config_SOURCES = tests/unit/test_config.c $(CORE_TEST_SOURCES)
tests_unit_test_config_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_config_LDADD = $(CORE_TEST_LDADD)

tests_unit_test_arc_id_SOURCES = tests/unit/test_arc_id.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_arc_id_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_arc_id_LDADD = $(CORE_TEST_LDADD)

tests_unit_test_catalog_SOURCES = tests/unit/test_catalog.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_catalog_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_catalog_LDADD = $(CORE_TEST_LDADD)

tests_unit_test_format_SOURCES = tests/unit/test_format.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_format_CFLAGS = $(CORE_TEST_CFLAGS) $(LIBARCHIVE_CFLAGS)
tests_unit_test_format_LDADD = $(CORE_TEST_LDADD) $(LIBARCHIVE_LIBS)

tests_unit_test_manifest_SOURCES = tests/unit/test_manifest.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_manifest_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_manifest_LDADD = $(CORE_TEST_LDADD)

tests_unit_test_chain_SOURCES = tests/unit/test_chain.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_chain_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_chain_LDADD = $(CORE_TEST_LDADD)

tests_unit_test_options_SOURCES = tests/unit/test_options.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_options_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_options_LDADD = $(CORE_TEST_LDADD)

tests_unit_test_timefmt_SOURCES = tests/unit/test_timefmt.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_timefmt_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_timefmt_LDADD = $(CORE_TEST_LDADD)

tests_unit_test_fsutil_SOURCES = tests/unit/test_fsutil.c
tests_unit_test_fsutil_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_fsutil_LDADD = $(CORE_TEST_LDADD)

# The loader test opens the fixture plugins below from the build tree.
tests_unit_test_plugin_loader_SOURCES = tests/unit/test_plugin_loader.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_plugin_loader_CFLAGS = $(CORE_TEST_CFLAGS) \
	-DFIXTURE_DIR='"$(abs_top_builddir)/tests/fixtures/.libs"'
tests_unit_test_plugin_loader_LDADD = $(CORE_TEST_LDADD)
tests_unit_test_plugin_loader_DEPENDENCIES = libcairncore.la \
	$(check_LTLIBRARIES)

# Fixture plugins: each right or wrong in one way. -rpath makes libtool
# build a shared object although they are never installed.
FIXTURE_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += \
	tests/fixtures/fixture_good.la \
	tests/fixtures/fixture_bad_abi.la \
	tests/fixtures/fixture_no_entry.la \
	tests/fixtures/fixture_null_callbacks.la \
	tests/fixtures/fixture_claims_plugin.la \
	tests/fixtures/fixture_claims_retention.la \
	tests/fixtures/fixture_misnamed.la

tests_fixtures_fixture_good_la_SOURCES = tests/fixtures/good.c \
	tests/fixtures/fixture.h
tests_fixtures_fixture_good_la_LDFLAGS = $(AM_LDFLAGS) $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_bad_abi_la_SOURCES = tests/fixtures/bad_abi.c
tests_fixtures_fixture_bad_abi_la_LDFLAGS = $(AM_LDFLAGS) $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_no_entry_la_SOURCES = tests/fixtures/no_entry.c \
	tests/fixtures/fixture.h
tests_fixtures_fixture_no_entry_la_LDFLAGS = $(AM_LDFLAGS) $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_null_callbacks_la_SOURCES = \
	tests/fixtures/null_callbacks.c tests/fixtures/fixture.h
tests_fixtures_fixture_null_callbacks_la_LDFLAGS = $(AM_LDFLAGS) \
	$(FIXTURE_LDFLAGS)
tests_fixtures_fixture_claims_plugin_la_SOURCES = \
	tests/fixtures/claims_plugin.c tests/fixtures/fixture.h
tests_fixtures_fixture_claims_plugin_la_LDFLAGS = $(AM_LDFLAGS) \
	$(FIXTURE_LDFLAGS)
tests_fixtures_fixture_claims_retention_la_SOURCES = \
	tests/fixtures/claims_retention.c tests/fixtures/fixture.h
tests_fixtures_fixture_claims_retention_la_LDFLAGS = $(AM_LDFLAGS) \
	$(FIXTURE_LDFLAGS)
tests_fixtures_fixture_misnamed_la_SOURCES = tests/fixtures/misnamed.c \
	tests/fixtures/fixture.h
tests_fixtures_fixture_misnamed_la_LDFLAGS = $(AM_LDFLAGS) $(FIXTURE_LDFLAGS)
endif

# The core's integration script and its archive crafter travel with the
# tarball.
EXTRA_DIST += tests/integration/core.sh tests/integration/craft_archive.py
# The fault tests and the system-call fault injector they build.
EXTRA_DIST += tests/integration/faults.sh tests/faults/inject.c
# Modes, secrets and symlinks in the repository; many files, a sparse
# file, 10,000 archives and two processes on one repository.
EXTRA_DIST += tests/integration/security.sh tests/integration/scale.sh
# The fuzz targets of the parsers, their runner, seed corpora (whole
# directories) and the integration script that runs them briefly.
EXTRA_DIST += tests/integration/fuzz.sh tests/fuzz/run.sh \
	tests/fuzz/fuzz_scratch.c tests/fuzz/fuzz_scratch.h \
	tests/fuzz/fuzz_json.c tests/fuzz/fuzz_config.c \
	tests/fuzz/fuzz_manifest.c tests/fuzz/fuzz_catalog.c \
	tests/fuzz/fuzz_archive.c tests/fuzz/make_archive_seeds.py \
	tests/fuzz/corpus
# Archives of an earlier cairn, and the script that reads them.
EXTRA_DIST += tests/integration/compat.sh tests/fixtures/archives
# Damaged archives and catalogues; hostile archives and configuration.
EXTRA_DIST += tests/integration/damage.sh tests/integration/hostile.sh
# Prune, check, drill, the lock, metrics and logging.
EXTRA_DIST += tests/integration/maintenance.sh tests/integration/age.sh
