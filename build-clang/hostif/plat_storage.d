build-clang/hostif/plat_storage.o: hostif/plat_storage.c core/util.h \
  hostif/compare.h core/cfg.h core/err.h core/energy.h hostif/platform.h \
  hostif/runparams.h ndp/train.h ssdsim/ssd.h core/evq.h ssdsim/power.h \
  workloads/idx.h workloads/model.h workloads/sgd.h ndp/ndp.h \
  workloads/bnn.h workloads/bnn_dp.h

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

ndp/ndp.h:

workloads/bnn.h:

workloads/bnn_dp.h:
