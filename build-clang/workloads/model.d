build-clang/workloads/model.o: workloads/model.c workloads/model.h \
  core/err.h workloads/idx.h core/rng.h core/util.h

workloads/model.h:

core/err.h:

workloads/idx.h:

core/rng.h:

core/util.h:
