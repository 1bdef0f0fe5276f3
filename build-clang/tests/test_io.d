build-clang/tests/test_io: tests/test_io.c core/err.h core/util.h \
  hostif/io.h core/hist.h tests/common/tutil.h

core/err.h:

core/util.h:

hostif/io.h:

core/hist.h:

tests/common/tutil.h:
