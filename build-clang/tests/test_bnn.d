build-clang/tests/test_bnn: tests/test_bnn.c core/rng.h core/util.h \
  tests/common/tutil.h workloads/bnn.h core/cfg.h core/err.h \
  workloads/idx.h

core/rng.h:

core/util.h:

tests/common/tutil.h:

workloads/bnn.h:

core/cfg.h:

core/err.h:

workloads/idx.h:
