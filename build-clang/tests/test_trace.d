build-clang/tests/test_trace: tests/test_trace.c core/util.h \
  tests/common/tutil.h workloads/trace.h core/err.h

core/util.h:

tests/common/tutil.h:

workloads/trace.h:

core/err.h:
