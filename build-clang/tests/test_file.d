build-clang/tests/test_file: tests/test_file.c core/file.h core/err.h \
  tests/common/tutil.h

core/file.h:

core/err.h:

tests/common/tutil.h:
