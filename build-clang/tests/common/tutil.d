build-clang/tests/common/tutil.o: tests/common/tutil.c \
  tests/common/tutil.h

tests/common/tutil.h:
