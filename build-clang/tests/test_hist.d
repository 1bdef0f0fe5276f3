build-clang/tests/test_hist: tests/test_hist.c core/energy.h core/hist.h \
  core/rng.h core/util.h tests/common/tutil.h

core/energy.h:

core/hist.h:

core/rng.h:

core/util.h:

tests/common/tutil.h:
