build-clang/tests/test_model: tests/test_model.c core/rng.h core/util.h \
  tests/common/tutil.h workloads/model.h core/err.h workloads/idx.h

core/rng.h:

core/util.h:

tests/common/tutil.h:

workloads/model.h:

core/err.h:

workloads/idx.h:
