build-clang/tests/test_ndram: tests/test_ndram.c core/cfg.h core/err.h \
  hostif/ndram.h core/energy.h tests/common/tutil.h

core/cfg.h:

core/err.h:

hostif/ndram.h:

core/energy.h:

tests/common/tutil.h:
