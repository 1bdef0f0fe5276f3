build-clang/hostif/host.o: hostif/host.c hostif/host.h core/cfg.h \
  core/err.h ndp/train.h core/energy.h ssdsim/ssd.h core/evq.h \
  ssdsim/power.h workloads/idx.h workloads/model.h workloads/sgd.h \
  core/progress.h core/util.h

hostif/host.h:

core/cfg.h:

core/err.h:

ndp/train.h:

core/energy.h:

ssdsim/ssd.h:

core/evq.h:

ssdsim/power.h:

workloads/idx.h:

workloads/model.h:

workloads/sgd.h:

core/progress.h:

core/util.h:
