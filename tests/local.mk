# Every unit test (cmocka) of the core and of lib/ is registered here, and
# the loader's fixture plugins; the plugins' own tests against the fake
# host sit beside each plugin, in plugins/<name>/local.mk.

if HAVE_CMOCKA
# One program per subsystem, linked against the core's convenience
# library (or lib/'s, for the modules that live there).
unit_tests = \
	tests/unit/test_age \
	tests/unit/test_age_blob \
	tests/unit/test_arc_id \
	tests/unit/test_catalog \
	tests/unit/test_config \
	tests/unit/test_datapath \
	tests/unit/test_format \
	tests/unit/test_fsutil \
	tests/unit/test_json \
	tests/unit/test_manifest \
	tests/unit/test_chain \
	tests/unit/test_options \
	tests/unit/test_plugin_loader \
	tests/unit/test_retention \
	tests/unit/test_s3 \
	tests/unit/test_sigv4 \
	tests/unit/test_thread_sink \
	tests/unit/test_timefmt \
	tests/unit/test_xml
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests)

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

tests_unit_test_datapath_SOURCES = tests/unit/test_datapath.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_datapath_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_datapath_LDADD = $(CORE_TEST_LDADD)

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

tests_unit_test_thread_sink_SOURCES = tests/unit/test_thread_sink.c
tests_unit_test_thread_sink_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_thread_sink_LDADD = $(CORE_TEST_LDADD)

tests_unit_test_timefmt_SOURCES = tests/unit/test_timefmt.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_timefmt_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_timefmt_LDADD = $(CORE_TEST_LDADD)

tests_unit_test_fsutil_SOURCES = tests/unit/test_fsutil.c
tests_unit_test_fsutil_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_fsutil_LDADD = $(CORE_TEST_LDADD)

# lib/'s JSON module, without the core.
tests_unit_test_json_SOURCES = tests/unit/test_json.c
tests_unit_test_json_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_json_LDADD = libcairnshared.la $(CMOCKA_LIBS)

tests_unit_test_retention_SOURCES = tests/unit/test_retention.c
tests_unit_test_retention_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_retention_LDADD = $(CORE_TEST_LDADD)

# age v1: the C2SP vectors (some zlib-compressed, hence -lz), keys and
# random access.
tests_unit_test_age_SOURCES = tests/unit/test_age.c $(CORE_TEST_SOURCES)
tests_unit_test_age_CFLAGS = $(CORE_TEST_CFLAGS) $(CRYPTO_CFLAGS) \
	-DAGE_TESTKIT_DIR='"$(abs_top_srcdir)/tests/fixtures/age-testkit"'
tests_unit_test_age_LDADD = $(CORE_TEST_LDADD) -lz

