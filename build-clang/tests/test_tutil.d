build-clang/tests/test_tutil: tests/test_tutil.c tests/common/tutil.h

tests/common/tutil.h:
