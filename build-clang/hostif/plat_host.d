build-clang/hostif/plat_host.o: hostif/plat_host.c hostif/compare.h \
  core/cfg.h core/err.h core/energy.h hostif/platform.h \
  hostif/runparams.h ndp/train.h ssdsim/ssd.h core/evq.h ssdsim/power.h \
  workloads/idx.h workloads/model.h workloads/sgd.h hostif/host.h \
  workloads/bnn.h workloads/bnn_dp.h

hostif/compare.h:

core/cfg.h:

core/err.h:

core/energy.h:

hostif/platform.h:

hostif/runparams.h:

ndp/train.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:

hostif/host.h:

workloads/bnn.h:

workloads/bnn_dp.h:
