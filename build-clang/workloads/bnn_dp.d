build-clang/workloads/bnn_dp.o: workloads/bnn_dp.c workloads/bnn_dp.h \
  core/err.h workloads/bnn.h core/cfg.h workloads/idx.h core/util.h

workloads/bnn_dp.h:

core/err.h:

workloads/bnn.h:

core/cfg.h:

workloads/idx.h:

core/util.h:
