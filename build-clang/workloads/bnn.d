build-clang/workloads/bnn.o: workloads/bnn.c workloads/bnn.h core/cfg.h \
  core/err.h workloads/idx.h core/rng.h core/util.h

workloads/bnn.h:

core/cfg.h:

core/err.h:

workloads/idx.h:

core/rng.h:

core/util.h:
