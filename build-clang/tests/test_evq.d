build-clang/tests/test_evq: tests/test_evq.c core/evq.h core/rng.h \
  core/util.h tests/common/tutil.h

core/evq.h:

core/rng.h:

core/util.h:

tests/common/tutil.h:
