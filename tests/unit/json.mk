# JSON module unit test.
