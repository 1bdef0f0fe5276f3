build-clang/hostif/plat_xbar.o: hostif/plat_xbar.c analog/xbar.h \
  core/cfg.h core/err.h core/energy.h workloads/bnn.h workloads/idx.h \
  hostif/compare.h hostif/platform.h hostif/runparams.h ndp/train.h \
  ssdsim/ssd.h core/evq.h ssdsim/power.h workloads/model.h \
  workloads/sgd.h hostif/host.h

analog/xbar.h:

core/cfg.h:

core/err.h:

core/energy.h:

workloads/bnn.h:

workloads/idx.h:

hostif/compare.h:

hostif/platform.h:

hostif/runparams.h:

ndp/train.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/model.h:

workloads/sgd.h:

hostif/host.h:
