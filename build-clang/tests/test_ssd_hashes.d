build-clang/tests/test_ssd_hashes: tests/test_ssd_hashes.c \
  tests/common/tutil.h

tests/common/tutil.h:
