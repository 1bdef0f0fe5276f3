build-clang/analog/xbar.o: analog/xbar.c analog/xbar.h core/cfg.h \
  core/err.h core/energy.h workloads/bnn.h workloads/idx.h core/rng.h \
  core/util.h

analog/xbar.h:

core/cfg.h:

core/err.h:

core/energy.h:

workloads/bnn.h:

workloads/idx.h:

core/rng.h:

core/util.h:
