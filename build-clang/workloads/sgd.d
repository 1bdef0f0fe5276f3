build-clang/workloads/sgd.o: workloads/sgd.c workloads/sgd.h core/cfg.h \
  core/err.h workloads/model.h workloads/idx.h core/rng.h core/util.h

workloads/sgd.h:

core/cfg.h:

core/err.h:

workloads/model.h:

workloads/idx.h:

core/rng.h:

core/util.h:
