build-clang/tests/test_sgd: tests/test_sgd.c core/rng.h core/util.h \
  tests/common/tutil.h workloads/sgd.h core/cfg.h core/err.h \
  workloads/model.h workloads/idx.h

core/rng.h:

core/util.h:

tests/common/tutil.h:

workloads/sgd.h:

core/cfg.h:

core/err.h:

workloads/model.h:

workloads/idx.h:
