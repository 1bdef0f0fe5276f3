build-clang/tests/test_xbar: tests/test_xbar.c analog/gbo.h analog/xbar.h \
  core/cfg.h core/err.h core/energy.h workloads/bnn.h workloads/idx.h \
  core/util.h tests/common/tutil.h

analog/gbo.h:

analog/xbar.h:

core/cfg.h:

core/err.h:

core/energy.h:

workloads/bnn.h:

workloads/idx.h:

core/util.h:

tests/common/tutil.h:
