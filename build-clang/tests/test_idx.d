build-clang/tests/test_idx: tests/test_idx.c core/util.h \
  tests/common/tutil.h workloads/idx.h core/err.h

core/util.h:

tests/common/tutil.h:

workloads/idx.h:

core/err.h:
