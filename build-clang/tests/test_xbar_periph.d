build-clang/tests/test_xbar_periph: tests/test_xbar_periph.c \
  analog/xbar.h core/cfg.h core/err.h core/energy.h workloads/bnn.h \
  workloads/idx.h core/util.h tests/common/tutil.h

analog/xbar.h:

core/cfg.h:

core/err.h:

core/energy.h:

workloads/bnn.h:

workloads/idx.h:

core/util.h:

tests/common/tutil.h:
