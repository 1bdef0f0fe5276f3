build-clang/hostif/plat_ndram.o: hostif/plat_ndram.c core/progress.h \
  core/util.h hostif/compare.h core/cfg.h core/err.h core/energy.h \
  hostif/platform.h hostif/runparams.h ndp/train.h ssdsim/ssd.h \
  core/evq.h ssdsim/power.h workloads/idx.h workloads/model.h \
  workloads/sgd.h hostif/ndram.h workloads/bnn.h workloads/bnn_dp.h

core/progress.h:

core/util.h:

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

hostif/ndram.h:

workloads/bnn.h:

workloads/bnn_dp.h:
