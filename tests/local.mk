# Unit tests (cmocka), plugin tests against the fake host, loader fixtures.
include tests/unit/json.mk
