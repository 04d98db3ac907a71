# Unit tests (cmocka), plugin tests against the fake host, loader fixtures.