# The decrypting blob: its read-ahead, damage and read errors.
tests_unit_test_age_blob_SOURCES = tests/unit/test_age_blob.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_age_blob_CFLAGS = $(CORE_TEST_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_age_blob_LDADD = $(CORE_TEST_LDADD)

# Offsite: the signer on AWS's published examples, the XML reader and
# the S3 client's replies.
tests_unit_test_sigv4_SOURCES = tests/unit/test_sigv4.c
tests_unit_test_sigv4_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_sigv4_LDADD = $(CORE_TEST_LDADD)
tests_unit_test_xml_SOURCES = tests/unit/test_xml.c
tests_unit_test_xml_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_xml_LDADD = $(CORE_TEST_LDADD)
tests_unit_test_s3_SOURCES = tests/unit/test_s3.c
tests_unit_test_s3_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_s3_LDADD = $(CORE_TEST_LDADD)

# The loader test opens the fixture plugins below from the build tree.
tests_unit_test_plugin_loader_SOURCES = tests/unit/test_plugin_loader.c \
	$(CORE_TEST_SOURCES)
tests_unit_test_plugin_loader_CFLAGS = $(CORE_TEST_CFLAGS) \
	-DFIXTURE_DIR='"$(abs_top_builddir)/tests/fixtures/.libs"'
tests_unit_test_plugin_loader_LDADD = $(CORE_TEST_LDADD)
tests_unit_test_plugin_loader_DEPENDENCIES = libcairncore.la \
	$(check_LTLIBRARIES)

# Fixture plugins: each right or wrong in one way. -rpath makes libtool
# build a shared object although they are never installed. Like the real
# plugins they see only config/, include/ and their own folder.
FIXTURE_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
FIXTURE_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/tests/fixtures
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
tests_fixtures_fixture_good_la_CPPFLAGS = $(FIXTURE_CPPFLAGS)
tests_fixtures_fixture_good_la_LDFLAGS = $(AM_LDFLAGS) $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_bad_abi_la_SOURCES = tests/fixtures/bad_abi.c
tests_fixtures_fixture_bad_abi_la_CPPFLAGS = $(FIXTURE_CPPFLAGS)
tests_fixtures_fixture_bad_abi_la_LDFLAGS = $(AM_LDFLAGS) $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_no_entry_la_SOURCES = tests/fixtures/no_entry.c \
	tests/fixtures/fixture.h
tests_fixtures_fixture_no_entry_la_CPPFLAGS = $(FIXTURE_CPPFLAGS)
tests_fixtures_fixture_no_entry_la_LDFLAGS = $(AM_LDFLAGS) $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_null_callbacks_la_SOURCES = \
	tests/fixtures/null_callbacks.c tests/fixtures/fixture.h
tests_fixtures_fixture_null_callbacks_la_CPPFLAGS = $(FIXTURE_CPPFLAGS)
tests_fixtures_fixture_null_callbacks_la_LDFLAGS = $(AM_LDFLAGS) \
	$(FIXTURE_LDFLAGS)
tests_fixtures_fixture_claims_plugin_la_SOURCES = \
	tests/fixtures/claims_plugin.c tests/fixtures/fixture.h
tests_fixtures_fixture_claims_plugin_la_CPPFLAGS = $(FIXTURE_CPPFLAGS)
tests_fixtures_fixture_claims_plugin_la_LDFLAGS = $(AM_LDFLAGS) \
	$(FIXTURE_LDFLAGS)
tests_fixtures_fixture_claims_retention_la_SOURCES = \
	tests/fixtures/claims_retention.c tests/fixtures/fixture.h
tests_fixtures_fixture_claims_retention_la_CPPFLAGS = $(FIXTURE_CPPFLAGS)
tests_fixtures_fixture_claims_retention_la_LDFLAGS = $(AM_LDFLAGS) \
	$(FIXTURE_LDFLAGS)
tests_fixtures_fixture_misnamed_la_SOURCES = tests/fixtures/misnamed.c \
	tests/fixtures/fixture.h
tests_fixtures_fixture_misnamed_la_CPPFLAGS = $(FIXTURE_CPPFLAGS)
tests_fixtures_fixture_misnamed_la_LDFLAGS = $(AM_LDFLAGS) $(FIXTURE_LDFLAGS)
endif

# The age test reads the C2SP vectors of tests/fixtures/age-testkit.
EXTRA_DIST += tests/fixtures/age-testkit

# The offsite integration script and its S3 server (npm ci from the lock).
EXTRA_DIST += tests/integration/offsite.sh tests/s3/package.json \
	tests/s3/package-lock.json tests/s3/server.js \
	tests/s3/faultproxy.py

# The core's integration script and its archive crafter travel with the
# tarball.
EXTRA_DIST += tests/integration/core.sh tests/integration/craft_archive.py
# The fault tests and the system-call fault injector they build.
EXTRA_DIST += tests/integration/faults.sh tests/faults/inject.c
# Modes, secrets and symlinks in the repository; many files, a sparse
# file, 10,000 archives and two processes on one repository.
EXTRA_DIST += tests/integration/security.sh tests/integration/scale.sh
# What tests/fuzz/run.sh builds its targets from, as this graph has it:
# the sources of lib/ and of the core's library, their compiler flags
# (run.sh keeps the include folders) and their libraries (it drops the
# libtool ones, whose sources are in the list).
print-fuzz-build:
	@echo "sources: $(libcairnshared_la_SOURCES) $(libcairncore_la_SOURCES)"
	@echo "cflags: $(libcairncore_la_CFLAGS)"
	@echo "libs: $(libcairncore_la_LIBADD)"
.PHONY: print-fuzz-build

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
