build-clang/analog/gbo.o: analog/gbo.c analog/gbo.h analog/xbar.h \
  core/cfg.h core/err.h core/energy.h workloads/bnn.h workloads/idx.h \
  core/rng.h core/util.h

analog/gbo.h:

analog/xbar.h:

core/cfg.h:

core/err.h:

core/energy.h:

workloads/bnn.h:

workloads/idx.h:

core/rng.h:

core/util.h:
